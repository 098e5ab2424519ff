"""Distance linkage with optimal one-to-one assignment, 100,000 x 100,000.

Data as in shared/ANCHORS.md: sex (2), canton (12, skewed), birth_year (1940-2005), nationality
(8 groups, 70% in one), household size (1-6); both parts hold the same persons, right part
shuffled. Goal: 60 s or less on 2 cores, accuracy at the uniqueness bound.

Also timed (no goal, for the record): the noisy variant (5% of birth_year off by one in one
part) and an "independent" variant where the right part is a separate draw from the same
distribution (the situation of two synthetic registers: no exact counterpart for most records,
so most of the work is the assignment itself).

    python benchmarks/bench_distance.py [--quick] [--n N] [--no-extra]

There is no peer tool doing the same job; the reference is the goal (60 s) and, for context,
the peers' one-to-one steps quoted in ANCHORS.md (Splink single-best-links 67 s, recordlinkage
greedy 1-3 s after a 14 s ECM run). The machine is shared: times are noisy.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from synthlink.evaluate.linkage import expected_bound, linkage_quality, uniqueness_bound
from synthlink.link.base import shuffled_link
from synthlink.link.distance import DistanceLinker

GOAL_S = 60.0
CANTON_W = np.array([0.26, 0.17, 0.11, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.02])
NAT_W = np.array([0.70, 0.10, 0.06, 0.05, 0.04, 0.02, 0.02, 0.01])


def anchors_people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "canton": rng.choice([f"C{i:02d}" for i in range(12)], n, p=CANTON_W / CANTON_W.sum()),
        "birth_year": rng.integers(1940, 2006, n),
        "nationality": rng.choice([f"N{i}" for i in range(8)], n, p=NAT_W / NAT_W.sum()),
        "household_size": rng.integers(1, 7, n),
    })


def run(name: str, left: pd.DataFrame, right: pd.DataFrame, truth: pd.DataFrame | None) -> dict[str, float]:
    t0 = time.perf_counter()
    links = shuffled_link(DistanceLinker(), left, right, seed=0)
    secs = time.perf_counter() - t0
    d = links.diagnostics
    row: dict[str, float] = {"seconds": secs, "pairs": float(len(links)),
                             "exact_pairs": float(d["exact_pairs"]), "assigned_pairs": float(d["assigned_pairs"]),
                             "mean_distance": float(d["mean_distance"] or 0.0)}
    if truth is not None:
        cols = list(left.columns)
        q = linkage_quality(links, truth)
        row["accuracy"] = q["accuracy"]
        row["bound"] = expected_bound(left, right, truth, cols)
    print(f"  {name:<12} {secs:7.1f} s   pairs {len(links):>7,}  exact {d['exact_pairs']:>7,}  "
          f"assigned {d['assigned_pairs']:>7,}  sparse blocks {d['sparse_blocks']}  "
          f"mean distance {row['mean_distance']:.4f}"
          + (f"   accuracy {row['accuracy']:.4f} / bound {row['bound']:.4f} = {row['accuracy'] / row['bound']:.3f}"
             if truth is not None else ""))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20,000 x 20,000")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--no-extra", action="store_true", help="only the clean same-persons case")
    a = ap.parse_args()
    n = a.n or (20_000 if a.quick else 100_000)
    df = anchors_people(n, seed=0)
    cols = list(df.columns)
    print(f"distance + optimal assignment, {n:,} x {n:,}; {len(df.drop_duplicates()):,} distinct profiles, "
          f"uniqueness bound {uniqueness_bound(df, cols):.4f}")
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    clean = run("clean", df, df, truth)
    if not a.no_extra:
        rng = np.random.default_rng(1)
        noisy = df.copy()
        hit = rng.random(n) < 0.05
        noisy.loc[hit, "birth_year"] = noisy.loc[hit, "birth_year"] + rng.choice([-1, 1], int(hit.sum()))
        run("noisy 5%", df, noisy, truth)
        run("independent", df, anchors_people(n, seed=99), None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nours (clean): {clean['seconds']:.1f} s   goal: {GOAL_S:.0f} s   ratio goal/ours: "
          f"{GOAL_S / clean['seconds']:.1f}x   accuracy/bound {clean['accuracy'] / clean['bound']:.3f}   "
          f"peak memory {peak:,.0f} MB")
    print("(shared machine: times are noisy)")


if __name__ == "__main__":
    main()

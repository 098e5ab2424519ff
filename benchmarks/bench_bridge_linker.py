"""Speed of the bridge linker (issue 16: 100,000 x 100,000 in at most 60 s on 2 cores), beside
the exact linker on the same parts.

Data: the demo population (:func:`synthlink.demo.population`), N persons; the left part holds
the common variables (sex, age, nationality, canton) and isced, the right part the common
variables and the monthly wage, both shuffled. The release is the true (isced x wage band) table
of the joint population (no noise: this benchmark times the linker, not the release), with
isced's and wage's missing values as declared levels. Times are wall-clock seconds of fit + link
for each method, best of ``--repeat`` runs.

    python benchmarks/bench_bridge_linker.py            # N = 100,000
    python benchmarks/bench_bridge_linker.py --n 20000
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

from synthlink.bridge import BridgeRelease, BridgeSpec, binned
from synthlink.demo import population
from synthlink.link import get_linker

COMMON = ["sex", "age", "nationality", "canton"]
WAGE_BINS = (0.0, 2000.0, 3000.0, 4000.0, 5000.0, 6500.0, 8000.0, 10000.0, 15000.0, 100000.0)


def demo_parts(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, BridgeRelease]:
    joint = population(n, seed)
    spec = BridgeSpec((("isced", "wage"),), {"wage": WAGE_BINS}, {"isced": tuple(range(9))},
                      missing=("isced", "wage"))
    cells = binned(joint, spec, ["isced", "wage"], "joint")
    counts = cells.groupby(["isced", "wage"]).size()
    table = spec.cells(("isced", "wage"))
    table["count"] = [int(counts.get((a, b), 0)) for a, b in table[["isced", "wage"]].itertuples(index=False)]
    release = BridgeRelease(spec, {("isced", "wage"): table}, {"note": "true counts, benchmark only"})
    rng = np.random.default_rng(seed + 1)
    left = joint[[*COMMON, "isced"]].iloc[rng.permutation(n)].reset_index(drop=True)
    right = joint[[*COMMON, "wage"]].iloc[rng.permutation(n)].reset_index(drop=True)
    return left, right, release


def timed(name: str, left: pd.DataFrame, right: pd.DataFrame, repeat: int, **params: object) -> tuple[float, int, dict]:
    best, links = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        links = get_linker(name, **params).fit(left, right).link(seed=0)
        best = min(best, time.perf_counter() - t0)
    assert links is not None
    return best, len(links), links.diagnostics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    left, right, release = demo_parts(args.n)
    t_exact, n_exact, _ = timed("exact", left, right, args.repeat, on=COMMON)
    out: dict[str, object] = {"n": args.n, "cpus": os.cpu_count(), "exact_seconds": round(t_exact, 3),
                              "exact_pairs": n_exact}
    for method in ("ipf", "lp"):
        t, n_links, diag = timed("bridge", left, right, args.repeat, release=release, on=COMMON, method=method)
        m = diag["marginals"][0] if diag["marginals"] else {}
        out[method] = {"seconds": round(t, 3), "ratio_to_exact": round(t / t_exact, 2), "pairs": n_links,
                       "method_used": diag["method"], "profile_triples": diag["profile_triples"],
                       "l1_cia": round(m.get("l1_cia", float("nan")), 4),
                       "l1_calibrated": round(m.get("l1_calibrated", float("nan")), 4)}
        print(f"bridge[{method}] {args.n:,} x {args.n:,}: {t:.2f} s (exact: {t_exact:.2f} s, ratio {t / t_exact:.1f}); "
              f"{n_links:,} pairs, {diag['profile_triples']:,} triples, used {diag['method']}")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

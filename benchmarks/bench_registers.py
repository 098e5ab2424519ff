"""Three registers against two: the wall time of ``synthlink demo --registers
education,employment,social`` beside ``synthlink demo`` (education x employment) from one run,
as a ratio (goal: at most 1.6x), with both runs' stage times; and the tuple baseline at 100,000
persons per part (goal: within 2 minutes): the split, each edge linked on the original parts
(exact agreement, one-to-one), the K-way reconstruction, tuple accuracy and the expected tuple
bound.

Run: ``python benchmarks/bench_registers.py [--n 20000] [--tuple-n 100000] [--skip-demo]``. Each
demo uses a fresh output folder and working area (no stage cache).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 0
PARTS = ["education", "employment", "social"]


def run_demo(n: int, registers: list[str] | None) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        exe = shutil.which("synthlink", path=str(Path(sys.executable).parent)) or "synthlink"
        cmd = [exe, "demo", "--n", str(n), "--seed", str(SEED), "--out", str(out), "--work-dir", str(Path(tmp) / "work"), "--quiet"]
        if registers:
            cmd += ["--registers", ",".join(registers)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        timings = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["timings_seconds"]
    return wall, timings


def tuple_baseline(n: int) -> dict[str, float]:
    """Seconds of each step of the three-register tuple baseline at ``n`` persons."""
    from synthlink.config import MethodSpec
    from synthlink.demo import population
    from synthlink.demo.plan import demo_plan
    from synthlink.evaluate.tuples import expected_tuple_bound, tuple_quality
    from synthlink.pipeline import link_parts
    from synthlink.reconstruct import reconstruct_tuples
    from synthlink.split import SplitPlan, split

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    df = population(n, seed=SEED)
    plan = SplitPlan.from_dict({**demo_plan(PARTS), "control_share": 0.0001})
    t["data"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sres = split(df, plan, seed=SEED)
    t["split"] = time.perf_counter() - t0
    parts = {p: sres.parts[p] for p in PARTS}
    common = list(plan.common)
    links = {}
    t0 = time.perf_counter()
    for a, b in zip(PARTS[:-1], PARTS[1:], strict=True):
        links[(a, b)] = link_parts(MethodSpec("exact"), parts[a], parts[b], on=common, seed=SEED, hidden=("matricule",))
    t["link (exact, 2 edges)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec = reconstruct_tuples({p: parts[p].drop(columns=["matricule"]) for p in PARTS}, links, common, drop=["matricule"])
    t["reconstruct"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    q = tuple_quality(rec.positions, sres.truth)
    bound, sd = expected_tuple_bound(parts, sres.truth, list(zip(PARTS[:-1], PARTS[1:], strict=True)), common)
    t["tuple accuracy + bound"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
    print(f"  rows: {', '.join(f'{p} {len(parts[p]):,}' for p in PARTS)}; true tuples {int(q['true_tuples']):,}")
    print(f"  tuple accuracy {q['accuracy']:.4f}, expected bound {bound:.4f} (sd {sd:.4f})")
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--tuple-n", type=int, default=100000)
    ap.add_argument("--skip-demo", action="store_true")
    args = ap.parse_args()
    if not args.skip_demo:
        w2, t2 = run_demo(args.n, None)
        w3, t3 = run_demo(args.n, PARTS)
        print(f"synthlink demo --n {args.n}: two registers {w2:.1f} s, three registers {w3:.1f} s, "
              f"ratio {w3 / w2:.2f}x (goal: at most 1.6x)")
        for name in sorted(set(t2) | set(t3), key=lambda k: -max(t2.get(k, 0), t3.get(k, 0))):
            print(f"  {name:32s} two {t2.get(name, 0):8.2f} s   three {t3.get(name, 0):8.2f} s")
    print(f"tuple baseline, {args.tuple_n:,} persons, chain {' - '.join(PARTS)}")
    t = tuple_baseline(args.tuple_n)
    for name, secs in t.items():
        print(f"  {name:32s} {secs:8.2f} s")
    print(f"  goal: within 120 s: {'met' if t['total'] <= 120 else 'NOT met'} ({t['total']:.1f} s)")


if __name__ == "__main__":
    main()

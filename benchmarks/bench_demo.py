"""Wall time of the README's first command, ``synthlink demo``, at 5,000 and 20,000 persons (seed
0, the README's), with the stage times from its ``metrics.json`` (``timings_seconds``: linking,
synthesis, and the evaluation's task seconds for utility and privacy and its wall time), and the
ratio of each figure to the one measured before the evaluation speed-up (issue 17, first step).

Before (2026-12-02, the shared 2-core development machine, other jobs running; commit 62b798c):

====================  ==========  ==========
figure                 --n 5000   --n 20000
====================  ==========  ==========
wall                     32.9 s      82.5 s
utility (task s)         22.5        34.0
privacy (task s)         18.2        79.0
evaluation (wall)        23.1        60.9
====================  ==========  ==========

One-process cProfile of the 20,000-person demo's evaluations (18 utility and 16 privacy tasks,
``evaluate: {n_jobs: 1}``), before: utility 59 s = ML utility 20 (half of it the same reference
fit on train for every J*), Frechet bounds 12, pMSE 8.6, univariate 5.3, research question 5.0,
bivariate 3.2; privacy 107 s = DCR 42 (of it ``argpartition`` for the two nearest train records
17), singling out 27, disclosure 20 (``np.unique(axis=0)`` of the key combinations 10),
membership 9.5, linkability 5.2, inference 3.4.

Run: ``python benchmarks/bench_demo.py [--sizes 5000 20000]``. Each run uses a fresh output
folder and working area (no stage cache).
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

BEFORE = {
    5000: {"wall": 32.9, "utility (task seconds)": 22.5, "privacy (task seconds)": 18.2, "evaluation (wall)": 23.1},
    20000: {"wall": 82.5, "utility (task seconds)": 34.0, "privacy (task seconds)": 79.0, "evaluation (wall)": 60.9},
}
SEED = 0


def run_demo(n: int) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``synthlink demo --n n`` in a fresh folder, and its ``timings_seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        exe = shutil.which("synthlink", path=str(Path(sys.executable).parent)) or "synthlink"
        cmd = [exe, "demo", "--n", str(n), "--seed", str(SEED), "--out", str(out),
               "--work-dir", str(Path(tmp) / "work"), "--quiet"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        timings = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["timings_seconds"]
    return wall, timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    args = ap.parse_args()
    for n in args.sizes:
        wall, timings = run_demo(n)
        before = BEFORE.get(n, {})
        print(f"synthlink demo --n {n}")
        rows = [("wall", wall), *timings.items()]
        for name, secs in rows:
            b = before.get(name)
            ratio = f"  before {b:6.1f} s  x{b / secs:4.2f} faster" if b and secs else ""
            print(f"  {name:32s} {secs:8.2f} s{ratio}")


if __name__ == "__main__":
    main()

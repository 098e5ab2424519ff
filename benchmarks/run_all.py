"""Run every benchmark, one after the other: ``python benchmarks/run_all.py [--quick] [--only NAME ...]``.

Each benchmark prints our figure, the peer tool's figure from the same run and their ratio; peers
whose pins clash with ours run in their own virtual environment that the benchmark creates under
``benchmarks/.venvs/`` (the first run installs them from the package index; later runs reuse them).
Full sizes take long (the privacy and synthesizer benchmarks tens of minutes, psmpy at 20,000
rows over ten minutes); ``--quick`` runs small sizes of everything in a few minutes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["generate", "synth", "probabilistic", "distance", "propensity", "privacy", "sdnist", "bridge", "scale"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes of every benchmark")
    ap.add_argument("--only", nargs="*", choices=ORDER, help="run only these")
    args = ap.parse_args()
    names = args.only or ORDER
    failed = []
    for name in names:
        script = HERE / f"bench_{name}.py"
        if not script.exists():
            print(f"== {name}: no script, skipped")
            continue
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"== {name}: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Synthesizer benchmark: S_pMSE (synthpop's definition) and fit+sample time per method and data set,
plus CART at 100,000 rows x 15 columns, and (``--with-sdv``) SDV's GaussianCopula beside ours.

    python benchmarks/bench_synth.py            # full: real data sets at full size, nperms 50
    python benchmarks/bench_synth.py --quick    # 2,000-row excerpts, nperms 10, CART timing at 20k rows
    python benchmarks/bench_synth.py --with-sdv # also SDV GaussianCopula (creates benchmarks/.venvs/sdv)

Data: NIST ACS excerpts (MA, TX 2019) and UCI Adult from ../shared/data (skipped when missing),
and the demo population (synthlink.demo.population; skipped when absent). S_pMSE uses the CART
propensity model with permutation null (synthpop's utility.gen default, method = "cart"); lower is
better. The machine is shared: timings are noisy, compare within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthlink.evaluate.propensity_utility import pmse
from synthlink.synth import get_synthesizer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
METHODS = ["cart", "copula", "marginals", "privbayes"]


def load_datasets(quick: bool, seed: int) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for state in ("ma", "tx"):
        p = DATA / "nist_acs_excerpts" / f"{state}2019.csv"
        if p.exists():
            df = pd.read_csv(p, dtype={"PUMA": str}, na_values=["N"], keep_default_na=True)
            out[f"acs_{state}2019"] = df.drop(columns=[c for c in ("PWGTP", "WGTP") if c in df.columns])
    p = DATA / "adult" / "adult_train.csv"
    if p.exists():
        out["adult"] = pd.read_csv(p, skipinitialspace=True, na_values=["?"])
    try:
        from synthlink.demo import population

        demo = population(20_000 if not quick else 4_000, seed=seed)
        out["demo"] = demo.drop(columns=[c for c in ("matricule",) if c in demo.columns])
    except ImportError:
        print("demo population not available: skipped")
    if quick:
        out = {k: v.sample(min(len(v), 2000), random_state=seed).reset_index(drop=True) for k, v in out.items()}
    return out


def run_method(name: str, df: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, float]:
    t = time.perf_counter()
    syn = get_synthesizer(name).fit(df).sample(len(df), seed=seed)
    return syn, time.perf_counter() - t


def sdv_python(create: bool) -> Path | None:
    venv = ROOT / "benchmarks" / ".venvs" / "sdv"
    py = venv / "bin" / "python"
    if not py.exists():
        if not create:
            return None
        print(f"creating {venv} and installing sdv (this takes a while) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "sdv"], check=True)
    return py


SDV_SCRIPT = r"""
import sys, time, pandas as pd, numpy as np
from sdv.metadata import Metadata
from sdv.single_table import GaussianCopulaSynthesizer
df = pd.read_parquet(sys.argv[1])
np.random.seed(int(sys.argv[3]))
t = time.perf_counter()
meta = Metadata.detect_from_dataframe(df)
m = GaussianCopulaSynthesizer(meta)
m.fit(df)
out = m.sample(num_rows=len(df))
print(time.perf_counter() - t)
out.to_parquet(sys.argv[2])
"""


def run_sdv(py: Path, df: pd.DataFrame, seed: int, tmp: Path) -> tuple[pd.DataFrame, float]:
    src, dst, script = tmp / "in.parquet", tmp / "out.parquet", tmp / "sdv_gc.py"
    df.to_parquet(src)
    script.write_text(SDV_SCRIPT)
    r = subprocess.run([str(py), str(script), str(src), str(dst), str(seed)], capture_output=True, text=True, check=True)
    secs = float(r.stdout.strip().splitlines()[-1])
    out = pd.read_parquet(dst)
    for c in df.columns:  # align dtypes for the propensity model
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            out[c] = pd.to_datetime(out[c])
    return out[list(df.columns)], secs


def cart_timing(n: int, seed: int) -> dict[str, float]:
    """CART fit + sample at n rows x 15 columns (the demo population's first 15 columns if present)."""
    try:
        from synthlink.demo import population

        df = population(n, seed=seed).drop(columns=["matricule"], errors="ignore").iloc[:, :15]
        source = "demo population"
    except ImportError:
        rng = np.random.default_rng(seed)
        base = rng.normal(size=n)
        df = pd.DataFrame({**{f"c{i}": rng.choice([f"k{j}" for j in range(3 + 3 * i)], n) for i in range(8)},
                           **{f"x{i}": np.round(base * (i + 1) + rng.normal(0, 10, n), 1) for i in range(7)}})
        source = "generated"
    t0 = time.perf_counter()
    syn = get_synthesizer("cart").fit(df)
    t1 = time.perf_counter()
    syn.sample(n, seed=seed)
    t2 = time.perf_counter()
    return {"rows": n, "columns": df.shape[1], "source": source, "fit_s": t1 - t0, "sample_s": t2 - t1, "total_s": t2 - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--with-sdv", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="write all figures to this JSON file")
    args = ap.parse_args()
    nperms = 10 if args.quick else 50
    datasets = load_datasets(args.quick, args.seed)
    if not datasets:
        print("no data sets found")
    py = sdv_python(args.with_sdv) if args.with_sdv else None
    results: dict[str, dict] = {}
    ok_all = True
    for dname, df in datasets.items():
        print(f"\n== {dname}: {len(df):,} rows x {df.shape[1]} columns (S_pMSE: CART propensity, {nperms} perms)")
        print(f"{'method':<22}{'S_pMSE':>10}{'pMSE':>12}{'fit+sample s':>14}")
        res: dict[str, dict] = {}
        for m in METHODS:
            try:
                syn, secs = run_method(m, df, args.seed)
                u = pmse(df, syn, model="cart", seed=args.seed, nperms=nperms)
                res[m] = {"s_pmse": u["s_pmse"], "pmse": u["pmse"], "seconds": secs}
                print(f"{m:<22}{u['s_pmse']:>10.2f}{u['pmse']:>12.5f}{secs:>14.2f}")
            except Exception as e:  # report and continue
                res[m] = {"error": f"{type(e).__name__}: {e}"}
                print(f"{m:<22} error: {type(e).__name__}: {e}")
        if py is not None:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                try:
                    syn, secs = run_sdv(py, df, args.seed, Path(tmp))
                    u = pmse(df, syn, model="cart", seed=args.seed, nperms=nperms)
                    res["sdv_gaussian_copula"] = {"s_pmse": u["s_pmse"], "pmse": u["pmse"], "seconds": secs}
                    print(f"{'sdv_gaussian_copula':<22}{u['s_pmse']:>10.2f}{u['pmse']:>12.5f}{secs:>14.2f}")
                    ours = res.get("copula", {})
                    if "s_pmse" in ours:
                        print(f"  ratio ours/SDV GaussianCopula: S_pMSE {ours['s_pmse'] / u['s_pmse']:.2f}, "
                              f"time {ours['seconds'] / secs:.2f}")
                except subprocess.CalledProcessError as e:
                    print(f"sdv_gaussian_copula error: {e.stderr.strip().splitlines()[-1] if e.stderr else e}")
        c = res.get("cart", {}).get("s_pmse")
        checks = {o: (c is not None and "s_pmse" in res.get(o, {}) and c < res[o]["s_pmse"]) for o in ("copula", "marginals")}
        ok = all(checks.values())
        ok_all &= ok
        print(f"  CART lower S_pMSE than copula and marginals: {'yes' if ok else 'NO'} {checks}")
        results[dname] = res
    n = 20_000 if args.quick else 100_000
    t = cart_timing(n, args.seed)
    print(f"\n== CART timing: {t['rows']:,} rows x {t['columns']} columns ({t['source']}): "
          f"fit {t['fit_s']:.1f} s + sample {t['sample_s']:.1f} s = {t['total_s']:.1f} s (target <= 30 s at 100k)")
    results["cart_timing"] = t
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())

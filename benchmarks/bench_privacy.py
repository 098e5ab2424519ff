"""Privacy benchmark: synthlink's native attacks against Anonymeter 1.1.0, and DCR against
SDMetrics' DCRBaselineProtection.

    python benchmarks/bench_privacy.py            # full sizes
    python benchmarks/bench_privacy.py --quick    # small sizes

1. NIST ACS Massachusetts 2019 excerpt (train; the 2018 excerpt is the control set, as the source
   suggests), at 1:1 and at 4:1 train:control (the default 80/20 split), synthetic data from our
   CART synthesizer: singling out (multivariate, 500 attacks),
   linkability (10 neighbours, demographics vs education/employment/income columns), inference
   (secret PINCP_DECILE) by us and by Anonymeter (own venv, subprocess, CSV files): risks and 95%
   intervals side by side.
2. The same three attacks on 20,000 rows (MA + TX excerpts pooled): time ratio.
3. DCR: ours on 100,000 synthetic x 100,000 train rows (+ 25,000 control) of a generated mixed
   table; SDMetrics on 5,000 x 5,000; ratio of time per row pair.

Peers live in benchmarks/.venvs/<peer>, created on first run. The machine may be shared: compare
ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nist_acs_excerpts"
if not DATA.exists():
    DATA = Path("/work/shared/data/nist_acs_excerpts")
VENVS = HERE / ".venvs"
PEERS = {"anonymeter": ["anonymeter==1.1.0", "pyarrow"], "sdmetrics": ["sdmetrics==0.32.0", "pyarrow"]}

DEMOGRAPHICS = ["PUMA", "AGEP", "SEX", "MSP", "HISP", "RAC1P", "NOC", "NPF", "HOUSING_TYPE", "OWN_RENT", "DENSITY"]
SOCIO = ["EDU", "INDP", "INDP_CAT", "PINCP", "PINCP_DECILE", "POVPIP", "DVET", "DREM", "DPHY", "DEYE", "DEAR"]

ANONYMETER_SCRIPT = r'''
import json, sys, time, warnings
import pandas as pd
warnings.filterwarnings("ignore")
from anonymeter.evaluators import SinglingOutEvaluator, LinkabilityEvaluator, InferenceEvaluator
cfg = json.loads(sys.argv[1])
rd = lambda p: pd.read_parquet(p)
ori, syn, ctl = rd(cfg["train"]), rd(cfg["syn"]), rd(cfg["control"])
out = {}
def put(name, ev, t0):
    r = ev.risk(confidence_level=0.95)
    out[name] = {"risk": r.value, "ci": list(r.ci), "seconds": time.perf_counter() - t0}
t0 = time.perf_counter()
ev = SinglingOutEvaluator(ori=ori, syn=syn, control=ctl, n_attacks=cfg["n"], n_cols=3, seed=0).evaluate(mode="multivariate")
put("singling_out", ev, t0)
t0 = time.perf_counter()
ev = LinkabilityEvaluator(ori=ori, syn=syn, control=ctl, n_attacks=cfg["n"], aux_cols=tuple(cfg["aux"]), n_neighbors=10).evaluate(n_jobs=2)
put("linkability", ev, t0)
t0 = time.perf_counter()
ev = InferenceEvaluator(ori=ori, syn=syn, control=ctl, aux_cols=[c for c in ori.columns if c != cfg["secret"]], secret=cfg["secret"], n_attacks=cfg["n"], regression=cfg["regression"]).evaluate(n_jobs=2)
put("inference", ev, t0)
print(json.dumps(out))
'''

SDMETRICS_SCRIPT = r'''
import json, sys, time, warnings
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.single_table import DCRBaselineProtection
cfg = json.loads(sys.argv[1])
real, syn = pd.read_parquet(cfg["train"]), pd.read_parquet(cfg["syn"])
meta = {"columns": {c: {"sdtype": t} for c, t in cfg["sdtypes"].items()}}
t0 = time.perf_counter()
res = DCRBaselineProtection.compute_breakdown(real, syn, meta, None)
print(json.dumps({"seconds": time.perf_counter() - t0, "result": {k: (v if not isinstance(v, dict) else v) for k, v in res.items()}}, default=str))
'''


def venv_python(peer: str) -> Path:
    py = VENVS / peer / "bin" / "python"
    if not py.exists():
        print(f"[setup] creating {VENVS / peer} and installing {' '.join(PEERS[peer])} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENVS / peer)], check=True)
        subprocess.run([str(VENVS / peer / "bin" / "pip"), "install", "-q", *PEERS[peer]], check=True)
    return py


def run_peer(peer: str, script: str, cfg: dict) -> dict:
    py = venv_python(peer)
    p = subprocess.run([str(py), "-c", script, json.dumps(cfg)], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{peer} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def read_acs(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, na_values="N", dtype={"PUMA": str})


def synthesize(train: pd.DataFrame, seed: int = 1) -> tuple[pd.DataFrame, str]:
    from synthlink.synth import available, get_synthesizer

    for name in ("cart", "copula", "marginals"):
        if name in available():
            try:
                return get_synthesizer(name).fit(train).sample(len(train), seed=seed), name
            except Exception as e:
                print(f"[synth] {name} failed ({e}); falling back", flush=True)
    raise RuntimeError("no synthesizer available")


def anonymeter_kinds(df: pd.DataFrame) -> dict[str, str]:
    """Anonymeter's own type detection: numeric dtype -> numeric, everything else categorical."""
    return {c: ("numeric" if pd.api.types.is_numeric_dtype(df[c]) else "categorical") for c in df.columns}


def ours(train, control, syn, n, secret, aux, kinds):
    from synthlink.evaluate.privacy import inference, linkability, singling_out

    res = {}
    t0 = time.perf_counter()
    r = singling_out(train, control, syn, list(train.columns), mode="multivariate", n_attacks=n, n_cols=3,
                     max_attempts=10_000_000, kinds=kinds, seed=0)
    res["singling_out"] = {"risk": r["risk"], "ci": r["ci"], "seconds": time.perf_counter() - t0}
    if len(train) != len(control):  # Anonymeter's rule, for comparison with its own fit
        r = singling_out(train, control, syn, list(train.columns), mode="multivariate", n_attacks=n, n_cols=3,
                         max_attempts=10_000_000, kinds=kinds, seed=0, control_comparison="fitted")
        res["singling_out (fitted)"] = {"risk": r["risk"], "ci": r["ci"], "seconds": 0.0}
    t0 = time.perf_counter()
    r = linkability(train, control, syn, aux, n_attacks=n, n_neighbors=10, kinds=kinds, seed=0)
    res["linkability"] = {"risk": r["risk"], "ci": r["ci"], "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    r = inference(train, control, syn, secret, [c for c in train.columns if c != secret], n_attacks=n,
                  regression=kinds[secret] == "numeric", kinds=kinds, seed=0)
    res["inference"] = {"risk": r["risk"], "ci": r["ci"], "seconds": time.perf_counter() - t0}
    return res


def attacks_side_by_side(train, control, label, tmp: Path, n: int = 500) -> None:
    syn, synth_name = synthesize(train)
    print(f"\n== attacks: {label}: train {len(train)}, control {len(control)}, synthetic {len(syn)} ({synth_name}) ==", flush=True)
    if synth_name != "cart":
        print(f"   NOTE: CART unavailable, synthetic data from '{synth_name}'")
    kinds = anonymeter_kinds(train)
    secret = "PINCP_DECILE"
    aux = ([c for c in DEMOGRAPHICS if c in train.columns], [c for c in SOCIO if c in train.columns and c != secret])
    paths = {k: str(tmp / f"{label}_{k}.parquet") for k in ("train", "control", "syn")}
    train.to_parquet(paths["train"]); control.to_parquet(paths["control"]); syn.to_parquet(paths["syn"])  # noqa: E702
    mine = ours(train, control, syn, n, secret, aux, kinds)
    try:
        peer = run_peer("anonymeter", ANONYMETER_SCRIPT, {**paths, "n": n, "aux": list(aux), "secret": secret,
                                                          "regression": kinds[secret] == "numeric"})
    except Exception as e:
        print(f"   anonymeter unavailable: {e}")
        peer = {}
    print(f"   {'measure':<22}{'synthlink risk (95% CI)':<30}{'anonymeter risk (95% CI)':<30}{'overlap':<9}{'ours s':>8}{'peer s':>8}{'speed-up':>9}")
    for m in [k for k in ("singling_out", "singling_out (fitted)", "linkability", "inference") if k in mine]:
        a, b = mine[m], peer.get(m.split(" ")[0])
        fa = f"{a['risk']:.3f} ({a['ci'][0]:.3f}-{a['ci'][1]:.3f})"
        if b:
            fb = f"{b['risk']:.3f} ({b['ci'][0]:.3f}-{b['ci'][1]:.3f})"
            ov = "yes" if a["ci"][0] <= b["ci"][1] and b["ci"][0] <= a["ci"][1] else "NO"
            ratio = f"{b['seconds'] / a['seconds']:>8.1f}x" if a["seconds"] else f"{'-':>9}"
            print(f"   {m:<22}{fa:<30}{fb:<30}{ov:<9}{a['seconds']:>8.2f}{b['seconds']:>8.2f}{ratio}")
        else:
            print(f"   {m:<22}{fa:<30}{'-':<30}{'-':<9}{a['seconds']:>8.2f}")
    if peer and len(train) != len(control):
        print("   note: train and control differ in size. synthlink (default) attacks a training subsample of "
              "the control's size (like with like); Anonymeter rescales the control successes by a fitted "
              "size model, and 1.1.0 fits it to len(counts) (the number of queries, a constant) instead of "
              "the number of successes. 'singling_out (fitted)' is synthlink's option with Anonymeter's "
              "rule as in 1.0 (fitted to the successes); sum of times excludes it.")
    if peer:
        ta = sum(mine[m]["seconds"] for m in peer)
        tb = sum(peer[m]["seconds"] for m in peer)
        print(f"   total: synthlink {ta:.2f} s, anonymeter {tb:.2f} s, ratio {tb / ta:.1f}x")


def mixed_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(16, 90, n)
    edu = np.clip((rng.normal(3, 1.5, n) + (age < 40)).round(), 0, 7).astype(int)
    return pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "canton": rng.choice(12, n, p=np.r_[0.3, 0.2, np.full(10, 0.05)]).astype(str),
        "nationality": rng.choice(8, n, p=np.r_[0.7, np.full(7, 0.3 / 7)]).astype(str),
        "isced": edu.astype(str),
        "employment": rng.choice(["employed", "unemployed", "inactive"], n, p=[0.6, 0.1, 0.3]),
        "birth_year": 2020 - age,
        "wage": np.round(np.exp(9 + 0.25 * edu + rng.normal(0, 0.6, n)), -1),
        "hours": np.clip(rng.normal(35, 10, n).round(), 0, 70),
    })


def dcr_benchmark(n_big: int, n_peer: int, tmp: Path) -> None:
    from synthlink.evaluate.privacy import dcr_measures
    from synthlink.evaluate.privacy.neighbors import column_kinds, encode, nearest

    print(f"\n== DCR: ours {n_big:,} x {n_big:,}; SDMetrics DCRBaselineProtection {n_peer:,} x {n_peer:,} ==", flush=True)
    train, syn, control = mixed_table(n_big, 1), mixed_table(n_big, 2), mixed_table(n_big // 4, 3)
    cols = list(train.columns)
    ctypes = column_kinds([train], cols)
    (et, es), _, _ = encode([train, syn], cols, ctypes)
    t0 = time.perf_counter()
    nearest(es, et, k=1)
    t_nn = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = dcr_measures(train, control, syn, cols)
    t_all = time.perf_counter() - t0
    print(f"   synthlink: nearest train record for {n_big:,} synthetic rows: {t_nn:.1f} s; full dcr_measures "
          f"(k=2 to train for NNDR + control {len(control):,}): {t_all:.1f} s  (goal <= 30 s)")
    print(f"   share closer to train {r['share_closer_to_train']:.3f} (0.5 = no leak), median DCR {r['dcr_train']['median']:.4f}")
    t_small, s_small, _ = mixed_table(n_peer, 4), mixed_table(n_peer, 5), None
    (et2, es2), _, _ = encode([t_small, s_small], cols, ctypes)
    t0 = time.perf_counter()
    nearest(es2, et2, k=1)
    t_ours_small = time.perf_counter() - t0
    paths = {"train": str(tmp / "dcr_train.parquet"), "syn": str(tmp / "dcr_syn.parquet")}
    t_small.to_parquet(paths["train"]); s_small.to_parquet(paths["syn"])  # noqa: E702
    sdtypes = {c: ("numerical" if ctypes[c] == "numeric" else "categorical") for c in cols}
    try:
        peer = run_peer("sdmetrics", SDMETRICS_SCRIPT, {**paths, "sdtypes": sdtypes})
    except Exception as e:
        print(f"   sdmetrics unavailable: {e}")
        return
    per_ours = t_nn / (n_big * n_big)
    per_peer = peer["seconds"] / (n_peer * n_peer)
    print(f"   synthlink at {n_peer:,} x {n_peer:,}: {t_ours_small:.2f} s; SDMetrics: {peer['seconds']:.1f} s "
          f"(its figure includes a second DCR pass for its random baseline)")
    print(f"   time per row pair: synthlink {per_ours * 1e9:.3f} ns ({n_big:,}^2), SDMetrics {per_peer * 1e9:.1f} ns "
          f"({n_peer:,}^2); ratio {per_peer / per_ours:,.0f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if (DATA / "ma2019.csv").exists():
            ma19, ma18 = read_acs("ma2019.csv"), read_acs("ma2018.csv")
            if args.quick:
                ma19, ma18 = ma19.sample(2000, random_state=0), ma18.sample(2000, random_state=0)
            attacks_side_by_side(ma19.reset_index(drop=True), ma18.reset_index(drop=True), "NIST MA 2019 (control MA 2018), 1:1", tmp,
                                 n=200 if args.quick else 500)
            # 4:1 train:control, the default 80/20 split: the whole 2019 excerpt against a quarter as
            # many 2018 records (quick: 4,000 against 1,000)
            big = read_acs("ma2019.csv")
            n_tr = 4000 if args.quick else len(big)
            big = big.sample(n_tr, random_state=1).reset_index(drop=True)
            small = read_acs("ma2018.csv").sample(n_tr // 4, random_state=1).reset_index(drop=True)
            attacks_side_by_side(big, small, f"NIST MA 2019 (control MA 2018), 4:1 ({n_tr:,} vs {n_tr // 4:,})", tmp,
                                 n=200 if args.quick else 500)
            pool = pd.concat([read_acs(f) for f in ("ma2019.csv", "ma2018.csv", "tx2019.csv", "tx2018.csv")], ignore_index=True)
            pool = pool.sample(frac=1.0, random_state=0).reset_index(drop=True)
            n = 3000 if args.quick else 20_000
            attacks_side_by_side(pool.iloc[:n].reset_index(drop=True), pool.iloc[n:2 * n].reset_index(drop=True),
                                 f"NIST ACS MA+TX pooled, {n:,} rows", tmp, n=200 if args.quick else 500)
        else:
            print(f"NIST ACS excerpts not found at {DATA}: skipping the attack comparison")
        dcr_benchmark(10_000 if args.quick else 100_000, 1_000 if args.quick else 5_000, tmp)


if __name__ == "__main__":
    main()

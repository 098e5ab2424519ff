"""Propensity score matching beside psmpy 0.3.16, 20,000 x 20,000 (``--quick``: 5,000).

Data as in shared/ANCHORS.md (both parts hold the same persons, right part shuffled), so the
true links are known. Both tools: logistic propensity on the common variables (one-hot encoded
for psmpy, which takes numeric columns only), 1:1 nearest neighbour on the logit, without
replacement. Ours adds the caliper (0.2 SD of the logit) and the suitability diagnostics; psmpy
runs with its defaults (no caliper, ``balance=False``: ``balance=True`` crashes on equal group
sizes, see ANCHORS.md).

psmpy runs in its own virtual environment, created here on first use
(benchmarks/.venvs/psmpy, from PyPI), as a subprocess with a time limit (``--peer-timeout``).
Its matching queries every neighbour of every record (memory and time grow with N x N).

    python benchmarks/bench_propensity.py [--quick] [--n N] [--peer-timeout S] [--skip-peer]

The machine is shared: times are noisy; compare the ratio from one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "psmpy"
PEER_PIN = "psmpy==0.3.16"

PEER_SCRIPT = r"""
import json, resource, sys, time, warnings
import numpy as np, pandas as pd
warnings.filterwarnings("ignore")
from psmpy import PsmPy
from sklearn.metrics import roc_auc_score
inp, out = sys.argv[1], sys.argv[2]
df = pd.read_parquet(inp)
t0 = time.perf_counter()
psm = PsmPy(df, treatment="part", indx="rid", exclude=[])
psm.logistic_ps(balance=False)
t_model = time.perf_counter() - t0
psm.kdtree_matched(matcher="propensity_logit", replacement=False, caliper=None)
secs = time.perf_counter() - t0
pdata = psm.predicted_data
auc = float(roc_auc_score(pdata["part"], pdata["propensity_score"]))
m = psm.matched_ids.dropna()
json.dump({"seconds": secs, "model_seconds": t_model, "auc_in_sample": auc,
           "pairs": [[int(a), int(b)] for a, b in zip(m.iloc[:, 0], m.iloc[:, 1])],
           "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, open(out, "w"))
"""


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} with {PEER_PIN} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", PEER_PIN, "pyarrow"], check=True)
    else:
        ok = subprocess.run([str(py), "-c", "import psmpy, pyarrow"], capture_output=True)
        if ok.returncode != 0:
            subprocess.run([str(py), "-m", "pip", "install", "-q", PEER_PIN, "pyarrow"], check=True)
    return py


def main() -> None:
    sys.path.insert(0, str(HERE))
    from bench_distance import anchors_people

    from synthlink.evaluate.linkage import linkage_quality, uniqueness_bound
    from synthlink.link.base import UnsuitableMethodWarning, shuffled_link
    from synthlink.link.propensity import PropensityLinker

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="5,000 x 5,000")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--peer-timeout", type=float, default=1800.0)
    ap.add_argument("--skip-peer", action="store_true")
    a = ap.parse_args()
    n = a.n or (5_000 if a.quick else 20_000)
    df = anchors_people(n, seed=0)
    cols = list(df.columns)
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    print(f"propensity matching, {n:,} x {n:,} (same persons, shuffled); uniqueness bound "
          f"{uniqueness_bound(df, cols):.4f}; random matching would get {1 / n:.5f}")

    # ours
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnsuitableMethodWarning)
        links = shuffled_link(PropensityLinker(), df, df, seed=0)
    ours_s = time.perf_counter() - t0
    d = links.diagnostics
    ours_acc = linkage_quality(links, truth)["accuracy"]
    print(f"  ours   {ours_s:8.1f} s   AUC {d['auc']:.3f} ({d['auc_method']})   accuracy {ours_acc:.4f}   "
          f"suitable_for_record_linkage={d['suitable_for_record_linkage']}   warning raised: "
          f"{any(issubclass(w.category, UnsuitableMethodWarning) for w in caught)}")

    if a.skip_peer:
        return
    # peer: the same right-part shuffle; psmpy sees part 0 = left, part 1 = right
    perm = np.random.default_rng(0).permutation(n)
    right = df.iloc[perm].reset_index(drop=True)
    stacked = pd.concat([df, right], ignore_index=True)
    X = pd.get_dummies(stacked[["sex", "canton", "nationality"]].astype(str), drop_first=True, dtype=float)
    X["birth_year"] = stacked["birth_year"].astype(float)
    X["household_size"] = stacked["household_size"].astype(float)
    X["part"] = np.r_[np.zeros(n, int), np.ones(n, int)]
    X["rid"] = np.arange(2 * n)  # left rows 0..n-1, right rows n..2n-1
    py = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, script = Path(tmp) / "in.parquet", Path(tmp) / "out.json", Path(tmp) / "peer.py"
        X.to_parquet(inp)
        script.write_text(PEER_SCRIPT)
        try:
            t0 = time.perf_counter()
            r = subprocess.run([str(py), str(script), str(inp), str(out)], capture_output=True, text=True,
                               timeout=a.peer_timeout)
            wall = time.perf_counter() - t0
        except subprocess.TimeoutExpired:
            print(f"  psmpy  did not finish within {a.peer_timeout:.0f} s (ratio > {a.peer_timeout / ours_s:.0f}x)")
            return
        if r.returncode != 0:
            print(f"  psmpy  failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            return
        res = json.loads(out.read_text())
    pairs = np.array(res["pairs"], dtype=np.int64).reshape(-1, 2)
    # matched_ids: minority id -> matched id; map both to (left, right) positions
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    peer_pairs = pd.DataFrame({"left": lo, "right": perm[hi - n]})
    correct = int(peer_pairs.merge(truth, on=["left", "right"]).shape[0])
    peer_acc = correct / n
    print(f"  psmpy  {res['seconds']:8.1f} s   AUC {res['auc_in_sample']:.3f} (in-sample)   accuracy {peer_acc:.4f}   "
          f"pairs {len(peer_pairs):,}   peak memory {res['peak_mb']:,.0f} MB   (wall with start-up {wall:.1f} s)")
    print(f"\ntime ratio psmpy/ours: {res['seconds'] / ours_s:.1f}x   accuracy ours {ours_acc:.4f} vs psmpy {peer_acc:.4f}"
          f"   AUC ours {d['auc']:.3f} vs psmpy {res['auc_in_sample']:.3f}")
    print("(shared machine: times are noisy; on same-population parts both accuracies are those of random "
          "pairing: that is the finding, not a defect of either tool)")


if __name__ == "__main__":
    main()

"""No-leak and full-leak properties of the distance-based measures: DCR's share closer to train
(and its risk) and distance-based membership inference, at train:control ratios 1:1, 4:1 and
10:1, on the demo generator and on a real excerpt (UCI Adult), each with all columns and with
categorical columns only (where most synthetic rows have exact copies in train and control).

* No leak: the "synthetic" table is a fresh real sample from the same population, disjoint from
  train and control. The raw share closer to train then has expectation n_train / N and the
  normalised share 0.5; the risk interval must contain 0 and the share's interval 0.5. The
  membership AUC must have an interval containing 0.5 (risk interval containing 0).
* Full leak: the "synthetic" table is a copy of train; with a continuous column every synthetic
  row has its own copy in train only, so both risks are at or above 0.9.

The landed DCR counted a tie as 1/2: on the categorical columns the fresh sample scored a
normalised share of about 0.4 at 4:1 and 0.3 at 10:1, its interval far below 0.5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink import demo
from synthlink.evaluate.privacy import dcr_measures
from synthlink.evaluate.privacy.membership import membership_inference

from ..conftest import SHARED_DATA

ADULT = SHARED_DATA / "adult" / "adult_train.csv"
RATIOS = [1, 4, 10]
N_CONTROL = 200
N_FRESH = 800

DEMO_CATS = ["sex", "nationality", "canton", "employment_status", "contract", "isced", "field", "household_size"]
ADULT_CATS = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex", "income"]


def _demo() -> tuple[pd.DataFrame, dict[str, str]]:
    df = demo.population(4000, seed=3).drop(columns="matricule")
    kinds = {c: "numeric" if c in ("age", "birth_date", "graduation_year", "wage", "hours") else "categorical"
             for c in df.columns}
    return df, kinds


def _adult() -> tuple[pd.DataFrame, dict[str, str]]:
    df = pd.read_csv(ADULT).sample(n=4000, random_state=0).reset_index(drop=True)
    kinds = {c: "numeric" if pd.api.types.is_numeric_dtype(df[c]) else "categorical" for c in df.columns}
    return df, kinds


POOLS = {"demo": (_demo, DEMO_CATS), "adult": (_adult, ADULT_CATS)}


def _pools():
    yield pytest.param("demo", id="demo")
    yield pytest.param("adult", id="adult", marks=pytest.mark.skipif(not ADULT.exists(), reason="real excerpt (adult) absent"))


_CACHE: dict[str, tuple[pd.DataFrame, dict[str, str]]] = {}


def _pool(name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    if name not in _CACHE:
        _CACHE[name] = POOLS[name][0]()
    return _CACHE[name]


def _split(df: pd.DataFrame, ratio: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    idx = np.random.default_rng(seed).permutation(len(df))
    nt = N_CONTROL * ratio
    return df.iloc[idx[:nt]], df.iloc[idx[nt:nt + N_CONTROL]], df.iloc[idx[nt + N_CONTROL:nt + N_CONTROL + N_FRESH]]


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("columns", ["all", "categorical"])
@pytest.mark.parametrize("pool", list(_pools()))
def test_fresh_real_sample_scores_no_distance_risk(pool, columns, ratio):
    df, kinds = _pool(pool)
    cols = list(df.columns) if columns == "all" else POOLS[pool][1]
    train, control, fresh = _split(df, ratio, seed=ratio)
    r = dcr_measures(train, control, fresh, cols, kinds=kinds, n_jobs=1)
    assert r["ci"][0] == 0.0, (r["risk"], r["ci"])
    lo, hi = r["share_closer_to_train_ci"]
    assert lo <= 0.5 <= hi, (r["share_closer_to_train"], lo, hi)
    # the raw share sits near its null value n_train / N (within 4 split standard errors)
    assert abs(r["share_closer_to_train_raw"] - ratio / (ratio + 1)) < 4 * r["share_closer_to_train_se_split"] + 1e-9
    m = membership_inference(train, control, fresh, cols, kinds=kinds, seed=ratio, n_jobs=1)
    assert m["ci"][0] == 0.0, (m["auc"], m["auc_ci"])
    assert m["auc_ci"][0] <= 0.5 <= m["auc_ci"][1]


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("pool", list(_pools()))
def test_copy_of_train_scores_full_distance_risk(pool, ratio):
    df, kinds = _pool(pool)
    train, control, _ = _split(df, ratio, seed=ratio)
    r = dcr_measures(train, control, train, list(df.columns), kinds=kinds, n_jobs=1)
    assert r["risk"] >= 0.9 and r["identical_match_share"] == 1.0, r["risk"]
    m = membership_inference(train, control, train, list(df.columns), kinds=kinds, seed=ratio, n_jobs=1)
    assert m["risk"] >= 0.9, m["risk"]

"""DCR's documented query sampling for large tables (max_queries): the sampled measure is the full
measure of exactly the sampled synthetic rows, and small tables are untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate.privacy import dcr_measures

KINDS = {"x": "numeric", "c": "categorical"}


def _frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def f(n: int) -> pd.DataFrame:
        return pd.DataFrame({"x": rng.normal(size=n).round(2), "c": rng.choice(list("abc"), n)})

    return f(400), f(200), f(300)


def test_sampled_queries_equal_the_full_measure_on_those_rows():
    train, control, syn = _frames()
    got = dcr_measures(train, control, syn, ["x", "c"], kinds=KINDS, max_queries=50, seed=7)
    idx = np.sort(np.random.default_rng(7).choice(len(syn), size=50, replace=False))
    ref = dcr_measures(train, control, syn.iloc[idx], ["x", "c"], kinds=KINDS, max_queries=None)
    assert got["n_queries"] == 50 and got["n_synthetic"] == 300
    for k in ("risk", "share_closer_to_train_raw", "identical_match_share"):
        assert got[k] == pytest.approx(ref[k])
    assert got["dcr_train"] == pytest.approx(ref["dcr_train"])
    assert got["ci"] == pytest.approx(ref["ci"])  # the interval uses the sample size


def test_small_tables_are_not_sampled_and_seed_is_reproducible():
    train, control, syn = _frames(1)
    full = dcr_measures(train, control, syn, ["x", "c"], kinds=KINDS)
    none = dcr_measures(train, control, syn, ["x", "c"], kinds=KINDS, max_queries=None)
    assert full["n_queries"] == 300 and full == none
    a = dcr_measures(train, control, syn, ["x", "c"], kinds=KINDS, max_queries=100, seed=3)
    b = dcr_measures(train, control, syn, ["x", "c"], kinds=KINDS, max_queries=100, seed=3)
    assert a == b

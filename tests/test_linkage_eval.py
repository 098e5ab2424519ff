"""Baseline linkage figures on hand-computable cases: per-block uniqueness bound, the expected
bound under noise and partial coverage, and the documented metric list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate.linkage import (
    baseline_metrics,
    expected_bound,
    expected_bound_and_sd,
    linkage_quality,
    share_ties,
    uniqueness_bound,
    uniqueness_bound_by_block,
)
from synthlink.link.base import Links
from synthlink.link.exact import ExactLinker


def test_uniqueness_bound_by_block_hand_computed() -> None:
    df = pd.DataFrame({"sex": ["F", "F", "F", "M", "M"], "age": [20, 20, 30, 40, 40]})
    t = uniqueness_bound_by_block(df, ["sex", "age"], "sex")
    assert t["sex"].tolist() == ["F", "M"]
    assert t["records"].tolist() == [3, 2]
    assert t["distinct"].tolist() == [2, 1]
    np.testing.assert_allclose(t["bound"], [2 / 3, 1 / 2])
    # the overall bound is the record-weighted mean of the block bounds
    overall = uniqueness_bound(df, ["sex", "age"])
    assert overall == pytest.approx(0.6)
    assert (t["bound"] * t["records"]).sum() / t["records"].sum() == pytest.approx(overall)


def test_uniqueness_bound_by_block_with_bins_and_missing_block() -> None:
    df = pd.DataFrame({"sex": ["F", "F", None, None], "age": [21, 29, 40, 41]})
    t = uniqueness_bound_by_block(df, ["age"], "sex", bins={"age": [20, 30, 50]})
    by = dict(zip(t["sex"].astype(str), t["bound"], strict=True))
    assert by == {"F": 0.5, "<missing>": 0.5}


def test_expected_bound_hand_computed_and_matches_simulation() -> None:
    left = pd.DataFrame({"x": ["a", "a", "b", "c"]})
    right = pd.DataFrame({"x": ["a", "b", "b", "d"]})
    truth = pd.DataFrame({"left": [0, 1, 2, 3], "right": [0, 1, 2, 3]})
    # (0,0): cell a has 2 left, 1 right -> 1/2; (1,1) disagree; (2,2): cell b 1 left, 2 right -> 1/2;
    # (3,3) disagree -> (0.5 + 0.5) / 4
    assert expected_bound(left, right, truth, ["x"]) == pytest.approx(0.25)
    # simulation: 1000 independent copies of the table (distinct labels), one exact-linkage run
    k = 1000
    tag = np.repeat(np.arange(k), 4).astype(str)
    big_l = pd.DataFrame({"x": np.tile(left["x"], k) + tag})
    big_r = pd.DataFrame({"x": np.tile(right["x"], k) + tag})
    big_t = pd.DataFrame({"left": np.arange(4 * k), "right": np.arange(4 * k)})
    assert expected_bound(big_l, big_r, big_t, ["x"]) == pytest.approx(0.25)
    acc = linkage_quality(ExactLinker(on=["x"]).fit(big_l, big_r).link(seed=0), big_t)["accuracy"]
    assert acc == pytest.approx(0.25, abs=0.03)


def test_expected_bound_sd_by_hand_and_against_repeated_seeds() -> None:
    # one cell of 3 left and 2 right records holding 2 true pairs: the 6 equally likely choices give
    # 2, 1, 0, 0, 0, 1 true pairs -> mean 2/3, variance 1 - 4/9 = 5/9; plus a cell of 2 people on
    # each side (a random permutation of 2: variance 1) and a singleton (variance 0)
    left = pd.DataFrame({"x": ["a", "a", "a", "b", "b", "c"]})
    right = pd.DataFrame({"x": ["a", "a", "b", "b", "c"]})
    truth = pd.DataFrame({"left": [0, 1, 3, 4, 5], "right": [0, 1, 2, 3, 4]})
    bound, sd = expected_bound_and_sd(left, right, truth, ["x"])
    assert bound == pytest.approx((2 / 3 + 1 + 1) / 5)
    assert sd == pytest.approx(np.sqrt(5 / 9 + 1 + 0) / 5)
    # the spread of an exact linker over seeds (its only randomness: which identical record) on a
    # population with many small cells
    rng = np.random.default_rng(0)
    pop = pd.DataFrame({"a": rng.integers(0, 40, 3000), "b": rng.integers(0, 30, 3000)})
    t = pd.DataFrame({"left": np.arange(3000), "right": np.arange(3000)})
    bound, sd = expected_bound_and_sd(pop, pop, t, ["a", "b"])
    accs = [linkage_quality(ExactLinker(on=["a", "b"]).fit(pop, pop).link(seed=s), t)["accuracy"] for s in range(40)]
    assert np.mean(accs) == pytest.approx(bound, abs=3 * sd / np.sqrt(40))
    assert 0.7 * sd < np.std(accs, ddof=1) < 1.4 * sd


def test_expected_bound_equals_uniqueness_bound_without_noise() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.integers(0, 5, 500), "b": rng.choice(["x", "y"], 500)})
    truth = pd.DataFrame({"left": np.arange(500), "right": np.arange(500)})
    assert expected_bound(df, df, truth, ["a", "b"]) == pytest.approx(uniqueness_bound(df, ["a", "b"]))


def test_baseline_metrics_hand_computed() -> None:
    left = pd.DataFrame({"x": ["a", "b", "b"]})
    right = pd.DataFrame({"x": ["a", "b", "b"]})
    truth = pd.DataFrame({"left": [0, 1, 2], "right": [0, 1, 2]})
    links = Links(pd.DataFrame({"left": [0, 1], "right": [0, 2], "score": [1.0, 0.5]}), 3, 3, "hand",
                  diagnostics={"share_ties": 0.25})
    ms = {m.name: m for m in baseline_metrics(links, truth, left, right, ["x"])}
    assert set(ms) == {"precision", "recall", "f1", "accuracy", "share_unlinked_left", "share_ties",
                       "uniqueness_bound", "expected_bound", "accuracy_vs_bound"}
    assert ms["precision"].value == pytest.approx(0.5)
    assert ms["recall"].value == pytest.approx(1 / 3)
    assert ms["f1"].value == pytest.approx(0.4)
    assert ms["accuracy"].value == pytest.approx(1 / 3)
    assert ms["share_unlinked_left"].value == pytest.approx(1 / 3)
    assert ms["share_ties"].value == 0.25 and ms["share_ties"].goal == "min"
    assert ms["uniqueness_bound"].value == pytest.approx(2 / 3)
    assert ms["expected_bound"].value == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert ms["accuracy_vs_bound"].value == pytest.approx((1 / 3) / (2 / 3))
    for m in ms.values():
        assert m.description and m.group == "linkage" and m.error is None
    assert share_ties(links) == 0.25


def test_baseline_metrics_record_errors_without_crashing() -> None:
    left = pd.DataFrame({"x": ["a"]})
    truth = pd.DataFrame({"left": [0], "right": [0]})
    links = Links(pd.DataFrame({"left": [0], "right": [0]}), 1, 1, "hand")
    ms = {m.name: m for m in baseline_metrics(links, truth, left, left, ["missing_col"])}
    assert ms["accuracy"].value == 1.0
    assert ms["uniqueness_bound"].error is not None and "missing_col" in ms["uniqueness_bound"].error
    assert "share_ties" not in ms  # not reported by this method

"""CART (synthpop semantics): facts that could fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.synth import get_synthesizer
from synthlink.synth.cart import bw_nrd0, decimal_places, smooth_density


def dependent(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """y = group-specific level: 'a' -> about 10, 'b' -> about 50, 'c' -> about 90; z = 'hi' iff y > 50."""
    rng = np.random.default_rng(seed)
    g = rng.choice(list("abc"), n)
    y = np.select([g == "a", g == "b"], [10.0, 50.0], 90.0) + np.round(rng.normal(0, 2, n), 1)
    return pd.DataFrame({"g": g, "y": y, "z": np.where(y > 50, "hi", "lo")})


def test_cart_keeps_a_strong_dependency_that_marginals_destroy() -> None:
    df = dependent()
    def within_group_sd(out: pd.DataFrame) -> float:
        return float(out.groupby("g")["y"].std().mean())
    cart = get_synthesizer("cart").fit(df).sample(600, seed=1)
    marg = get_synthesizer("marginals").fit(df).sample(600, seed=1)
    # real within-group sd is 2; marginals mix the groups (sd about 33)
    assert within_group_sd(cart) < 3
    assert within_group_sd(marg) > 25
    # z is a deterministic function of y: CART reproduces it on every row
    assert ((cart["y"] > 50) == (cart["z"] == "hi")).mean() > 0.99
    assert ((marg["y"] > 50) == (marg["z"] == "hi")).mean() < 0.8


def test_values_are_donors_from_the_leaf() -> None:
    df = dependent()
    out = get_synthesizer("cart").fit(df).sample(500, seed=2)
    assert set(out["y"]) <= set(df["y"])  # donor values, no smoothing
    for g, lo, hi in (("a", 0, 20), ("b", 40, 60), ("c", 80, 100)):
        ys = out.loc[out["g"] == g, "y"]
        assert ys.between(lo, hi).all(), g


def test_first_variable_is_drawn_from_its_marginal() -> None:
    df = dependent(3000)
    out = get_synthesizer("cart").fit(df).sample(3000, seed=3)
    real = df["g"].value_counts(normalize=True)
    syn = out["g"].value_counts(normalize=True)
    assert (real - syn).abs().max() < 0.04


def test_visit_sequence_changes_the_order_and_is_validated() -> None:
    df = dependent()
    syn = get_synthesizer("cart", visit_sequence=["z", "y"]).fit(df)
    assert syn.visit_sequence_ == ["z", "y", "g"]
    syn2 = get_synthesizer("cart", visit_sequence="y,g").fit(df)
    assert syn2.visit_sequence_ == ["y", "g", "z"]
    with pytest.raises(ConfigError, match="nope"):
        get_synthesizer("cart", visit_sequence=["nope"]).fit(df)
    with pytest.raises(ConfigError, match="repeats"):
        get_synthesizer("cart", visit_sequence=["y", "y"]).fit(df)


def test_min_samples_leaf_controls_the_leaves() -> None:
    df = dependent(400)
    syn = get_synthesizer("cart", min_samples_leaf=50).fit(df)
    tree = syn.steps_[1].model.tree  # y given g
    assert tree is not None
    leaves = tree.apply(syn._X[:, [0]])
    assert np.bincount(leaves)[np.bincount(leaves) > 0].min() >= 50


def test_missing_indicator_is_synthesized_before_the_values() -> None:
    rng = np.random.default_rng(0)
    n = 800
    g = rng.choice(["x", "y"], n)
    v = np.where(g == "x", np.nan, rng.normal(100, 5, n))  # missing exactly when g == x
    df = pd.DataFrame({"g": g, "v": v})
    syn = get_synthesizer("cart").fit(df)
    assert [s.target for s in syn.steps_] == ["codes", "missing", "values"]
    out = syn.sample(800, seed=1)
    assert out.loc[out["g"] == "x", "v"].isna().all()
    assert out.loc[out["g"] == "y", "v"].notna().all()


def test_dates_round_trip_as_days() -> None:
    rng = np.random.default_rng(0)
    n = 300
    d = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "d": d})
    out = get_synthesizer("cart").fit(df).sample(300, seed=1)
    assert out["d"].dtype == df["d"].dtype
    assert set(out["d"]) <= set(df["d"])


def test_proper_bootstrap_differs_by_seed_and_is_reproducible() -> None:
    df = dependent()
    syn = get_synthesizer("cart", proper=True).fit(df)
    a, b = syn.sample(300, seed=5), syn.sample(300, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["y"]) <= set(df["y"])


def test_bw_nrd0_matches_r() -> None:
    # R: bw.nrd0(c(1, 2, 3, 4, 10)) = 0.9 * min(sd, IQR/1.34) * 5^-0.2
    x = np.array([1.0, 2, 3, 4, 10])
    sd = np.std(x, ddof=1)  # 3.536
    iqr = 4 - 2
    assert bw_nrd0(x) == pytest.approx(0.9 * min(sd, iqr / 1.34) * 5 ** -0.2)
    assert bw_nrd0(np.array([5.0, 5.0, 5.0])) == pytest.approx(0.9 * 5.0 * 3 ** -0.2)  # R's fallback


def test_density_smoothing_keeps_range_and_decimals() -> None:
    rng = np.random.default_rng(0)
    yobs = np.round(rng.normal(50, 10, 500), 1)
    ysyn = rng.choice(yobs, 500)
    sm = smooth_density(ysyn, yobs, np.random.default_rng(1))
    assert decimal_places(yobs) == 1
    assert np.all(np.abs(sm * 10 - np.round(sm * 10)) < 1e-6)
    assert sm.min() >= yobs.min()
    assert not np.array_equal(sm, ysyn)
    # more than 70% of one value: those are left alone
    spike = np.r_[np.zeros(400), rng.normal(10, 1, 100)]
    out = smooth_density(spike, spike, np.random.default_rng(2))
    assert (out == 0).sum() == 400


def test_smoothing_parameter_is_used() -> None:
    df = dependent()
    out = get_synthesizer("cart", smoothing="density").fit(df).sample(500, seed=1)
    assert not set(out["y"]) <= set(df["y"])
    with pytest.raises(ConfigError):
        get_synthesizer("cart", smoothing="spline").fit(df)


def _halves(n: int) -> pd.DataFrame:
    """n rows, x = 'a' on the first half and 'b' on the second, y = 'p' exactly where x = 'a'."""
    x = np.array(["a"] * (n // 2) + ["b"] * (n - n // 2))
    return pd.DataFrame({"x": x, "y": np.where(x == "a", "p", "q")})


def agreement(df: pd.DataFrame, **params: object) -> float:
    """Share of 400 synthetic rows whose y follows x as in the original (1 = the tree split on x)."""
    out = get_synthesizer("cart", **params).fit(df).sample(400, seed=5)
    return float(((out["x"] == "a") == (out["y"] == "p")).mean())


def test_minsplit_is_three_times_minbucket_as_synthpop_leaves_it() -> None:
    # synthpop's syn.cart passes minbucket (5) to rpart but not minsplit; rpart.control then sets
    # minsplit <- minbucket * 3 = 15 (not its stand-alone default 20). rpart splits a node of
    # n >= minsplit records when both children keep >= minbucket.
    # 16 rows (8 'a' / 8 'b'): 16 >= 15 and the split on x leaves 8 and 8 >= 5, so y's tree splits
    # into two pure leaves and every synthetic y follows its x: agreement 1. With minsplit 20 (the
    # old default) 16 < 20: no tree, y is drawn from its 50/50 marginal, agreement about 0.5
    # (400 draws: sd 0.025, so < 0.7 holds with overwhelming probability).
    assert get_synthesizer("cart").min_split == 15
    assert agreement(_halves(16)) == 1.0
    # 14 rows (7 / 7): 14 < 15, rpart does not split either -> marginal draws
    assert agreement(_halves(14)) < 0.7
    # the rule follows minbucket: minbucket 6 -> minsplit 18 > 16, no split
    assert get_synthesizer("cart", min_samples_leaf=6).min_split == 18
    assert agreement(_halves(16), min_samples_leaf=6) < 0.7
    # an explicit minsplit is kept (rpart: a given minsplit wins)
    assert agreement(_halves(16), min_samples_split=20) < 0.7
    assert agreement(_halves(16), min_samples_split=16) == 1.0
    with pytest.raises(ConfigError, match="min_samples_split"):
        get_synthesizer("cart", min_samples_split=1).fit(_halves(16))

"""pMSE / S_pMSE (synthpop's utility.gen definitions), with hand-computed expectations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import InputError
from synthlink.evaluate.propensity_utility import pmse


def test_pmse_by_hand_for_a_saturated_logit() -> None:
    # real: 100 rows, x = "a" on 80; synthetic: 100 rows, x = "a" on 40. One binary variable:
    # intercept + dummy is saturated, so p_hat = share of synthetic rows within each x group.
    real = pd.DataFrame({"x": ["a"] * 80 + ["b"] * 20})
    syn = pd.DataFrame({"x": ["a"] * 40 + ["b"] * 60})
    c = 0.5
    p_a, p_b = 40 / 120, 60 / 80
    expected = (120 * (p_a - c) ** 2 + 80 * (p_b - c) ** 2) / 200
    res = pmse(real, syn, model="logit")
    assert res["pmse"] == pytest.approx(expected, rel=1e-4)
    null = (2 - 1) * (1 - c) ** 2 * c / 200  # k = 2 parameters
    assert res["null_pmse"] == pytest.approx(null)
    assert res["s_pmse"] == pytest.approx(expected / null, rel=1e-4)
    assert res["details"]["n_params"] == 2


def test_identical_distributions_give_s_pmse_near_synthpop_null() -> None:
    # synthpop's scale: two independent samples (c = 1/2) average 1 / (1 - c) = 2
    rng = np.random.default_rng(0)
    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.normal(size=n), "g": rng.choice(list("xyz"), n)})
    vals = [pmse(draw(200), draw(200), model="logit", maxorder=0)["s_pmse"] for _ in range(25)]
    assert 1.3 < np.mean(vals) < 2.7  # chi2(3) * 2/3: mean 2, sd of the mean 0.33
    cart = [pmse(draw(200), draw(200), model="cart", nperms=10, seed=s)["s_pmse"] for s in range(4)]
    assert 1.0 < np.mean(cart) < 3.0


def test_lost_dependency_is_detected_by_interactions_and_cart() -> None:
    rng = np.random.default_rng(1)
    n = 1000
    x = rng.normal(size=n)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(0, 0.2, n)})
    indep = pd.DataFrame({"x": rng.permutation(real["x"]), "y": rng.permutation(real["y"])})
    assert pmse(real, indep, model="logit", maxorder=1)["s_pmse"] > 10
    assert pmse(real, indep, model="cart", nperms=5, cp=0.0)["s_pmse"] > 3
    # main effects alone cannot see it (marginals are identical)
    assert pmse(real, indep, model="logit", maxorder=0)["s_pmse"] < 5


def test_bad_input() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(InputError):
        pmse(df, df, model="rf")
    with pytest.raises(InputError):
        pmse(df, pd.DataFrame({"b": [1]}))

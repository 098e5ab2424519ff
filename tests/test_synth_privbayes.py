"""PrivBayes: the Laplace noise follows epsilon; structure and guarantee bookkeeping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.synth import get_synthesizer
from synthlink.synth.privbayes import mi_sensitivity, mutual_information


def data(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n)
    b = np.where(rng.random(n) < 0.9, a, "x")
    return pd.DataFrame({"a": a, "b": b, "c": rng.integers(0, 5, n)})


def noise(df: pd.DataFrame, eps: float, seeds: int) -> tuple[np.ndarray, float]:
    """Noisy minus exact counts of every measured table over many fits."""
    errs = []
    scale = None
    for s in range(seeds):
        syn = get_synthesizer("privbayes", epsilon=eps, random_state=s).fit(df)
        scale = syn.noise_scale_
        for cols, noisy in syn.measurements_:
            attrs = [syn.attrs_[i] for i in cols]
            if len(attrs) == 1:
                exact = np.bincount(attrs[0].codes, minlength=attrs[0].k)
            else:
                p, x = attrs
                exact = np.bincount(p.codes * x.k + x.codes, minlength=p.k * x.k).reshape(p.k, x.k)
            errs.append((noisy - exact).ravel())
    return np.concatenate(errs), float(scale)


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_noise_variance_follows_epsilon(eps: float) -> None:
    df = data()
    err, b = noise(df, eps, seeds=60)
    # 3 columns -> 2 tables; replace-one sensitivity 2 per table; 70% of epsilon for measurement
    assert b == pytest.approx(2 * 2 / (0.7 * eps))
    var = err.var()
    assert var == pytest.approx(2 * b**2, rel=0.15)
    assert abs(err.mean()) < 0.1 * b


def test_one_column_spends_everything_on_one_table() -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"a": rng.integers(0, 20, 400).astype(str)})  # 20 cells per fit
    err, b = noise(df, 1.0, seeds=100)
    assert b == pytest.approx(2.0)
    assert err.var() == pytest.approx(2 * 2.0**2, rel=0.15)


def test_more_epsilon_less_noise_better_margins() -> None:
    df = data(2000)
    def err(eps: float) -> float:
        out = get_synthesizer("privbayes", epsilon=eps, random_state=0).fit(df).sample(2000, seed=0)
        return float((out["a"].value_counts(normalize=True) - df["a"].value_counts(normalize=True)).abs().sum())
    assert err(100.0) < 0.06
    assert get_synthesizer("privbayes", epsilon=100.0).fit(df).noise_scale_ < \
        get_synthesizer("privbayes", epsilon=0.1).fit(df).noise_scale_


def test_strong_pair_is_selected_with_large_epsilon() -> None:
    df = data(3000)
    syn = get_synthesizer("privbayes", epsilon=50.0, random_state=1).fit(df)
    edges = {frozenset((x, p)) for x, p in syn.parents_.items()}
    assert frozenset((0, 1)) in edges  # a and b are strongly dependent, c independent


def test_mutual_information_and_sensitivity() -> None:
    a = np.array([0, 0, 1, 1])
    assert mutual_information(a, a, 2, 2) == pytest.approx(1.0)  # one bit
    assert mutual_information(a, np.array([0, 1, 0, 1]), 2, 2) == pytest.approx(0.0)
    n = 100
    assert mi_sensitivity(n, True) == pytest.approx(np.log2(n) / n + (n - 1) / n * np.log2(n / (n - 1)))
    assert mi_sensitivity(n, False) > mi_sensitivity(n, True)


def test_public_bounds_and_categories() -> None:
    df = data()
    syn = get_synthesizer("privbayes", bounds={"c": (0, 9)}, categories={"a": ["x", "y", "z", "w"]}).fit(df)
    out = syn.sample(500, seed=0)
    assert out["c"].dropna().between(0, 9).all()
    assert set(out["a"].dropna()) <= {"x", "y", "z", "w"}
    with pytest.raises(ConfigError):
        get_synthesizer("privbayes", epsilon=0).fit(df)
    with pytest.raises(ConfigError, match="nope"):
        get_synthesizer("privbayes", bounds={"nope": (0, 1)}).fit(df)

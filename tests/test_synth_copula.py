"""Gaussian copula: keeps a correlation and the marginals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlink.synth import get_synthesizer


def test_copula_preserves_a_correlation_marginals_lose() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], n)
    df = pd.DataFrame({"a": np.exp(z[:, 0]), "b": z[:, 1] * 10 + 50})
    out = get_synthesizer("copula").fit(df).sample(n, seed=1)
    real = df.corr(method="spearman").iloc[0, 1]
    syn = out.corr(method="spearman").iloc[0, 1]
    assert abs(real - syn) < 0.05
    marg = get_synthesizer("marginals").fit(df).sample(n, seed=1).corr(method="spearman").iloc[0, 1]
    assert abs(marg) < 0.1
    # values come from the observed set (inverse empirical CDF)
    assert set(out["a"]) <= set(df["a"])


def test_copula_links_a_category_to_a_number() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    g = rng.choice(["a", "b"], n, p=[0.3, 0.7])
    x = np.where(g == "a", rng.normal(0, 1, n), rng.normal(5, 1, n))
    out = get_synthesizer("copula").fit(pd.DataFrame({"g": g, "x": x})).sample(n, seed=2)
    assert abs((out["g"] == "a").mean() - 0.3) < 0.04
    diff = out.loc[out["g"] == "b", "x"].mean() - out.loc[out["g"] == "a", "x"].mean()
    # real difference is 5; a Gaussian copula keeps a good part of it (not all: a bimodal
    # margin is not what the normal-scores correlation describes); independence would give 0
    assert 1.5 < diff < 4.8


def test_correlation_matrix_is_valid() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.normal(size=50), "b": 1.0, "c": rng.choice(["x", "y"], 50)})
    syn = get_synthesizer("copula").fit(df)
    r = syn.correlation_
    assert np.allclose(np.diag(r), 1) and np.all(np.linalg.eigvalsh(r) > 0)

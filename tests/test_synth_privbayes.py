"""PrivBayes: the noise follows epsilon and comes from OpenDP (never from a public seed), the
output's shape comes from declared metadata (never from the values), and ``guarantee_`` says what
epsilon covers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError, InputError
from synthlink.synth import get_synthesizer
from synthlink.synth.privbayes import mi_sensitivity, mutual_information


def data(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n)
    b = np.where(rng.random(n) < 0.9, a, "x")
    return pd.DataFrame({"a": a, "b": b, "c": rng.integers(0, 5, n)})


def exact_counts(syn, cols):  # type: ignore[no-untyped-def]
    attrs = [syn.attrs_[i] for i in cols]
    if len(attrs) == 1:
        return np.bincount(attrs[0].codes, minlength=attrs[0].k)
    p, x = attrs
    return np.bincount(p.codes * x.k + x.codes, minlength=p.k * x.k).reshape(p.k, x.k)


def noise(df: pd.DataFrame, eps: float, fits: int, reproducible: bool = True) -> tuple[np.ndarray, float]:
    """Noisy minus exact counts of every measured table over many fits."""
    errs = []
    scale = None
    for s in range(fits):
        seed = s if reproducible else None
        syn = get_synthesizer("privbayes", epsilon=eps, insecure_reproducible_noise=seed).fit(df)
        scale = syn.noise_scale_
        for cols, noisy in syn.measurements_:
            errs.append((noisy - exact_counts(syn, cols)).ravel())
    return np.concatenate(errs), float(scale)


def discrete_laplace_var(b: float) -> float:
    """Variance of the discrete Laplace of scale b: 2 e^(-1/b) / (1 - e^(-1/b))^2 (about 2 b^2)."""
    q = np.exp(-1 / b)
    return float(2 * q / (1 - q) ** 2)


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_noise_variance_follows_epsilon(eps: float) -> None:
    df = data()
    err, b = noise(df, eps, fits=60)
    # 3 columns -> 2 tables; replace-one sensitivity 2 per table; 70% of epsilon for measurement
    assert b == pytest.approx(2 * 2 / (0.7 * eps))
    # eps 2: b = 2.857, var = 2 * 0.7047 / 0.2953^2 = 16.16; eps 0.5: b = 11.43, var = 260.6
    assert err.var() == pytest.approx(discrete_laplace_var(b), rel=0.15)
    assert abs(err.mean()) < 0.1 * b
    assert np.issubdtype(err.dtype, np.integer)  # discrete noise on integer counts


def test_one_column_spends_everything_on_one_table() -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"a": rng.integers(0, 20, 400).astype(str)})  # 20 cells per fit
    err, b = noise(df, 1.0, fits=100)
    assert b == pytest.approx(2.0)
    # b = 2: var = 2 * e^-0.5 / (1 - e^-0.5)^2 = 1.2131 / 0.15482 = 7.835
    assert err.var() == pytest.approx(7.835, rel=0.15)


def test_opendp_noise_spends_epsilon_and_has_the_scale() -> None:
    """The default path: OpenDP's privacy maps add up to epsilon, and its noise has scale b."""
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"a": rng.integers(0, 20, 400).astype(str), "b": rng.choice(["u", "v"], 400)})
    syn = get_synthesizer("privbayes", epsilon=1.5).fit(df)
    # 0.3 * 1.5 = 0.45 on the one structure choice, 1.05 on the counts (L1 sensitivity 2, b = 2/1.05)
    assert syn.epsilon_spent_ == pytest.approx(1.5, rel=1e-9)
    assert syn.noise_scale_ == pytest.approx(2 / 1.05)
    err, b = noise(df[["a"]], 1.0, fits=100, reproducible=False)  # 2,000 draws of scale 2
    # var 7.835 (as above); the sd of a variance estimate of 2,000 Laplace draws is about 6%
    assert err.var() == pytest.approx(7.835, rel=0.3)


def test_noise_is_not_reproducible_from_a_seed() -> None:
    """Two default fits of the same data draw different noise (the landed code drew it from
    random_state=0, so knowing the seed and n - 1 records gave the last one away); only the
    insecure test flag makes it reproducible, and the guarantee says so."""
    df = data(200)
    a, b = (get_synthesizer("privbayes").fit(df) for _ in range(2))
    assert any(not np.array_equal(x[1], y[1]) for x, y in zip(a.measurements_, b.measurements_, strict=True))
    assert a.guarantee_["reproducible_noise"] is False and "OpenDP" in a.guarantee_["noise"]
    c, d = (get_synthesizer("privbayes", insecure_reproducible_noise=3).fit(df) for _ in range(2))
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(c.measurements_, d.measurements_, strict=True))
    g = c.guarantee_
    assert g["reproducible_noise"] is True and g["covers"] == []
    assert g["not_covered"][0].startswith("everything")


def test_integrality_is_declared_never_read_from_the_values() -> None:
    """Issue 11: one hours value 37.5 instead of 37 switched the binning and the rounding."""
    h = np.array([20, 25, 30, 37, 40, 40, 45, 50, 60] * 4, dtype=float)
    d2 = h.copy()
    d2[3] = 37.5
    out = {}
    for name, v in (("D", h), ("D'", d2)):
        syn = get_synthesizer("privbayes", bounds={"hours": (0, 80)}).fit(pd.DataFrame({"hours": v}))
        assert syn.attrs_[0].integer is False  # a float column is continuous, whatever its values
        out[name] = syn.sample(50, seed=0)["hours"].dropna().to_numpy()  # declared bounds: a null bin
    for v in out.values():
        assert (np.mod(v, 1) != 0).mean() > 0.9  # continuous output under D and D' alike
    # declared whole numbers: 81 values > 10 bins -> equal-width bins, rounded output, both alike
    for v in (h, d2):
        syn = get_synthesizer("privbayes", bounds={"hours": (0, 80)}, integers=["hours"]).fit(pd.DataFrame({"hours": v}))
        assert syn.attrs_[0].integer is True and len(syn.attrs_[0].edges) == 11
        assert (np.mod(syn.sample(50, seed=0)["hours"].dropna(), 1) == 0).all()
    # an integer dtype is declared integrality (the schema): 0..4 in bounds (0, 4) -> one bin each
    syn = get_synthesizer("privbayes", bounds={"c": (0, 4)}).fit(data()[["c"]])
    assert syn.attrs_[0].integer is True and syn.attrs_[0].n_value_bins == 5


def test_guarantee_names_what_was_read_from_the_data() -> None:
    df = data(200).assign(w=np.linspace(0, 1, 200), ok=True)
    g = get_synthesizer("privbayes").fit(df).guarantee_
    assert set(g["not_covered"]) == {
        "categories of 'a' (read from the data)", "categories of 'b' (read from the data)",
        "bounds of 'c' (read from the data)", "bounds of 'w' (read from the data)",
        *(f"whether '{c}' has nulls (read from the data)" for c in ("a", "b", "c", "w", "ok")),
    }
    assert "categories of 'ok' (boolean dtype)" in g["covers"]  # [False, True], though all True
    assert g["epsilon"] == 1.0 and g["delta"] == 0.0
    full = get_synthesizer(
        "privbayes", bounds={"c": (0, 4), "w": (0, 1)}, categories={"a": list("xyz"), "b": list("xyz")},
        nullable=["w"],
    ).fit(df)
    assert full.guarantee_["not_covered"] == []
    # the statement needs no fit and no rows: declarations and dtypes only
    syn = get_synthesizer("privbayes", bounds={"c": (0, 4)})
    assert syn.guarantee(df.iloc[:0]) == syn.fit(df).guarantee_
    assert [a.k for a in full.attrs_] == [3, 3, 5, 11, 2]  # null bin only for w (declared), ok: 2 values


def test_declared_null_bin_does_not_depend_on_nulls_in_the_data() -> None:
    df = pd.DataFrame({"x": ["u", "v"] * 20})
    d2 = df.copy()
    d2.loc[0, "x"] = None
    ks = [get_synthesizer("privbayes", nullable=True).fit(t).attrs_[0].k for t in (df, d2)]
    assert ks == [3, 3]  # u, v, null in both
    null_values = {repr(get_synthesizer("privbayes", nullable=True).fit(t).attrs_[0].categories[-1]) for t in (df, d2)}
    assert null_values == {"nan"}  # one null value whatever null object the data held
    with pytest.raises(InputError, match="nullable"):
        get_synthesizer("privbayes", nullable=[]).fit(d2)
    with pytest.raises(InputError, match="outside the declared categories"):
        get_synthesizer("privbayes", categories={"x": ["u"]}).fit(df)


def test_declared_kind_reaches_the_discretisation() -> None:
    df = data(200)
    syn = get_synthesizer("privbayes", kinds={"c": "categorical"}, categories={"c": [0, 1, 2, 3, 4, 5]}).fit(df)
    assert syn.attrs_[2].kind == "categorical" and syn.attrs_[2].k == 7  # 6 declared + null bin
    assert set(syn.sample(300, seed=0)["c"].dropna()) <= {0, 1, 2, 3, 4, 5}
    with pytest.raises(ConfigError, match="kind"):
        get_synthesizer("privbayes", kinds={"c": "text"}).fit(df)


def test_more_epsilon_less_noise_better_margins() -> None:
    df = data(2000)

    def err(eps: float) -> float:
        out = get_synthesizer("privbayes", epsilon=eps).fit(df).sample(2000, seed=0)
        return float((out["a"].value_counts(normalize=True) - df["a"].value_counts(normalize=True)).abs().sum())

    assert err(100.0) < 0.06
    assert get_synthesizer("privbayes", epsilon=100.0).fit(df).noise_scale_ < \
        get_synthesizer("privbayes", epsilon=0.1).fit(df).noise_scale_


def test_strong_pair_is_selected_with_large_epsilon() -> None:
    df = data(3000)
    # a-b: about 1 bit over a sensitivity of about 0.008 bits; with 7.5 per choice the noisy max
    # picks it unless exponential noise of scale 2/7.5 overturns a gap of about 120: never
    syn = get_synthesizer("privbayes", epsilon=50.0).fit(df)
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


def test_a_study_refuses_reproducible_dp_noise() -> None:
    # the test-only flag voids the guarantee: a study config that sets it is a one-line error
    from pathlib import Path

    import yaml

    from synthlink.config import StudyConfig
    from synthlink.errors import ConfigError

    d = yaml.safe_load((Path(__file__).parents[1] / "examples" / "demo.yaml").read_text())
    d["synthesizers"] = [{"name": "privbayes", "params": {"insecure_reproducible_noise": 1}}]
    with pytest.raises(ConfigError, match="insecure_reproducible_noise"):
        StudyConfig.from_dict(d)


def test_a_study_labels_each_dp_part_with_what_epsilon_covers(tmp_path) -> None:
    """The study records each DP part's statement, the report shows it beside epsilon: 'age' has
    declared bounds here, so only the undeclared columns of each part are listed as not covered."""
    from synthlink.report import build_view
    from synthlink.study import Study

    from .conftest import make_people

    make_people(400, seed=1).to_csv(tmp_path / "d.csv", index=False)
    cfg = {"name": "dp", "data": {"path": "d.csv"},
           "split": {"identifier": "pid", "common": ["sex", "age"],
                     "parts": {"edu": ["isced"], "emp": ["wage"]}},
           "synthesizers": [{"name": "privbayes", "params": {"epsilon": 2.0, "bounds": {"age": [16, 80]}}}],
           "linkers": ["exact"], "seeds": [3], "evaluate": {"utility": False, "privacy": False}}
    res = Study.from_dict(cfg, base_dir=tmp_path).run(tmp_path / "out", progress=False)
    g = res.metrics["seeds"][0]["guarantees"]["privbayes"]
    assert set(g) == {"edu", "emp"} and all(s["epsilon"] == 2.0 for s in g.values())
    for part, own in (("edu", "isced"), ("emp", "wage")):
        text = " ".join(g[part]["not_covered"])
        assert own in text and "sex" in text and "bounds of 'age'" not in text
    rows = build_view(res.metrics)["guarantees"]
    assert {r["part"] for r in rows} == {"edu*", "emp*"}

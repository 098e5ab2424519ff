"""Privacy measures: hand-computed expectations on tiny tables, and directional checks (a copy of
train is maximally risky, real train records are riskier than CART output, a fresh real sample
carries about no risk)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.evaluate.privacy import (
    compare_risk,
    dcr_measures,
    headline,
    inference,
    linkability,
    privacy_metrics,
    privacy_report,
    singling_out,
)
from synthlink.evaluate.privacy import neighbors as nb
from synthlink.evaluate.privacy.dcr import normalised_share
from synthlink.evaluate.privacy.disclosure import (
    attribute_disclosure,
    disclosure_measures,
    identity_disclosure,
)
from synthlink.evaluate.privacy.queries import EQ, GE, ISNULL, LE, NE, code_frames, count_matches
from synthlink.evaluate.privacy.stats import Rate, delong_auc, residual_risk, wilson

# -- statistics ---------------------------------------------------------------------------------


def test_wilson_interval_of_20_out_of_100():
    z = 1.959963984540054
    z2 = z * z  # 3.841459
    rate = (20 + z2 / 2) / (100 + z2)  # 21.920729 / 103.841459 = 0.211098
    err = z / (100 + z2) * math.sqrt(20 * 80 / 100 + z2 / 4)  # 0.0188746 * 4.118297 = 0.077731
    r = wilson(20, 100)
    assert r.value == pytest.approx(0.211098, abs=1e-6) and r.value == pytest.approx(rate)
    assert r.error == pytest.approx(0.077731, abs=1e-6) and r.error == pytest.approx(err)
    assert r.ci() == pytest.approx([0.133367, 0.288829], abs=1e-6)


def test_residual_risk_formula_and_error_propagation():
    # risk = (0.5 - 0.2) / (1 - 0.2) = 0.375
    # err = sqrt((0.05 / 0.8)^2 + (0.04 * (0.5 - 1) / 0.8^2)^2) = sqrt(0.00390625 + 0.0009765625) = 0.0698771
    risk, ci, raw = residual_risk(Rate(0.5, 0.05, 0, 1), Rate(0.2, 0.04, 0, 1))
    assert risk == pytest.approx(0.375) and raw == pytest.approx(0.375)
    assert ci == pytest.approx([0.375 - 0.0698771, 0.375 + 0.0698771], abs=1e-6)
    # attack below control: clipped at 0, raw negative
    risk, ci, raw = residual_risk(Rate(0.1, 0.01, 0, 1), Rate(0.3, 0.01, 0, 1))
    assert risk == 0.0 and raw == pytest.approx(-0.2 / 0.7) and ci[0] == 0.0


def test_delong_auc_by_hand():
    # members 3, 4 against non-members 1, 2, 3.5: 3 beats 1 and 2, 4 beats all -> 5 of 6 pairs
    auc, ci, se = delong_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0, 3.5]))
    assert auc == pytest.approx(5 / 6)
    assert ci[0] <= auc <= ci[1] and se > 0
    # ties count one half: (0.5 + 1 + 1 + 1) / 4
    auc, _, _ = delong_auc(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    assert auc == pytest.approx(0.875)


def test_normalised_share_is_one_half_under_the_null_for_any_sizes():
    assert normalised_share(0.5, 100, 100) == pytest.approx(0.5)
    assert normalised_share(0.8, 400, 100) == pytest.approx(0.5)  # null P(train) = 400 / 500
    assert normalised_share(0.75, 3, 2) == pytest.approx(2 / 3)  # odds 3 * (2/3) = 2 -> 2/3
    assert normalised_share(1.0, 3, 2) == 1.0 and normalised_share(0.0, 3, 2) == 0.0


# -- DCR ----------------------------------------------------------------------------------------


def test_dcr_of_three_points_by_hand():
    train = pd.DataFrame({"x": [0.0, 5.0, 10.0], "c": ["a", "b", "a"]})
    control = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    syn = pd.DataFrame({"x": [0.0, 4.0], "c": ["a", "b"]})
    r = dcr_measures(train, control, syn, ["x", "c"], kinds={"x": "numeric", "c": "categorical"})
    # range of x over train + control = 10; distance = |dx| / 10 + [c differs], DCR = distance / 2
    # s1 (0, a): train row 0 at 0 -> DCR 0; next: row 2 at 1.0 (row 1 at 0.5 + 1) -> NNDR 0
    # s2 (4, b): row 1 at 0.1, row 0 at 1.4 -> DCR 0.05, NNDR 0.1 / 1.4
    # to control: s1 -> 0; s2 -> (10, b) at 0.6 -> 0.3
    assert r["dcr_train"]["mean"] == pytest.approx((0 + 0.05) / 2)
    assert r["dcr_train"]["median"] == pytest.approx(0.025)
    assert r["nndr_train"]["mean"] == pytest.approx((0 + 0.1 / 1.4) / 2)
    assert r["dcr_control"]["mean"] == pytest.approx((0 + 0.3) / 2)
    assert r["identical_match_share"] == 0.5
    assert r["identical_match_share_control"] == 0.5
    # s1 ties (1/2), s2 closer to train (1): raw 0.75, normalised for 3 train vs 2 control rows = 2/3
    assert r["share_closer_to_train_raw"] == pytest.approx(0.75)
    assert r["share_closer_to_train"] == pytest.approx(2 / 3)
    assert r["risk"] == pytest.approx(1 / 3)


def test_blocked_search_equals_brute_force(monkeypatch):
    rng = np.random.default_rng(3)

    def frame(n):
        return pd.DataFrame({
            "a": rng.integers(0, 50, n).astype(float), "b": rng.normal(size=n),
            "s": rng.integers(0, 2, n), "r": rng.choice(6, n, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05]),
        })

    t, q = frame(3000), frame(2000)
    ct = {"a": "numeric", "b": "numeric", "s": "categorical", "r": "categorical"}
    (et, eq), _, _ = nb.encode([t, q], list(ct), ct)
    d_ref, _ = nb.brute_force(eq, et, 2)
    monkeypatch.setattr(nb, "BRUTE_PAIRS", 0)  # force the KD-tree blocking path
    d, i = nb.nearest(eq, et, 2)
    np.testing.assert_allclose(d, d_ref, atol=1e-5)
    # the returned indices really are at the returned distances
    direct = np.abs(eq.num[:, None, :] - et.num[i]).sum(-1) + (eq.cat[:, None, :] != et.cat[i]).sum(-1)
    np.testing.assert_allclose(direct, d, atol=1e-5)


# -- query evaluation (singling out) ---------------------------------------------------------------


def test_query_counts_by_hand():
    df = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "c": ["a", "b", "a", "a"]})
    (tab,) = code_frames([df], ["x", "c"], {"x": "numeric", "c": "categorical"})
    code_a = tab.x[0, 1]
    cols = np.array([[0, 1], [0, 1], [0, 0], [0, 1]])
    ops = np.array([[GE, EQ], [LE, EQ], [ISNULL, ISNULL], [NE, EQ]])
    vals = np.array([[2.0, code_a], [4.0, code_a], [np.nan, np.nan], [1.0, code_a]])
    # x >= 2 & c == a -> row 3 only; x <= 4 & c == a -> rows 0, 3 (null x never matches);
    # x is null -> row 2; x != 1 & c == a -> row 3 (null x is not "!= 1")
    assert count_matches(tab, cols, ops, vals).tolist() == [1, 2, 1, 1]


def test_singling_out_counts_control_and_baseline():
    # every train row is unique on x; the synthetic data is a copy -> every univariate query
    # ("x == v" for rare v, and the extremes) isolates one training record
    train = pd.DataFrame({"x": np.arange(40.0), "g": ["u", "v"] * 20})
    control = pd.DataFrame({"x": np.arange(100.0, 140.0), "g": ["u", "v"] * 20})
    r = singling_out(train, control, train, ["x", "g"], mode="univariate", n_attacks=30, seed=1)
    assert r["n_attacks"] == 30 and r["attack"]["n_success"] == 30
    assert r["control"]["n_success"] == 0  # control values never equal the training values
    assert r["risk"] == pytest.approx((wilson(30, 30).value - wilson(0, 30).value) / (1 - wilson(0, 30).value))
    # every query is on x (g has no rare value and no extremes): the breakdown says so, by hand
    assert r["by_column"] == {"x": {"queries": 30, "train_successes": 30, "control_successes": 0}}


def test_univariate_singling_out_names_the_copied_column():
    """A part whose wage values are copied from real people (unique amounts) while its other columns
    are drawn afresh: the breakdown puts wage first, far above its control share."""
    rng = np.random.default_rng(0)
    n = 600
    train = pd.DataFrame({"wage": rng.lognormal(8, 0.5, n).round(2), "status": rng.choice(list("abcd"), n),
                          "age": rng.integers(18, 90, n)})
    control = pd.DataFrame({"wage": rng.lognormal(8, 0.5, n).round(2), "status": rng.choice(list("abcd"), n),
                            "age": rng.integers(18, 90, n)})
    syn = pd.DataFrame({"wage": train["wage"].sample(frac=1.0, random_state=1).to_numpy(),
                        "status": rng.choice(list("abcd"), n), "age": rng.integers(18, 90, n)})
    r = singling_out(train, control, syn, ["wage", "status", "age"], mode="univariate", n_attacks=200, seed=0,
                     kinds={"wage": "numeric", "status": "categorical", "age": "numeric"})
    first, stats = next(iter(r["by_column"].items()))
    assert first == "wage"
    assert stats["train_successes"] / stats["queries"] > 0.9 > 0.1 > stats["control_successes"] / stats["queries"]
    assert sum(v["queries"] for v in r["by_column"].values()) == r["n_attacks"]


def test_singling_out_rates_are_over_the_requested_attacks():
    # Anonymeter (evaluators/singling_out_evaluator.py, results()) gives EvaluationResults
    # n_attacks, the number requested. A copy of train with 10 distinct numeric x: the univariate
    # queries are the 10 "x == v" (each value occurs once) and the two extremes "x <= 0", "x >= 9":
    # 12 queries, each isolating one training record. Requested 50: attack rate = Wilson(12, 50).
    train = pd.DataFrame({"x": np.arange(10.0)})
    control = pd.DataFrame({"x": np.arange(100.0, 110.0)})
    r = singling_out(train, control, train, ["x"], mode="univariate", n_attacks=50, seed=0, kinds={"x": "numeric"})
    assert r["n_attacks"] == 50 and r["n_queries"] == 12
    assert r["attack"]["n_success"] == 12 and r["attack"]["n_attacks"] == 50
    assert r["attack"]["rate"] == pytest.approx(wilson(12, 50).value)
    assert r["baseline"]["n_attacks"] == 50  # n_attacks random queries, as Anonymeter


def test_inference_negative_guess_is_not_always_correct():
    # |guess - secret| / (|guess| + 1e-12) <= 0.05: guess -10 for secret 10 -> 20 / 10 = 2 > 0.05,
    # wrong (Anonymeter's signed denominator would give -2 <= 0.05, "correct")
    train = pd.DataFrame({"k": ["a"] * 20, "y": [10.0] * 20})
    syn = pd.DataFrame({"k": ["a"] * 20, "y": [-10.0] * 20})
    r = inference(train, train, syn, "y", ["k"], n_attacks=20, kinds={"k": "categorical", "y": "numeric"})
    assert r["attack"]["n_success"] == 0


# -- linkability and inference ---------------------------------------------------------------------


def test_linkability_of_a_copy_links_every_target():
    n = 60
    train = pd.DataFrame({"a": np.arange(n, dtype=float), "b": np.arange(n, dtype=float) * 3 + 1})
    control = pd.DataFrame({"a": np.arange(n, dtype=float) + 0.5, "b": np.arange(n, dtype=float)[::-1] * 3})
    r = linkability(train, control, train, (["a"], ["b"]), n_attacks=50, seed=0)
    assert r["attack"]["n_success"] == 50
    assert r["control"]["n_success"] < 10
    assert r["risk"] > 0.7


def test_inference_numeric_secret_within_tolerance():
    train = pd.DataFrame({"k": np.arange(30), "y": np.arange(30) * 100.0 + 100})
    syn = train.assign(y=train["y"] * 1.04)  # 4% off: within Anonymeter's 5% relative tolerance
    control = pd.DataFrame({"k": np.arange(30) + 1000, "y": np.zeros(30) + 1.0})
    r = inference(train, control, syn, "y", ["k"], n_attacks=30, kinds={"k": "categorical", "y": "numeric"})
    assert r["regression"] is True and r["attack"]["n_success"] == 30
    syn_far = train.assign(y=train["y"] * 1.2)
    r2 = inference(train, control, syn_far, "y", ["k"], n_attacks=30, kinds={"k": "categorical", "y": "numeric"})
    assert r2["attack"]["n_success"] == 0


# -- synthpop disclosure ---------------------------------------------------------------------------


def test_repu_and_disco_on_a_tiny_table():
    orig = pd.DataFrame({
        "sex": ["M", "M", "F", "F", "M", "F"], "age": [30, 30, 40, 50, 60, 40],
        "t": ["x", "x", "y", "z", "x", "w"],
    })
    syn = pd.DataFrame({"sex": ["M", "F", "M", "M", "F"], "age": [30, 50, 60, 60, 40], "t": ["x", "q", "x", "x", "y"]})
    ident = identity_disclosure(orig, syn, ["sex", "age"])
    # uniques in the original: (F,50) and (M,60); (F,50) is unique in the synthetic data too,
    # (M,60) appears twice there -> repU = 1 / 6
    assert ident["UiO"] == pytest.approx(2 / 6)
    assert ident["repU"] == pytest.approx(1 / 6)
    attr = attribute_disclosure(orig, syn, ["sex", "age"], "t")
    # single-target groups in the original: (M,30) x2, (F,50), (M,60) -> DiO = 4/6
    # synthpop's DiSCO (R/disclosure.R, tab_DiSCO: d_tq where ps_tq = 1) needs a single target
    # only in the synthetic key group: (M,30) -> x: 2 original x records; (M,60) -> x: 1;
    # (F,40) -> y in the synthetic data, and 1 of the 2 original (F,40) records is y: 1;
    # (F,50) -> q, no original q record: 0. DiSCO = (2 + 1 + 1) / 6 = 4/6.
    # DiSDiO also needs pd_tq = 1: (F,40) has y and w in the original -> DiSDiO = 3/6
    assert attr["DiO"] == pytest.approx(4 / 6)
    assert attr["DiSCO"] == pytest.approx(4 / 6)
    assert attr["DiSDiO"] == pytest.approx(3 / 6)
    full = disclosure_measures(orig, orig, syn, ["sex", "age"], ["t"])
    assert full["repU"] == pytest.approx(1 / 6) and full["by_target"]["t"]["DiSCO"] == pytest.approx(4 / 6)
    assert full["DiSCO_max"] == pytest.approx(4 / 6) and full["DiSDiO_max"] == pytest.approx(3 / 6)
    assert full["repU_control"] == pytest.approx(2 / 6)  # the original itself replicates both uniques


# -- directional checks on a generated population --------------------------------------------------


def _population(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    sex = rng.choice(["F", "M"], n)
    region = rng.choice(8, n, p=[0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05])
    edu = np.clip((rng.normal(3, 1.5, n) + (age < 40)).round(), 0, 6).astype(int)
    income = np.round(np.exp(9 + 0.25 * edu + 0.01 * age + rng.normal(0, 0.6, n)), -2)
    hours = np.clip(rng.normal(35, 10, n).round(), 0, 70)
    return pd.DataFrame({"pid": [f"ID{1_000_000 + i}" for i in range(n)], "age": age, "sex": sex,
                         "region": region, "edu": edu, "income": income, "hours": hours})


COMMON = ["age", "sex", "region"]
PARTS = {"A": ["edu"], "B": ["income", "hours"]}
KINDS = {"age": "numeric", "sex": "categorical", "region": "categorical", "edu": "categorical",
         "income": "numeric", "hours": "numeric"}


@pytest.fixture(scope="module")
def split():
    # equal sizes: no size correction of the control attack is needed
    df = _population(3000, 7)
    return df.iloc[:1000].reset_index(drop=True), df.iloc[1000:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)


def _report(train, control, syn, **kw):
    return privacy_report(train, control, syn, common=COMMON, part_columns=PARTS, identifier="pid", kinds=KINDS,
                          n_attacks=200, seed=0, **kw)


@pytest.fixture(scope="module")
def copy_report(split):
    train, control, _ = split
    return _report(train, control, train)


def test_copy_of_train_scores_maximal_risk(copy_report):
    r = copy_report
    assert all(r[m].get("error") is None for m in ("singling_out", "linkability", "inference", "dcr", "membership", "disclosure"))
    assert r["singling_out"]["risk"] > 0.8
    assert r["inference"]["risk"] > 0.8
    assert r["linkability"]["risk"] > 0.5
    assert r["dcr"]["risk"] > 0.95 and r["dcr"]["identical_match_share"] == 1.0
    assert r["membership"]["auc"] > 0.95
    assert r["disclosure"]["repU"] == pytest.approx(r["disclosure"]["UiO"])


def test_identifier_never_used_or_echoed(copy_report):
    assert "pid" not in copy_report["meta"]["columns"]
    text = json.dumps(copy_report, default=str)
    assert "ID100" not in text and '"pid"' not in text


def test_fresh_real_sample_scores_about_zero(split):
    train, control, fresh = split
    r = _report(train, control, fresh)
    for m in ("singling_out", "linkability", "inference", "dcr", "membership"):
        assert r[m]["ci"][0] <= 0.05, (m, r[m]["risk"], r[m]["ci"])
        assert r[m]["risk"] < 0.2, (m, r[m]["risk"])
    assert abs(r["membership"]["auc"] - 0.5) < 0.1


def test_control_as_synthetic_scores_about_zero(split):
    train, control, _ = split
    r = _report(train, control, control)
    for m in ("singling_out", "linkability", "inference", "dcr", "membership"):
        assert r[m]["risk"] < 0.1, (m, r[m]["risk"])


def test_real_subsample_far_riskier_than_cart(split):
    from synthlink.synth import available, get_synthesizer

    train, control, _ = split
    name = "cart" if "cart" in available() else "marginals"
    data = train.drop(columns="pid")
    syn = get_synthesizer(name).fit(data).sample(len(data), seed=1)
    sub = train.sample(frac=0.4, random_state=2)
    r_sub = _report(train, control, sub)
    r_syn = _report(train, control, syn)
    assert r_sub["dcr"]["risk"] > r_syn["dcr"]["risk"] + 0.5
    # 40% of members are in the subsample: expected AUC about 0.4 * 1 + 0.6 * 0.5 = 0.7
    assert r_sub["membership"]["auc"] > 0.65
    assert r_sub["membership"]["auc"] > r_syn["membership"]["auc"] + 0.08
    assert r_sub["singling_out"]["risk"] > r_syn["singling_out"]["risk"] + 0.1
    assert r_sub["disclosure"]["repU"] > r_syn["disclosure"]["repU"]


def test_failing_measure_is_an_error_entry_not_a_crash(split):
    train, control, _ = split
    r = _report(train.head(300), control.head(300), train.head(300), secret="no_such_column")
    assert r["inference"]["risk"] is None and "no_such_column" in r["inference"]["error"]
    assert r["dcr"]["risk"] is not None
    metrics = privacy_metrics(r, table="J*")
    assert any(m.error for m in metrics) and any(m.value is not None for m in metrics)


def test_compare_risk_side_by_side(split):
    from synthlink.synth import get_synthesizer

    train, control, _ = split
    t = train.head(600)
    parts = {p: get_synthesizer("marginals").fit(t[COMMON + cols]).sample(600, seed=3) for p, cols in PARTS.items()}
    out = compare_risk(parts, t.drop(columns="pid"), t, control.head(400), common=COMMON, part_columns=PARTS,
                       kinds=KINDS, n_attacks=100, seed=0)
    assert set(out["reports"]) == {"A", "B", "J*"}
    assert {row["table"] for row in out["table"]} == {"A", "B", "J*"}
    assert out["effect"]["dcr"]["raised"] is True and out["effect"]["dcr"]["difference"] > 0.5
    assert headline(out["reports"]["A"])["dcr"]["risk"] < 0.5


def test_bitset_counts_equal_the_row_scan():
    from synthlink.evaluate.privacy.queries import GT, match_rows
    from synthlink.evaluate.privacy.singling_attack import random_queries

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.integers(0, 30, 500).astype(float), "c": rng.choice(["a", "b", "c", None], 500),
                       "y": np.where(rng.random(500) < 0.1, np.nan, rng.normal(size=500).round(1))})
    ct = {"x": "numeric", "c": "categorical", "y": "numeric"}
    (tab,) = code_frames([df], list(ct), ct)
    numeric = np.array([True, False, True])
    cols, ops, vals = random_queries(tab, numeric, 400, 2, rng)
    ops = np.where((ops == NE) & numeric[cols], GT, ops)  # != on a numeric column takes the row scan
    np.testing.assert_array_equal(count_matches(tab, cols, ops, vals, numeric), match_rows(tab, cols, ops, vals).sum(axis=1))


def test_column_kinds_declared_over_inferred_and_pooled():
    # inferred (synthlink.schema.infer_kind): an integer column with 3 distinct values (<= 12) is
    # categorical, a float column with a non-whole value numeric, strings categorical
    df = pd.DataFrame({"i": [1, 2, 3, 1], "f": [0.5, 1.0, 2.0, 3.0], "s": ["a", "b", "a", "b"]})
    assert nb.column_kinds([df], ["i", "f", "s"]) == {"i": "categorical", "f": "numeric", "s": "categorical"}
    # declared first, on the two coarse families: numeric and date -> numeric, ordinal -> categorical
    got = nb.column_kinds([df], ["i", "f", "s"], {"i": "numeric", "f": "ordinal", "s": "date"})
    assert got == {"i": "numeric", "f": "categorical", "s": "numeric"}
    # the frames given are pooled: whole numbers 1.0, 2.0 alone are categorical, with 2.5 numeric
    a, b = pd.DataFrame({"x": [1.0, 2.0]}), pd.DataFrame({"x": [2.5]})
    assert nb.column_kinds([a], ["x"]) == {"x": "categorical"}
    assert nb.column_kinds([a, b], ["x"]) == {"x": "numeric"}
    with pytest.raises(ConfigError, match="'x'"):
        nb.column_kinds([a], ["x"], {"x": "text"})


def test_attack_intervals_use_the_confidence_asked_for():
    """attack_result took ``confidence`` but every rate used 95%: at 99% the intervals are wider
    (z 2.576 against 1.960). Wilson's centre depends on z too (Anonymeter's success rate), so the
    risk is (a - c) / (1 - c) of the 99% rates."""
    from synthlink.evaluate.privacy.risk import attack_result
    from synthlink.evaluate.privacy.stats import wilson

    r95 = attack_result(200, 60, 10, 20, 0.95, "d")
    r99 = attack_result(200, 60, 10, 20, 0.99, "d")
    a, c = wilson(60, 200, 0.99).value, wilson(20, 200, 0.99).value
    assert r99["risk"] == pytest.approx((a - c) / (1 - c))
    assert r99["ci"][0] < r95["ci"][0] and r99["ci"][1] > r95["ci"][1]
    assert r99["attack"] == wilson(60, 200, 0.99).to_dict() != wilson(60, 200).to_dict()

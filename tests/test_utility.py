"""Utility measures of the linked synthetic table: hand-computed values, directions, ground truth."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate import utility as U

# ------------------------------------------------------------------------------------------------
# a small population where a cross-part relationship exists beyond the common variables
# ------------------------------------------------------------------------------------------------

PARTS = {"edu": ["isced"], "work": ["wage", "employed"]}
COMMON = ["sex", "age", "canton"]


def make(n: int, seed: int, beyond: bool = True) -> pd.DataFrame:
    """sex, age, canton common; isced (edu part); wage, employed (work part). With ``beyond``,
    wage and employed depend on isced itself (not only through the common variables); without
    it, isced and wage depend on age only, so the common variables explain all of it."""
    r = np.random.default_rng(seed)
    sex = r.choice(["F", "M"], n)
    age = r.integers(18, 65, n)
    canton = r.choice(list("ABCD"), n)
    if beyond:
        isced = r.integers(1, 7, n)
        wage = np.exp(8 + 0.25 * isced + 0.01 * age + 0.2 * (sex == "M") + r.normal(0, 0.3, n))
        employed = np.where(r.random(n) < 0.2 + 0.12 * isced, "yes", "no")
    else:
        band = (age - 18) // 8  # 0..5
        isced = np.clip(band + r.integers(0, 2, n), 1, 6)
        wage = np.exp(8 + 0.25 * band + r.normal(0, 0.3, n))
        employed = np.where(r.random(n) < 0.2 + 0.12 * band, "yes", "no")
    return pd.DataFrame({"pid": np.arange(n), "sex": sex, "age": age, "canton": canton,
                         "isced": isced, "wage": wage, "employed": employed})


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make(3000, 1), make(1500, 2)


# ------------------------------------------------------------------------------------------------
# hand-computed values
# ------------------------------------------------------------------------------------------------

def test_ks_of_two_small_samples() -> None:
    # ECDFs of {1,2,3,4} and {3,4,5,6}: at x=2 they are 2/4 and 0 -> the largest gap is 0.5
    assert U.ks_statistic(np.array([1, 2, 3, 4.0]), np.array([3, 4, 5, 6.0])) == pytest.approx(0.5)
    # missing values are left out; identical samples -> 0
    assert U.ks_statistic(np.array([1, 2, np.nan]), np.array([2, 1.0])) == 0.0
    assert math.isnan(U.ks_statistic(np.array([np.nan]), np.array([1.0])))


def test_tvd_of_two_small_distributions() -> None:
    # p = (x: 1/2, y: 1/2), q = (x: 1/4, y: 3/4): 0.5 * (1/4 + 1/4) = 1/4
    assert U.tvd(["x", "x", "y", "y"], ["x", "y", "y", "y"]) == pytest.approx(0.25)
    assert U.tvd(["a", "b"], ["c", "d"]) == pytest.approx(1.0)
    # missing is a category: p = (a: 1/2, NA: 1/2), q = (a: 1)
    lab = U.as_labels(pd.Series(["a", None]))
    assert U.tvd(lab, U.as_labels(pd.Series(["a", "a"]))) == pytest.approx(0.5)


def test_labels_match_int_and_whole_floats() -> None:
    # an integer column that became float because of unlinked rows must still match train
    assert list(U.as_labels(pd.Series([1.0, 2.0, np.nan]))) == ["1", "2", U.NA_LABEL]
    assert list(U.as_labels(pd.Series([1, 2]))) == ["1", "2"]


def _table(t: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for i, row in enumerate(t):
        for j, cnt in enumerate(row):
            x += [i] * cnt
            y += [j] * cnt
    return np.array(x), np.array(y)


def test_cramers_v_of_2x2_tables() -> None:
    n = 20
    # [[10,0],[0,10]]: chi2 = 20, phi2 = 1; corrected phi2 = 1 - 1/19; r~ = k~ = 2 - 1/19
    # V = sqrt((1 - 1/19) / (1 - 1/19)) = 1
    assert U.cramers_v(*_table([[10, 0], [0, 10]])) == pytest.approx(1.0)
    # [[8,2],[2,8]]: expected 5 everywhere, chi2 = 4 * 9/5 = 7.2, phi2 = 0.36
    expected = math.sqrt((0.36 - 1 / (n - 1)) / (1 - 1 / (n - 1)))
    assert U.cramers_v(*_table([[8, 2], [2, 8]])) == pytest.approx(expected)
    # [[6,4],[4,6]]: phi2 = 0.04 < 1/19, so the bias correction makes it 0
    assert U.cramers_v(*_table([[6, 4], [4, 6]])) == 0.0
    # a constant variable has no association
    assert U.cramers_v(np.zeros(10), np.arange(10) % 2) == 0.0


def test_correlation_ratio() -> None:
    # groups a = {1,2,3}, b = {4,5,6}: mean 3.5, SS_between = 2 * 3 * 1.5^2 = 13.5, SS_total = 17.5
    eta = U.correlation_ratio(["a", "a", "a", "b", "b", "b"], [1, 2, 3, 4, 5, 6])
    assert eta == pytest.approx(math.sqrt(13.5 / 17.5))
    # group means equal -> 0; all the variance between groups -> 1
    assert U.correlation_ratio(["a", "a", "b", "b"], [1, 3, 1, 3]) == pytest.approx(0.0)
    assert U.correlation_ratio(["a", "a", "b", "b"], [1, 1, 3, 3]) == pytest.approx(1.0)


def test_frechet_bounds_of_a_small_table() -> None:
    # x1 (4 rows): (a,c) (a,c) (b,d) (a,d); x2 (2 rows): (b,c) (b,d)
    x = np.array(["x1"] * 4 + ["x2"] * 2)
    y = np.array(["a", "a", "b", "a", "b", "b"])
    z = np.array(["c", "c", "d", "d", "c", "d"])
    cells, unc = U.frechet_bounds_cat(x, y, z)
    c = cells.set_index(["y", "z"])
    # (a,c): P(a|x1)=3/4, P(c|x1)=1/2, P(a|x2)=0, P(c|x2)=1/2, P(x1)=4/6
    #   low = 4/6 * max(0, 3/4 + 1/2 - 1) = 1/6; up = 4/6 * min(3/4, 1/2) = 1/3; CIA = 4/6*3/8 = 1/4
    assert c.loc[("a", "c"), "low_cx"] == pytest.approx(1 / 6)
    assert c.loc[("a", "c"), "up_cx"] == pytest.approx(1 / 3)
    assert c.loc[("a", "c"), "cia"] == pytest.approx(1 / 4)
    assert c.loc[("a", "c"), "observed"] == pytest.approx(2 / 6)
    # (b,d): P(b|x1)=1/4, P(d|x1)=1/2, P(b|x2)=1, P(d|x2)=1/2
    #   low = 2/6 * (1 + 1/2 - 1) = 1/6; up = 4/6 * 1/4 + 2/6 * 1/2 = 1/3
    assert c.loc[("b", "d"), "low_cx"] == pytest.approx(1 / 6)
    assert c.loc[("b", "d"), "up_cx"] == pytest.approx(1 / 3)
    # unconditional: all margins 1/2 -> [0, 1/2] for every cell
    assert np.allclose(cells["low_u"], 0) and np.allclose(cells["up_u"], 0.5)
    # every conditional width is 1/6, every unconditional one 1/2
    assert unc["av_width_cx"] == pytest.approx(1 / 6)
    assert unc["av_width_u"] == pytest.approx(0.5)
    # the observed table always lies within its own conditional bounds
    assert ((cells["observed"] >= cells["low_cx"] - 1e-12) & (cells["observed"] <= cells["up_cx"] + 1e-12)).all()


def test_ci_overlap_of_given_intervals() -> None:
    # [0,2] and [1,3]: overlap 1 -> 0.5 * (1/2 + 1/2)
    assert U.ci_overlap(0, 2, 1, 3) == pytest.approx(0.5)
    assert U.ci_overlap(0, 2, 0, 2) == pytest.approx(1.0)
    # apart by 1: [0,1] and [2,4]: overlap -1 -> 0.5 * (-1/1 + -1/2) = -0.75
    assert U.ci_overlap(0, 1, 2, 4) == pytest.approx(-0.75)
    # nested: [0,4] and [1,2]: 0.5 * (1/4 + 1/1)
    assert U.ci_overlap(0, 4, 1, 2) == pytest.approx(0.625)


def test_standardized_difference_and_compare_fit() -> None:
    assert U.std_coef_diff(1.5, 1.0, 0.25) == pytest.approx(2.0)
    orig = pd.DataFrame({"coef": [1.0, 2.0], "se": [0.5, 1.0]}, index=["Intercept", "x"])
    other = pd.DataFrame({"coef": [1.0, 3.0], "se": [0.5, 1.0]}, index=["Intercept", "x"])
    cmp_ = U.compare_fit(orig, other).set_index("term")
    assert cmp_.loc["Intercept", "ci_overlap"] == pytest.approx(1.0)
    assert cmp_.loc["x", "std_diff"] == pytest.approx(1.0)
    # x: both CIs have length 2 * 1.96; shifted by 1 -> overlap (3.92 - 1) / 3.92
    z = 1.959963984540054
    assert cmp_.loc["x", "ci_overlap"] == pytest.approx((2 * z - 1) / (2 * z))


def test_ci_overlap_own_se_karr_and_original_se_synthpop_by_hand() -> None:
    # one coefficient: original b = 0, se = 1; compared b = 3, se = 2; z = qnorm(0.975).
    z = 1.959963984540054
    orig = pd.DataFrame({"coef": [0.0], "se": [1.0]}, index=["x"])
    other = pd.DataFrame({"coef": [3.0], "se": [2.0]}, index=["x"])
    row = U.compare_fit(orig, other).set_index("term").loc["x"]
    # Karr et al. 2006, each interval with its own SE: original [-z, z] (length 2z), compared
    # [3 - 2z, 3 + 2z] = [-0.92, 6.92] (length 4z). Overlap = min(z, 3 + 2z) - max(-z, 3 - 2z)
    # = z - (3 - 2z) = 3z - 3. IO = 0.5 * ((3z - 3) / (2z) + (3z - 3) / (4z)) = 9 (z - 1) / (8 z)
    # = 0.551009.
    assert row["ci_overlap"] == pytest.approx(9 * (z - 1) / (8 * z))
    assert row["ci_overlap"] == pytest.approx(0.551009, abs=1e-6)
    # synthpop compare.fit default (population.inference = FALSE): the compared interval takes
    # the ORIGINAL variance, [3 - z, 3 + z] = [1.04, 4.96]. Overlap = z - (3 - z) = 2z - 3, both
    # lengths 2z: IO = (2z - 3) / (2z) = 1 - 3 / (2z) = 0.234679.
    assert row["ci_overlap_orig_se"] == pytest.approx(1 - 3 / (2 * z))
    assert row["ci_overlap_orig_se"] == pytest.approx(0.234679, abs=1e-6)
    # standardized difference (synthpop "Std. coef diff"): (3 - 0) / 1 = 3, and the synthpop overlap
    # is 1 - |std diff| / (2z)
    assert row["std_diff"] == pytest.approx(3.0)
    assert row["ci_overlap_orig_se"] == pytest.approx(1 - abs(row["std_diff"]) / (2 * z))
    # a precise but biased compared fit: b = 1.5, se = 0.1. Own SE: [1.5 - 0.1z, 1.5 + 0.1z] =
    # [1.304, 1.696] lies inside [-z, z] = [-1.96, 1.96]: overlap = its whole length 0.2z;
    # IO = 0.5 * (0.2z / (2z) + 0.2z / (0.2z)) = 0.5 * (0.1 + 1) = 0.55 whatever the bias.
    # Original SE: [1.5 - z, 1.5 + z] = [-0.46, 3.46]; overlap z - (1.5 - z) = 2z - 1.5 = 2.42;
    # IO = 1 - 1.5 / (2z) = 0.6173: synthpop's form penalises the bias, Karr's rewards precision.
    other2 = pd.DataFrame({"coef": [1.5], "se": [0.1]}, index=["x"])
    row2 = U.compare_fit(orig, other2).set_index("term").loc["x"]
    assert row2["ci_overlap"] == pytest.approx(0.55)
    assert row2["ci_overlap_orig_se"] == pytest.approx(1 - 1.5 / (2 * z))
    assert row2["ci_overlap_orig_se"] == pytest.approx(0.6173, abs=1e-4)


def test_research_question_reports_both_overlaps() -> None:
    # the same table compared with itself: both overlaps 1; a table whose response is shifted in
    # one group moves the x coefficient, and synthpop's overlap is 1 - |std diff| / (2z) per term
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "y": 1.0 + 0.5 * x + rng.normal(size=200)})
    q = U.research_question("y ~ x", {"train": df, "synthetic": df.assign(y=df["y"] + 0.3 * df["x"])})
    fit = q["fits"]["synthetic"]
    z = 1.959963984540054
    for c in fit["coefficients"]:
        assert c["ci_overlap_orig_se"] == pytest.approx(1 - abs(c["std_diff"]) / (2 * z))
    assert fit["ci_overlap_orig_se_mean"] == pytest.approx(np.mean([c["ci_overlap_orig_se"] for c in fit["coefficients"]]))
    same = U.research_question("y ~ x", {"train": df, "synthetic": df})["fits"]["synthetic"]
    assert same["ci_overlap_mean"] == pytest.approx(1.0)
    assert same["ci_overlap_orig_se_mean"] == pytest.approx(1.0)


def test_pair_types() -> None:
    roles = U.column_roles(["sex", "isced", "wage", "x"], PARTS, ["sex"])
    assert roles == {"sex": "common", "isced": "edu", "wage": "work", "x": ""}
    assert U.pair_type("common", "common") == "common"
    assert U.pair_type("common", "edu") == "within"
    assert U.pair_type("work", "work") == "within"
    assert U.pair_type("edu", "work") == "cross"
    assert U.pair_type("edu", "") == "unknown"


def test_ci_donors_same_cell_never_self_with_fallback() -> None:
    fine = np.array([0, 0, 0, 1, 2, 2])    # row 3 is alone in its fine cell
    coarse = np.array([0, 0, 0, 1, 1, 1])
    donor, used = U.ci_donors([fine, coarse], np.random.default_rng(0))
    assert (donor != np.arange(6)).all()
    assert (fine[donor][used == 0] == fine[used == 0]).all()
    assert used[3] == 1 and coarse[donor[3]] == 1
    assert (used[[0, 1, 2, 4, 5]] == 0).all()
    # cells of two: the donor is the other one
    assert donor[4] == 5 and donor[5] == 4
    # the same seed gives the same donors
    again, _ = U.ci_donors([fine, coarse], np.random.default_rng(0))
    assert (again == donor).all()


# ------------------------------------------------------------------------------------------------
# ground truth: the CI join loses a relationship beyond the common variables, keeps the rest
# ------------------------------------------------------------------------------------------------

def test_ci_join_loses_relationship_beyond_common_variables() -> None:
    beyond = make(4000, 3, beyond=True)
    joined = U.ci_join(beyond, COMMON, PARTS, seed=0)
    eta_true = U.correlation_ratio(beyond["isced"], np.log(beyond["wage"]))
    eta_ci = U.correlation_ratio(joined["isced"], np.log(joined["wage"]))
    assert eta_true > 0.5          # isced explains wage in the true join
    assert eta_ci < 0.15           # the CI join (common variables only) loses it
    # the CI join only re-pairs: every donated value is a real one, the first part stays as it is
    assert np.isin(joined["wage"], beyond["wage"]).all()
    assert (joined["isced"] == beyond["isced"]).all()
    # the donor shares the recipient's common variables (sex, age, canton here: no cell is alone)
    donor_row = pd.Index(beyond["wage"]).get_indexer(joined["wage"])
    assert (beyond["canton"].to_numpy()[donor_row] == joined["canton"].to_numpy()).all()


def test_ci_join_keeps_relationship_the_common_variables_explain() -> None:
    explained = make(4000, 4, beyond=False)
    joined = U.ci_join(explained, COMMON, PARTS, seed=0)
    v_true = U.cramers_v(explained["isced"], explained["employed"])
    v_ci = U.cramers_v(joined["isced"], joined["employed"])
    eta_true = U.correlation_ratio(explained["isced"], np.log(explained["wage"]))
    eta_ci = U.correlation_ratio(joined["isced"], np.log(joined["wage"]))
    assert eta_true > 0.4
    assert eta_ci == pytest.approx(eta_true, abs=0.06)
    assert v_ci == pytest.approx(v_true, abs=0.06)


# ------------------------------------------------------------------------------------------------
# the report: directions
# ------------------------------------------------------------------------------------------------

QUESTIONS = ["np.log(wage) ~ C(isced) + age + C(sex)",
             {"formula": "I(employed == 'yes') ~ C(isced) + age", "family": "logit", "name": "employment"}]


@pytest.fixture(scope="module")
def self_report(data: tuple[pd.DataFrame, pd.DataFrame]) -> dict:
    train, control = data
    return U.utility_report(train, control, train, part_columns=PARTS, common=COMMON, identifier="pid",
                            questions=QUESTIONS, target="employed", baseline=train, seed=0, ci_draws=2)


@pytest.fixture(scope="module")
def shuffled_report(data: tuple[pd.DataFrame, pd.DataFrame]) -> dict:
    """J* = train with the work part's rows re-paired at random: every cross-part link is lost."""
    train, control = data
    syn = train.copy()
    perm = np.random.default_rng(5).permutation(len(train))
    for c in PARTS["work"]:
        syn[c] = train[c].to_numpy()[perm]
    return U.utility_report(train, control, syn, part_columns=PARTS, common=COMMON, identifier="pid",
                            questions=QUESTIONS, target="employed", seed=0, ci_draws=2)


def test_report_is_json_and_has_every_section(self_report: dict) -> None:
    s = json.dumps(self_report, allow_nan=False)
    assert "pid" not in [c["name"] for c in self_report["columns"]]
    for key in ("univariate", "bivariate", "cross_part", "ci_reference", "frechet", "pmse",
                "questions", "ml", "summary", "metrics", "errors"):
        assert key in self_report, key
    assert len(s) > 1000
    for m in self_report["metrics"]:
        assert m["description"] and m["goal"] in ("max", "min", "none")


def test_train_against_itself_scores_perfectly(self_report: dict) -> None:
    r = self_report
    assert r["errors"] == []
    assert all(row["synthetic"] == 0.0 for row in r["univariate"])
    assert all(row["control"] > 0.0 for row in r["univariate"])  # real sampling noise is not zero
    for p in r["bivariate"]["pairs"]:
        assert p["diff_synthetic"] == pytest.approx(0.0, abs=1e-12)
    for q in r["questions"]:
        fit = q["fits"]["synthetic"]
        assert fit["ci_overlap_mean"] == pytest.approx(1.0)
        assert fit["std_diff_mean_abs"] == pytest.approx(0.0, abs=1e-9)
        assert q["fits"]["baseline"]["ci_overlap_mean"] == pytest.approx(1.0)
        assert q["fits"]["control"]["ci_overlap_mean"] < 1.0
    assert r["summary"]["cross_retained_mean_synthetic"] == pytest.approx(1.0)
    assert r["pmse"]["synthetic"]["pmse"] == pytest.approx(0.0, abs=1e-6)
    # the same data and seed -> the same model -> the same ML scores
    assert r["ml"]["synthetic"]["accuracy"] == pytest.approx(r["ml"]["train"]["accuracy"])
    assert r["frechet"]["pairs"][0]["inside_share_synthetic"] == 1.0


def test_shuffled_part_loses_cross_part_association(self_report: dict, shuffled_report: dict) -> None:
    cross = {(p["a"], p["b"], p["measure"]): p for p in shuffled_report["cross_part"]["pairs"]}
    p = cross[("isced", "wage", "eta")]
    assert p["train"] > 0.5 and p["synthetic"] < 0.15
    assert p["ci"] < 0.15   # the design (only the common variables) keeps little of it either
    assert abs(p["retained_synthetic"]) < 0.2
    # the control set keeps it: sampling noise does not destroy a real relationship
    assert p["retained_control"] > 0.8
    s = shuffled_report["summary"]
    assert s["cross_assoc_diff_mean_synthetic"] > 10 * s["cross_assoc_diff_mean_control"]
    # within-part and common pairs are untouched by re-pairing one part's rows as a block
    within = [q for q in shuffled_report["bivariate"]["pairs"] if q["pair_type"] == "common"]
    assert all(q["diff_synthetic"] < 1e-12 for q in within)
    # univariate margins unchanged
    assert all(row["synthetic"] == 0.0 for row in shuffled_report["univariate"])
    # the research question sees it: the isced coefficients drift apart
    fit = shuffled_report["questions"][0]["fits"]["synthetic"]
    assert fit["ci_overlap_mean"] < 0.5
    assert fit["std_diff_mean_abs"] > 3
    # pMSE notices the broken joint distribution; ML from J* is worse than from train
    assert shuffled_report["pmse"]["synthetic"]["s_pmse"] > 5 * shuffled_report["pmse"]["control"]["s_pmse"]
    ml = shuffled_report["ml"]
    assert ml["synthetic"]["roc_auc"] < ml["train"]["roc_auc"] - 0.05
    # (not 0.5: wage stays paired with employed, and both depend on isced)


def test_seeded(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, control = data
    a = U.utility_report(train, control, train.sample(frac=1, random_state=1), part_columns=PARTS,
                         common=COMMON, identifier="pid", seed=3, max_rows=1000)
    b = U.utility_report(train, control, train.sample(frac=1, random_state=1), part_columns=PARTS,
                         common=COMMON, identifier="pid", seed=3, max_rows=1000)
    assert json.dumps(a) == json.dumps(b)


# ------------------------------------------------------------------------------------------------
# graceful failures
# ------------------------------------------------------------------------------------------------

def test_questions_with_missing_values_and_unseen_categories(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, _ = data
    syn = train.copy()
    syn["isced"] = syn["isced"].astype(float)
    syn.loc[:99, "isced"] = np.nan               # missing values (e.g. unlinked rows)
    syn.loc[100:149, "isced"] = 99.0             # a level train never shows
    syn = syn[syn["isced"] != 1]                 # a level J* lacks: its coefficient is missing
    res = U.research_question("np.log(wage) ~ C(isced) + age", {"train": train, "synthetic": syn})
    fit = res["fits"]["synthetic"]
    assert "error" not in res and "error" not in fit
    assert fit["rows_unseen_levels"] == 50
    assert fit["nobs"] == len(syn) - 150
    # the reference level is train's (1); with no isced == 1 rows in J* the contrasts against it
    # cannot be estimated the same way, but nothing crashes and the terms line up by name
    terms = {c["term"] for c in fit["coefficients"]}
    assert terms == {c["term"] for c in res["fits"]["train"]["coefficients"]}
    assert "C(isced)[T.99.0]" not in terms


def test_failing_question_is_an_error_entry(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, control = data
    r = U.utility_report(train, control, train, part_columns=PARTS, common=COMMON, identifier="pid",
                         questions=["np.log(wage) ~ no_such_column", "np.log(wage) ~ age"], seed=0,
                         max_rows=1000)
    assert "error" in r["questions"][0]
    assert r["questions"][1]["fits"]["synthetic"]["ci_overlap_mean"] == pytest.approx(1.0)
    assert len(r["errors"]) == 1 and "no_such_column" in r["errors"][0]["error"]
    assert r["univariate"] and "error" not in r["bivariate"]


def test_bad_config_raises_clear_errors(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from synthlink.errors import ConfigError, SchemaError

    train, control = data
    with pytest.raises(SchemaError, match="wage"):
        U.utility_report(train, control, train.drop(columns="wage"), part_columns=PARTS, common=COMMON)
    with pytest.raises(ConfigError, match="family"):
        U.Question.parse({"formula": "wage ~ age", "family": "probit"})
    with pytest.raises(ConfigError, match="~"):
        U.Question.parse("wage + age")


def test_numeric_target_r2(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, control = data
    kinds = U.column_kinds(train, ["sex", "age", "isced", "wage"])
    res = U.ml_utility(train, train, control, "wage", kinds, seed=0)
    assert res["train"]["r2"] == pytest.approx(res["synthetic"]["r2"])
    assert res["train"]["r2"] > 0.3


# ------------------------------------------------------------------------------------------------
# the demo population, where available
# ------------------------------------------------------------------------------------------------

def test_on_demo_population() -> None:
    demo = pytest.importorskip("synthlink.demo")
    df = demo.population(2500, seed=0)
    train, control = df.iloc[:1800].reset_index(drop=True), df.iloc[1800:].reset_index(drop=True)
    parts = {"education": ["isced"], "employment": ["wage", "employment_status"]}
    common = ["sex", "age", "nationality", "canton"]
    syn = train.copy()
    syn["wage"] = train["wage"].sample(frac=1, random_state=0).to_numpy()
    syn["employment_status"] = train["employment_status"].sample(frac=1, random_state=0).to_numpy()
    r = U.utility_report(train, control, syn, part_columns=parts, common=common, identifier="matricule",
                         questions=["np.log(wage) ~ C(isced) + age + C(sex)"], seed=0, ci_draws=1)
    json.dumps(r, allow_nan=False)
    assert r["errors"] == [], r["errors"]
    assert r["summary"]["cross_assoc_diff_mean_synthetic"] > r["summary"]["cross_assoc_diff_mean_control"]


def test_unlinked_rows_and_no_control(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """J* as reconstruct() leaves it: unlinked rows carry missing values for the other part, an
    integer column turned float, bookkeeping columns; and no control set."""
    train, _ = data
    syn = train.copy()
    syn.loc[:299, ["wage", "employed"]] = np.nan          # left-only rows
    syn["isced"] = syn["isced"].astype(float)
    syn.loc[300:449, "isced"] = np.nan                    # right-only rows
    syn["_link_status"] = "linked"
    r = U.utility_report(train, None, syn, part_columns=PARTS, common=COMMON, identifier="pid",
                         questions=["np.log(wage) ~ C(isced) + age"], seed=0, max_rows=2000)
    json.dumps(r, allow_nan=False)
    assert r["errors"] == []
    assert "_link_status" not in {c["name"] for c in r["columns"]}
    tv = {u["column"]: u["synthetic"] for u in r["univariate"] if u["measure"] == "tvd"}
    # the only change in each column is its missing share: TVD = that share
    assert tv["employed"] == pytest.approx(300 / len(train))
    assert tv["isced"] == pytest.approx(150 / len(train))
    assert tv["sex"] == 0.0
    # the linked rows still carry the true pairs: associations on complete pairs barely move
    assert r["summary"]["cross_assoc_diff_mean_synthetic"] < 0.03
    assert r["questions"][0]["fits"]["synthetic"]["nobs"] == len(train) - 450
    assert r["summary"]["utility_score_control"] is None

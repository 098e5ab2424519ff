"""Propensity score matching: the matching step by hand, random ties, and the two regimes:
same population (cannot identify people: flagged unsuitable, warned) and different populations
(the model separates the parts: high AUC, better balance after matching)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.evaluate.linkage import linkage_quality
from synthlink.link import get_linker
from synthlink.link.base import UnsuitableMethodWarning, shuffled_link
from synthlink.link.propensity import match_on_score


def people(n: int, seed: int = 0, older: int = 0, share_f: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": np.where(rng.random(n) < share_f, "F", "M"),
        "age": rng.integers(18, 80, n) + older,
        "canton": rng.choice(list("ABCDEFGHIJKL"), n, p=np.r_[0.3, np.full(11, 0.7 / 11)]),
        "nationality": rng.choice(["LU", "PT", "FR", "XX"], n, p=[0.6, 0.2, 0.1, 0.1]),
    })


def test_match_on_score_closest_pairs_first_and_caliper() -> None:
    rng = np.random.default_rng(0)
    # closest pair (1.0, 0.9) first, then (0.0, 5.0)
    li, rj, gap, _ = match_on_score(np.array([0.0, 1.0]), np.array([0.9, 5.0]), np.inf, rng)
    assert set(zip(li, rj, strict=True)) == {(1, 0), (0, 1)}
    np.testing.assert_allclose(sorted(gap), [0.1, 5.0])
    # with a caliper of 1 the far pair is not made
    li, rj, gap, _ = match_on_score(np.array([0.0, 1.0]), np.array([0.9, 5.0]), 1.0, rng)
    assert set(zip(li, rj, strict=True)) == {(1, 0)}
    # each record at most once; more left than right
    li, rj, _, _ = match_on_score(np.array([0.0, 0.1, 0.2, 3.0]), np.array([0.15, 2.9]), np.inf, rng)
    assert len(li) == 2 and len(set(li)) == 2 and len(set(rj)) == 2
    assert set(zip(li, rj, strict=True)) == {(1, 0), (3, 1)} or set(zip(li, rj, strict=True)) == {(2, 0), (3, 1)}


def test_ties_are_broken_at_random() -> None:
    z = np.zeros(200)
    li, rj, gap, _ = match_on_score(z, z, 0.0, np.random.default_rng(1))
    assert len(li) == 200 and (gap == 0).all()
    assert (li == rj).sum() < 10  # not by row order


def test_same_population_is_flagged_unsuitable_with_warning() -> None:
    n = 10000
    df = people(n, seed=3)
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    with pytest.warns(UnsuitableMethodWarning, match="cannot identify individuals"):
        links = shuffled_link(get_linker("propensity"), df, df, seed=0)
    d = links.diagnostics
    assert d["suitable_for_record_linkage"] is False
    assert abs(d["auc"] - 0.5) <= 0.02
    assert "AUC" in d["reason"]
    assert links.warnings and "balances the two groups" in links.warnings[0]
    assert d["share_ties"] > 0.9
    for key in ("score_sd", "score_iqr", "smd_before", "smd_after", "caliper"):
        assert key in d
    # record-level links are no better than chance here
    assert linkage_quality(links, truth)["accuracy"] < 0.01


def test_independent_draws_of_one_population_are_unsuitable() -> None:
    left, right = people(6000, seed=1), people(6000, seed=2)
    with pytest.warns(UnsuitableMethodWarning):
        links = get_linker("propensity").fit(left, right).link(seed=0)
    assert links.diagnostics["suitable_for_record_linkage"] is False
    assert links.diagnostics["auc"] < 0.56


def test_different_populations_give_high_auc_and_better_balance() -> None:
    left = people(4000, seed=1)
    right = people(4000, seed=2, older=25, share_f=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsuitableMethodWarning)
        links = get_linker("propensity").fit(left, right).link(seed=0)
    d = links.diagnostics
    assert d["auc"] > 0.8
    assert d["suitable_for_record_linkage"] is True
    assert d["smd_after"]["age"] < d["smd_before"]["age"]
    assert d["max_abs_smd_before"] > 0.5
    # the caliper leaves records unmatched where the populations do not overlap
    assert 0 < len(links) < 4000
    gaps_ok = (links.pairs["score"] >= 0).all()
    assert gaps_ok


def test_tree_model_runs_and_same_seed_same_links() -> None:
    left, right = people(600, seed=1), people(600, seed=2, older=20)
    a = get_linker("propensity", model="tree", cv=3).fit(left, right).link(seed=3)
    b = get_linker("propensity", model="tree", cv=3).fit(left, right).link(seed=3)
    assert a.diagnostics["model"] == "tree" and a.diagnostics["auc"] > 0.7
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_bad_parameters() -> None:
    df = people(50)
    with pytest.raises(ConfigError, match="model"):
        get_linker("propensity", model="svm").fit(df, df)
    with pytest.raises(ConfigError, match="caliper"):
        get_linker("propensity", caliper=0).fit(df, df)


@pytest.mark.slow
def test_demo_population_original_split() -> None:
    from synthlink.demo import DEMO_PLAN, population
    from synthlink.split import SplitPlan, split

    df = population(50_000, seed=0)
    on = list(DEMO_PLAN["common"])
    # both parts hold the same persons: AUC at chance, flagged unsuitable
    full = dict(DEMO_PLAN)
    full["parts"] = {k: dict(v, coverage=1.0) for k, v in DEMO_PLAN["parts"].items()}
    s = split(df, SplitPlan.from_dict(full), seed=0)
    a, b = list(full["parts"])[:2]
    with pytest.warns(UnsuitableMethodWarning):
        links = shuffled_link(get_linker("propensity", on=on), s.parts[a], s.parts[b], seed=0)
    assert links.diagnostics["suitable_for_record_linkage"] is False
    assert abs(links.diagnostics["auc"] - 0.5) <= 0.02
    # the plan as written: parts cover different sub-populations (AUC a little above chance),
    # still no way to identify persons
    s = split(df, SplitPlan.from_dict(DEMO_PLAN), seed=0)
    with pytest.warns(UnsuitableMethodWarning):
        links = shuffled_link(get_linker("propensity", on=on), s.parts[a], s.parts[b], seed=0)
    assert links.diagnostics["suitable_for_record_linkage"] is False

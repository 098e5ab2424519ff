"""Propensity score matching: the greedy closest-pairs-first matching step by hand and against a
brute-force greedy over all pairs, random ties, and the two regimes: same population (AUC at
chance: PSM fails for record-level matching, warned) and different populations (high AUC: the
populations differ, better balance after matching; still no record linkage, warned)."""

from __future__ import annotations

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
    li, rj, gap = match_on_score(np.array([0.0, 1.0]), np.array([0.9, 5.0]), np.inf, rng)
    assert set(zip(li, rj, strict=True)) == {(1, 0), (0, 1)}
    np.testing.assert_allclose(sorted(gap), [0.1, 5.0])
    # with a caliper of 1 the far pair is not made
    li, rj, gap = match_on_score(np.array([0.0, 1.0]), np.array([0.9, 5.0]), 1.0, rng)
    assert set(zip(li, rj, strict=True)) == {(1, 0)}
    # each record at most once; more left than right
    li, rj, _ = match_on_score(np.array([0.0, 0.1, 0.2, 3.0]), np.array([0.15, 2.9]), np.inf, rng)
    assert len(li) == 2 and len(set(li)) == 2 and len(set(rj)) == 2
    assert set(zip(li, rj, strict=True)) == {(1, 0), (3, 1)} or set(zip(li, rj, strict=True)) == {(2, 0), (3, 1)}


def test_match_on_score_is_global_greedy_not_rounds() -> None:
    # left {0.9, 1.0}, right {0.8, 0.85, 1.5}. All cross pairs by gap (worked by hand):
    #   L0=0.9-R1=0.85: 0.05, L0-R0=0.8: 0.10, L1=1.0-R1: 0.15, L1-R0: 0.20, L1-R2=1.5: 0.50,
    #   L0-R2: 0.60.
    # Closest first: take (L0, R1) 0.05; (L0, R0) and (L1, R1) have a used end; next free pair is
    # (L1, R0) 0.20, taken before (L1, R2) 0.50. The old round-based code took both local minima
    # of the sorted order at once, (L0, R1) and (L1, R2).
    li, rj, gap = match_on_score(np.array([0.9, 1.0]), np.array([0.8, 0.85, 1.5]), np.inf, np.random.default_rng(0))
    assert list(zip(li.tolist(), rj.tolist(), strict=True)) == [(0, 1), (1, 0)]
    np.testing.assert_allclose(gap, [0.05, 0.20])
    # with a caliper of 0.3 the same two pairs; with 0.1 only the first
    li, rj, _ = match_on_score(np.array([0.9, 1.0]), np.array([0.8, 0.85, 1.5]), 0.1, np.random.default_rng(0))
    assert list(zip(li.tolist(), rj.tolist(), strict=True)) == [(0, 1)]


def _brute_greedy(sl: np.ndarray, sr: np.ndarray, caliper: float) -> set[tuple[int, int]]:
    """Independent reference: list every cross pair, sort by gap, take a pair when both ends are
    free (the definition of greedy closest-pair-first matching)."""
    cand = sorted((abs(a - b), i, j) for i, a in enumerate(sl) for j, b in enumerate(sr) if abs(a - b) <= caliper)
    used_l: set[int] = set()
    used_r: set[int] = set()
    out = set()
    for _, i, j in cand:
        if i not in used_l and j not in used_r:
            used_l.add(i)
            used_r.add(j)
            out.add((i, j))
    return out


def test_match_on_score_equals_brute_force_greedy() -> None:
    # 60 random cases of 2-12 records a side (the old round-based matching differed from the
    # definition on 4 of them)
    gen = np.random.default_rng(7)
    for trial in range(60):
        sl = gen.normal(size=int(gen.integers(2, 13)))
        sr = gen.normal(0.3, 1.3, size=int(gen.integers(2, 13)))  # continuous: no ties
        cal = [np.inf, 0.5][trial % 2]
        li, rj, gap = match_on_score(sl, sr, cal, np.random.default_rng(trial))
        assert set(zip(li.tolist(), rj.tolist(), strict=True)) == _brute_greedy(sl, sr, cal)
        np.testing.assert_allclose(gap, np.abs(sl[li] - sr[rj]))
        assert (np.diff(gap) >= -1e-12).all()  # taken in order of the gap


def test_ties_are_broken_at_random() -> None:
    z = np.zeros(200)
    li, rj, gap = match_on_score(z, z, 0.0, np.random.default_rng(1))
    assert len(li) == 200 and (gap == 0).all()
    assert (li == rj).sum() < 10  # not by row order


def test_same_population_is_flagged_unsuitable_with_warning() -> None:
    n = 10000
    df = people(n, seed=3)
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    with pytest.warns(UnsuitableMethodWarning, match="cannot identify individuals"):
        links = shuffled_link(get_linker("propensity"), df, df, seed=0)
    d = links.diagnostics
    assert "suitable_for_record_linkage" not in d
    assert d["record_linkage_supported"] is False
    assert d["same_population"] is True and d["populations_differ"] is False
    assert abs(d["auc"] - 0.5) <= 0.02
    assert "AUC" in d["auc_meaning"] and "same population" in d["auc_meaning"]
    assert "PSM fails for record-level matching" in d["reason"]
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
    assert links.diagnostics["record_linkage_supported"] is False
    assert links.diagnostics["populations_differ"] is False
    assert links.diagnostics["auc"] < 0.56


def test_different_populations_give_high_auc_and_better_balance_but_no_linkage() -> None:
    left = people(4000, seed=1)
    right = people(4000, seed=2, older=25, share_f=0.8)
    with pytest.warns(UnsuitableMethodWarning, match="identifies no one"):
        links = get_linker("propensity").fit(left, right).link(seed=0)
    d = links.diagnostics
    assert d["auc"] > 0.8
    # a high AUC says the populations differ; it never makes record linkage supported
    assert d["populations_differ"] is True and d["same_population"] is False
    assert d["record_linkage_supported"] is False
    assert "different populations" in d["auc_meaning"]
    assert d["smd_after"]["age"] < d["smd_before"]["age"]
    assert d["max_abs_smd_before"] > 0.5
    # the caliper leaves records unmatched where the populations do not overlap
    assert 0 < len(links) < 4000
    gaps_ok = (links.pairs["score"] >= 0).all()
    assert gaps_ok


def test_two_parts_sharing_nobody_are_not_linkable() -> None:
    # disjoint persons: ages 18-39 on the left, 60-79 on the right, so AUC is about 1; the old code
    # called this "suitable for record linkage" although no person is in both parts
    rng = np.random.default_rng(5)
    left = people(1500, seed=1).assign(age=rng.integers(18, 40, 1500))
    right = people(1500, seed=2).assign(age=rng.integers(60, 80, 1500))
    with pytest.warns(UnsuitableMethodWarning):
        links = get_linker("propensity").fit(left, right).link(seed=0)
    d = links.diagnostics
    assert d["auc"] > 0.95 and d["populations_differ"] is True
    assert d["record_linkage_supported"] is False


def test_report_says_psm_fails_for_record_level_matching_on_one_population() -> None:
    from synthlink.report import build_view

    df = people(3000, seed=3)
    with pytest.warns(UnsuitableMethodWarning):
        links = shuffled_link(get_linker("propensity"), df, df, seed=0)
    run = {"linker": "propensity", "status": "ok", "diagnostics": links.diagnostics, "quality": {"accuracy": 0.0}}
    view = build_view({"seeds": [{"seed": 0, "baseline": [run], "synthetic": []}]})
    (row,) = view["psm"]
    assert row["supported"] is False and row["populations_differ"] is False
    (line,) = [x for x in view["verdict"] if "Propensity" in x]
    assert "fails for record-level matching" in line and "same population" in line
    assert "no information about who is who" in line  # the why


def test_tree_model_runs_and_same_seed_same_links() -> None:
    left, right = people(600, seed=1), people(600, seed=2, older=20)
    with pytest.warns(UnsuitableMethodWarning):
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
    assert links.diagnostics["record_linkage_supported"] is False
    assert links.diagnostics["same_population"] is True
    assert abs(links.diagnostics["auc"] - 0.5) <= 0.02
    # the plan as written: parts cover different sub-populations (AUC a little above chance),
    # still no way to identify persons
    s = split(df, SplitPlan.from_dict(DEMO_PLAN), seed=0)
    with pytest.warns(UnsuitableMethodWarning):
        links = shuffled_link(get_linker("propensity", on=on), s.parts[a], s.parts[b], seed=0)
    assert links.diagnostics["record_linkage_supported"] is False


def test_report_table_and_text_agree_on_how_the_populations_differ() -> None:
    """The diagnostic's three readings of its AUC (chance, slight, clear) appear in the table with
    the same words as in the text: an AUC of 0.593, below min_auc 0.6 but not at chance, read 'no'
    in the table while the text said the populations 'differ slightly'."""
    from synthlink.report import build_view

    lk = get_linker("propensity")
    rows = []
    for auc in (0.51, 0.593, 0.8):
        d = {"auc": auc, "share_ties": 0.0, **lk._verdict(auc, 0.0)}
        run = {"linker": "propensity", "status": "ok", "diagnostics": d, "quality": {"accuracy": 0.0}}
        (row,) = build_view({"seeds": [{"seed": 0, "baseline": [run], "synthetic": []}]})["psm"]
        rows.append((row["difference"], d["auc_meaning"]))
    assert rows[0][0].startswith("no") and "same population" in rows[0][1]
    assert rows[1][0] == "slightly" and "differ slightly" in rows[1][1]
    assert rows[2][0] == "yes" and "different populations" in rows[2][1]

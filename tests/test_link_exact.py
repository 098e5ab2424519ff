from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate.linkage import linkage_quality, uniqueness_bound
from synthlink.link import get_linker, shuffled_link
from synthlink.link.base import Links
from synthlink.reconstruct import STATUS, reconstruct, resolve_one_to_one
from synthlink.split import SplitPlan, split


def test_uniqueness_bound_hand_computed():
    df = pd.DataFrame({"a": [1, 1, 2, 2, 3], "b": ["x", "x", "x", "y", "y"]})
    # combinations: (1,x) twice, (2,x), (2,y), (3,y) -> 4 distinct / 5 records
    assert uniqueness_bound(df, ["a", "b"]) == pytest.approx(4 / 5)
    assert uniqueness_bound(df, ["b"]) == pytest.approx(2 / 5)
    # binning age into two bins
    assert uniqueness_bound(df, ["a"], bins={"a": [0, 1.5, 3]}) == pytest.approx(2 / 5)


def test_linkage_quality_hand_computed():
    truth = pd.DataFrame({"left": [0, 1, 2, 3], "right": [3, 2, 1, 0]})
    links = Links(pd.DataFrame({"left": [0, 1, 2], "right": [3, 2, 0], "score": [1, 1, 1]}), 4, 4, "t")
    q = linkage_quality(links, truth)
    assert q["precision"] == pytest.approx(2 / 3)
    assert q["recall"] == pytest.approx(2 / 4)
    assert q["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert q["accuracy"] == pytest.approx(0.5)
    assert q["share_unlinked_left"] == pytest.approx(0.25)


def test_exact_within_cells_is_random_and_one_to_one():
    left = pd.DataFrame({"s": ["a", "a", "b", "c"]})
    right = pd.DataFrame({"s": ["b", "a", "a", "d"]})
    links = get_linker("exact", on=["s"]).fit(left, right).link(seed=0)
    p = links.pairs.sort_values("left")
    assert len(p) == 3  # a-a twice, b-b once; c and d unmatched
    assert set(p["left"]) == {0, 1, 2}
    assert p.loc[p["left"] == 2, "right"].item() == 0
    assert set(p.loc[p["left"] < 2, "right"]) == {1, 2}
    # cell of size one scores higher than the tied cell of size two
    assert p.loc[p["left"] == 2, "score"].item() > p.loc[p["left"] == 0, "score"].item()
    assert links.diagnostics["share_ties"] == pytest.approx(2 / 3)


def test_exact_ordered_passes():
    left = pd.DataFrame({"s": ["a", "a"], "age": [30, 40]})
    right = pd.DataFrame({"s": ["a", "a"], "age": [41, 30]})
    links = get_linker("exact", passes=[["s", "age"], ["s"]]).fit(left, right).link(seed=0)
    p = links.pairs.set_index("left")["right"].to_dict()
    assert p == {0: 1, 1: 0}  # strict pass links 30-30, the looser pass links the rest
    assert links.diagnostics["passes"][0]["links"] == 1


def test_exact_reaches_uniqueness_bound_on_clean_split(people, plan_dict):
    people = pd.concat([people] * 1, ignore_index=True)
    r = split(people, SplitPlan.from_dict(plan_dict), seed=4)
    a, b = r.parts["edu"].drop(columns="pid"), r.parts["emp"].drop(columns="pid")
    truth = r.truth_pairs("edu", "emp")
    accs = [linkage_quality(shuffled_link(get_linker("exact", on=["sex", "age", "canton"]), a, b, seed=s), truth)["accuracy"] for s in range(5)]
    bound = uniqueness_bound(r.train, ["sex", "age", "canton"])
    # random matching within cells: expected accuracy equals the bound
    assert np.mean(accs) == pytest.approx(bound, abs=0.02)


def test_identifier_join_is_perfect(people, plan_dict):
    r = split(people, SplitPlan.from_dict(plan_dict), seed=4)
    links = shuffled_link(get_linker("identifier", key="pid"), r.parts["edu"], r.parts["emp"], seed=9)
    q = linkage_quality(links, r.truth_pairs("edu", "emp"))
    assert q["accuracy"] == 1.0 and q["precision"] == 1.0


def test_reconstruction_accounts_for_every_row():
    left = pd.DataFrame({"c": [1, 2, 3, 4], "x": list("abcd")})
    right = pd.DataFrame({"c": [1, 2, 9], "y": [10.0, 20.0, 90.0]})
    links = Links(pd.DataFrame({"left": [0, 1], "right": [0, 1]}), 4, 3, "t")
    rec = reconstruct(left, right, links, common=["c"])
    assert rec.accounting == {"n_left": 4, "n_right": 3, "linked": 2, "left_only": 2, "right_only": 1, "rows": 5}
    j = rec.joint
    assert list(j.columns) == ["c", "x", "y", STATUS, "_link_score"]
    assert (j[STATUS] == "linked").sum() == 2
    assert j.loc[j[STATUS] == "right_only", "c"].item() == 9
    assert j.loc[j[STATUS] == "right_only", "x"].isna().all()
    linked = j[j[STATUS] == "linked"].set_index("c")
    assert linked.loc[2, "y"] == 20.0 and linked.loc[2, "x"] == "b"


def test_non_one_to_one_links_are_resolved_greedily_by_score():
    pairs = pd.DataFrame({"left": [0, 0, 1, 1], "right": [0, 1, 0, 1], "score": [0.9, 0.8, 0.85, 0.1]})
    links = Links(pairs, 2, 2, "t", one_to_one=False)
    one = resolve_one_to_one(links)
    assert one.set_index("left")["right"].to_dict() == {0: 0, 1: 1}
    rec = reconstruct(pd.DataFrame({"c": [1, 2]}), pd.DataFrame({"c": [1, 2], "y": [1, 2]}), links, ["c"])
    assert rec.accounting["linked"] == 2 and rec.accounting["rows"] == 2


def test_links_validate_positions():
    with pytest.raises(ValueError, match="out of range"):
        Links(pd.DataFrame({"left": [5], "right": [0]}), 2, 2, "t")
    with pytest.raises(ValueError, match="one-to-one"):
        Links(pd.DataFrame({"left": [0, 0], "right": [0, 1]}), 2, 2, "t")

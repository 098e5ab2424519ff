"""A study of three registers (``link_plan``) end to end on the demo population: per-edge and tuple
baselines with their bounds, the K-way accounting, per-edge linkers, the evaluation of the
complete tuples and of each linked pair; bad plans are one-line config errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthlink.config import StudyConfig
from synthlink.demo.plan import demo_plan
from synthlink.errors import ConfigError
from synthlink.study import Study

PARTS = ["education", "employment", "social"]


def _dict(**over):
    d = {
        "name": "three registers",
        "data": {"demo": {"n": 2500, "seed": 4}},
        "split": demo_plan(PARTS),
        "link_plan": {"chain": PARTS},
        "synthesizers": ["marginals"],
        "linkers": ["identifier", "exact"],
        "seeds": [2],
        "evaluate": {"utility": False, "privacy": False},
        "options": {"central": False},
    }
    d.update(over)
    return d


@pytest.fixture(scope="module")
def chain_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    res = Study(StudyConfig.from_dict(_dict(
        evaluate={"utility": {"ci_draws": 1}, "privacy": {}}, privacy={"n_attacks": 60},
        questions=["minimum_income ~ isced + C(employment_status) + age + C(sex)"]))).run(tmp / "out", progress=False)
    return res, json.loads((tmp / "out" / "metrics.json").read_text())


def test_baseline_holds_edges_and_tuples_with_their_bounds(chain_run):
    res, m = chain_run
    assert res.ok, res.failures
    rec = m["seeds"][0]
    assert rec["plan"] == {"shape": "chain", "parts": PARTS, "edges": [PARTS[:2], PARTS[1:]]}
    base = {b["linker"]: b for b in rec["baseline"]}
    ident, exact = base["identifier"], base["exact"]
    # the identifier join gets every link and every tuple right
    assert ident["quality"]["accuracy"] == 1.0 and ident["quality"]["precision"] == 1.0
    assert [e["quality"]["accuracy"] for e in ident["edges"]] == [1.0, 1.0]
    # its complete tuples are exactly the train persons every register holds
    assert ident["accounting"]["complete"] == rec["true_tuples"] == rec["reference_rows"]["train"]
    tb = rec["tuple_bound"]
    # exact agreement: random among identical records, so within a few sd of its expected bound
    assert abs(exact["quality"]["accuracy"] - tb["expected"]) < 4 * tb["expected_sd"] + 0.01
    for e in exact["edges"]:
        b = tb["edges"][e["edge"]]
        assert abs(e["quality"]["accuracy"] - b["expected"]) < 4 * b["expected_sd"] + 0.01
    # a tuple needs both links right: its bound is below each edge's
    assert tb["expected"] < min(b["expected"] for b in tb["edges"].values())


def test_every_row_of_every_register_is_accounted_for(chain_run):
    _, m = chain_run
    rec = m["seeds"][0]
    for entry in [*rec["baseline"], *[s for s in rec["synthetic"] if s["status"] == "ok"]]:
        acc = entry["accounting"]
        by_size = {int(k): v for k, v in acc["by_size"].items()}
        assert sum(k * v for k, v in by_size.items()) == sum(acc["parts"].values())
        assert sum(by_size.values()) == acc["rows"]
        assert acc["links_rejected"] == 0  # a chain of one-to-one links cannot conflict


def test_complete_tuples_are_evaluated_and_each_pair_has_its_privacy(chain_run):
    _, m = chain_run
    rec = m["seeds"][0]
    syn = {s["linker"]: s for s in rec["synthetic"]}
    assert syn["identifier"]["status"] == "not applicable"
    ex = syn["exact"]
    assert ex["utility"]["rows"]["synthetic"] == ex["accounting"]["complete"]
    parts_seen = {p["part_a"] for p in ex["utility"]["cross_part"]["pairs"]} | {p["part_b"] for p in ex["utility"]["cross_part"]["pairs"]}
    assert parts_seen == set(PARTS)
    assert set(ex["pairs_privacy"]) == {"education-employment", "employment-social"}
    assert all("singling_out" in v for v in ex["pairs_privacy"].values())
    assert set(rec["parts_privacy"]["marginals"]) == set(PARTS)
    # linkability against each part: its own columns (with the common ones) against the others'
    by_part = ex["privacy"]["linkability_by_part"]
    assert set(by_part) == set(PARTS) and all("risk" in v for v in by_part.values())
    assert "linkability_by_part" not in ex["pairs_privacy"]["education-employment"]  # two parts: the plain attack


def test_per_edge_linker_and_star_plan(tmp_path):
    d = _dict(link_plan={"star": {"hub": "employment", "parts": ["education", "social"]},
                         "edges": {"social-employment": "identifier"}}, linkers=["exact"])
    cfg = StudyConfig.from_dict(d)
    assert cfg.edge_linkers[("employment", "social")].name == "identifier"
    rec = Study(cfg).run(tmp_path / "out", progress=False).metrics["seeds"][0]
    entry = rec["baseline"][0]
    assert entry["linker"] == "exact (employment-social: identifier)"
    edges = {e["edge"]: e for e in entry["edges"]}
    assert edges["employment-social"]["linker"] == "identifier"
    assert edges["employment-social"]["quality"]["accuracy"] == 1.0
    # the tuple is right exactly when the education link is: its accuracy is that edge's
    # accuracy over the true pairs, restricted to people in all three (every employed adult is in social)
    assert entry["quality"]["accuracy"] == pytest.approx(edges["employment-education"]["quality"]["accuracy"], abs=1e-9)


def test_all_pairs_reconciles_and_counts(tmp_path):
    rec = Study(StudyConfig.from_dict(_dict(link_plan={"all_pairs": PARTS}, linkers=["exact"]))).run(
        tmp_path / "out", progress=False).metrics["seeds"][0]
    acc = rec["baseline"][0]["accounting"]
    assert set(acc["links"]) == {"education-employment", "education-social", "employment-social"}
    # three edges, each a random choice among identical records: some links must disagree
    assert acc["links_rejected"] + acc["links_agreeing"] > 0
    by_size = {int(k): v for k, v in acc["by_size"].items()}
    assert sum(k * v for k, v in by_size.items()) == sum(acc["parts"].values())


@pytest.mark.parametrize(("plan", "needle"), [
    ({"chain": ["education", "pension", "social"]}, "unknown part 'pension'"),
    ({"chain": ["education", "employment", "education"]}, "cycle"),
    ({"chain": ["education", "employment"]}, "part 'social' appears in no edge"),
    ({"chain": PARTS, "edges": {"education-social": "exact"}}, "'education-social' is not an edge"),
    ({"chain": PARTS, "star": {"hub": "employment", "parts": ["social"]}}, "exactly one of"),
    ({"chian": PARTS}, "unknown key"),
])
def test_bad_plans_are_one_line_errors(plan, needle):
    with pytest.raises(ConfigError, match=None) as e:
        StudyConfig.from_dict(_dict(link_plan=plan))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_link_parts_and_link_plan_together_is_an_error():
    with pytest.raises(ConfigError, match="not both"):
        StudyConfig.from_dict(_dict(link_parts=["education", "employment"]))


def test_a_bridge_with_three_parts_is_refused():
    with pytest.raises(ConfigError, match="bridge"):
        StudyConfig.from_dict(_dict(bridge={"epsilon": 1.0, "marginals": [["isced", "wage"]]}))


def test_same_seed_same_numbers(tmp_path):
    d = _dict()
    a = Study(StudyConfig.from_dict(d)).run(tmp_path / "a", work_dir=tmp_path / "wa", progress=False).metrics
    b = Study(StudyConfig.from_dict(d)).run(tmp_path / "b", work_dir=tmp_path / "wb", progress=False).metrics
    qa = [x["quality"] for x in a["seeds"][0]["baseline"]]
    qb = [x["quality"] for x in b["seeds"][0]["baseline"]]
    assert qa == qb
    assert np.isfinite(a["seeds"][0]["tuple_bound"]["expected"])

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError, SchemaError
from synthlink.split import SplitPlan, holdout, split


def test_holdout_keeps_every_row_once(people):
    train, control = holdout(people, 0.2, seed=3)
    assert len(train) + len(control) == len(people)
    assert len(control) == round(0.2 * len(people))
    ids = pd.concat([train["pid"], control["pid"]])
    assert ids.is_unique and set(ids) == set(people["pid"])


def test_parts_have_roles_and_truth_maps_rows(people, plan_dict):
    plan = SplitPlan.from_dict(plan_dict)
    r = split(people, plan, seed=1)
    assert list(r.parts["edu"].columns) == ["pid", "sex", "age", "canton", "isced", "field"]
    assert list(r.parts["emp"].columns) == ["pid", "sex", "age", "canton", "wage", "status"]
    # full coverage: every train row is in both parts, no row lost or duplicated
    for _name, part in r.parts.items():
        assert len(part) == len(r.train)
        assert part["pid"].is_unique
    # truth row positions point at the same person
    t = r.truth_pairs("edu", "emp")
    assert len(t) == len(r.train)
    assert (r.parts["edu"]["pid"].to_numpy()[t["left"]] == r.parts["emp"]["pid"].to_numpy()[t["right"]]).all()
    # truth holds no identifiers
    assert "pid" not in r.truth.columns
    assert r.schema.common == ["sex", "age", "canton"]
    assert r.schema.own("edu") == ["isced", "field"]


def test_parts_are_shuffled_independently(people, plan_dict):
    r = split(people, SplitPlan.from_dict(plan_dict), seed=1)
    a, b = r.parts["edu"]["pid"].to_numpy(), r.parts["emp"]["pid"].to_numpy()
    assert np.mean(a == b) < 0.01  # row order does not reveal the link
    assert np.mean(a == r.train["pid"].to_numpy()) < 0.01


def test_same_seed_same_split(people, plan_dict):
    plan = SplitPlan.from_dict(plan_dict)
    r1, r2 = split(people, plan, seed=5), split(people, plan, seed=5)
    pd.testing.assert_frame_equal(r1.parts["emp"], r2.parts["emp"])
    pd.testing.assert_frame_equal(r1.truth, r2.truth)
    r3 = split(people, plan, seed=6)
    assert not r1.parts["emp"]["pid"].equals(r3.parts["emp"]["pid"])


def test_coverage_and_noise(people, plan_dict):
    plan_dict["parts"]["emp"] = {"columns": ["wage", "status"], "coverage": 0.5, "noise": {"age": {"rate": 0.1}}}
    r = split(people, SplitPlan.from_dict(plan_dict), seed=2)
    emp = r.parts["emp"]
    assert len(emp) == round(0.5 * len(r.train))
    t = r.truth_pairs("edu", "emp")
    assert len(t) == len(emp)
    age_edu = r.parts["edu"]["age"].to_numpy()[t["left"]]
    age_emp = emp["age"].to_numpy()[t["right"]]
    diff = age_emp - age_edu
    assert set(np.unique(diff)) <= {-1, 0, 1}
    assert 0.07 < np.mean(diff != 0) < 0.13  # 10% noise, off by one
    # the noise is only in the part the plan names
    assert (r.parts["edu"].set_index("pid")["age"] == r.train.set_index("pid")["age"].loc[r.parts["edu"]["pid"]]).all()


def test_resample_noise_changes_category(people, plan_dict):
    plan_dict["parts"]["emp"] = {"columns": ["wage", "status"], "noise": {"canton": {"rate": 0.2, "kind": "resample"}}}
    r = split(people, SplitPlan.from_dict(plan_dict), seed=2)
    t = r.truth_pairs("edu", "emp")
    a = r.parts["edu"]["canton"].to_numpy()[t["left"]]
    b = r.parts["emp"]["canton"].to_numpy()[t["right"]]
    assert 0.16 < np.mean(a != b) < 0.24
    assert set(b) <= set(people["canton"])


def test_observed_coverage(people, plan_dict):
    people = people.copy()
    people.loc[people.index[:500], ["wage", "status"]] = pd.NA
    plan_dict["parts"]["emp"] = {"columns": ["wage", "status"], "coverage": "observed"}
    r = split(people, SplitPlan.from_dict(plan_dict), seed=0)
    assert r.parts["emp"][["wage", "status"]].notna().any(axis=1).all()
    assert len(r.parts["emp"]) == r.train[["wage", "status"]].notna().any(axis=1).sum()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["parts"]["emp"].append("isced"), "in both"),
        (lambda d: d["parts"].pop("emp"), "at least two"),
        (lambda d: d.update(common=[]), "at least one common"),
        (lambda d: d.update(control_share=1.5), "control_share"),
        (lambda d: d.update(colour="red"), "unknown key"),
        (lambda d: d["parts"]["edu"].append("pid"), "identifier"),
    ],
)
def test_bad_plans_are_refused_with_a_clear_message(plan_dict, mutate, message):
    mutate(plan_dict)
    with pytest.raises(ConfigError, match=message):
        SplitPlan.from_dict(plan_dict)


def test_bad_data_is_refused(people, plan_dict):
    plan = SplitPlan.from_dict(plan_dict)
    with pytest.raises(SchemaError, match="identifier column 'pid' has 1 duplicated"):
        split(pd.concat([people, people.iloc[:1]]), plan)
    with pytest.raises(SchemaError, match="'isced'"):
        split(people.drop(columns="isced"), plan)
    with pytest.raises(SchemaError, match="identifier column 'pid' is missing"):
        split(people.drop(columns="pid"), plan)
    with pytest.raises(SchemaError, match="no rows"):
        split(people.iloc[:0], plan)


def test_save_and_load_roundtrip(tmp_path, people, plan_dict):
    r = split(people, SplitPlan.from_dict(plan_dict), seed=1)
    r.save(tmp_path / "s")
    back = type(r).load(tmp_path / "s")
    pd.testing.assert_frame_equal(back.parts["emp"], r.parts["emp"])
    pd.testing.assert_frame_equal(back.truth_pairs("edu", "emp"), r.truth_pairs("edu", "emp"))
    assert back.schema.to_dict() == r.schema.to_dict()
    assert not list((tmp_path / "s").rglob("*.tmp"))

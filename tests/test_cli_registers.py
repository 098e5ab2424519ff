"""``synthlink link`` and ``synthlink reconstruct`` over three or more parts (K registers): the links
folder (one links file per edge and plan.json), the K-way J* with its row accounting, tuple
accuracy with --truth, and bad input refused with one line before anything is written.

Expected values come from the definitions, worked from the truth table the split writes (one
column of row positions per part, NaN: not held):

- the identifier join links every pair of records of one person, so every true tuple (a person
  held by all three parts) is recovered and nothing else is complete: tuple accuracy 1;
- every input row lands in exactly one tuple: the tuple sizes sum to the parts' rows;
- in all pairs (edges education-employment, education-social, employment-social, in that order),
  the last edge's link of a person held by all three finds both records already in one tuple: it
  agrees, so ``links_agreeing`` is the number of true tuples and no link is rejected.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthlink.cli import app
from synthlink.demo import DEMO_PLAN, REGISTERS, population
from synthlink.split import SplitPlan, split

runner = CliRunner()
NAMES = ("education", "employment", "social")
COMMON = "sex,age,nationality,canton"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registers")
    parts = {n: {"columns": list(REGISTERS[n]), "coverage": "observed" if n != "social" else 1.0} for n in NAMES}
    plan = SplitPlan.from_dict({**DEMO_PLAN, "parts": parts})
    split(population(300, seed=4), plan, seed=1).save(tmp / "split")
    d = tmp / "split"
    truth = pd.read_parquet(d / "truth.parquet")
    sizes = {n: len(pd.read_parquet(d / "parts" / f"{n}.parquet")) for n in NAMES}
    return {"dir": d, "parts": [str(d / "parts" / f"{n}.parquet") for n in NAMES], "truth": truth,
            "truth_path": str(d / "truth.parquet"), "sizes": sizes,
            "true_tuples": int(truth[list(NAMES)].notna().all(axis=1).sum())}


def _ok(r):
    if isinstance(r, list):
        r = runner.invoke(app, r)
    assert r.exit_code == 0, r.output
    return r


def _refused(r, *needles):
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def _link(demo, out, *extra, method="identifier"):
    key = ["--key", "matricule"] if method == "identifier" else []
    return runner.invoke(app, ["link", *demo["parts"], "--method", method, *key, "--on", COMMON,
                               "--out", str(out), *extra])


def _reconstruct(demo, links, out, *extra, parts=None):
    return runner.invoke(app, ["reconstruct", *(parts or demo["parts"]), "--links", str(links), "--out", str(out),
                               "--drop-column", "matricule", *extra])


def test_the_demo_split_has_people_in_all_three_parts_and_some_in_fewer(demo):
    # the cases below are only tests if both kinds of person exist
    assert 0 < demo["true_tuples"] < min(demo["sizes"].values())


def test_chain_identifier_round_trip(demo, tmp_path):
    links = tmp_path / "links"
    _ok(_link(demo, links, "--truth", demo["truth_path"]))
    assert sorted(p.name for p in links.iterdir()) == sorted([
        "education-employment.parquet", "education-employment.parquet.json",
        "employment-social.parquet", "employment-social.parquet.json", "plan.json"])
    plan = json.loads((links / "plan.json").read_text())
    assert plan["shape"] == "chain" and plan["seed"] == 0
    assert [p["name"] for p in plan["parts"]] == list(NAMES)
    assert [p["file"] for p in plan["parts"]] == [f"{n}.parquet" for n in NAMES]  # names, no paths
    assert str(demo["dir"]) not in (links / "plan.json").read_text()
    assert [e["edge"] for e in plan["edges"]] == ["education-employment", "employment-social"]
    assert {e["method"] for e in plan["edges"]} == {"identifier"}
    # each edge's json holds its quality: the identifier join is right on every true pair
    edge = json.loads((links / "education-employment.parquet.json").read_text())
    t = demo["truth"]
    assert edge["quality"]["accuracy"] == 1.0
    assert edge["links"] == int(t[["education", "employment"]].notna().all(axis=1).sum())
    assert "quality" not in plan  # nothing per record, no truth figures in the plan

    joint = tmp_path / "joint.parquet"
    _ok(_reconstruct(demo, links, joint, "--truth", demo["truth_path"]))
    rep = json.loads((tmp_path / "joint.parquet.json").read_text())
    assert rep["quality"]["accuracy"] == 1.0 and rep["quality"]["precision"] == 1.0
    assert rep["quality"]["true_tuples"] == demo["true_tuples"]
    acc = rep["accounting"]
    assert acc["parts"] == demo["sizes"] and acc["complete"] == demo["true_tuples"]
    # every part row accounted: tuples of size s hold s records
    assert sum(int(s) * n for s, n in acc["by_size"].items()) == sum(demo["sizes"].values())
    assert acc["links_rejected"] == 0
    assert 0 < rep["tuple_bound"]["expected"] <= 1
    J = pd.read_parquet(joint)
    assert len(J) == demo["true_tuples"] and "matricule" not in J.columns
    assert "_link_status" not in J.columns  # complete tuples only, without bookkeeping


def test_chain_exact_all_tuples(demo, tmp_path):
    links = tmp_path / "links"
    _ok(_link(demo, links, method="exact"))
    plan = json.loads((links / "plan.json").read_text())
    assert {e["method"] for e in plan["edges"]} == {"exact"}
    assert all(e["linking_columns"] == COMMON.split(",") for e in plan["edges"])
    joint = tmp_path / "joint.csv"
    _ok(_reconstruct(demo, links, joint, "--all"))
    J = pd.read_csv(joint)
    # every input row once: the tuple sizes sum to the parts' rows
    assert J["_tuple_size"].sum() == sum(demo["sizes"].values())
    assert set(J["_link_status"]) <= {"complete", "partial", "alone"}
    assert ((J["_link_status"] == "complete") == (J["_tuple_size"] == 3)).all()
    rep = json.loads((tmp_path / "joint.csv.json").read_text())
    assert rep["accounting"]["links_rejected"] == 0  # a chain of one-to-one links cannot conflict
    assert rep["rows"] == len(J) == rep["accounting"]["rows"]
    assert "quality" not in rep


def test_star_with_hub(demo, tmp_path):
    links = tmp_path / "links"
    _ok(_link(demo, links, "--plan", "star", "--hub", "employment"))
    plan = json.loads((links / "plan.json").read_text())
    assert plan["shape"] == "star" and plan["plan"] == {"star": {"hub": "employment", "parts": ["education", "social"]}}
    assert [e["edge"] for e in plan["edges"]] == ["employment-education", "employment-social"]
    assert (links / "employment-education.parquet").exists()
    joint = tmp_path / "j.parquet"
    _ok(_reconstruct(demo, links, joint, "--truth", demo["truth_path"]))
    rep = json.loads((tmp_path / "j.parquet.json").read_text())
    assert rep["quality"]["accuracy"] == 1.0 and rep["accounting"]["complete"] == demo["true_tuples"]
    assert rep["tuple_bound"]["edges"] == ["employment-education", "employment-social"]


def test_all_pairs_and_an_edge_method(demo, tmp_path):
    links = tmp_path / "links"
    _ok(_link(demo, links, "--plan", "all_pairs", "--truth", demo["truth_path"]))
    plan = json.loads((links / "plan.json").read_text())
    assert [e["edge"] for e in plan["edges"]] == ["education-employment", "education-social", "employment-social"]
    joint = tmp_path / "j.parquet"
    _ok(_reconstruct(demo, links, joint, "--truth", demo["truth_path"]))
    rep = json.loads((tmp_path / "j.parquet.json").read_text())
    acc = rep["accounting"]
    assert acc["links_agreeing"] == demo["true_tuples"] and acc["links_rejected"] == 0
    assert rep["quality"]["accuracy"] == 1.0
    # the bound of all pairs is taken over the chain in plan order
    assert rep["tuple_bound"]["edges"] == ["education-employment", "employment-social"]
    # one edge by another method; given in either order of its parts
    l2 = tmp_path / "l2"
    _ok(_link(demo, l2, "--plan", "all_pairs", "--edge-method", "social-education=exact"))
    plan = json.loads((l2 / "plan.json").read_text())
    assert [e["method"] for e in plan["edges"]] == ["identifier", "exact", "identifier"]
    assert plan["methods"] == ["exact", "identifier"]


def test_bad_plans_exit_2_with_one_line_and_write_nothing(demo, tmp_path):
    out = tmp_path / "links"
    _refused(_link(demo, out, "--plan", "star", "--hub", "pension"), "--hub", "'pension'")
    _refused(_link(demo, out, "--plan", "star"), "--hub")
    _refused(_link(demo, out, "--edge-method", "education-social=exact"), "'education-social'", "not an edge")
    _refused(_link(demo, out, "--plan", "ring"), "'ring'")
    # the first edge's parts share none of the --on columns (isced is education's alone)
    r = runner.invoke(app, ["link", *demo["parts"], "--method", "exact", "--on", "isced", "--out", str(out)])
    _refused(r, "edge education-employment")
    # the identifier as a linking column, refused before any edge is linked
    r = runner.invoke(app, ["link", *demo["parts"], "--method", "exact", "--on", "sex,matricule", "--out", str(out)])
    _refused(r, "'matricule'", "--method identifier")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no half folder, no temporary left behind


def test_duplicate_stems_are_refused(demo, tmp_path):
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copy(demo["parts"][0], other / "education.parquet")
    r = runner.invoke(app, ["link", *demo["parts"], str(other / "education.parquet"), "--method", "exact",
                            "--on", COMMON, "--out", str(tmp_path / "links")])
    _refused(r, "same name 'education'")
    assert not (tmp_path / "links").exists()


def test_reconstruct_refuses_other_parts_other_sizes_and_identifiers(demo, tmp_path):
    links = tmp_path / "links"
    _ok(_link(demo, links))
    joint = tmp_path / "j.parquet"
    # a links folder made for other parts: social renamed welfare
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(demo["parts"][2], other / "welfare.parquet")
    _refused(_reconstruct(demo, links, joint, parts=[*demo["parts"][:2], str(other / "welfare.parquet")]),
             "made for parts education, employment, social")
    # a part one row shorter than the links were made for
    short = tmp_path / "short"
    short.mkdir()
    edu = pd.read_parquet(demo["parts"][0])
    edu.iloc[:-1].to_parquet(short / "education.parquet")
    n = demo["sizes"]["education"]
    _refused(_reconstruct(demo, links, joint, parts=[str(short / "education.parquet"), *demo["parts"][1:]]),
             f"{n - 1:,} rows", f"made for {n:,}")
    # the parts still hold the (surrogate) identifier: refused until it is dropped
    r = runner.invoke(app, ["reconstruct", *demo["parts"], "--links", str(links), "--out", str(joint)])
    _refused(r, "'matricule'", "--drop-column matricule")
    # three parts and a links file rather than a folder
    r = runner.invoke(app, ["reconstruct", *demo["parts"], "--links", str(links / "plan.json"), "--out", str(joint)])
    _refused(r, "folder")
    assert not joint.exists()


def test_two_files_still_write_one_links_file(demo, tmp_path):
    out = tmp_path / "l.parquet"
    _ok(["link", *demo["parts"][:2], "--method", "exact", "--on", COMMON, "--out", str(out)])
    assert out.is_file() and Path(str(out) + ".json").is_file()
    r = runner.invoke(app, ["link", *demo["parts"][:2], "--method", "exact", "--on", COMMON, "--out", str(out),
                            "--overwrite", "--plan", "star"])
    _refused(r, "three or more parts")

"""The bridge on the command line, as an institution's path: the secure environment releases the
counts (synthlink bridge release), the evaluator links two parts with them (synthlink link
--method bridge --release FILE)."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from synthlink.cli import app
from synthlink.demo import population

COMMON = ["sex", "age", "nationality", "canton"]


def test_release_then_link_with_it(tmp_path):
    df = population(3000, 2)
    joint = df[[*COMMON, "isced", "wage"]]
    joint.to_csv(tmp_path / "joint.csv", index=False)
    joint[[*COMMON, "isced"]].to_csv(tmp_path / "edu.csv", index=False)
    joint[[*COMMON, "wage"]].sample(frac=1, random_state=0).to_csv(tmp_path / "emp.csv", index=False)
    spec = {"marginals": [["isced", "wage"]], "categories": {"isced": list(range(9))},
            "bins": {"wage": [0, 2000, 4000, 6000, 8000, 100000]}, "missing": ["isced", "wage"], "epsilon": 2.0}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    run = CliRunner().invoke
    r = run(app, ["bridge", "release", str(tmp_path / "joint.csv"), "--spec", str(tmp_path / "spec.yaml"),
                  "--out", str(tmp_path / "release.json")])
    assert r.exit_code == 0, r.output
    r = run(app, ["link", str(tmp_path / "edu.csv"), str(tmp_path / "emp.csv"), "--method", "bridge", "--on", ",".join(COMMON),
                  "--release", str(tmp_path / "release.json"), "--out", str(tmp_path / "links.csv")])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "links.csv.json").read_text())
    assert rep["params"]["release"] == "release.json"  # the file's name only, not where it lies
    diag = rep["diagnostics"]
    assert diag and rep["links"] > 0
    # without --release, and --release with another method: one line, exit 2
    r = run(app, ["link", str(tmp_path / "edu.csv"), str(tmp_path / "emp.csv"), "--method", "bridge", "--on", ",".join(COMMON),
                  "--out", str(tmp_path / "l2.csv")])
    assert r.exit_code == 2 and "needs --release" in r.output
    r = run(app, ["link", str(tmp_path / "edu.csv"), str(tmp_path / "emp.csv"), "--method", "exact", "--on", ",".join(COMMON),
                  "--release", str(tmp_path / "release.json"), "--out", str(tmp_path / "l3.csv")])
    assert r.exit_code == 2 and "--method bridge" in r.output

"""``synthlink evaluate``: utility and privacy of a synthetic table into one metrics file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthlink.cli import app
from synthlink.cli.evaluate import parse_list, parse_part_columns
from synthlink.errors import ConfigError

runner = CliRunner()


def _make(n: int, seed: int) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    age = r.integers(18, 65, n)
    sex = r.choice(["F", "M"], n)
    isced = r.integers(1, 7, n)
    wage = np.round(np.exp(8 + 0.25 * isced + 0.01 * age + r.normal(0, 0.3, n)), 2)
    employed = np.where(r.random(n) < 0.2 + 0.12 * isced, "yes", "no")
    ids = [f"P{seed}{i:06d}" for i in range(n)]
    return pd.DataFrame({"pid": ids, "sex": sex, "age": age, "isced": isced, "wage": wage, "employed": employed})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("eval")
    train, control = _make(700, 1), _make(350, 2)
    syn = train.copy()
    perm = np.random.default_rng(0).permutation(len(syn))
    syn["wage"] = syn["wage"].to_numpy()[perm]
    syn["employed"] = syn["employed"].to_numpy()[perm]
    syn = syn.drop(columns="pid")  # a table to evaluate carries no identifier (refused: see test_security)
    paths = {"train": d / "train.csv", "control": d / "control.csv", "synthetic": d / "syn.parquet",
             "questions": d / "q.yaml"}
    train.to_csv(paths["train"], index=False)
    control.to_csv(paths["control"], index=False)
    syn.to_parquet(paths["synthetic"], index=False)
    paths["questions"].write_text(
        "- np.log(wage) ~ C(isced) + age + C(sex)\n"
        "- {formula: \"I(employed == 'yes') ~ C(isced)\", family: logit, name: employment}\n",
        encoding="utf-8")
    paths["dir"] = d
    return paths


def test_parsers() -> None:
    assert parse_part_columns(["edu=isced", "work=wage, employed"]) == {"edu": ["isced"], "work": ["wage", "employed"]}
    assert parse_list(["sex,age", "canton"]) == ["sex", "age", "canton"]
    with pytest.raises(ConfigError, match="PART=col1"):
        parse_part_columns(["isced"])
    with pytest.raises(ConfigError, match="both"):
        parse_part_columns(["a=x", "b=x"])


def test_evaluate_writes_utility_and_privacy(files: dict[str, Path]) -> None:
    out = files["dir"] / "metrics.json"
    res = runner.invoke(app, [
        "evaluate", "--train", str(files["train"]), "--control", str(files["control"]),
        "--synthetic", str(files["synthetic"]), "--part-columns", "edu=isced",
        "--part-columns", "work=wage,employed", "--common", "sex,age", "--identifier", "pid",
        "--questions", str(files["questions"]), "--target", "employed", "--seed", "3", "--out", str(out),
    ])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output
    m = json.loads(out.read_text(encoding="utf-8"))
    assert set(m) >= {"utility", "privacy"}
    u = m["utility"]
    assert u["errors"] == []
    assert "pid" not in {c["name"] for c in u["columns"]}
    assert len(u["questions"]) == 2 and u["questions"][1]["name"] == "employment"
    # the work part was re-paired at random: cross-part association lost, control keeps it
    assert u["summary"]["cross_assoc_diff_mean_synthetic"] > 3 * u["summary"]["cross_assoc_diff_mean_control"]
    assert m["inputs"]["seed"] == 3 and m["inputs"]["common"] == ["sex", "age"]
    # privacy: the other half's report, or an error entry when that module is not there yet
    assert isinstance(m["privacy"], dict) and m["privacy"]
    # no identifier value reaches the metrics file
    text = out.read_text(encoding="utf-8")
    assert "P1000001" not in text and "P2000001" not in text


def test_common_defaults_to_unplaced_shared_columns(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import synthlink.cli.evaluate as ev

    seen: dict = {}

    def fake_privacy(*args, **kwargs):  # only the column roles matter here
        seen.update(kwargs)
        return {"stub": True}

    monkeypatch.setattr(ev, "privacy_section", fake_privacy)
    out = files["dir"] / "m2.json"
    res = runner.invoke(app, [
        "evaluate", "--train", str(files["train"]), "--control", str(files["control"]),
        "--synthetic", str(files["synthetic"]), "--part-columns", "edu=isced",
        "--part-columns", "work=wage,employed", "--identifier", "pid", "--out", str(out),
    ])
    assert res.exit_code == 0, res.output
    m = json.loads(out.read_text(encoding="utf-8"))
    assert m["inputs"]["common"] == ["sex", "age"]
    # an undeclared identifier is not taken for a common variable
    out3 = files["dir"] / "m3.json"
    res = runner.invoke(app, [
        "evaluate", "--train", str(files["train"]), "--control", str(files["control"]),
        "--synthetic", str(files["synthetic"]), "--part-columns", "edu=isced",
        "--part-columns", "work=wage,employed", "--out", str(out3),
    ])
    assert res.exit_code == 0, res.output
    m3 = json.loads(out3.read_text(encoding="utf-8"))
    assert m3["inputs"]["common"] == ["sex", "age"]
    # train's undeclared identifier (a distinct text on every row) is found and left out of every measure
    assert m3["inputs"]["identifiers_left_out"] == ["pid"]
    assert seen["common"] == ["sex", "age"] and m3["privacy"] == {"stub": True}


def test_bad_inputs_exit_2_with_one_line(files: dict[str, Path]) -> None:
    base = ["evaluate", "--train", str(files["train"]), "--control", str(files["control"]),
            "--synthetic", str(files["synthetic"])]
    res = runner.invoke(app, [*base, "--part-columns", "isced", "--out", str(files["dir"] / "x.json")])
    assert res.exit_code == 2 and "PART=col1" in res.output
    res = runner.invoke(app, [*base, "--part-columns", "edu=no_such", "--part-columns", "work=wage",
                              "--common", "sex", "--out", str(files["dir"] / "x.json")])
    assert res.exit_code == 2 and "no_such" in res.output
    res = runner.invoke(app, [*base, "--out", str(files["dir"] / "x.txt")])
    assert res.exit_code == 2 and ".json" in res.output
    bad_q = files["dir"] / "bad.yaml"
    bad_q.write_text("- wage + age\n", encoding="utf-8")
    res = runner.invoke(app, [*base, "--questions", str(bad_q), "--out", str(files["dir"] / "x.json")])
    assert res.exit_code == 2 and "~" in res.output
    assert not (files["dir"] / "x.json").exists()

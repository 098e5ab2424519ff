"""Command line: bad input ends with exit code 2 and one line naming the problem, no traceback,
and no half-written output."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthlink.cli import app

runner = CliRunner()


def _write(tmp_path, people, plan_dict):
    data = tmp_path / "data.csv"
    people.to_csv(data, index=False)
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(plan_dict))
    return data, plan


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    for n in needles:
        assert n in err, err


def test_split_writes_parts_and_truth(tmp_path, people, plan_dict):
    data, plan = _write(tmp_path, people, plan_dict)
    out = tmp_path / "out"
    r = runner.invoke(app, ["split", str(data), "--plan", str(plan), "--out", str(out), "--seed", "3"])
    assert r.exit_code == 0, r.output
    assert (out / "parts" / "edu.parquet").exists() and (out / "truth.parquet").exists()
    truth = pd.read_parquet(out / "truth.parquet")
    assert list(truth.columns) == ["edu", "emp"]
    # existing output is never overwritten without --overwrite
    r2 = runner.invoke(app, ["split", str(data), "--plan", str(plan), "--out", str(out)])
    _one_line_error(r2, "already exists")
    r3 = runner.invoke(app, ["split", str(data), "--plan", str(plan), "--out", str(out), "--overwrite"])
    assert r3.exit_code == 0


@pytest.mark.parametrize(
    "case, needles",
    [
        ("missing_file", ["nope.csv", "not found"]),
        ("missing_identifier", ["identifier column 'pid' is missing"]),
        ("duplicate_identifiers", ["'pid'", "duplicated"]),
        ("column_in_two_parts", ["'isced'", "both"]),
        ("unknown_column", ["'shoe_size'"]),
        ("empty_table", ["empty"]),
        ("header_only", ["no rows"]),
    ],
)
def test_split_bad_input(tmp_path, people, plan_dict, case, needles):
    if case == "missing_identifier":
        people = people.drop(columns="pid")
    elif case == "duplicate_identifiers":
        people = pd.concat([people, people.iloc[:3]])
    elif case == "column_in_two_parts":
        plan_dict["parts"]["emp"].append("isced")
    elif case == "unknown_column":
        plan_dict["parts"]["emp"].append("shoe_size")
    data, plan = _write(tmp_path, people, plan_dict)
    if case == "missing_file":
        data = tmp_path / "nope.csv"
    elif case == "empty_table":
        data.write_text("")
    elif case == "header_only":
        data.write_text(",".join(people.columns) + "\n")
    out = tmp_path / "out"
    r = runner.invoke(app, ["split", str(data), "--plan", str(plan), "--out", str(out)])
    _one_line_error(r, *needles)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_help_lists_verbs():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for verb in ("demo", "run", "report", "split"):
        assert verb in r.output


def test_run_with_work_dir_keeps_the_cache_out_of_the_output(tmp_path):
    from .conftest import make_people

    make_people(600, seed=1).to_csv(tmp_path / "data.csv", index=False)
    cfg = {"name": "w", "data": {"path": "data.csv"},
           "split": {"identifier": "pid", "common": ["sex", "age", "canton"],
                     "parts": {"edu": ["isced", "field"], "emp": ["wage", "status"]}},
           "synthesizers": ["marginals"], "linkers": ["exact"], "seeds": [1],
           "evaluate": {"utility": False, "privacy": False}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(cfg))
    out, work = tmp_path / "out", tmp_path / "secure" / "work"
    r = runner.invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(out), "--work-dir", str(work), "--quiet"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html", "results.parquet"]
    assert any(p.name.startswith("split-") for p in (work / "cache").iterdir())
    # inside the output folder: refused with one clear line, nothing written
    r = runner.invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o2"), "--work-dir",
                            str(tmp_path / "o2" / "w"), "--quiet"])
    assert r.exit_code == 2 and "inside the output folder" in r.output and not (tmp_path / "o2").exists()


def test_split_reads_semicolons_missing_markers_and_numbers_rows(tmp_path, people, plan_dict):
    """--sep, --na-values and --add-identifier (issue 12); without --sep a semicolon file gets a
    message that points at the separator, not "identifier column is missing"."""
    plan_dict = {**plan_dict, "identifier": "rid"}
    data = tmp_path / "semi.csv"
    p = people.drop(columns="pid").astype(object)
    p.iloc[0, p.columns.get_loc("age")] = "N"  # a missing value written as N
    p.to_csv(data, index=False, sep=";")
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(plan_dict))
    out = tmp_path / "out"
    r = runner.invoke(app, ["split", str(data), "--plan", str(plan), "--out", str(out), "--add-identifier", "rid"])
    _one_line_error(r, "--sep ';'")
    assert not out.exists()
    r = runner.invoke(app, ["split", str(data), "--plan", str(plan), "--out", str(out), "--add-identifier", "rid",
                            "--sep", ";", "--na-values", "N"])
    assert r.exit_code == 0, r.output
    train, control = pd.read_parquet(out / "train.parquet"), pd.read_parquet(out / "control.parquet")
    both = pd.concat([train, control])
    # N read as missing: age stays numeric with exactly one missing value
    assert pd.api.types.is_numeric_dtype(both["age"]) and int(both["age"].isna().sum()) == 1
    # one key per row, and (surrogate, as in synthlink run) never the row number itself
    assert both["rid"].is_unique and len(both) == len(people)
    assert not both["rid"].str.fullmatch(r"R\d{8}").any()


def test_report_refuses_a_damaged_metrics_file(tmp_path):
    """A study metrics file with a run that lost its 'linker' is refused with one line (exit 2),
    not a traceback from the typed reader."""
    import json

    from typer.testing import CliRunner

    from synthlink.cli import app

    (tmp_path / "metrics.json").write_text(json.dumps({"name": "x", "seeds": [{"seed": 0, "baseline": [{"status": "ok"}]}]}))
    r = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2 and "damaged study metrics" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "report.html").exists()

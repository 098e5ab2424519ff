"""The ``synthlink link`` verb: links file, diagnostics JSON, truth figures, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from synthlink.cli._params import parse_params, parse_value
from synthlink.cli.link import register
from synthlink.errors import ConfigError


@pytest.fixture()
def app() -> typer.Typer:
    from synthlink.cli import app as main_app

    # use the lead's app (its error wrapper turns SynthlinkError into exit code 2)
    if not any(getattr(c, "name", None) == "link" for c in main_app.registered_commands):
        register(main_app)
    return main_app


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    n = 40
    pop = pd.DataFrame({
        "sex": rng.integers(1, 3, n),
        "age": rng.integers(20, 90, n),
        "region": rng.integers(1, 5, n),
    })
    left = pop.assign(rid=[f"L{i:03d}" for i in range(n)])
    perm = rng.permutation(n)
    right = pop.iloc[perm].reset_index(drop=True).assign(rid=[f"R{i:03d}" for i in range(n)])
    truth = pd.DataFrame({"left_key": [f"L{p:03d}" for p in perm], "right_key": right["rid"]})
    paths = {k: tmp_path / f"{k}.csv" for k in ("left", "right", "truth")}
    left.to_csv(paths["left"], index=False)
    right.to_csv(paths["right"], index=False)
    truth.to_csv(paths["truth"], index=False)
    paths["unique"] = float(len(pop.drop_duplicates()) / n)
    return paths


def test_link_exact_with_truth(app, files, tmp_path):
    out = tmp_path / "links.parquet"
    r = CliRunner().invoke(app, ["link", str(files["left"]), str(files["right"]), "--method", "exact",
                                 "--on", "sex,age,region", "--key", "rid", "--out", str(out),
                                 "--truth", str(files["truth"]), "--seed", "3"])
    assert r.exit_code == 0, r.output
    links = pd.read_parquet(out)
    # records are row positions; --key carries the key beside them
    assert list(links.columns) == ["left_row", "right_row", "score", "left_key", "right_key"]
    left = pd.read_csv(files["left"])
    assert (left["rid"].to_numpy()[links["left_row"]] == links["left_key"].to_numpy()).all()
    assert links["left_key"].str.startswith("L").all() and links["right_key"].str.startswith("R").all()
    rep = json.loads((tmp_path / "links.parquet.json").read_text())
    assert rep["method"] == "exact" and rep["links"] == len(links)
    assert rep["uniqueness_bound"]["left"] == pytest.approx(files["unique"])
    # every profile appears in both files: exact links all rows; accuracy can not beat the bound by luck much
    assert rep["quality"]["recall"] == pytest.approx(rep["quality"]["precision"])
    t = pd.read_csv(files["truth"])
    correct = links.merge(t, on=["left_key", "right_key"])
    assert rep["quality"]["true_positives"] == len(correct)
    # keys never appear in the diagnostics
    text = (tmp_path / "links.parquet.json").read_text()
    assert "L000" not in text and "R000" not in text


def test_link_without_truth_csv(app, files, tmp_path):
    out = tmp_path / "l.csv"
    r = CliRunner().invoke(app, ["link", str(files["left"]), str(files["right"]), "--method", "exact",
                                 "--on", "sex,region", "--key", "rid", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "l.csv.json").read_text())
    assert "quality" not in rep and rep["links"] == len(pd.read_csv(out)) == 40


def test_link_probabilistic_with_param_and_truth(app, files, tmp_path):
    out = tmp_path / "p.csv"
    r = CliRunner().invoke(app, ["link", str(files["left"]), str(files["right"]), "--method", "probabilistic",
                                 "--on", "sex,age,region", "--key", "rid", "--out", str(out),
                                 "--truth", str(files["truth"]), "--param", "blocking=[[\"sex\"]]",
                                 "--param", "max_iterations=3"])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "p.csv.json").read_text())
    d = rep["diagnostics"]
    assert d["blocking"] == [["sex"]] and d["match_weights_truth"] and d["match_weights_em"]
    assert "truth" not in rep["params"]
    assert rep["quality"]["f1"] > 0.5


def test_link_errors(app, files, tmp_path):
    base = ["link", str(files["left"]), str(files["right"]), "--key", "rid", "--out", str(tmp_path / "x.csv")]
    r = CliRunner().invoke(app, [*base, "--method", "nope", "--on", "sex"])
    assert r.exit_code == 2 and "unknown linker" in r.output
    r = CliRunner().invoke(app, [*base, "--method", "exact", "--on", "sex,missing_col"])
    assert r.exit_code == 2 and "missing_col" in r.output
    r = CliRunner().invoke(app, [*base, "--method", "exact", "--on", "rid"])
    assert r.exit_code == 2 and "--key" in r.output


def test_parse_params():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("[[\"a\", \"b\"]]") == [["a", "b"]] and parse_value("em") == "em"
    assert parse_params(["a=1", "b=x=y"]) == {"a": 1, "b": "x=y"}
    with pytest.raises(ConfigError):
        parse_params(["novalue"])


def test_link_without_key_names_rows_and_reads_the_split_truth(app, files, tmp_path):
    """Synthetic parts carry no key: links are row positions. The truth file that synthlink split
    writes (one column per part, named after the part files, of row positions) is accepted.

    Worked by hand: left row i is person i; right row j is person perm[j]. The split-format truth
    holds (left=perm[j], right=j) for every j; the 40 (sex, age, region) profiles of the fixture
    are all distinct (files['unique'] == 1, asserted), so exact linking is right on 40/40."""
    left, right = pd.read_csv(files["left"]).drop(columns="rid"), pd.read_csv(files["right"]).drop(columns="rid")
    t = pd.read_csv(files["truth"])
    lpos = {k: i for i, k in enumerate(pd.read_csv(files["left"])["rid"])}
    rpos = {k: i for i, k in enumerate(pd.read_csv(files["right"])["rid"])}
    d = tmp_path / "s"
    (d / "parts").mkdir(parents=True)
    left.to_parquet(d / "parts" / "edu.parquet")
    right.to_parquet(d / "parts" / "emp.parquet")
    pd.DataFrame({"edu": pd.array([lpos[k] for k in t["left_key"]], dtype="Int64"),
                  "emp": pd.array([rpos[k] for k in t["right_key"]], dtype="Int64")}).to_parquet(d / "truth.parquet")
    out = tmp_path / "links.csv"
    r = CliRunner().invoke(app, ["link", str(d / "parts" / "edu.parquet"), str(d / "parts" / "emp.parquet"),
                                 "--method", "exact", "--on", "sex,age,region", "--truth", str(d / "truth.parquet"),
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    links = pd.read_csv(out)
    assert list(links.columns) == ["left_row", "right_row", "score"]
    rep = json.loads((tmp_path / "links.csv.json").read_text())
    assert files["unique"] == 1.0
    assert rep["quality"]["true_positives"] == 40 and rep["quality"]["accuracy"] == 1.0
    # the same links file is not replaced without --overwrite
    r2 = CliRunner().invoke(app, ["link", str(d / "parts" / "edu.parquet"), str(d / "parts" / "emp.parquet"),
                                  "--method", "exact", "--on", "sex", "--out", str(out)])
    assert r2.exit_code == 2 and "--overwrite" in r2.output


def test_link_refuses_an_identifier_as_linking_column(app, files, tmp_path):
    # rid is a distinct text on each of 40 rows: linking on it would match on an identifier
    r = CliRunner().invoke(app, ["link", str(files["left"]), str(files["right"]), "--method", "exact",
                                 "--on", "sex,rid", "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "'rid'" in r.output and "identifier" in r.output
    assert not (tmp_path / "x.csv").exists()

"""``synthlink synthesize``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from synthlink.cli import app
from synthlink.cli.synthesize import parse_params


def _part(tmp_path):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    n = 120
    p = tmp_path / "part.csv"
    pd.DataFrame({"pid": [f"P{i:05d}" for i in range(n)], "age": rng.integers(18, 90, n),
                  "sex": rng.choice(["F", "M"], n)}).to_csv(p, index=False)
    return p


def test_synthesize_writes_a_part_without_the_identifier(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = _part(tmp_path)
    out = tmp_path / "syn.parquet"
    r = CliRunner().invoke(app, ["synthesize", str(p), "--method", "cart", "--param", "min_samples_leaf=3",
                                 "--seed", "1", "--out", str(out), "--drop-column", "pid"])
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out)
    assert list(df.columns) == ["age", "sex"] and len(df) == 120


def test_identifier_left_in_is_refused_and_help_lists_methods(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = _part(tmp_path)
    r = CliRunner().invoke(app, ["synthesize", str(p), "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "pid" in r.output
    assert not (tmp_path / "x.csv").exists()
    h = CliRunner().invoke(app, ["synthesize", "--help"])
    for m in ("cart", "copula", "marginals", "privbayes"):
        assert m in h.output


def test_parse_params() -> None:
    assert parse_params(["epsilon=0.5", "proper=true", "visit_sequence=[a, b]", "smoothing=density"]) == {
        "epsilon": 0.5, "proper": True, "visit_sequence": ["a", "b"], "smoothing": "density"}

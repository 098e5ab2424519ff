"""Plug-in measures (synthlink.evaluate.measures) and the built-in SDNist unique exact matches,
against hand-worked tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.evaluate import measures as M

from .conftest import make_people


def test_unique_exact_matches_by_hand() -> None:
    # train: (a,1) twice (not unique); (b,2), (c,3) and (d,missing) unique: a missing value is a
    # value of its own, as SDNist's 'N'
    train = pd.DataFrame({"x": ["a", "a", "b", "c", "d"], "y": [1, 1, 2, 3, np.nan]})
    # the synthetic table reproduces (b,2) twice (counted once), (a,1) (not unique in train),
    # (d,missing), and (x,9)
    syn = pd.DataFrame({"x": ["b", "b", "a", "d", "x"], "y": [2, 2, 1, np.nan, 9]})
    control = pd.DataFrame({"x": ["c"], "y": [3]})
    got = M.unique_exact_matches(train, control, syn, common=[], part_columns=None, seed=0)
    assert got["n"] == 3 and got["value"] == pytest.approx(2 / 3)  # (b,2), (d,missing) of 3
    assert got["control"] == pytest.approx(1 / 3)  # (c,3)


def test_unique_exact_matches_directions() -> None:
    """A copy of train reproduces every unique record (1); a fresh sample of a population whose rows
    are almost all distinct (a continuous wage) reproduces none (0)."""
    train = make_people(800, seed=1).drop(columns=["pid"])
    fresh = make_people(800, seed=2).drop(columns=["pid"])
    copy = M.unique_exact_matches(train, fresh, train.sample(frac=1, random_state=0), common=[], part_columns=None, seed=0)
    assert copy["value"] == 1.0 and copy["n"] == len(train) and copy["control"] == 0.0
    none = M.unique_exact_matches(train, fresh, fresh, common=[], part_columns=None, seed=0)
    assert none["value"] == 0.0


def _half(train, control, synthetic, *, common, part_columns, seed):  # type: ignore[no-untyped-def]
    return 0.5


def _too_big(train, control, synthetic, *, common, part_columns, seed):  # type: ignore[no-untyped-def]
    return 1.5


def _boom(train, control, synthetic, *, common, part_columns, seed):  # type: ignore[no-untyped-def]
    raise ValueError("boom")


def test_run_records_value_goal_range_or_the_failure() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    ok = M.run(M.Measure("half", _half, "higher", (0, 1), "a half"), df, df, df, common=[], part_columns=None, seed=0)
    assert ok == {"goal": "higher", "range": [0, 1], "summary": "a half", "value": 0.5}
    out = M.run(M.Measure("big", _too_big, "lower", (0, 1), "x"), df, df, df, common=[], part_columns=None, seed=0)
    assert out["value"] is None and "outside its range" in out["error"]
    bad = M.run(M.Measure("boom", _boom, "lower", (0, 1), "x"), df, df, df, common=[], part_columns=None, seed=0)
    assert bad["value"] is None and bad["error"] == "ValueError: boom"


def test_registry_refuses_a_taken_name_and_a_bad_goal() -> None:
    with pytest.raises(ConfigError, match="already registered"):
        M.register(M.Measure("unique_exact_matches", _half, "lower", (0, 1), "x"))
    with pytest.raises(ConfigError, match="goal"):
        M.Measure("m", _half, "max", (0, 1), "x")  # type: ignore[arg-type]
    assert "unique_exact_matches" in M.available() and not math.isnan(M.get("unique_exact_matches").range[1])

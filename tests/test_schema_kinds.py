"""One rule for a column's kind (synthlink.schema.kinds): declared over inferred, inferred from
all frames pooled, an unknown declaration a one-line error naming the column."""

from __future__ import annotations

import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.schema import Kind, coarse_kinds, joint_codes, resolve_kinds


def test_declared_kind_wins_over_the_values() -> None:
    df = pd.DataFrame({"isced": [1, 2, 3, 1], "age": [20, 30, 40, 50], "name": list("abcd")})
    got = resolve_kinds(df, ["isced", "age", "name"], {"isced": "ordinal", "age": "numeric"})
    # 4 distinct integers would be inferred categorical (<= 12 values); declared ordinal/numeric win
    assert got == {"isced": Kind.ORDINAL, "age": Kind.NUMERIC, "name": Kind.CATEGORICAL}
    assert resolve_kinds(df, ["age"])["age"] is Kind.CATEGORICAL
    assert coarse_kinds(got) == {"isced": "categorical", "age": "numeric", "name": "categorical"}


def test_inference_pools_the_frames() -> None:
    # 8 distinct integers on each side, 16 together: categorical alone, numeric pooled (> 12)
    a, b = pd.DataFrame({"x": range(8)}), pd.DataFrame({"x": range(8, 16)})
    assert resolve_kinds(a, ["x"])["x"] is Kind.CATEGORICAL
    assert resolve_kinds([a, b], ["x"])["x"] is Kind.NUMERIC


def test_unknown_declared_kind_names_the_column() -> None:
    with pytest.raises(ConfigError, match="column 'x': unknown kind 'number'"):
        resolve_kinds(pd.DataFrame({"x": [1.5]}), ["x"], {"x": "number"})


def test_cell_codes_are_shared_by_both_sides() -> None:
    both = pd.DataFrame({"s": ["f", "m", "f", "m", None], "a": [1, 1, 1, 2, 1]})
    left, right = joint_codes([both], 2)
    # left rows (f,1), (m,1); right rows (f,1), (m,2), (None,1): the same cell gets the same code
    assert left[0] == right[0] and left[1] != right[1] and len(set([*left, *right])) == 4

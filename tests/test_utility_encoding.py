"""Kinds and cell codes of the utility package: column_kinds goes through synthlink.schema
(declared over inferred), common_cells codes the cross-classification of the common variables
in order of first appearance, missing as a level of its own. Expected values by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.evaluate.utility import column_kinds, common_cells
from synthlink.evaluate.utility.encoding import cell_codes
from synthlink.evaluate.utility.sections import Section, run_section


def test_declared_kinds_win_and_schema_kinds_fold_to_two() -> None:
    df = pd.DataFrame({"n": [1, 2, 3, 1], "s": ["a", "b", "a", "b"],
                       "d": pd.to_datetime(["2020-01-01"] * 4), "x": [0.5, 1.5, 2.5, 3.5]})
    # a 3-valued integer column reads as categorical; declared numeric it is numeric
    assert column_kinds(df, ["n", "s", "d", "x"]) == {"n": "categorical", "s": "categorical",
                                                      "d": "numeric", "x": "numeric"}
    assert column_kinds(df, ["n", "x"], {"n": "numeric", "x": "ordinal"}) == {"n": "numeric", "x": "categorical"}
    assert column_kinds(df, ["s"], {"s": "date"}) == {"s": "numeric"}


def test_unknown_kind_is_a_config_error() -> None:
    df = pd.DataFrame({"s": ["a"]})
    with pytest.raises(ConfigError, match="column 's': unknown kind 'blob'"):
        column_kinds(df, ["s"], {"s": "blob"})


def test_common_cells_in_order_of_first_appearance() -> None:
    df = pd.DataFrame({"sex": ["F", "M", "F", "M", None], "canton": ["A", "A", "B", "A", "A"]})
    # (F,A)=0, (M,A)=1, (F,B)=2, (M,A)=1, (<NA>,A)=3
    assert common_cells(df, ["sex", "canton"]).tolist() == [0, 1, 2, 1, 3]
    # sex alone: F=0, M=1, <NA>=2
    assert common_cells(df, ["sex"]).tolist() == [0, 1, 0, 1, 2]
    assert common_cells(df, []).tolist() == [0, 0, 0, 0, 0]


def test_numeric_common_variable_is_binned_beyond_max_levels() -> None:
    df = pd.DataFrame({"age": np.arange(8, dtype=float)})
    numeric = {"age": "numeric"}
    # 8 distinct values > max_levels 4: two quantile bins of 0..7, edge at the median 3.5
    assert common_cells(df, ["age"], kinds=numeric, max_levels=4, bins=2).tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    # 8 values within max_levels 10: each value its own cell
    assert common_cells(df, ["age"], kinds=numeric, max_levels=10).tolist() == list(range(8))
    # undeclared, 8 whole-number floats (at most 12 distinct) read as categorical: never binned
    assert common_cells(df, ["age"], max_levels=4, bins=2).tolist() == list(range(8))


def test_cell_codes_without_labels_is_one_cell() -> None:
    assert cell_codes([], 3).tolist() == [0, 0, 0]


def test_a_failing_section_is_an_error_entry() -> None:
    errors: list[dict] = []

    def boom() -> Section:
        raise ValueError("no")

    sec = run_section("x", boom, errors)
    assert sec.value["error"].startswith("ValueError: no") and sec.metrics == []
    assert [e["name"] for e in errors] == ["x"]
    assert run_section("y", lambda: Section([1]), errors).value == [1] and len(errors) == 1

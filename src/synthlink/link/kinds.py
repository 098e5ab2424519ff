"""The comparison family of a linking column, from its kind as :mod:`synthlink.schema` resolves it
(declared over inferred, values of both parts pooled).

Families
    ``numeric``     numbers and dates: compared by their difference;
    ``ordinal``     ordered categories: compared by the difference of their level indices;
    ``categorical`` unordered categories: equal or not.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthlink.schema import Kind, resolve_kind

NUMERIC = "numeric"
ORDINAL = "ordinal"
CATEGORICAL = "categorical"


def family(kind: Kind | str) -> str:
    """``numeric`` for numeric and date, ``ordinal`` for ordinal, else ``categorical``."""
    k = Kind(str(kind))
    if k in (Kind.NUMERIC, Kind.DATE):
        return NUMERIC
    if k is Kind.ORDINAL:
        return ORDINAL
    return CATEGORICAL


def column_family(s: pd.Series, declared: Any = None) -> str:
    """The family of column ``s`` (both parts' values stacked): ``declared`` kind when given, else
    the kind inferred from the values (:func:`synthlink.schema.resolve_kind`)."""
    return family(resolve_kind(s, declared))


def pooled(left: pd.DataFrame, right: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` of both parts stacked (left rows first), named ``column``."""
    return pd.concat([left[column], right[column]], ignore_index=True).rename(column)


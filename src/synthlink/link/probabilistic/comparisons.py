"""Splink comparisons and blocking rules of the probabilistic linker.

A linking column is compared by its kind, declared over inferred (:mod:`synthlink.schema`):
exact agreement for categories (categorical and ordinal); for numbers (years, ages, household
sizes) the levels exact / ``|difference| <= 1`` / ``<= 2`` / else; for dates exact / within 1
month / within 1 year / else (Splink's comparison libraries). Integer columns with few values
(codes of cantons, nationalities) are inferred as categories; declare them ``numeric`` to compare
them by difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from synthlink.schema import Kind, resolve_kinds

#: the comparison each kind gets
COMPARISON_OF_KIND = {Kind.NUMERIC: "numeric", Kind.DATE: "date", Kind.CATEGORICAL: "categorical",
                      Kind.ORDINAL: "categorical"}


def comparison_kinds(left: pd.DataFrame, right: pd.DataFrame, on: Sequence[str],
                     declared: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``numeric``, ``date`` or ``categorical`` per linking column, from its kind: ``declared`` where
    given, else inferred from both parts' values pooled (:func:`synthlink.schema.resolve_kinds`)."""
    kinds = resolve_kinds([left, right], on, {c: k for c, k in (declared or {}).items() if c in on})
    return {c: COMPARISON_OF_KIND[k] for c, k in kinds.items()}


def comparison(col: str, kind: str, thresholds: Sequence[float] = (1, 2)) -> Any:
    """The Splink comparison of column ``col`` for a comparison kind (numeric: ``thresholds`` of
    the absolute-difference levels)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    if kind == "numeric":
        levels: list[Any] = [cll.NullLevel(col), cll.ExactMatchLevel(col)]
        levels += [cll.AbsoluteDifferenceLevel(col, t) for t in thresholds]
        levels.append(cll.ElseLevel())
        return cl.CustomComparison(levels, output_column_name=col, comparison_description=f"{col} numeric")
    if kind == "date":
        return cl.AbsoluteDateDifferenceAtThresholds(col, input_is_string=False, metrics=["month", "year"], thresholds=[1, 1])
    return cl.ExactMatch(col)


def pairs_count(left: pd.DataFrame, right: pd.DataFrame, cols: list[str]) -> float:
    """Number of candidate pairs an exact blocking rule on ``cols`` generates (missing values never agree)."""
    a = left[cols].dropna().value_counts()
    b = right[cols].dropna().value_counts()
    j = a.to_frame("a").join(b.to_frame("b"), how="inner")
    return float((j["a"].astype("float64") * j["b"].astype("float64")).sum())


def default_blocking(left: pd.DataFrame, right: pd.DataFrame, on: list[str], max_pairs_per_record: float = 50.0) -> list[list[str]]:
    """One exact blocking rule: add, greedily, the column that cuts the candidate pairs most, until
    there are at most ``max_pairs_per_record * max(n_left, n_right)`` pairs; keep at least one column
    free to compare (two if there are four or more)."""
    target = max_pairs_per_record * max(len(left), len(right))
    keep_free = 2 if len(on) >= 4 else 1
    chosen: list[str] = []
    current = float(len(left)) * len(right)
    while current > target and len(chosen) < len(on) - keep_free:
        best, best_n = None, math.inf
        for c in on:
            if c in chosen:
                continue
            n = pairs_count(left, right, [*chosen, c])
            if n < best_n:
                best, best_n = c, n
        if best is None:
            break
        chosen.append(best)
        current = best_n
    return [chosen] if chosen else []

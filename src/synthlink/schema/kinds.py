"""Column kinds: declared where the user says, inferred from the values only where not.

This is the project's one rule for a column's kind; every stage (split, synthesizers, linkers,
evaluation) resolves kinds through :func:`resolve_kinds`, so a kind declared in a plan's
``kinds:`` reaches them all.

Kinds
    ``categorical`` unordered categories; ``ordinal`` ordered categories; ``numeric``; ``date``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError


class Kind(StrEnum):
    CATEGORICAL = "categorical"
    ORDINAL = "ordinal"
    NUMERIC = "numeric"
    DATE = "date"


#: integer columns with at most this many distinct values are inferred as categorical
MAX_INT_CATEGORIES = 12


def infer_kind(s: pd.Series) -> Kind:
    """Infer the kind of a column from its dtype and values."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return Kind.ORDINAL if s.dtype.ordered else Kind.CATEGORICAL
    if pd.api.types.is_datetime64_any_dtype(s):
        return Kind.DATE
    if pd.api.types.is_bool_dtype(s):
        return Kind.CATEGORICAL
    if pd.api.types.is_integer_dtype(s):
        return Kind.CATEGORICAL if s.nunique(dropna=True) <= MAX_INT_CATEGORIES else Kind.NUMERIC
    if pd.api.types.is_float_dtype(s):
        nonnull = s.dropna()
        if len(nonnull) and np.all(np.mod(nonnull.to_numpy(), 1) == 0) and nonnull.nunique() <= MAX_INT_CATEGORIES:
            return Kind.CATEGORICAL
        return Kind.NUMERIC
    return Kind.CATEGORICAL


def declared_kind(name: str, declared: Any) -> Kind:
    """A declared kind as :class:`Kind`; an unknown one is a :class:`ConfigError` naming the column."""
    try:
        return Kind(str(declared))
    except ValueError:
        raise ConfigError(
            f"column '{name}': unknown kind '{declared}' (use one of {', '.join(k.value for k in Kind)})"
        ) from None


def resolve_kind(s: pd.Series, declared: Any = None) -> Kind:
    """The kind of one column: ``declared`` when given, else inferred from its values."""
    return declared_kind(str(s.name), declared) if declared is not None else infer_kind(s)


def resolve_kinds(frames: pd.DataFrame | Sequence[pd.DataFrame], columns: Iterable[str],
                  declared: Mapping[str, Any] | None = None) -> dict[str, Kind]:
    """The kind of each column: declared first, else inferred from the values of all ``frames``
    pooled (a column inferred from one frame alone could read as categorical on one part and
    numeric on the other)."""
    frames = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    declared = declared or {}
    out: dict[str, Kind] = {}
    for c in columns:
        if c in declared and declared[c] is not None:
            out[c] = declared_kind(c, declared[c])
        else:
            vals = [f[c] for f in frames if c in f.columns]
            s = vals[0] if len(vals) == 1 else pd.concat(vals, ignore_index=True)
            out[c] = infer_kind(s.rename(c))
    return out


def is_numeric_kind(kind: Kind | str) -> bool:
    """Numbers and dates are measured on a scale; categorical and ordinal kinds are categories."""
    return Kind(str(kind)) in (Kind.NUMERIC, Kind.DATE)


def coarse_kinds(kinds: Mapping[str, Kind | str]) -> dict[str, str]:
    """``numeric`` (numeric, date) or ``categorical`` (categorical, ordinal) per column: the two
    families most measures distinguish."""
    return {c: "numeric" if is_numeric_kind(k) else "categorical" for c, k in kinds.items()}

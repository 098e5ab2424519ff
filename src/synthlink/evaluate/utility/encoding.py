"""Column encodings shared by every utility measure: kinds (through :mod:`synthlink.schema`),
numbers as float arrays, categories as string labels and integer codes, quantile bins, row
subsamples and plain JSON values.

Missing values are a category of their own (:data:`NA_LABEL`), so rows a linkage left unlinked
show in the category measures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.evaluate.metric import Metric
from synthlink.schema import Kind, coarse_kinds, joint_codes, resolve_kinds

GROUP = "utility"
NA_LABEL = "<NA>"


def jsonable(x: Any) -> Any:
    """Turn numpy/pandas scalars, NaN and containers into plain JSON values (NaN -> None)."""
    if isinstance(x, Metric):
        return x.to_dict()
    if isinstance(x, pd.DataFrame):
        return jsonable(x.to_dict(orient="records"))
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray, pd.Series)):
        return [jsonable(v) for v in list(x)]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, str):
        return x
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A data frame as a list of JSON records."""
    return jsonable(df.to_dict(orient="records"))


def nanmean(x: Iterable[Any]) -> float | None:
    """Mean of the values that are neither None nor NaN; None when there is none."""
    a = np.asarray([v for v in x if v is not None], dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if len(a) else None


def column_kinds(df: pd.DataFrame, columns: Iterable[str], kinds: Mapping[str, str] | None = None) -> dict[str, str]:
    """``numeric`` or ``categorical`` per column: declared in ``kinds`` (schema kinds accepted:
    numeric/date -> numeric, categorical/ordinal -> categorical), else inferred from ``df``;
    both by :func:`synthlink.schema.resolve_kinds` and :func:`synthlink.schema.coarse_kinds`.
    An unknown declared kind is a :class:`ConfigError` naming the column."""
    columns = list(columns)
    declared = {c: kinds[c] for c in columns if kinds and c in kinds}
    for c, k in declared.items():
        if str(k) not in {x.value for x in Kind}:
            raise ConfigError(f"column '{c}': unknown kind '{k}' (use numeric or categorical)")
    return coarse_kinds(resolve_kinds(df, columns, {c: str(k) for c, k in declared.items()}))


def as_float(s: pd.Series, where: str = "") -> np.ndarray:
    """A column as float64 (dates as days since 1970-01-01; missing -> NaN). Values that are not
    numbers raise an :class:`InputError` naming the column."""
    if pd.api.types.is_datetime64_any_dtype(s):
        d = pd.to_datetime(s)
        out = (d - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan) / 86400.0
        return out
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    conv = pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce")
    bad = conv.isna() & s.notna()
    if bad.any():
        example = s[bad].iloc[0]
        raise InputError(f"{where}column '{s.name}': expected numbers, found {example!r} "
                         f"({int(bad.sum())} non-numeric value(s))")
    return conv.to_numpy(dtype=float, na_value=np.nan)


def as_labels(s: pd.Series) -> np.ndarray:
    """A column as string labels (object array), missing as :data:`NA_LABEL`. Whole-number floats
    are written without the decimal part, so an integer column that became float when a linkage
    left rows unlinked (1.0) still matches train (1)."""
    n = len(s)
    out = np.full(n, NA_LABEL, dtype=object)
    codes, uniques = pd.factorize(s)  # missing values get code -1
    if len(uniques) == 0:
        return out
    u = pd.Series(uniques)
    if pd.api.types.is_numeric_dtype(u) and not pd.api.types.is_bool_dtype(u):
        f = u.to_numpy(dtype=float)
        names = f.astype(np.int64).astype(str) if np.all(np.mod(f, 1) == 0) else f.astype(str)
    else:
        names = u.astype(str).to_numpy(dtype=object)
    ok = codes >= 0
    out[ok] = np.asarray(names, dtype=object)[codes[ok]]
    return out


def label_codes(labels: np.ndarray) -> np.ndarray:
    """Integer codes of labels within one table, -1 for missing."""
    codes, _ = pd.factorize(labels)
    codes = codes.astype(np.int64)
    codes[labels == NA_LABEL] = -1
    return codes


def quantile_bins(reference: np.ndarray, values: np.ndarray, bins: int) -> np.ndarray:
    """Bin labels of ``values`` on the quantile edges of ``reference`` (at most ``bins`` bins;
    values beyond the reference range fall into the end bins; missing -> :data:`NA_LABEL`)."""
    ref = reference[~np.isnan(reference)]
    out = np.full(len(values), NA_LABEL, dtype=object)
    ok = ~np.isnan(values)
    if len(ref) == 0:
        out[ok] = "0"
        return out
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1]
    idx = np.searchsorted(inner, values[ok], side="right")
    out[ok] = idx.astype(str)
    return out


@dataclass
class Encoded:
    """One table's analysed columns: float arrays for numeric, labels and codes for categorical."""

    n: int
    num: dict[str, np.ndarray] = field(default_factory=dict)
    lab: dict[str, np.ndarray] = field(default_factory=dict)
    code: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, idx: np.ndarray) -> Encoded:
        return Encoded(len(idx), {k: v[idx] for k, v in self.num.items()},
                       {k: v[idx] for k, v in self.lab.items()}, {k: v[idx] for k, v in self.code.items()})

    def copy(self) -> Encoded:
        """A shallow copy: new column dicts holding the same arrays."""
        return Encoded(self.n, dict(self.num), dict(self.lab), dict(self.code))


def encode(df: pd.DataFrame, kinds: Mapping[str, str], where: str) -> Encoded:
    """Encode the columns of ``kinds`` (``where`` prefixes error messages, e.g. ``"train: "``)."""
    e = Encoded(len(df))
    for c, k in kinds.items():
        if k == "numeric":
            e.num[c] = as_float(df[c], where)
        else:
            e.lab[c] = as_labels(df[c])
            e.code[c] = label_codes(e.lab[c])
    return e


def subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray | None:
    """Sorted indices of ``max_rows`` of ``n`` rows drawn without replacement; None = use all."""
    if max_rows is None or n <= max_rows:
        return None
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def cell_codes(labels: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Cell code (0..k-1, in order of first appearance) of each row for the cross-classification
    of the given label arrays, by :func:`synthlink.schema.joint_codes`; all 0 when there is none."""
    if not labels:
        return np.zeros(n, dtype=np.int64)
    return joint_codes(list(labels), n)[0]

"""Vectorised drawing helpers of the demo generator (numpy, pyarrow): link functions,
categorical draws row by row, table lookups, and the typed output columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synthlink.demo.tables import AGE_BANDS


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-x)), elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), elementwise: the inverse of :func:`sigmoid`."""
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


def normalise(p: Any) -> np.ndarray:
    """Weights scaled to sum to 1 along the last axis."""
    a = np.asarray(p, dtype=float)
    return a / a.sum(axis=-1, keepdims=True)


def choice_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per element of ``rows``, from the probability row ``probs[rows[i]]``."""
    cum = np.cumsum(normalise(probs), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    for r in np.unique(rows):  # loop over the few distinct rows, vectorised within
        m = rows == r
        out[m] = np.searchsorted(cum[r], u[m], side="right")
    return out


def strings(codes: np.ndarray, names: list[str], mask: np.ndarray | None = None) -> pd.Series:
    """codes -> a pandas "str" Series; NaN where ``mask`` is False."""
    idx = np.asarray(codes, dtype=np.int64)
    valid = np.ones(len(idx), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    taken = pc.take(pa.array(names, type=pa.string()), pa.array(np.where(valid, idx, 0), mask=~valid))
    return pd.Series(taken, dtype="str")


def ints(values: np.ndarray, mask: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """values -> a pandas "Int64" array; missing where ``mask`` is False."""
    v = np.asarray(values, dtype=np.int64)
    m = np.zeros(len(v), dtype=bool) if mask is None else ~np.asarray(mask, dtype=bool)
    return pd.arrays.IntegerArray(v, m)


def lookup(table: dict[str, float], names: list[str], codes: np.ndarray) -> np.ndarray:
    """The coefficient ``table[names[c]]`` of every code ``c`` in ``codes``."""
    return np.array([table[k] for k in names], dtype=float)[codes]


def age_band(age: np.ndarray) -> np.ndarray:
    """Index of each age's band in :data:`~synthlink.demo.tables.AGE_BANDS`."""
    edges = np.array([b[0] for b in AGE_BANDS[1:]])
    return np.searchsorted(edges, age, side="right")

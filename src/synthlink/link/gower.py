"""Gower's mixed distance between the records of two parts (Gower 1971, *Biometrics* 27:857-871),
shared by the distance linker and the hot deck.

Averaged over the linking variables (optionally weighted), always within [0, 1]:

* numeric and date: ``|x - y| / range`` (range of the two parts pooled);
* ordinal (ordered categorical): ``|rank(x) - rank(y)| / (levels - 1)``;
* categorical: 0 when equal, 1 otherwise.

A missing value equals a missing value (0) and differs from any value (1). With these rules the
distance is a metric (weighted L1). Kinds come from :mod:`synthlink.link.kinds` (declared over
inferred).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.link.cells import sorted_unique
from synthlink.link.kinds import CATEGORICAL, NUMERIC, ORDINAL, column_family, pooled


@dataclass
class GowerEncoding:
    """Both parts encoded column by column, ready for the Gower distance.

    ``left``/``right``: float arrays (n, p). Numeric and ordinal columns hold the value divided by
    its range (NaN where missing); categorical columns hold an integer code, -1 where missing.
    """

    columns: list[str]
    kinds: list[str]
    weights: np.ndarray  # shares summing to 1
    left: np.ndarray
    right: np.ndarray

    def pair_distance(self, li: np.ndarray, rj: np.ndarray) -> np.ndarray:
        """Distance of the pairs ``(left[li[t]], right[rj[t]])``."""
        return self.distance(self.left[li], self.right[rj])

    def matrix(self, li: np.ndarray, rj: np.ndarray) -> np.ndarray:
        """Dense distance matrix between left rows ``li`` and right rows ``rj``."""
        return self.distance(self.left[li][:, None, :], self.right[rj][None, :, :])

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distance between encoded rows ``a`` and ``b`` (broadcast over all but the last axis)."""
        shape = np.broadcast_shapes(a.shape, b.shape)[:-1]
        out = np.zeros(shape, dtype=np.float64)
        for j, kind in enumerate(self.kinds):
            x, y = a[..., j], b[..., j]
            if kind == CATEGORICAL:
                d = (x != y).astype(np.float64)
            else:
                nx, ny = np.isnan(x), np.isnan(y)
                d = np.abs(x - y)
                if nx.any() or ny.any():
                    d = np.where(nx & ny, 0.0, np.where(nx | ny, 1.0, d))
            out += self.weights[j] * d
        return out

    def embedding(self) -> tuple[np.ndarray, np.ndarray]:
        """Features whose Manhattan distance equals the Gower distance (for non-missing values)."""
        parts_l, parts_r = [], []
        for j, kind in enumerate(self.kinds):
            w = self.weights[j]
            x, y = self.left[:, j], self.right[:, j]
            if kind == CATEGORICAL:
                codes = sorted_unique(np.concatenate([x, y]))
                if len(codes) <= 1:
                    continue
                xl = np.searchsorted(codes, x)
                yl = np.searchsorted(codes, y)
                parts_l.append(np.eye(len(codes), dtype=np.float64)[xl] * (w / 2))
                parts_r.append(np.eye(len(codes), dtype=np.float64)[yl] * (w / 2))
            else:
                both = np.concatenate([x, y])
                fill = float(np.nanmean(both)) if np.isfinite(both).any() else 0.0
                parts_l.append((np.where(np.isnan(x), fill, x) * w)[:, None])
                parts_r.append((np.where(np.isnan(y), fill, y) * w)[:, None])
                if np.isnan(both).any():
                    parts_l.append((np.isnan(x) * w)[:, None])
                    parts_r.append((np.isnan(y) * w)[:, None])
        if not parts_l:
            return np.zeros((len(self.left), 1)), np.zeros((len(self.right), 1))
        return np.hstack(parts_l), np.hstack(parts_r)


def encode_gower(
    left: pd.DataFrame,
    right: pd.DataFrame,
    columns: Sequence[str],
    kinds: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
) -> GowerEncoding:
    """Encode the linking ``columns`` of both parts (pooled ranges, levels and codes); ``kinds``:
    declared kinds by column (the others are inferred from the pooled values)."""
    kinds = dict(kinds or {})
    weights = dict(weights or {})
    cols = list(columns)
    n_l = len(left)
    kind_list: list[str] = []
    w = np.array([float(weights.get(c, 1.0)) for c in cols])
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ConfigError(f"distance: weights must be finite, non-negative and not all zero, got {weights}")
    L = np.empty((n_l, len(cols)))
    R = np.empty((len(right), len(cols)))
    for j, c in enumerate(cols):
        both = pooled(left, right, c)
        kind = column_family(both, kinds.get(c))
        if kind == NUMERIC:
            if pd.api.types.is_datetime64_any_dtype(both):
                vals = (both - pd.Timestamp("1970-01-01")).dt.days.astype("float64").to_numpy()
            else:
                try:
                    vals = pd.to_numeric(both, errors="raise").astype("float64").to_numpy()
                except (ValueError, TypeError):
                    raise InputError(f"distance: column '{c}' is declared numeric but holds non-numeric values") from None
            finite = vals[~np.isnan(vals)]
            rng = float(finite.max() - finite.min()) if len(finite) else 0.0
            vals = vals / rng if rng > 0 else np.where(np.isnan(vals), np.nan, 0.0)
        elif kind == ORDINAL:
            if isinstance(both.dtype, pd.CategoricalDtype) and both.dtype.ordered:
                codes = both.cat.codes.to_numpy().astype(np.float64)
                n_lev = len(both.dtype.categories)
            else:
                uniq = np.sort(both.dropna().unique())
                codes = pd.Categorical(both, categories=uniq, ordered=True).codes.astype(np.float64)
                n_lev = len(uniq)
            codes[codes < 0] = np.nan
            vals = codes / (n_lev - 1) if n_lev > 1 else np.where(np.isnan(codes), np.nan, 0.0)
        else:
            col = both.astype("float64") if pd.api.types.is_numeric_dtype(both) and not pd.api.types.is_bool_dtype(both) else both.astype("object")
            vals = pd.factorize(col, use_na_sentinel=True)[0].astype(np.float64)  # -1 = missing
        kind_list.append(kind)
        L[:, j] = vals[:n_l]
        R[:, j] = vals[n_l:]
    return GowerEncoding(cols, kind_list, w / w.sum(), L, R)


def gower_matrix(
    left: pd.DataFrame,
    right: pd.DataFrame,
    columns: Sequence[str],
    kinds: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Dense Gower distance matrix (``len(left)`` x ``len(right)``); for small parts."""
    enc = encode_gower(left, right, columns, kinds, weights)
    return enc.matrix(np.arange(len(left)), np.arange(len(right)))


def default_block_on(left: pd.DataFrame, right: pd.DataFrame, cols: Sequence[str], max_levels: int,
                     kinds: Mapping[str, str] | None = None) -> list[str]:
    """Categorical linking variables with at most ``max_levels`` distinct values (pooled)."""
    out = []
    kinds = dict(kinds or {})
    for c in cols:
        both = pooled(left, right, c)
        if column_family(both, kinds.get(c)) == CATEGORICAL and both.nunique(dropna=False) <= max_levels:
            out.append(c)
    return out

"""Mixed-type encoding and exact nearest-neighbour search for the privacy measures.

Distance (Gower-like, as Anonymeter's ``MixedTypeKNeighbors``): the sum over columns of
``|a - b| / range`` for numeric (and date) columns, the range taken over the reference frames, and
``[a != b]`` for categorical columns (a missing value is its own category; a missing numeric value
sits one unit below the smallest value, so missing vs present costs at least 1 and two missing
values cost 0). Dividing by the number of columns gives the mean per-column Gower distance in
[0, 1] used for DCR.

Search is exact and never forms the full cross join:

1. *blocking on the categorical profile*: one KD tree (Manhattan) over the numeric columns plus a
   profile coordinate spaced farther apart than any numeric distance, so each query first finds
   its neighbours among targets with the same categorical profile. Any target with another profile
   differs in at least one category, i.e. is at distance >= 1, so a neighbour found at distance < 1
   is certified exact;
2. the remaining queries (profile absent or neighbour at >= 1) are searched by brute force in
   chunks (vectorised, threaded over ``n_jobs``).

Small problems (fewer than ``BRUTE_PAIRS`` query-target pairs) go straight to step 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synthlink.schema import coarse_kinds, resolve_kinds

#: below this many query x target pairs, brute force is faster than building trees
BRUTE_PAIRS = 20_000_000
#: elements per brute-force chunk (float32), about 64 MB
CHUNK_ELEMENTS = 16_000_000


@dataclass
class Encoded:
    """A frame encoded for distance computations: scaled numeric block and categorical codes."""

    num: np.ndarray  # (n, p) float64
    cat: np.ndarray  # (n, q) int64

    def __len__(self) -> int:
        return self.num.shape[0]

    def take(self, idx: np.ndarray) -> Encoded:
        return Encoded(self.num[idx], self.cat[idx])

    def cols(self, num_idx: Sequence[int], cat_idx: Sequence[int]) -> Encoded:
        return Encoded(self.num[:, list(num_idx)], self.cat[:, list(cat_idx)])


def column_kinds(frames: Sequence[pd.DataFrame], columns: Sequence[str], kinds: dict[str, str] | None = None) -> dict[str, str]:
    """'numeric' or 'categorical' per column, by the project's one rule
    (:func:`synthlink.schema.resolve_kinds`, then :func:`synthlink.schema.coarse_kinds`): declared
    ``kinds`` first (numeric and date count as numeric, categorical and ordinal as categorical; an
    unknown kind is a :class:`~synthlink.errors.ConfigError` naming the column), else inferred from
    the values of ``frames`` pooled. The privacy measures pass the training frame alone, so that
    every synthetic table compared against it is measured with the same kinds."""
    return coarse_kinds(resolve_kinds(list(frames), list(columns), kinds))


def as_float(s: pd.Series) -> np.ndarray:
    """A column as float64 for distances: dates as days since 1970-01-01, booleans as 0/1, anything
    not a number as NaN (coerced, never an error), missing as NaN."""
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s.to_numpy(dtype="datetime64[ns]")
        out = v.astype("int64").astype(float) / 86_400e9
        out[np.isnat(v)] = np.nan
        return out
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64").to_numpy()
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def encode(
    frames: Sequence[pd.DataFrame],
    columns: Sequence[str],
    ctypes: dict[str, str],
    reference: Sequence[int] | None = None,
) -> tuple[list[Encoded], list[str], list[str]]:
    """Encode ``frames`` consistently (shared category codes, shared numeric scaling).

    Numeric columns are divided by their range over the ``reference`` frames (all frames by
    default); a zero range counts as 1. Returns the encoded frames and the numeric and
    categorical column names in block order."""
    reference = list(range(len(frames))) if reference is None else list(reference)
    num_cols = [c for c in columns if ctypes[c] == "numeric"]
    cat_cols = [c for c in columns if ctypes[c] == "categorical"]
    sizes = [len(f) for f in frames]
    bounds = np.cumsum([0, *sizes])
    n_all = int(bounds[-1])
    num = np.empty((n_all, len(num_cols)), dtype=float)
    for j, c in enumerate(num_cols):
        vals = np.concatenate([as_float(f[c]) for f in frames])
        ref = np.concatenate([vals[bounds[i]:bounds[i + 1]] for i in reference])
        ref = ref[~np.isnan(ref)]
        lo, hi = (float(ref.min()), float(ref.max())) if len(ref) else (0.0, 1.0)
        rng = hi - lo if hi > lo else 1.0
        scaled = (vals - lo) / rng
        miss = np.isnan(scaled)
        if miss.any():
            floor = np.nanmin(scaled) if (~miss).any() else 0.0
            scaled[miss] = min(floor, 0.0) - 1.0
        num[:, j] = scaled
    cat = np.empty((n_all, len(cat_cols)), dtype=np.int64)
    for j, c in enumerate(cat_cols):
        s = pd.concat([f[c].astype(object) for f in frames], ignore_index=True)
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        codes[codes < 0] = len(uniques)
        cat[:, j] = codes
    out = [Encoded(num[bounds[i]:bounds[i + 1]], cat[bounds[i]:bounds[i + 1]]) for i in range(len(frames))]
    return out, num_cols, cat_cols


# -- search ---------------------------------------------------------------------------------------

def _one_hot(cat: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    oh = np.zeros((cat.shape[0], width), dtype=np.float32)
    if cat.shape[1]:
        oh[np.arange(cat.shape[0])[:, None], cat + offsets[None, :]] = 1.0
    return oh


def two_smallest(d: np.ndarray) -> np.ndarray:
    """Per row of ``d``, the column indices ``np.argpartition(d, 1, axis=1)[:, :2]`` returns, by
    two argmin passes: where a row's two smallest values are a unique set (the common case) that
    set is the same whatever the selection algorithm; rows with a tie at or below the second
    smallest value (or a NaN) are passed to ``argpartition`` itself, so ties are resolved as
    before. About 4x faster than ``argpartition`` on 16,000 columns."""
    nq = d.shape[0]
    rows = np.arange(nq)
    i1 = np.argmin(d, axis=1)
    v1 = d[rows, i1]
    d[rows, i1] = np.inf
    i2 = np.argmin(d, axis=1)
    v2 = d[rows, i2]
    d[rows, i1] = v1
    unsure = ~(v1 < v2) | ~np.isfinite(v2) | ((d <= v2[:, None]).sum(axis=1) > 2)
    part = np.column_stack([i1, i2])
    if unsure.any():
        part[unsure] = np.argpartition(d[unsure], 1, axis=1)[:, :2]
    return part


def _brute_chunk(qnum: np.ndarray, qoh: np.ndarray, tnum: np.ndarray, toh: np.ndarray, n_cat: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    nq, nt = qnum.shape[0], tnum.shape[0]
    if n_cat:
        d = qoh @ toh.T  # matching categories, by BLAS
        np.subtract(np.float32(n_cat), d, out=d)
    else:
        d = np.zeros((nq, nt), dtype=np.float32)
    buf = np.empty((nq, nt), dtype=np.float32)
    for j in range(qnum.shape[1]):
        np.subtract(qnum[:, j, None], tnum[None, :, j], out=buf)
        np.abs(buf, out=buf)
        d += buf
    if k >= nt:
        part = np.tile(np.arange(nt), (nq, 1))
    elif k == 1:  # one pass, the lowest index among equal distances (argpartition costs ~3x more)
        part = np.argmin(d, axis=1)[:, None]
    elif k == 2:
        part = two_smallest(d)
    else:
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
    dp = np.take_along_axis(d, part, axis=1)
    order = np.lexsort((part, dp))  # by distance, then by index (deterministic ties)
    return np.take_along_axis(dp, order, axis=1).astype(float), np.take_along_axis(part, order, axis=1)


def brute_force(q: Encoded, t: Encoded, k: int, n_jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by chunked distance blocks (categorical mismatches through a
    one-hot matrix product, numeric L1 column by column)."""
    nq, nt = len(q), len(t)
    k = min(k, nt)
    dist = np.empty((nq, k))
    idx = np.empty((nq, k), dtype=np.int64)
    if nq == 0:
        return dist, idx
    n_cat = q.cat.shape[1]
    levels = np.maximum(q.cat.max(axis=0, initial=-1), t.cat.max(axis=0, initial=-1)) + 1 if n_cat else np.zeros(0, int)
    offsets = np.concatenate([[0], np.cumsum(levels)[:-1]]).astype(np.int64) if n_cat else np.zeros(0, np.int64)
    width = int(levels.sum()) if n_cat else 0
    toh = _one_hot(t.cat, offsets, width)
    tnum = t.num.astype(np.float32)
    step = max(1, CHUNK_ELEMENTS // max(nt, 1))
    starts = list(range(0, nq, step))

    def run(s: int) -> None:
        e = min(s + step, nq)
        dist[s:e], idx[s:e] = _brute_chunk(
            q.num[s:e].astype(np.float32), _one_hot(q.cat[s:e], offsets, width), tnum, toh, n_cat, k
        )

    if n_jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(n_jobs) as ex:
            list(ex.map(run, starts))
    else:
        for s in starts:
            run(s)
    return dist, idx


def nearest(q: Encoded, t: Encoded, k: int = 1, n_jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest targets of each query (distances in summed Gower units, indices into
    ``t``), ties broken towards the lower target index where the brute-force path decides."""
    nq, nt = len(q), len(t)
    if nt == 0:
        raise ValueError("nearest-neighbour search needs at least one target row")
    k = min(k, nt)
    p, c = q.num.shape[1], q.cat.shape[1]
    if nq * nt <= BRUTE_PAIRS or p > 12:
        return brute_force(q, t, k, n_jobs)
    if c == 0:
        nn = NearestNeighbors(n_neighbors=k, algorithm="kd_tree", metric="manhattan", n_jobs=n_jobs).fit(t.num)
        return nn.kneighbors(q.num)
    # level 0: block on the categorical profile inside one KD tree
    _, inv = np.unique(np.vstack([q.cat, t.cat]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    span = (np.vstack([q.num, t.num]).max(axis=0) - np.vstack([q.num, t.num]).min(axis=0)).sum() if p else 0.0
    big = float(span) + 2.0
    xq = np.column_stack([q.num, inv[:nq] * big])
    xt = np.column_stack([t.num, inv[nq:] * big])
    nn = NearestNeighbors(n_neighbors=k, algorithm="kd_tree", metric="manhattan", n_jobs=n_jobs).fit(xt)
    dist, idx = nn.kneighbors(xq)
    rest = np.flatnonzero(~(dist[:, k - 1] < 1.0))
    if len(rest):
        d2, i2 = brute_force(q.take(rest), t, k, n_jobs)
        dist[rest], idx[rest] = d2, i2
    return dist, idx


def nearest_indices(reference: pd.DataFrame, targets: pd.DataFrame, cols: Sequence[str], ctypes: dict[str, str],
                    k: int) -> np.ndarray:
    """Row indices into ``reference`` of the ``k`` nearest records of each row of ``targets`` on
    ``cols`` (both encoded together, numeric ranges over both; exact search by :func:`nearest`)."""
    (es, et), _, _ = encode([reference, targets], list(cols), ctypes)
    _, idx = nearest(et, es, k=k, n_jobs=1)
    return idx

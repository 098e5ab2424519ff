"""Singling-out queries and how many records each one matches.

A query is a conjunction of predicates ``column op value`` (Anonymeter's singling-out queries,
Giomi et al., PETS 2023; anonymeter ``evaluators/singling_out_evaluator.py``), held as three
arrays of shape (n_queries, n_predicates): column indices, operator codes (:data:`EQ` ..
:data:`NOTNULL`) and values. Frames are coded once into float matrices (:func:`code_frames`:
categorical values as codes shared across frames, NaN = null) and a query's match count is computed
vectorised over queries and records (:func:`count_matches`): by packed bitsets of every predicate's
row set where they fit in memory, else by a row scan (:func:`match_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from synthlink.evaluate.utility.memo import array_key, memoized

EQ, NE, GT, LT, GE, LE, ISNULL, NOTNULL = range(8)
OP_NAMES = ["==", "!=", ">", "<", ">=", "<=", "is null", "is not null"]
NUMERIC_OPS = np.array([EQ, NE, GT, LT, GE, LE])
CATEGORICAL_OPS = np.array([EQ, NE])

#: bitsets larger than this are not kept in the per-process memo (at most 8 are kept)
SHARED_BITSET_BYTES = 64_000_000
_NULL = np.float32(-3.0e38)  # stands for a missing value in the float32 matrix used for intervals
_ABOVE_NULL = np.float32(-2.9e38)


class Table:
    """A deduplicated frame as a float matrix (categorical values as shared codes, NaN = null),
    plus a float32 transposed copy with nulls as a sentinel for fast interval predicates."""

    def __init__(self, x: np.ndarray):
        self.x = x
        self.xt = np.ascontiguousarray(x.T)
        xf = self.xt.astype(np.float32)
        xf[np.isnan(xf)] = _NULL
        self.xf = xf
        self._bits: _Bitsets | None | bool = False

    def __len__(self) -> int:
        return self.x.shape[0]

    def bitsets(self, numeric: np.ndarray) -> _Bitsets | None:
        if self._bits is False:
            self._bits = _Bitsets.build(self, numeric)
        return self._bits  # type: ignore[return-value]

    def share_bitsets(self, numeric: np.ndarray) -> None:
        """Take the bitsets from the per-process memo (keyed by this table's values and
        ``numeric``), building them there once: the train and control tables are the same for
        every synthetic table a study compares with them. The bitsets are only read."""
        if self._bits is False:
            key = (array_key(self.x), np.asarray(numeric, dtype=bool).tobytes())
            self._bits = memoized("singling_out_bitsets", key, lambda: _Bitsets.build(self, numeric), copy_value=False,
                                  keep=lambda b: b is not None and b.table.nbytes <= SHARED_BITSET_BYTES)


def _pack(mask: np.ndarray) -> np.ndarray:
    """Pack boolean rows (k, n) into uint64 words (k, ceil(n / 64)); padding bits are 0."""
    k, n = mask.shape
    w = -(-n // 64)
    padded = np.zeros((k, w * 64), dtype=bool)
    padded[:, :n] = mask
    return np.packbits(padded, axis=1, bitorder="little").view(np.uint64)


class _Bitsets:
    """Row sets of every predicate a query can use, as packed bits: per categorical value (==),
    per numeric threshold (>= and <=), null and not-null per column. A query's match count is then
    the popcount of an AND of a few bit rows instead of a scan of every row."""

    EMPTY, ALL = 0, 1
    MAX_BYTES = 400_000_000

    def __init__(self, table: np.ndarray, uniq: list[np.ndarray], base: dict[tuple[str, int], int]):
        self.table, self.uniq, self.base = table, uniq, base

    @classmethod
    def build(cls, tab: Table, numeric: np.ndarray) -> _Bitsets | None:
        n, m = tab.x.shape
        uniq = []
        rows_needed = 2
        for j in range(m):
            x = tab.x[:, j]
            u = np.unique(x[~np.isnan(x)])
            uniq.append(u)
            rows_needed += 2 + (2 if numeric[j] else 1) * len(u)
        if rows_needed * (-(-n // 64)) * 8 > cls.MAX_BYTES:
            return None
        blocks = [_pack(np.vstack([np.zeros(n, bool), np.ones(n, bool)]))]
        base: dict[tuple[str, int], int] = {}
        r = 2
        for j in range(m):
            x, u = tab.x[:, j], uniq[j]
            nul = np.isnan(x)
            blocks.append(_pack(np.vstack([nul, ~nul])))
            base[("null", j)] = r
            base[("notnull", j)] = r + 1
            r += 2
            for step in range(0, max(len(u), 1), 2048):
                uu = u[step:step + 2048]
                if not len(uu):
                    break
                if numeric[j]:
                    blocks.append(_pack(x[None, :] >= uu[:, None]))
                else:
                    blocks.append(_pack(x[None, :] == uu[:, None]))
            base[("first", j)] = r
            r += len(u)
            if numeric[j]:
                for step in range(0, len(u), 2048):
                    uu = u[step:step + 2048]
                    blocks.append(_pack(x[None, :] <= uu[:, None]))
                base[("le", j)] = r
                r += len(u)
        return cls(np.vstack(blocks), uniq, base)

    def rows(self, cols: np.ndarray, ops: np.ndarray, vals: np.ndarray, numeric: np.ndarray):
        """(pos1, pos2, neg) bit-row indices per predicate: set = T[pos1] & T[pos2] & ~T[neg];
        None where a predicate has no single-row form (!= on a numeric column)."""
        p1 = np.full(cols.shape, self.ALL)
        p2 = np.full(cols.shape, self.ALL)
        ng = np.full(cols.shape, self.EMPTY)
        for j in np.unique(cols):
            u = self.uniq[j]
            for op in np.unique(ops[cols == j]):
                m = (cols == j) & (ops == op)
                v = vals[m]
                if op == ISNULL:
                    p1[m] = self.base[("null", j)]
                    continue
                if op == NOTNULL:
                    p1[m] = self.base[("notnull", j)]
                    continue
                if numeric[j]:
                    if op == NE:
                        return None
                    first = self.base[("first", j)]
                    le = self.base[("le", j)]
                    ge_l = np.searchsorted(u, v, side="left")
                    ge_r = np.searchsorted(u, v, side="right")
                    ge_i = ge_l if op in (GE, EQ) else ge_r if op == GT else None
                    le_i = ge_r - 1 if op in (LE, EQ) else ge_l - 1 if op == LT else None
                    if ge_i is not None:
                        p1[m] = np.where(ge_i < len(u), first + np.minimum(ge_i, len(u) - 1), self.EMPTY)
                    if le_i is not None:
                        p2[m] = np.where(le_i >= 0, le + np.maximum(le_i, 0), self.EMPTY)
                else:
                    i = np.searchsorted(u, v)
                    ic = np.minimum(i, max(len(u) - 1, 0))
                    found = (i < len(u)) & (u[ic] == v) if len(u) else np.zeros(len(v), bool)
                    eq = np.where(found, self.base[("first", j)] + ic, self.EMPTY)
                    if op == EQ:
                        p1[m] = eq
                    elif op == NE:
                        p1[m] = self.base[("notnull", j)]
                        ng[m] = eq
                    else:
                        return None
        return p1, p2, ng

    def counts(self, p1: np.ndarray, p2: np.ndarray, ng: np.ndarray) -> np.ndarray:
        q, s = p1.shape
        w = self.table.shape[1]
        step = max(1, 4_000_000 // max(w, 1))
        out = np.empty(q, dtype=np.int64)
        t = self.table
        for i in range(0, q, step):
            acc = t[p1[i:i + step, 0]] & t[p2[i:i + step, 0]] & ~t[ng[i:i + step, 0]]
            for k in range(1, s):
                acc &= t[p1[i:i + step, k]]
                acc &= t[p2[i:i + step, k]]
                acc &= ~t[ng[i:i + step, k]]
            out[i:i + step] = np.bitwise_count(acc).sum(axis=1, dtype=np.int64)
        return out


def code_frames(frames: Sequence[pd.DataFrame], columns: Sequence[str], ctypes: dict[str, str]) -> list[Table]:
    """``frames`` on ``columns`` as :class:`Table` s on one scale: numbers (dates as nanoseconds) as
    floats, categories as codes shared across the frames, missing as NaN."""
    sizes = np.cumsum([0, *[len(f) for f in frames]])
    mats = np.empty((int(sizes[-1]), len(columns)))
    for j, c in enumerate(columns):
        s = pd.concat([f[c].astype(object) if ctypes[c] == "categorical" else f[c] for f in frames], ignore_index=True)
        if ctypes[c] == "numeric":
            if pd.api.types.is_datetime64_any_dtype(s):
                v = s.to_numpy(dtype="datetime64[ns]")
                col = v.astype("int64").astype(float)
                col[np.isnat(v)] = np.nan
            else:
                col = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        else:
            codes, _ = pd.factorize(s, use_na_sentinel=True)
            col = codes.astype(float)
            col[codes < 0] = np.nan
        mats[:, j] = col
    return [Table(mats[sizes[i]:sizes[i + 1]]) for i in range(len(frames))]


def _intervals(ops: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = vals.astype(np.float32)
    lo = np.full(v.shape, _ABOVE_NULL, dtype=np.float32)
    hi = np.full(v.shape, np.float32(np.inf), dtype=np.float32)
    eq = ops == EQ
    lo[eq], hi[eq] = v[eq], v[eq]
    lo[ops == GE] = v[ops == GE]
    hi[ops == LE] = v[ops == LE]
    gt, lt = ops == GT, ops == LT
    lo[gt] = np.nextafter(v[gt], np.float32(np.inf))
    hi[lt] = np.nextafter(v[lt], np.float32(-np.inf))
    nul = ops == ISNULL
    lo[nul], hi[nul] = _NULL, _NULL
    return lo, hi


def match_rows(tab: Table, cols: np.ndarray, ops: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Boolean (n_queries, n_rows): rows matching every predicate of each query."""
    q, s = cols.shape
    if not np.isin(ops, (NE, NOTNULL)).any():  # every predicate is an interval: fast path
        lo, hi = _intervals(ops, vals)
        out = np.ones((q, len(tab)), dtype=bool)
        for j in range(s):
            g = tab.xf[cols[:, j]]
            out &= g >= lo[:, j, None]
            out &= g <= hi[:, j, None]
        return out
    out = np.ones((q, len(tab)), dtype=bool)
    for j in range(s):
        g = tab.xt[cols[:, j]]
        v = vals[:, j, None]
        res = np.empty_like(out)
        for op in np.unique(ops[:, j]):
            r = ops[:, j] == op
            gv, vv = g[r], v[r]
            if op == EQ:
                res[r] = gv == vv
            elif op == NE:
                res[r] = (gv != vv) & ~np.isnan(gv)
            elif op == GT:
                res[r] = gv > vv
            elif op == LT:
                res[r] = gv < vv
            elif op == GE:
                res[r] = gv >= vv
            elif op == LE:
                res[r] = gv <= vv
            elif op == ISNULL:
                res[r] = np.isnan(gv)
            else:
                res[r] = ~np.isnan(gv)
        out &= res
    return out


def count_matches(tab: Table, cols: np.ndarray, ops: np.ndarray, vals: np.ndarray,
                  numeric: np.ndarray | None = None) -> np.ndarray:
    """Number of rows of ``tab`` matching each query: by bitsets when ``numeric`` (which columns are
    numeric) is given and they fit in :attr:`_Bitsets.MAX_BYTES`, else by the row scan of :func:`match_rows`."""
    if len(cols) == 0:
        return np.zeros(0, dtype=np.int64)
    if numeric is not None:
        bits = tab.bitsets(numeric)
        if bits is not None:
            rows = bits.rows(cols, ops, vals, numeric)
            if rows is not None:
                return bits.counts(*rows)
    step = max(1, min(8_000_000 // max(len(tab), 1), -(-len(cols) // 2)))
    starts = range(0, len(cols), step)

    def run(i: int) -> np.ndarray:
        return match_rows(tab, cols[i:i + step], ops[i:i + step], vals[i:i + step]).sum(axis=1)

    if len(starts) > 1:
        with ThreadPoolExecutor(2) as ex:
            return np.concatenate(list(ex.map(run, starts)))
    return run(0)

"""The profile-level problem the bridge linker solves: common cells, left and right profiles
within them, every feasible (cell, left profile, right profile) triple, and each released
marginal as a map from triples to its cells with the released counts as targets.

Records that agree on the common variables ``on`` (exact agreement, missing a value of its own,
as the exact linker and the CIA join) form a *common cell* ``c``. Within a cell, a record's
*profile* is the combination of its bridge columns binned to the release's declared domain
(:func:`synthlink.bridge.binned`): ``p`` on the left, ``q`` on the right. A column of a marginal is
read from the left part when the left part has it, otherwise from the right part. Only pairs within
one common cell are feasible (the exact linker's rule), so the problem's variables are the triples
``(c, p, q)`` with both profiles present in ``c``; records of one profile in one cell are
interchangeable. Codes are assigned in sorted order of the values, so they do not depend on row
order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthlink.bridge.spec import BridgeRelease, binned


@dataclass
class Marginal:
    """One usable released marginal: the cell of every triple and the target of every cell
    (released counts rescaled to the number of pairs to link)."""

    columns: tuple[str, ...]
    cell: np.ndarray  # cell index of each triple (into target)
    target: np.ndarray  # float, one per cell of the declared domain
    released_total: int


@dataclass
class Problem:
    """Triples ``t`` of (common cell, left profile-in-cell ``row``, right profile-in-cell ``col``).

    ``row_count`` / ``col_count``: records of each profile-in-cell; ``row_cell`` / ``col_cell``:
    its common cell; ``pairs``: pairs to link per common cell, ``min(n_left_c, n_right_c)``;
    ``left_row`` / ``right_col``: the profile-in-cell of every record (-1: none)."""

    cell: np.ndarray
    row: np.ndarray
    col: np.ndarray
    row_count: np.ndarray
    col_count: np.ndarray
    row_cell: np.ndarray
    col_cell: np.ndarray
    cell_left: np.ndarray
    cell_right: np.ndarray
    pairs: np.ndarray
    left_row: np.ndarray
    right_col: np.ndarray
    row_start: np.ndarray  # first profile-in-cell of each cell (left), ...
    col_start: np.ndarray  # ... (right)
    triple_start: np.ndarray  # first triple of each cell
    marginals: list[Marginal] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def triple_index(self, cell: int, row: int, col: int) -> int:
        """The triple of a left and a right profile-in-cell of the same cell."""
        n_col = self.n_cols(cell)
        return int(self.triple_start[cell] + (row - self.row_start[cell]) * n_col + (col - self.col_start[cell]))

    def n_cols(self, cell: int) -> int:
        nxt = self.col_start[cell + 1] if cell + 1 < len(self.col_start) else len(self.col_count)
        return int(nxt - self.col_start[cell])

    @property
    def total(self) -> int:
        return int(self.pairs.sum())

    def cia_weights(self) -> np.ndarray:
        """The conditional-independence pair weights ``m_c (n_cp / nL_c) (n_cq / nR_c)``: the
        expected pair counts of a random one-to-one pairing within each cell (the CIA join)."""
        c = self.cell
        return (self.pairs[c] * (self.row_count[self.row] / self.cell_left[c])
                * (self.col_count[self.col] / self.cell_right[c]))

    def row_targets(self) -> np.ndarray:
        """Pairs each left profile-in-cell takes in expectation: ``m_c n_cp / nL_c``."""
        return self.pairs[self.row_cell] * self.row_count / np.maximum(self.cell_left[self.row_cell], 1)

    def col_targets(self) -> np.ndarray:
        return self.pairs[self.col_cell] * self.col_count / np.maximum(self.cell_right[self.col_cell], 1)


def sorted_codes(frame: pd.DataFrame) -> np.ndarray:
    """Codes 0..k-1 of the rows' value combinations, in sorted order of the values (missing a
    value of its own, sorted last); numbers compare as floats, so 3 and 3.0 agree."""
    n = len(frame)
    codes = np.zeros(n, dtype=np.int64)
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            s = s.astype("float64")
            k, uniq = pd.factorize(s, sort=True, use_na_sentinel=True)
        else:
            s = s.astype("object")
            try:
                k, uniq = pd.factorize(s, sort=True, use_na_sentinel=True)
            except TypeError:  # values of mixed types: sort by their text
                k, uniq = pd.factorize(s.map(lambda v: v if pd.isna(v) else f"{type(v).__name__}:{v}"),
                                       sort=True, use_na_sentinel=True)
        k = np.where(k < 0, len(uniq), k).astype(np.int64)
        codes = np.unique(codes * (len(uniq) + 1) + k, return_inverse=True)[1].astype(np.int64).reshape(-1)
    return codes


def level_index(labels: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Position of each cell label among a column's declared levels."""
    return pd.Index(list(levels)).get_indexer(labels.astype(str)).astype(np.int64)


def build_problem(left: pd.DataFrame, right: pd.DataFrame, on: Sequence[str], release: BridgeRelease) -> Problem:
    """The triples, profiles and marginal maps of ``left`` x ``right`` for ``release`` (its
    columns are checked present first; values outside the declared domain are an InputError)."""
    spec = release.spec
    n_l = len(left)
    cell_l, cell_r = np.split(sorted_codes(pd.concat([left[list(on)], right[list(on)]], ignore_index=True)), [n_l])
    lcols = [c for c in spec.columns if c in left.columns]
    rcols = [c for c in spec.columns if c not in left.columns]
    lev = {c: spec.levels(c) for c in spec.columns}
    lidx = binned(left, spec, lcols, "left part") if lcols else pd.DataFrame(index=left.index)
    ridx = binned(right, spec, rcols, "right part") if rcols else pd.DataFrame(index=right.index)
    lvl_l = np.column_stack([level_index(lidx[c], lev[c]) for c in lcols]) if lcols else np.zeros((n_l, 0), np.int64)
    lvl_r = np.column_stack([level_index(ridx[c], lev[c]) for c in rcols]) if rcols else np.zeros((len(right), 0), np.int64)

    def profiles(cells: np.ndarray, lvl: np.ndarray, cols: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dims = [len(lev[c]) for c in cols]
        prof = np.ravel_multi_index(lvl.T, dims) if cols else np.zeros(len(cells), np.int64)
        key = cells * int(np.prod(dims, dtype=np.int64)) + prof
        _, first, inv, cnt = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        return inv.reshape(-1).astype(np.int64), cnt.astype(np.int64), first.astype(np.int64)

    lrow, row_count, lfirst = profiles(cell_l, lvl_l, lcols)
    rcol, col_count, rfirst = profiles(cell_r, lvl_r, rcols)
    row_cell, col_cell = cell_l[lfirst], cell_r[rfirst]
    n_cells = int(max(cell_l.max(initial=-1), cell_r.max(initial=-1)) + 1)
    cell_left = np.bincount(cell_l, minlength=n_cells)
    cell_right = np.bincount(cell_r, minlength=n_cells)
    pairs = np.minimum(cell_left, cell_right)
    # profiles-in-cell of one cell are contiguous (codes sort by cell first)
    a = np.bincount(row_cell, minlength=n_cells)
    b = np.bincount(col_cell, minlength=n_cells)
    lstart = np.r_[0, np.cumsum(a)[:-1]]
    rstart = np.r_[0, np.cumsum(b)[:-1]]
    size = np.where(pairs > 0, a * b, 0)
    tcell = np.repeat(np.arange(n_cells), size)
    k = np.arange(len(tcell)) - np.r_[0, np.cumsum(size)[:-1]][tcell]
    row = lstart[tcell] + k // np.maximum(b[tcell], 1)
    col = rstart[tcell] + k % np.maximum(b[tcell], 1)
    prob = Problem(tcell, row, col, row_count, col_count, row_cell, col_cell, cell_left, cell_right, pairs,
                   lrow, rcol, lstart, rstart, np.r_[0, np.cumsum(size)[:-1]])

    # marginals: the cell of every triple, and its target
    total = prob.total
    for m in spec.marginals:
        if m not in release.tables:
            prob.skipped.append(f"marginal {list(m)}: no table in the release")
            continue
        if all(c in lcols for c in m) or all(c in rcols for c in m):
            prob.skipped.append(f"marginal {list(m)}: all its columns are in one part, so linkage cannot change it")
            continue
        dims = [len(lev[c]) for c in m]
        per_col = [lvl_l[lfirst[row], lcols.index(c)] if c in lcols else lvl_r[rfirst[col], rcols.index(c)] for c in m]
        tcells = np.ravel_multi_index(per_col, dims) if len(row) else np.zeros(0, np.int64)
        tab = release.tables[m]
        where = [level_index(tab[c], lev[c]) for c in m]
        ok = np.all([w >= 0 for w in where], axis=0)
        target = np.zeros(int(np.prod(dims, dtype=np.int64)))
        np.add.at(target, np.ravel_multi_index([w[ok] for w in where], dims), tab["count"].to_numpy(dtype=float)[ok])
        released = float(target.sum())
        if released <= 0:
            prob.skipped.append(f"marginal {list(m)}: its released counts are all zero")
            continue
        prob.marginals.append(Marginal(tuple(m), tcells.astype(np.int64), target * total / released, int(released)))
    return prob

"""Integer pair counts from the bridge's fractional calibrated weights, keeping each common
cell's margins exactly and the released marginals as closely as the integers allow.

1. Row and column totals of each cell: the expected totals rounded by largest remainder to
   integers that sum to the cell's pairs (Hamilton's method, :func:`largest_remainder`).
2. Every triple takes the floor of its weight (lowered where floors alone would overshoot a row
   or a column total).
3. The units still missing are placed cell by cell, one at a time, on the pair of a row and a
   column that both still need one, chosen by the largest priority ``frac * (D / E)`` (a product
   over the marginals): ``frac`` the weight's fractional part (so a cell keeps the calibrated
   structure), ``D`` the marginal cell's remaining deficit (target minus units placed so far) and
   ``E`` its remaining fractional supply (the fractional parts in the cells not yet done). It is
   a divisor-method apportionment (the deficit is updated after each unit, as in Sainte-Lague's
   method; Balinski and Young 1982, *Fair Representation*), so the released marginal's error stays
   of the order of a unit per cell of the marginal instead of growing with the number of common
   cells (rounding each cell alone, largest fraction first, favours the pairs that are already
   likely and undoes the calibration when most cells hold a few records).

Within a cell every pair is feasible, so step 3 always meets the integer row and column totals
when they agree (both sum to the cell's pairs).
"""

from __future__ import annotations

import numpy as np

from synthlink.link.bridge.problem import Problem

#: smallest fractional supply and priority (keeps the ratio finite and every pair eligible)
TINY = 1e-9


def largest_remainder(values: np.ndarray, groups: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integers, each the floor or the ceiling of its value, summing to ``totals[g]`` within each
    group ``g`` (Hamilton's largest remainder method; ties by position)."""
    v = np.maximum(np.asarray(values, dtype=float), 0.0)
    fl = np.floor(v + 1e-9)
    out = fl.astype(np.int64)
    if len(v) == 0:
        return out
    rem = v - fl
    need = np.asarray(totals, dtype=np.int64) - np.bincount(groups, weights=fl, minlength=len(totals)).astype(np.int64)
    order = np.lexsort((np.arange(len(v)), -rem, groups))
    g = groups[order]
    first = np.r_[True, g[1:] != g[:-1]]
    rank = np.arange(len(g)) - np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    out[order[rank < need[g]]] += 1
    return out


def controlled_round(prob: Problem, w: np.ndarray, row_total: np.ndarray, col_total: np.ndarray) -> np.ndarray:
    """Integer pair counts per triple, near ``w``, with row sums ``row_total`` and column sums
    ``col_total`` (module docstring)."""
    w = np.maximum(np.asarray(w, dtype=float), 0.0)
    fl = np.floor(w + 1e-9).astype(np.int64)
    x = fl.copy()
    over_r = np.bincount(prob.row, weights=x, minlength=len(row_total)) > row_total
    over_c = np.bincount(prob.col, weights=x, minlength=len(col_total)) > col_total
    bad = over_r[prob.row] | over_c[prob.col]
    x[bad] = 0
    rn = np.asarray(row_total, dtype=np.int64) - np.bincount(prob.row, weights=x, minlength=len(row_total)).astype(np.int64)
    cn = np.asarray(col_total, dtype=np.int64) - np.bincount(prob.col, weights=x, minlength=len(col_total)).astype(np.int64)
    for t in np.flatnonzero(bad)[np.argsort(-w[bad], kind="stable")].tolist():  # floors that overshoot
        r, c = prob.row[t], prob.col[t]
        k = min(int(fl[t]), int(rn[r]), int(cn[c]))
        if k > 0:
            x[t] += k
            rn[r] -= k
            cn[c] -= k
    frac = np.clip(w - x, 0.0, 1.0)
    deficit = [m.target - np.bincount(m.cell, weights=x, minlength=len(m.target)) for m in prob.marginals]
    supply = [np.bincount(m.cell, weights=frac, minlength=len(m.target)) for m in prob.marginals]
    need_cell = np.bincount(prob.row_cell, weights=rn, minlength=len(prob.pairs))
    ends = prob.triple_start + np.where(prob.pairs > 0, np.bincount(prob.cell, minlength=len(prob.pairs)), 0)
    for cell in np.flatnonzero(need_cell > 0).tolist():
        a, b = int(prob.triple_start[cell]), int(ends[cell])
        rows, cols = prob.row[a:b], prob.col[a:b]
        f = frac[a:b].copy()
        mcells = [m.cell[a:b] for m in prob.marginals]
        while True:
            ok = (rn[rows] > 0) & (cn[cols] > 0)
            if not ok.any():
                break
            pri = f + TINY
            for d, s, mc in zip(deficit, supply, mcells, strict=True):
                pri = pri * (np.maximum(d[mc], 0.0) / np.maximum(s[mc], TINY) + TINY)
            t = int(np.argmax(np.where(ok, pri, -1.0)))
            x[a + t] += 1
            rn[rows[t]] -= 1
            cn[cols[t]] -= 1
            f[t] = 0.0
            for d, mc in zip(deficit, mcells, strict=True):
                d[mc[t]] -= 1.0
        for s, mc in zip(supply, mcells, strict=True):
            s -= np.bincount(mc, weights=frac[a:b], minlength=len(s))
    return x

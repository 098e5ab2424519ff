"""Calibration of the pair counts of a bridge :class:`~synthlink.link.bridge.problem.Problem`
to the released marginals, and their rounding to integer pair counts that keep the margins.

IPF (:func:`rake`)
    Iterative proportional fitting (Deming and Stephan 1940, *Ann. Math. Statist.* 11:427-444) of
    the CIA pair weights ``w_cpq = m_c (n_cp / nL_c)(n_cq / nR_c)`` to the margins: every released
    marginal (summed over common cells), then the left and right margins of each common cell. Where
    the margins are consistent it converges to the table closest to the CIA start in
    Kullback-Leibler divergence that meets them all (Csiszar 1975, *Ann. Probab.* 3:146-158): the
    association the common variables explain is kept and only what the release says is added.
    Zero targets are floored at a tiny positive value so a profile whose every pair has a zero
    target still links (it must, to keep its cell's margins).

LP (:func:`transport_lp`)
    The exact profile-level problem: a transportation LP over the triples with the row and column
    capacities of each cell as hard constraints and every released cell total as a soft constraint
    with L1 slack; minimise the total slack, then (second solve, slack held at its optimum)
    maximise the number of pairs. Solved by HiGHS (:func:`scipy.optimize.linprog`). Its size is the
    number of triples plus twice the number of released cells, so it is for small problems.

Rounding (:func:`largest_remainder`, :func:`controlled_round`)
    Row and column totals per cell are rounded by largest remainder to integer totals that sum to
    the cell's pairs (Hamilton's method); the pair counts then take the floors of the weights, the
    largest fractional parts while a row and a column both still need pairs, and finally the
    north-west corner rule on what is left (every pair within a cell is feasible). The result meets
    the integer row and column totals exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, hstack, identity, vstack

from synthlink.link.bridge.problem import Problem

#: zero targets are floored at this share of the pairs to link (keeps IPF's support)
TARGET_FLOOR = 1e-9


def rake(prob: Problem, max_iterations: int = 200, tolerance: float = 1e-6) -> tuple[np.ndarray, dict[str, Any]]:
    """IPF of the CIA weights to the released marginals and each cell's margins. Returns the
    weights (one per triple) and the iterations run, whether the weights converged (largest
    change below ``tolerance`` times the pairs to link) and the final margin errors."""
    w = prob.cia_weights()
    total = max(prob.total, 1)
    rows, cols = prob.row_targets(), prob.col_targets()
    floor = TARGET_FLOOR * total
    targets = [np.maximum(m.target, floor) for m in prob.marginals]
    it, converged = 0, not prob.marginals
    while not converged and it < int(max_iterations):
        it += 1
        before = w.copy()
        for m, t in zip(prob.marginals, targets, strict=True):
            cur = np.bincount(m.cell, weights=w, minlength=len(t))
            w = w * np.divide(t, cur, out=np.zeros_like(t), where=cur > 0)[m.cell]
        w = w * ratio(rows, np.bincount(prob.row, weights=w, minlength=len(rows)))[prob.row]
        w = w * ratio(cols, np.bincount(prob.col, weights=w, minlength=len(cols)))[prob.col]
        converged = float(np.abs(w - before).max(initial=0.0)) < float(tolerance) * total
    info = {"iterations": it, "converged": bool(converged),
            "max_row_error": float(np.abs(np.bincount(prob.row, weights=w, minlength=len(rows)) - rows).max(initial=0.0)),
            "max_marginal_error": max((float(np.abs(np.bincount(m.cell, weights=w, minlength=len(m.target)) - m.target).max())
                                       for m in prob.marginals), default=0.0)}
    return w, info


def ratio(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """``target / current`` where ``current > 0``, else 0."""
    return np.divide(target, current, out=np.zeros_like(target, dtype=float), where=current > 0)


def transport_lp(prob: Problem) -> tuple[np.ndarray, dict[str, Any]]:
    """The soft-constrained transportation LP (module docstring). Returns the pair weight of each
    triple (fractional where the marginals overlap) and the LP's slack and status."""
    n = len(prob.cell)
    if n == 0:
        return np.zeros(0), {"slack": 0.0, "status": "empty"}
    t_idx = np.arange(n)
    caps = coo_matrix((np.ones(2 * n), (np.r_[prob.row, len(prob.row_count) + prob.col], np.r_[t_idx, t_idx])),
                      shape=(len(prob.row_count) + len(prob.col_count), n))
    blocks, rhs = [], []
    for m in prob.marginals:
        blocks.append(coo_matrix((np.ones(n), (m.cell, t_idx)), shape=(len(m.target), n)))
        rhs.append(m.target)
    k = sum(len(r) for r in rhs)
    a_ub = hstack([caps, coo_matrix((caps.shape[0], 2 * k))]).tocsr()
    b_ub = np.r_[prob.row_count, prob.col_count].astype(float)
    bounds = (0, None)
    if k == 0:  # nothing to calibrate: the most pairs
        res = linprog(-np.ones(n), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        return check(res).x[:n], {"slack": 0.0, "status": res.message}
    eye = identity(k, format="coo")
    a_eq = hstack([vstack(blocks), -eye, eye]).tocsr()
    b_eq = np.concatenate(rhs)
    c1 = np.r_[np.zeros(n), np.ones(2 * k)]
    first = check(linprog(c1, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"))
    slack = float(first.fun)
    # second: the most pairs among the solutions of (nearly) least slack
    a_ub2 = vstack([a_ub.tocoo(), coo_matrix(c1[None, :])]).tocsr()
    b_ub2 = np.r_[b_ub, slack + 1e-7 * max(1.0, slack)]
    second = linprog(-np.r_[np.ones(n), np.zeros(2 * k)], A_ub=a_ub2, b_ub=b_ub2, A_eq=a_eq, b_eq=b_eq,
                     bounds=bounds, method="highs")
    x = (second if second.status == 0 else first).x[:n]
    return np.maximum(x, 0.0), {"slack": slack, "status": str(first.message)}


def check(res: Any) -> Any:
    if res.status != 0:  # pragma: no cover - the LP is always feasible (x = 0, slack = targets) and bounded
        raise RuntimeError(f"bridge: the transportation LP failed: {res.message}")
    return res


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
    ``col_total`` (module docstring; exact wherever the row and column totals of a cell agree)."""
    n = len(w)
    fl = np.floor(np.maximum(w, 0.0) + 1e-9).astype(np.int64)
    x = fl.copy()
    over_r = np.bincount(prob.row, weights=x, minlength=len(row_total)) > row_total
    over_c = np.bincount(prob.col, weights=x, minlength=len(col_total)) > col_total
    bad = over_r[prob.row] | over_c[prob.col]
    x[bad] = 0
    rn = (row_total - np.bincount(prob.row, weights=x, minlength=len(row_total)).astype(np.int64)).tolist()
    cn = (col_total - np.bincount(prob.col, weights=x, minlength=len(col_total)).astype(np.int64)).tolist()
    rows, cols = prob.row.tolist(), prob.col.tolist()
    xs = x.tolist()
    for t in np.flatnonzero(bad)[np.argsort(-w[bad], kind="stable")].tolist():  # floors that overshoot
        k = min(int(fl[t]), rn[rows[t]], cn[cols[t]])
        if k > 0:
            xs[t] += k
            rn[rows[t]] -= k
            cn[cols[t]] -= k
    rem = w - fl
    for t in np.flatnonzero(rem > 1e-9)[np.argsort(-rem[rem > 1e-9], kind="stable")].tolist():
        r, c = rows[t], cols[t]
        if rn[r] > 0 and cn[c] > 0:
            xs[t] += 1
            rn[r] -= 1
            cn[c] -= 1
    # north-west corner on what is left, cell by cell
    rn_a, cn_a = np.asarray(rn, dtype=np.int64), np.asarray(cn, dtype=np.int64)
    need_r = np.flatnonzero(rn_a > 0)
    need_c = np.flatnonzero(cn_a > 0)
    if len(need_r) and len(need_c):
        by_cell_c: dict[int, list[int]] = {}
        for c in need_c.tolist():
            by_cell_c.setdefault(int(prob.col_cell[c]), []).append(c)
        by_cell_r: dict[int, list[int]] = {}
        for r in need_r.tolist():
            by_cell_r.setdefault(int(prob.row_cell[r]), []).append(r)
        for cell, rlist in by_cell_r.items():
            clist = by_cell_c.get(cell, [])
            i = j = 0
            while i < len(rlist) and j < len(clist):
                r, c = rlist[i], clist[j]
                k = min(rn[r], cn[c])
                xs[prob.triple_index(cell, r, c)] += k
                rn[r] -= k
                cn[c] -= k
                i += rn[r] == 0
                j += cn[c] == 0
    return np.asarray(xs, dtype=np.int64).reshape(n)

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
    maximise the number of pairs (only run when the first leaves pairs unlinked; the targets sum to
    the pairs to link, so a least-slack solution usually links them all). Solved by HiGHS's
    interior point method (:func:`scipy.optimize.linprog`, ``highs-ipm``; its dual simplex was ten
    times slower here). Its size is the number of triples plus twice the number of released
    cells: about 1.5 s for 33,000 triples and 10 s for 135,000 (20,000 and 100,000 demo persons a
    side), against 0.6 s and 1 s for IPF, so it is for small problems.

The weights of both are fractional; :mod:`synthlink.link.bridge.rounding` turns them into
integer pair counts.
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
    first = check(linprog(c1, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ipm"))
    slack = float(first.fun)
    x = first.x[:n]
    if x.sum() < prob.total - 0.5:  # second: the most pairs among the solutions of (nearly) least slack
        a_ub2 = vstack([a_ub.tocoo(), coo_matrix(c1[None, :])]).tocsr()
        b_ub2 = np.r_[b_ub, slack + 1e-7 * max(1.0, slack)]
        second = linprog(-np.r_[np.ones(n), np.zeros(2 * k)], A_ub=a_ub2, b_ub=b_ub2, A_eq=a_eq, b_eq=b_eq,
                         bounds=bounds, method="highs-ipm")
        if second.status == 0:
            x = second.x[:n]
    return np.maximum(x, 0.0), {"slack": slack, "status": str(first.message)}


def check(res: Any) -> Any:
    if res.status != 0:  # pragma: no cover - the LP is always feasible (x = 0, slack = targets) and bounded
        raise RuntimeError(f"bridge: the transportation LP failed: {res.message}")
    return res

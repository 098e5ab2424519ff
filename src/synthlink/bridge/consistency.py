"""Post-processing of a bridge release into consistent, non-negative integer count tables.

Everything here reads the noisy counts only (never the data), so it is free under differential
privacy (post-processing, Dwork & Roth 2014, Prop. 2.1). A table is an array of counts over the
full cross product of its columns' declared levels (axes in the marginal's column order).

Method (kept simple, stated in the release's ``post_processing``):

1. **One total.** Each table's noisy sum estimates the number of records; the common total ``N``
   is their inverse-variance weighted mean (a table of ``c`` cells has sum variance ``c * s2``,
   every cell having the same noise variance ``s2``, so weights ``1 / c``: the least-squares
   estimate), rounded to a non-negative integer.
2. **Consistency by iterative projection, alternated with clipping at zero.** For the total and
   for every set ``S`` of columns that two tables share, the target sub-margin over ``S`` is the
   inverse-variance weighted mean of the tables' current projections onto ``S`` (a cell of the
   projection of table ``t`` sums ``c_t / c_S`` cells, so weights ``c_S / c_t``); each table is
   moved to the target by the Euclidean projection (the difference spread evenly over the cells
   of each ``S``-cell), then negative counts are set to zero; repeated until the largest
   disagreement is below ``tol`` or ``iterations`` rounds (the idea of Hay, Rastogi, Miklau &
   Suciu, "Boosting the accuracy of differentially private histograms through consistency",
   PVLDB 2010, with alternating projections onto the non-negative orthant).
3. **Integers that keep the consistency exactly.** When every pair of overlapping tables shares
   the same columns ``S`` (or no table overlaps another: ``S`` is empty), the shared margin is
   rounded to integers summing to ``N`` (largest remainder), then each table's cells are rounded
   within each ``S``-cell to its integer count (largest remainder, proportional to the projected
   counts): every shared margin and the total agree exactly. Otherwise the integer tables nearest
   in L1 to the projected ones that satisfy every equality are found by a small integer program
   (HiGHS through :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Marginal = tuple[str, ...]


def overlaps(marginals: Sequence[Marginal]) -> list[Marginal]:
    """The distinct non-empty column sets two marginals share (columns in the first's order)."""
    out: list[Marginal] = []
    for i, a in enumerate(marginals):
        for b in marginals[i + 1:]:
            s = tuple(c for c in a if c in b)
            if s and s not in out:
                out.append(s)
    return out


def group_index(cols: Marginal, shape: tuple[int, ...], onto: Marginal) -> np.ndarray:
    """For every cell of a table (flat, C order), the flat index of its cell in the sub-margin
    over ``onto`` (all zeros when ``onto`` is empty)."""
    size = int(np.prod(shape))
    if not onto:
        return np.zeros(size, dtype=np.int64)
    idx = np.indices(shape).reshape(len(shape), -1)
    axes = [cols.index(c) for c in onto]
    return np.ravel_multi_index(tuple(idx[a] for a in axes), tuple(shape[a] for a in axes)).astype(np.int64)


def project(x: np.ndarray, cols: Marginal, onto: Marginal) -> np.ndarray:
    """The sub-margin of table ``x`` over the columns ``onto`` (flat)."""
    g = group_index(cols, x.shape, onto)
    return np.bincount(g, weights=x.ravel().astype(float), minlength=int(g.max()) + 1 if g.size else 1)


def largest_remainder(x: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers summing to ``total``, proportional to ``x`` (clipped at 0; uniform
    when ``x`` sums to 0): floors, then one more for the largest fractional parts (ties by
    position)."""
    v = np.clip(np.asarray(x, dtype=float), 0, None)
    s = v.sum()
    v = v * (total / s) if s > 0 else np.full(v.shape, total / max(v.size, 1))
    f = np.floor(v)
    r = int(round(total - f.sum()))
    if r > 0:
        order = np.argsort(-(v - f), kind="stable")
        f[order[:r]] += 1
    return f.astype(np.int64)


def common_total(noisy: Mapping[Marginal, np.ndarray]) -> int:
    """Step 1: the inverse-variance weighted mean of the tables' noisy sums, rounded, >= 0."""
    w = np.array([1.0 / t.size for t in noisy.values()])
    sums = np.array([float(t.sum()) for t in noisy.values()])
    return max(int(round(float((w * sums).sum() / w.sum()))), 0)


def _sets(marginals: Sequence[Marginal]) -> list[tuple[Marginal, list[Marginal]]]:
    """The total (empty set, every table) and each shared column set with the tables holding it."""
    return [((), list(marginals))] + [(s, [m for m in marginals if set(s) <= set(m)]) for s in overlaps(marginals)]


def project_consistent(noisy: Mapping[Marginal, np.ndarray], total: int, iterations: int = 500,
                       tol: float = 1e-6) -> dict[Marginal, np.ndarray]:
    """Step 2: non-negative float tables that agree (up to ``tol``) on the total and on every
    shared sub-margin."""
    x = {m: np.asarray(t, dtype=float).copy() for m, t in noisy.items()}
    sets = _sets(list(x))
    groups = {(m, s): group_index(m, x[m].shape, s) for s, ms in sets for m in ms}
    for _ in range(iterations):
        for s, ms in sets:
            proj = {m: np.bincount(groups[m, s], weights=x[m].ravel(), minlength=int(groups[m, s].max()) + 1) for m in ms}
            if not s:
                target = np.array([float(total)])
            else:
                w = {m: proj[m].size / x[m].size for m in ms}
                target = np.asarray(sum(w[m] * proj[m] for m in ms) / sum(w.values()), dtype=float)
            for m in ms:
                per = x[m].size / proj[m].size
                x[m] = x[m] + ((target - proj[m]) / per)[groups[m, s]].reshape(x[m].shape)
        for m in x:
            np.clip(x[m], 0, None, out=x[m])
        if _disagreement(x, sets, groups, total) < tol:
            break
    return x


def _disagreement(x: Mapping[Marginal, np.ndarray], sets: list[tuple[Marginal, list[Marginal]]],
                  groups: Mapping[tuple[Marginal, Marginal], np.ndarray], total: int) -> float:
    worst = 0.0
    for s, ms in sets:
        proj = [np.bincount(groups[m, s], weights=x[m].ravel(), minlength=int(groups[m, s].max()) + 1) for m in ms]
        ref = np.array([float(total)]) if not s else proj[0]
        worst = max([worst] + [float(np.abs(p - ref).max()) for p in proj])
    return worst


def integer_consistent(x: Mapping[Marginal, np.ndarray], total: int) -> dict[Marginal, np.ndarray]:
    """Step 3: non-negative integer tables summing to ``total`` that agree exactly on every
    shared sub-margin (largest remainder for a star of overlaps, else an integer program)."""
    ms = list(x)
    shared = overlaps(ms)
    if len(shared) > 1:
        return _milp(x, total)
    s = shared[0] if shared else ()
    holders = [m for m in ms if s and set(s) <= set(m)]
    out: dict[Marginal, np.ndarray] = {}
    if holders:
        w = {m: 1.0 / x[m].size for m in holders}  # inverse variance, c_S / c_t up to a constant
        margin = np.asarray(sum(w[m] * project(x[m], m, s) for m in holders) / sum(w.values()), dtype=float)
        margin_int = largest_remainder(margin, total)
    for m in ms:
        if m in holders:
            g = group_index(m, x[m].shape, s)
            targets = margin_int
        else:
            g = np.zeros(x[m].size, dtype=np.int64)
            targets = np.array([total])
        flat = np.zeros(x[m].size, dtype=np.int64)
        v = x[m].ravel()
        for j, n in enumerate(targets):
            cells = np.flatnonzero(g == j)
            flat[cells] = largest_remainder(v[cells], int(n))
        out[m] = flat.reshape(x[m].shape)
    return out


def _milp(x: Mapping[Marginal, np.ndarray], total: int) -> dict[Marginal, np.ndarray]:
    """Integer tables nearest in L1 to ``x`` under the total and every shared-margin equality."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix, hstack, identity, vstack

    ms = list(x)
    off = np.cumsum([0] + [x[m].size for m in ms])
    nz = int(off[-1])
    rows: list[coo_matrix] = []  # equality rows over z
    rhs: list[np.ndarray] = []
    for s, holders in _sets(ms):
        first = holders[0]
        g0 = group_index(first, x[first].shape, s)
        n_s = int(g0.max()) + 1
        if not s:  # the total of every table
            for m in holders:
                rows.append(coo_matrix((np.ones(x[m].size), (np.zeros(x[m].size), off[ms.index(m)] + np.arange(x[m].size))), shape=(1, nz)))
                rhs.append(np.array([float(total)]))
            continue
        for m in holders[1:]:
            g = group_index(m, x[m].shape, s)
            i0, i1 = off[ms.index(first)], off[ms.index(m)]
            r = np.concatenate([g0, g])
            c = np.concatenate([i0 + np.arange(g0.size), i1 + np.arange(g.size)])
            v = np.concatenate([np.ones(g0.size), -np.ones(g.size)])
            rows.append(coo_matrix((v, (r, c)), shape=(n_s, nz)))
            rhs.append(np.zeros(n_s))
    a_eq = hstack([vstack(rows), coo_matrix((sum(r.shape[0] for r in rows), nz))])
    target = np.concatenate([x[m].ravel() for m in ms])
    eye = identity(nz, format="coo")
    a_abs = vstack([hstack([eye, eye]), hstack([-eye, eye])])  # d + z >= x, d - z >= -x
    b = np.concatenate(rhs)
    cons = [LinearConstraint(a_eq.tocsr(), b, b),
            LinearConstraint(a_abs.tocsr(), np.concatenate([target, -target]), np.inf)]
    cost = np.concatenate([np.zeros(nz), np.ones(nz)])
    res = milp(cost, constraints=cons, integrality=np.concatenate([np.ones(nz), np.zeros(nz)]),
               bounds=Bounds(0, np.inf))
    if res.x is None:  # pragma: no cover - always feasible (all records in one joint cell)
        raise RuntimeError(f"bridge: the consistency integer program failed ({res.message})")
    z = np.round(res.x[:nz]).astype(np.int64)
    return {m: z[off[i]: off[i + 1]].reshape(x[m].shape) for i, m in enumerate(ms)}


def make_consistent(noisy: Mapping[Marginal, np.ndarray]) -> tuple[dict[Marginal, np.ndarray], int]:
    """Steps 1-3: consistent non-negative integer tables and their common total."""
    total = common_total(noisy)
    return integer_consistent(project_consistent(noisy, total), total), total

"""One-to-one assignment solvers shared by the linkers.

Distance problems (:func:`dense_assign`, :func:`sparse_assign`; distance and hot deck linkers)
    Minimum total distance on a :class:`~synthlink.link.gower.GowerEncoding`: dense blocks by
    :func:`scipy.optimize.linear_sum_assignment` (Kuhn-Munkres / Jonker-Volgenant) after a random
    permutation of rows and columns; large blocks by
    :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) on a candidate graph
    of the ``k`` nearest profiles in both directions plus one random permutation, in rounds (see
    :mod:`synthlink.link.distance`).

Weight problems (:func:`one_to_one_assignment`, :func:`profile_assignment`; probabilistic linker)
    Maximum total weight above a floor, per connected component of the candidate graph; with
    records in profiles, the transportation problem on profile counts (totally unimodular, so its
    basic optimum is integral), expanded to records by :func:`expand_profile_pairs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from synthlink.link.cells import sorted_unique

if TYPE_CHECKING:
    from synthlink.link.gower import GowerEncoding


# -- distance problems -----------------------------------------------------------------------------

def dense_assign(enc: GowerEncoding, li: np.ndarray, rj: np.ndarray, rng: np.random.Generator,
                  max_distance: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Optimal assignment between left rows ``li`` and right rows ``rj``.
    Returns (left, right, distance, tied) for the kept pairs."""
    li = rng.permutation(li)
    rj = rng.permutation(rj)
    C = enc.matrix(li, rj)
    if max_distance is not None:
        big = float(min(len(li), len(rj)) + 2)
        cost = np.where(C > max_distance, big + C, C)
    else:
        cost = C
    r, c = linear_sum_assignment(cost)
    d = C[r, c]
    tied = (C[r] == d[:, None]).sum(axis=1) > 1
    keep = d <= max_distance if max_distance is not None else np.ones(len(d), bool)
    return li[r][keep], rj[c][keep], d[keep], tied[keep]


def knn(train: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(train))
    nn = NearestNeighbors(n_neighbors=k, metric="manhattan").fit(train)
    return nn.kneighbors(query, return_distance=False)



def profile_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For local positions 0..n-1 with profile ``codes``: (profile index per position, positions
    ordered by profile, start offset and size of each profile's run in that order)."""
    inv = pd.factorize(codes, sort=True)[0]
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return inv, order, starts, counts


def sample_members(nbr_profiles: np.ndarray, order: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                    s: int, rng: np.random.Generator) -> np.ndarray:
    """For each entry of ``nbr_profiles`` (shape (m, k)), ``s`` random members of that profile:
    an (m, k * s) array of local positions (repeats possible when a profile is small)."""
    prof = np.repeat(nbr_profiles, s, axis=1)
    draw = (rng.random(prof.shape) * counts[prof]).astype(np.int64)
    return order[starts[prof] + draw]


def sparse_assign(enc: GowerEncoding, emb_l: np.ndarray, emb_r: np.ndarray, li: np.ndarray, rj: np.ndarray,
                   lcode: np.ndarray, rcode: np.ndarray, rng: np.random.Generator, max_distance: float | None,
                   k: int, max_dense: int, max_rounds: int, per_profile: int = 3,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Near-optimal assignment on a nearest-neighbour candidate graph (see module docstring).

    Records with identical values are interchangeable, so neighbours are searched between distinct
    profiles (``lcode``/``rcode``); each record is then joined to ``per_profile`` random members
    of each of its profile's ``k`` nearest profiles on the other side, in both directions."""
    out_l, out_r, out_d, out_t = [], [], [], []
    free_l = rng.permutation(li)
    free_r = rng.permutation(rj)
    info: dict[str, Any] = {"rounds": 0, "dense_finish": False}
    for rnd in range(max_rounds):
        if len(free_l) == 0 or len(free_r) == 0:
            break
        if len(free_l) * len(free_r) <= max_dense ** 2:
            a, b, d, t = dense_assign(enc, free_l, free_r, rng, max_distance)
            out_l.append(a)
            out_r.append(b)
            out_d.append(d)
            out_t.append(t)
            info["dense_finish"] = True
            free_l = free_r = np.array([], dtype=np.int64)
            break
        info["rounds"] = rnd + 1
        nl, nr = len(free_l), len(free_r)
        inv_l, ord_l, st_l, cn_l = profile_groups(lcode[free_l])
        inv_r, ord_r, st_r, cn_r = profile_groups(rcode[free_r])
        rep_l = ord_l[st_l]  # one representative position per profile
        rep_r = ord_r[st_r]
        jit = 1e-7  # far below any real distance step; makes equidistant profiles random
        pe_l = emb_l[free_l[rep_l]] + rng.random((len(rep_l), emb_l.shape[1])) * jit
        pe_r = emb_r[free_r[rep_r]] + rng.random((len(rep_r), emb_r.shape[1])) * jit
        fwd = knn(pe_r, pe_l, k)  # left profile -> nearest right profiles
        bwd = knn(pe_l, pe_r, k)  # right profile -> nearest left profiles
        f_cols = sample_members(fwd[inv_l], ord_r, st_r, cn_r, per_profile, rng)  # (nl, k*s)
        b_rows = sample_members(bwd[inv_r], ord_l, st_l, cn_l, per_profile, rng)  # (nr, k*s)
        rows = np.concatenate([np.repeat(np.arange(nl), f_cols.shape[1]), b_rows.ravel()])
        cols = np.concatenate([f_cols.ravel(), np.repeat(np.arange(nr), b_rows.shape[1])])
        knn_key = sorted_unique(rows.astype(np.int64) * nr + cols)
        # one random permutation guarantees that a full matching exists
        m = min(nl, nr)
        if nl <= nr:
            pr, pc = np.arange(m), rng.permutation(nr)[:m]
        else:
            pr, pc = rng.permutation(nl)[:m], np.arange(m)
        all_key = sorted_unique(np.concatenate([knn_key, pr.astype(np.int64) * nr + pc]))
        er_, ec_ = all_key // nr, all_key % nr
        d = enc.pair_distance(free_l[er_], free_r[ec_])
        if max_distance is not None:
            w = np.where(d > max_distance, float(m + 2) + d, d) + 1.0
        else:
            w = d + 1.0  # LAPJVsp needs non-zero weights; a constant shift keeps the optimum
        g = csr_matrix((w, (er_, ec_)), shape=(nl, nr))
        r, c = min_weight_full_bipartite_matching(g)
        key = r.astype(np.int64) * nr + c
        dist = enc.pair_distance(free_l[r], free_r[c])
        pos = np.minimum(np.searchsorted(knn_key, key), len(knn_key) - 1)
        accept = (knn_key[pos] == key) | (rnd == max_rounds - 1)
        if not accept.any():  # no progress: keep everything rather than loop
            accept[:] = True
        ok = accept & (dist <= max_distance) if max_distance is not None else accept
        # tie: another candidate of the same left record lies at the same distance
        assigned = np.full(nl, np.nan)
        assigned[r] = dist
        same = np.bincount(er_[d == assigned[er_]], minlength=nl)
        out_l.append(free_l[r[ok]])
        out_r.append(free_r[c[ok]])
        out_d.append(dist[ok])
        out_t.append(same[r[ok]] > 1)
        drop_l = np.zeros(nl, bool)
        drop_r = np.zeros(nr, bool)
        drop_l[r[accept]] = True
        drop_r[c[accept]] = True
        free_l, free_r = free_l[~drop_l], free_r[~drop_r]
        if max_distance is not None and not ok.any():
            break
    info["left_unassigned"] = int(len(free_l)) if len(free_r) else 0
    L = np.concatenate(out_l) if out_l else np.array([], dtype=np.int64)
    R = np.concatenate(out_r) if out_r else np.array([], dtype=np.int64)
    D = np.concatenate(out_d) if out_d else np.array([], dtype=np.float64)
    T = np.concatenate(out_t) if out_t else np.array([], dtype=bool)
    return L, R, D, T, info


# -- weight problems -------------------------------------------------------------------------------

def connected_components_of(lft: np.ndarray, rgt: np.ndarray, n_left: int, n_right: int) -> np.ndarray:
    """Connected component of each candidate pair ``(lft, rgt)`` in the bipartite candidate graph."""
    n = n_left + n_right
    g = coo_matrix((np.ones(len(lft), dtype=np.int8), (lft, rgt + n_left)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=False)
    return labels[lft]


def one_to_one_assignment(lft: np.ndarray, rgt: np.ndarray, w: np.ndarray, n_left: int, n_right: int,
                          floor: float, dense_limit: int = 4_000_000) -> tuple[np.ndarray, dict[str, int]]:
    """Maximum-weight one-to-one assignment on candidate pairs (unique ``(lft, rgt)``) with ``w > floor``;
    the objective is the sum of ``w - floor`` over the chosen pairs.

    Solved per connected component of the candidate graph: stars (one record on a side) take their
    best pair; components with at most ``dense_limit`` cells use ``linear_sum_assignment``; larger ones
    the sparse ``min_weight_full_bipartite_matching`` with one "stay unlinked" dummy per record.
    Returns the indices of the chosen pairs (into ``lft``) and counts of the component kinds.
    """
    eidx = np.flatnonzero(w > floor)
    stats = {"components": 0, "stars": 0, "dense": 0, "sparse": 0, "largest_component_pairs": 0}
    if len(eidx) == 0:
        return np.empty(0, np.int64), stats
    L, R, V = lft[eidx], rgt[eidx], (w[eidx] - floor).astype("float64")
    comp = connected_components_of(L, R, n_left, n_right)
    order = np.argsort(comp, kind="stable")
    L, R, V, comp, eidx = L[order], R[order], V[order], comp[order], eidx[order]
    bounds = np.flatnonzero(np.diff(comp)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, len(comp)]
    # distinct records per side and component (a component's edges are contiguous)
    n_edges = ends - starts
    stats["components"] = int(len(starts))
    stats["largest_component_pairs"] = int(n_edges.max())
    # records of a component: count distinct left/right ids via sorting by (comp, id)
    def distinct_per_comp(ids: np.ndarray) -> np.ndarray:
        o = np.lexsort((ids, comp))
        c2, i2 = comp[o], ids[o]
        new = np.r_[True, (np.diff(c2) != 0) | (np.diff(i2) != 0)]
        return np.add.reduceat(new.astype(np.int64), starts)

    nl = distinct_per_comp(L)
    nr = distinct_per_comp(R)
    star = (nl == 1) | (nr == 1)
    stats["stars"] = int(star.sum())
    chosen = []
    if star.any():
        # best edge of each star component (ties: first in candidate order)
        is_star_edge = np.repeat(star, n_edges)
        se = np.flatnonzero(is_star_edge)
        o = np.lexsort((-V[se], comp[se]))
        se = se[o]
        first = np.r_[True, np.diff(comp[se]) != 0]
        chosen.append(eidx[se[first]])
    for k in np.flatnonzero(~star):
        a, b = starts[k], ends[k]
        cl, li = np.unique(L[a:b], return_inverse=True)
        cr, ri = np.unique(R[a:b], return_inverse=True)
        v = V[a:b]
        if len(cl) * len(cr) <= dense_limit:
            stats["dense"] += 1
            m = np.zeros((len(cl), len(cr)))
            ix = np.full((len(cl), len(cr)), -1, dtype=np.int64)
            m[li, ri] = v
            ix[li, ri] = eidx[a:b]
            i, j = linear_sum_assignment(m, maximize=True)
            ok = m[i, j] > 0
            chosen.append(ix[i[ok], j[ok]])
        else:
            stats["sparse"] += 1
            p, q = len(cl), len(cr)
            eps = 1e-9
            # rows: p real left + q dummies of the right records; columns: q real right + p dummies
            rows = np.r_[li, np.arange(p), p + np.arange(q), p + ri]
            cols = np.r_[ri, q + np.arange(p), np.arange(q), q + li]
            vals = np.r_[v + eps, np.full(p, eps), np.full(q, eps), np.full(len(v), eps)]
            g = coo_matrix((vals, (rows, cols)), shape=(p + q, p + q)).tocsr()
            i, j = min_weight_full_bipartite_matching(g, maximize=True)
            real = (i < p) & (j < q)
            lookup = pd.Series(eidx[a:b], index=pd.MultiIndex.from_arrays([li, ri]))
            chosen.append(lookup.loc[list(zip(i[real], j[real], strict=True))].to_numpy())
    out = np.concatenate(chosen).astype(np.int64) if chosen else np.empty(0, np.int64)
    return np.sort(out), stats


def profile_assignment(pl: np.ndarray, pr: np.ndarray, w: np.ndarray, count_l: np.ndarray, count_r: np.ndarray,
                       floor: float, dense_limit: int = 1_000_000) -> tuple[np.ndarray, dict[str, int]]:
    """Maximum-weight one-to-one assignment of RECORDS when records come in profiles (records with the
    same values of the linking columns, hence the same weights): candidate profile pairs
    ``(pl, pr)`` (unique) with weight ``w``; ``count_l[pl]`` / ``count_r[pr]`` records per profile.

    Records of one profile are interchangeable, so the record problem is the transportation problem
    ``max sum (w - floor) x`` over pairs with ``w > floor``, ``sum_r x <= count_l``, ``sum_l x <= count_r``,
    ``x >= 0``: its constraint matrix is totally unimodular (bipartite incidence), so a basic optimal
    solution (HiGHS dual simplex) is integral and is an optimal record assignment. Solved per connected
    component: an isolated profile pair takes ``min(count_l, count_r)``; a component of at most
    ``dense_limit`` record cells by ``linear_sum_assignment`` on its records (rows repeated per
    profile); a larger one by that LP (HiGHS dual simplex). Returns the number
    of record pairs ``x`` per profile pair (int64, same order as ``pl``).
    """
    x = np.zeros(len(pl), dtype=np.int64)
    stats = {"profile_pairs": int(len(pl)), "isolated_pairs": 0, "components": 0, "dense": 0, "lp": 0}
    eidx = np.flatnonzero(w > floor)
    if len(eidx) == 0:
        return x, stats
    L, R, V = pl[eidx], pr[eidx], (w[eidx] - floor).astype("float64")
    cl = np.asarray(count_l, dtype=np.int64)
    cr = np.asarray(count_r, dtype=np.int64)
    # a profile pair whose two profiles have no other candidate takes min(count_l, count_r) directly
    deg_l = np.bincount(L, minlength=len(cl))
    deg_r = np.bincount(R, minlength=len(cr))
    alone = (deg_l[L] == 1) & (deg_r[R] == 1)
    x[eidx[alone]] = np.minimum(cl[L[alone]], cr[R[alone]])
    stats["isolated_pairs"] = int(alone.sum())
    rest = np.flatnonzero(~alone)
    if len(rest):
        L, R, V, e = L[rest], R[rest], V[rest], eidx[rest]
        comp = connected_components_of(L, R, len(cl), len(cr))
        order = np.argsort(comp, kind="stable")
        L, R, V, comp, e = L[order], R[order], V[order], comp[order], e[order]
        bounds = np.flatnonzero(np.diff(comp)) + 1
        stats["components"] = int(len(bounds) + 1)
        for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(comp)], strict=True):
            ul, li = np.unique(L[a:b], return_inverse=True)
            ur, ri = np.unique(R[a:b], return_inverse=True)
            nl_rec, nr_rec = int(cl[ul].sum()), int(cr[ur].sum())
            if nl_rec * nr_rec <= dense_limit:
                # records of a profile as identical rows/columns: linear_sum_assignment on the expansion
                wp = np.zeros((len(ul), len(ur)))
                wp[li, ri] = V[a:b]
                rows = np.repeat(np.arange(len(ul)), cl[ul])
                cols = np.repeat(np.arange(len(ur)), cr[ur])
                m = wp[rows][:, cols]
                i, j = linear_sum_assignment(m, maximize=True)
                ok = m[i, j] > 0
                flow = np.zeros((len(ul), len(ur)), dtype=np.int64)
                np.add.at(flow, (rows[i[ok]], cols[j[ok]]), 1)
                x[e[a:b]] = flow[li, ri]
                stats["dense"] += 1
            else:
                n = b - a
                a_ub = coo_matrix((np.ones(2 * n), (np.r_[li, len(ul) + ri], np.r_[np.arange(n), np.arange(n)])),
                                  shape=(len(ul) + len(ur), n)).tocsr()
                res = linprog(-V[a:b], A_ub=a_ub, b_ub=np.r_[cl[ul], cr[ur]].astype("float64"), bounds=(0, None),
                              method="highs-ds")
                if res.status != 0:  # pragma: no cover - the problem is always feasible and bounded
                    raise RuntimeError(f"probabilistic: profile assignment failed: {res.message}")
                sol = np.rint(res.x).astype(np.int64)
                if np.abs(res.x - sol).max(initial=0.0) > 1e-6:  # pragma: no cover - total unimodularity
                    raise RuntimeError("probabilistic: profile assignment gave a fractional solution")
                x[e[a:b]] = sol
                stats["lp"] += 1
    return x, stats


def expand_profile_pairs(pl: np.ndarray, pr: np.ndarray, x: np.ndarray, prof_l: np.ndarray, prof_r: np.ndarray,
                         seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record pairs from ``x`` record pairs per profile pair: within a profile, records are taken in a
    seeded random order, each at most once. ``prof_l`` / ``prof_r``: profile of each record.
    Returns left rows, right rows, and the index of the profile pair of each record pair."""
    rng = np.random.default_rng(seed)
    k = np.flatnonzero(x > 0)
    pl, pr, x = pl[k], pr[k], x[k]

    def side(p: np.ndarray, prof: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # records grouped by profile, in random order within the profile
        recs = np.lexsort((rng.random(len(prof)), prof))
        start = np.r_[0, np.cumsum(np.bincount(prof, minlength=int(prof.max()) + 1 if len(prof) else 0))]
        o = np.lexsort((other, p))  # flows of one profile in a fixed order
        units = np.repeat(o, x[o])  # one entry per record pair, grouped by profile
        up = p[units]
        first = np.r_[True, up[1:] != up[:-1]]
        pos = np.arange(len(units)) - np.maximum.accumulate(np.where(first, np.arange(len(units)), 0))
        rec = recs[start[up] + pos]
        # order by (flow, rank within flow) so that both sides line up
        flow_start = np.r_[True, units[1:] != units[:-1]]
        rank = np.arange(len(units)) - np.maximum.accumulate(np.where(flow_start, np.arange(len(units)), 0))
        o2 = np.lexsort((rank, units))
        return rec[o2], units[o2]

    lrec, lflow = side(pl, prof_l, pr)
    rrec, _ = side(pr, prof_r, pl)
    return lrec, rrec, k[lflow]

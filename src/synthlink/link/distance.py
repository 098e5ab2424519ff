"""Distance linkage with an optimal one-to-one assignment.

Distance
    A mixed (Gower-type) distance on the linking variables, averaged over variables (optionally
    weighted), always within [0, 1]:

    * numeric and date: ``|x - y| / range`` (range of the two parts pooled);
    * ordinal (ordered categorical): ``|rank(x) - rank(y)| / (levels - 1)``;
    * categorical: 0 when equal, 1 otherwise.

    A missing value equals a missing value (0) and differs from any value (1). With these rules
    the distance is a metric (weighted L1), which the exact phase below relies on.

Algorithm
    1. *Exact blocking* on ``block_on`` (default: the categorical linking variables with at most
       ``max_block_levels`` distinct values, e.g. sex). Missing is a block value of its own.
    2. *Exact phase*: records with identical values on every linking variable are at distance 0.
       Within each cell of identical values holding ``a`` left and ``b`` right records,
       ``min(a, b)`` pairs are drawn at random (seeded). For a metric distance some optimal
       assignment contains all these pairs (swapping a crossed pair never raises the total, by the
       triangle inequality), so this step is exact and it is what breaks exact ties at random
       rather than by row order.
    3. *Residual phase*, per block, on the records still free: if ``n_left * n_right <=
       max_dense**2`` a dense cost matrix is solved exactly with
       :func:`scipy.optimize.linear_sum_assignment` (rows and columns randomly permuted first).
       Larger blocks use a sparse candidate graph: the ``k`` nearest neighbours in both
       directions (:class:`sklearn.neighbors.NearestNeighbors`, Manhattan metric on an encoding
       whose L1 distance equals the Gower distance for non-missing values; a tiny seeded jitter
       makes equidistant candidates random), plus one random permutation so that a full matching
       always exists, solved with :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`
       on the exact distances. Pairs joined by a nearest-neighbour edge are kept; rows that needed
       a random edge go to another round among the rows still free, until the rest fits the dense
       solver or ``max_rounds`` is reached (then all pairs of the last round are kept).
    4. ``max_distance``: pairs farther apart are left unlinked. In the dense solver such pairs
       cost more than any feasible set of close pairs, so the number of pairs within the limit
       is maximised first and their total distance minimised second.

Limits
    * Optimal for the whole problem when every residual block fits the dense solver; the sparse
      path is a near-optimal heuristic (an edge beyond the ``k`` neighbours of both ends is only
      used as a fallback).
    * No link across blocks: a record whose block value was recorded differently in the other part
      can only link to a wrong person (or stay unlinked with ``max_distance``).
    * A left record is never linked to more than one right record; with unequal part sizes
      ``|n_left - n_right|`` records stay unlinked at least.
    * Memory of the dense path is ``8 * n_left * n_right`` bytes per block (72 MB at 3000 x 3000).
    * Categorical variables with many levels widen the nearest-neighbour encoding (one column per
      level); the sparse path slows down with very wide encodings.
    * Missing numeric values are approximated in the nearest-neighbour encoding (mean plus an
      indicator); candidate costs are always the exact distances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from synthlink.errors import ConfigError, InputError
from synthlink.link.base import Linker, Links, common_columns
from synthlink.link.exact import random_pairs_within_cells
from synthlink.schema import Kind, infer_kind, joint_codes

_NUMERIC = "numeric"
_ORDINAL = "ordinal"
_CATEGORICAL = "categorical"


# -- encoding ------------------------------------------------------------------------------------

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
        return self._dist(self.left[li], self.right[rj])

    def matrix(self, li: np.ndarray, rj: np.ndarray) -> np.ndarray:
        """Dense distance matrix between left rows ``li`` and right rows ``rj``."""
        return self._dist(self.left[li][:, None, :], self.right[rj][None, :, :])

    def _dist(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(a.shape, b.shape)[:-1]
        out = np.zeros(shape, dtype=np.float64)
        for j, kind in enumerate(self.kinds):
            x, y = a[..., j], b[..., j]
            if kind == _CATEGORICAL:
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
            if kind == _CATEGORICAL:
                codes = _sorted_unique(np.concatenate([x, y]))
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


def _kind_of(s: pd.Series, declared: str | None) -> str:
    if declared is not None:
        try:
            k = Kind(declared)
        except ValueError:
            raise ConfigError(f"column '{s.name}': unknown kind '{declared}'") from None
    else:
        k = infer_kind(s)
    if k in (Kind.NUMERIC, Kind.DATE):
        return _NUMERIC
    if k is Kind.ORDINAL:
        return _ORDINAL
    return _CATEGORICAL


def encode_gower(
    left: pd.DataFrame,
    right: pd.DataFrame,
    columns: Sequence[str],
    kinds: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
) -> GowerEncoding:
    """Encode the linking ``columns`` of both parts (pooled ranges, levels and codes)."""
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
        both = pd.concat([left[c], right[c]], ignore_index=True)
        kind = _kind_of(both, kinds.get(c))
        if kind == _NUMERIC:
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
        elif kind == _ORDINAL:
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
        both = pd.concat([left[c], right[c]], ignore_index=True)
        if _kind_of(both, kinds.get(c)) == _CATEGORICAL and both.nunique(dropna=False) <= max_levels:
            out.append(c)
    return out


# -- assignment ----------------------------------------------------------------------------------

def _dense_assign(enc: GowerEncoding, li: np.ndarray, rj: np.ndarray, rng: np.random.Generator,
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


def _knn(train: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(train))
    nn = NearestNeighbors(n_neighbors=k, metric="manhattan").fit(train)
    return nn.kneighbors(query, return_distance=False)


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort based; much faster than hashing for large int arrays)."""
    y = np.sort(x)
    return y[np.concatenate([[True], y[1:] != y[:-1]])] if len(y) else y


def _profile_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For local positions 0..n-1 with profile ``codes``: (profile index per position, positions
    ordered by profile, start offset and size of each profile's run in that order)."""
    inv = pd.factorize(codes, sort=True)[0]
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return inv, order, starts, counts


def _sample_members(nbr_profiles: np.ndarray, order: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                    s: int, rng: np.random.Generator) -> np.ndarray:
    """For each entry of ``nbr_profiles`` (shape (m, k)), ``s`` random members of that profile:
    an (m, k * s) array of local positions (repeats possible when a profile is small)."""
    prof = np.repeat(nbr_profiles, s, axis=1)
    draw = (rng.random(prof.shape) * counts[prof]).astype(np.int64)
    return order[starts[prof] + draw]


def _sparse_assign(enc: GowerEncoding, emb_l: np.ndarray, emb_r: np.ndarray, li: np.ndarray, rj: np.ndarray,
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
            a, b, d, t = _dense_assign(enc, free_l, free_r, rng, max_distance)
            out_l.append(a)
            out_r.append(b)
            out_d.append(d)
            out_t.append(t)
            info["dense_finish"] = True
            free_l = free_r = np.array([], dtype=np.int64)
            break
        info["rounds"] = rnd + 1
        nl, nr = len(free_l), len(free_r)
        inv_l, ord_l, st_l, cn_l = _profile_groups(lcode[free_l])
        inv_r, ord_r, st_r, cn_r = _profile_groups(rcode[free_r])
        rep_l = ord_l[st_l]  # one representative position per profile
        rep_r = ord_r[st_r]
        jit = 1e-7  # far below any real distance step; makes equidistant profiles random
        pe_l = emb_l[free_l[rep_l]] + rng.random((len(rep_l), emb_l.shape[1])) * jit
        pe_r = emb_r[free_r[rep_r]] + rng.random((len(rep_r), emb_r.shape[1])) * jit
        fwd = _knn(pe_r, pe_l, k)  # left profile -> nearest right profiles
        bwd = _knn(pe_l, pe_r, k)  # right profile -> nearest left profiles
        f_cols = _sample_members(fwd[inv_l], ord_r, st_r, cn_r, per_profile, rng)  # (nl, k*s)
        b_rows = _sample_members(bwd[inv_r], ord_l, st_l, cn_l, per_profile, rng)  # (nr, k*s)
        rows = np.concatenate([np.repeat(np.arange(nl), f_cols.shape[1]), b_rows.ravel()])
        cols = np.concatenate([f_cols.ravel(), np.repeat(np.arange(nr), b_rows.shape[1])])
        knn_key = _sorted_unique(rows.astype(np.int64) * nr + cols)
        # one random permutation guarantees that a full matching exists
        m = min(nl, nr)
        if nl <= nr:
            pr, pc = np.arange(m), rng.permutation(nr)[:m]
        else:
            pr, pc = rng.permutation(nl)[:m], np.arange(m)
        all_key = _sorted_unique(np.concatenate([knn_key, pr.astype(np.int64) * nr + pc]))
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


def _group_positions(codes: np.ndarray, idx: np.ndarray) -> dict[int, np.ndarray]:
    """Positions ``idx`` grouped by ``codes[idx]`` (vectorised, one split)."""
    if len(idx) == 0:
        return {}
    c = codes[idx]
    order = np.argsort(c, kind="stable")
    sc = c[order]
    cuts = np.flatnonzero(np.diff(sc)) + 1
    groups = np.split(idx[order], cuts)
    keys = sc[np.concatenate([[0], cuts])]
    return {int(k): g for k, g in zip(keys, groups, strict=True)}


class DistanceLinker(Linker):
    """Gower-type distance, exact blocking, optimal one-to-one assignment per block.

    Parameters
    ----------
    on: linking variables (default: every column both parts share).
    block_on: variables to block on exactly; ``None`` = the categorical linking variables with at
        most ``max_block_levels`` distinct values; ``[]`` = no blocking.
    kinds: override inferred kinds (``numeric``/``date``/``ordinal``/``categorical``) by column.
    weights: relative weight per variable (default 1 each).
    max_distance: leave pairs farther apart than this unlinked (distance is within [0, 1]).
    max_dense: blocks with ``n_left * n_right <= max_dense**2`` use the dense exact solver.
    k: neighbours per record (each direction) in the sparse candidate graph.
    max_rounds: rounds of the sparse solver before the last round's pairs are all kept.
    """

    name = "distance"
    summary = "Gower distance, exact blocking, optimal 1:1 assignment per block"

    def __init__(
        self,
        on: Sequence[str] | None = None,
        block_on: Sequence[str] | None = None,
        kinds: Mapping[str, str] | None = None,
        weights: Mapping[str, float] | None = None,
        max_distance: float | None = None,
        max_dense: int = 3000,
        k: int = 10,
        max_rounds: int = 8,
        max_block_levels: int = 3,
    ) -> None:
        self.on = on
        self.block_on = block_on
        self.kinds = kinds
        self.weights = weights
        self.max_distance = max_distance
        self.max_dense = max_dense
        self.k = k
        self.max_rounds = max_rounds
        self.max_block_levels = max_block_levels

    def _fit(self, left: pd.DataFrame, right: pd.DataFrame) -> None:
        cols = common_columns(left, right, list(self.on) if self.on is not None else None)
        if self.block_on is None:
            block = default_block_on(left, right, cols, self.max_block_levels, self.kinds)
        else:
            block = common_columns(left, right, list(self.block_on)) if len(self.block_on) else []
        if self.max_distance is not None and not 0 <= float(self.max_distance):
            raise ConfigError(f"distance: max_distance must be >= 0, got {self.max_distance}")
        if int(self.max_dense) < 1 or int(self.k) < 1 or int(self.max_rounds) < 1:
            raise ConfigError("distance: max_dense, k and max_rounds must be positive integers")
        self.columns_ = cols
        self.block_columns_ = block
        self.encoding_ = encode_gower(left, right, cols, self.kinds, self.weights)

    def link(self, seed: int = 0) -> Links:
        rng = np.random.default_rng(seed)
        left, right, enc = self.left_, self.right_, self.encoding_
        n_l, n_r = len(left), len(right)
        stacked = np.vstack([enc.left, enc.right])
        block_frames: list[Any] = [pd.concat([left[self.block_columns_], right[self.block_columns_]], ignore_index=True)] if self.block_columns_ else []
        lb, rb = joint_codes(block_frames, n_l) if block_frames else (np.zeros(n_l, np.int64), np.zeros(n_r, np.int64))
        lc, rc = joint_codes([*block_frames, stacked], n_l)

        # exact phase: identical profiles, random 1:1 within cells
        ex = random_pairs_within_cells(lc, rc, rng)
        el, er = ex["left"].to_numpy(), ex["right"].to_numpy()
        res_l, res_r, res_d, res_t = [el], [er], [np.zeros(len(el))], [ex["cell_size"].to_numpy() > 1]
        free_l = np.ones(n_l, bool)
        free_r = np.ones(n_r, bool)
        free_l[el] = False
        free_r[er] = False

        # residual phase per block
        gl = _group_positions(lb, np.flatnonzero(free_l))
        gr = _group_positions(rb, np.flatnonzero(free_r))
        emb: tuple[np.ndarray, np.ndarray] | None = None
        n_dense = n_sparse = 0
        largest = (0, 0)
        sparse_info = []
        for b in sorted(set(gl) & set(gr)):
            li, rj = gl[b], gr[b]
            if len(li) * len(rj) > largest[0] * largest[1]:
                largest = (len(li), len(rj))
            if len(li) * len(rj) <= int(self.max_dense) ** 2:
                a, c, d, t = _dense_assign(enc, li, rj, rng, self.max_distance)
                n_dense += 1
            else:
                if emb is None:
                    emb = enc.embedding()
                a, c, d, t, info = _sparse_assign(enc, emb[0], emb[1], li, rj, lc, rc, rng, self.max_distance,
                                                  int(self.k), int(self.max_dense), int(self.max_rounds))
                n_sparse += 1
                sparse_info.append({"block_rows": [len(li), len(rj)], **info})
            res_l.append(a)
            res_r.append(c)
            res_d.append(d)
            res_t.append(t)

        L = np.concatenate(res_l)
        R = np.concatenate(res_r)
        D = np.concatenate(res_d)
        T = np.concatenate(res_t)
        pairs = pd.DataFrame({"left": L, "right": R, "score": 1.0 - D})
        n_exact = len(el)
        diag: dict[str, Any] = {
            "columns": list(self.columns_),
            "kinds": dict(zip(enc.columns, enc.kinds, strict=True)),
            "block_on": list(self.block_columns_),
            "n_blocks": int(len(_sorted_unique(np.concatenate([lb, rb])))),
            "exact_pairs": int(n_exact),
            "assigned_pairs": int(len(L) - n_exact),
            "dense_blocks": n_dense,
            "sparse_blocks": n_sparse,
            "largest_residual_block": list(largest),
            "sparse": sparse_info,
            "mean_distance": float(D.mean()) if len(D) else None,
            "share_ties": float(T.mean()) if len(T) else 0.0,
            "share_unlinked_left": 1 - len(L) / n_l if n_l else 0.0,
            "one_to_one": True,
        }
        warnings = []
        if n_sparse and any(s.get("left_unassigned") for s in sparse_info) and self.max_distance is None:
            warnings.append("distance: some large blocks could not be fully assigned within max_rounds; "
                            "those records stay unlinked")
        return Links(pairs, n_l, n_r, self.name, one_to_one=True, diagnostics=diag, warnings=warnings)

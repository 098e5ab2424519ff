"""Distance linkage with an optimal one-to-one assignment.

Distance
    A mixed (Gower-type) distance on the linking variables, averaged over variables (optionally
    weighted), always within [0, 1]:

    * numeric and date: ``|x - y| / range`` (range of the two parts pooled);
    * ordinal (ordered categorical): ``|rank(x) - rank(y)| / (levels - 1)``;
    * categorical: 0 when equal, 1 otherwise.

    A missing value equals a missing value (0) and differs from any value (1). With these rules
    the distance is a metric (weighted L1), which the exact phase below relies on. The encoding
    is :mod:`synthlink.link.gower`; kinds are declared (``kinds=``) over inferred
    (:mod:`synthlink.schema`); the solvers are :mod:`synthlink.link.assignment`.

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
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError
from synthlink.link.assignment import dense_assign, sparse_assign
from synthlink.link.base import Linker, Links, common_columns
from synthlink.link.cells import group_positions, random_pairs_within_cells, sorted_unique
from synthlink.link.gower import GowerEncoding, default_block_on, encode_gower, gower_matrix
from synthlink.schema import joint_codes

__all__ = ["DistanceLinker", "GowerEncoding", "default_block_on", "encode_gower", "gower_matrix"]


class DistanceLinker(Linker):
    """Gower-type distance, exact blocking, optimal one-to-one assignment per block.

    Parameters
    ----------
    on: linking variables (default: every column both parts share).
    block_on: variables to block on exactly; ``None`` = the categorical linking variables with at
        most ``max_block_levels`` distinct values; ``[]`` = no blocking.
    kinds: declared kinds (``numeric``/``date``/``ordinal``/``categorical``) by column, over the
        inferred ones (:func:`synthlink.schema.resolve_kind`).
    weights: relative weight per variable (default 1 each).
    max_distance: leave pairs farther apart than this unlinked (distance is within [0, 1]).
    max_dense: blocks with ``n_left * n_right <= max_dense**2`` use the dense exact solver.
    k: neighbours per record (each direction) in the sparse candidate graph.
    max_rounds: rounds of the sparse solver before the last round's pairs are all kept.
    """

    name = "distance"
    summary = "Gower distance, exact blocking, optimal 1:1 assignment per block"
    accepts_kinds = True

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
        gl = group_positions(lb, np.flatnonzero(free_l))
        gr = group_positions(rb, np.flatnonzero(free_r))
        emb: tuple[np.ndarray, np.ndarray] | None = None
        n_dense = n_sparse = 0
        largest = (0, 0)
        sparse_info = []
        for b in sorted(set(gl) & set(gr)):
            li, rj = gl[b], gr[b]
            if len(li) * len(rj) > largest[0] * largest[1]:
                largest = (len(li), len(rj))
            if len(li) * len(rj) <= int(self.max_dense) ** 2:
                a, c, d, t = dense_assign(enc, li, rj, rng, self.max_distance)
                n_dense += 1
            else:
                if emb is None:
                    emb = enc.embedding()
                a, c, d, t, info = sparse_assign(enc, emb[0], emb[1], li, rj, lc, rc, rng, self.max_distance,
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
            "n_blocks": int(len(sorted_unique(np.concatenate([lb, rb])))),
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

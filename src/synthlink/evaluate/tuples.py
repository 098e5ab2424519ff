"""Linkage quality of K parts against the truth (known on the original split): tuple accuracy and
its expected bound.

A person of J* is a tuple of at most one record per part. A *true tuple* is a training person
held by every part of the plan; it is *recovered* when J* has a complete tuple made of exactly
that person's K records (every link of the person right).

The bound. Link each edge ``e`` of a tree of parts by random one-to-one matching within the cells
of equal values of the linking variables (the best use of exact agreement, as
:func:`synthlink.evaluate.linkage.expected_bound_and_sd` for two parts). A true tuple whose values
agree on every edge, in cells holding ``a_e`` left and ``b_e`` right records, has each edge's
link right with probability ``1 / max(a_e, b_e)``; the edges' matchings are drawn independently,
so the tuple is recovered with probability ``prod_e 1 / max(a_e, b_e)`` (0 where an edge's values
disagree). The expected tuple accuracy is the mean of that over true tuples. With the same people
in every part and no noise, a cell of ``m`` people recovers ``m * m**-(K-1) = m**(2-K)`` tuples
in expectation: the uniqueness bound for K = 2, and ``sum over cells of 1 / m`` for three
parts. No method that sees only these variables can expect more: within a cell the records of
each part are exchangeable, so any tuple it forms is right with probability
``prod_e 1 / max(a_e, b_e)``. ``tests/validation/test_tuple_bound.py`` checks it by simulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def true_tuples(truth: pd.DataFrame, parts: Sequence[str]) -> np.ndarray:
    """The record positions (one column per part, in ``parts`` order) of every training person
    that all ``parts`` hold: the split's truth table restricted to its complete rows."""
    t = truth[list(parts)]
    t = t[t.notna().all(axis=1)]
    return t.to_numpy(dtype=np.int64).reshape(-1, len(parts))


def tuple_quality(positions: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Tuple accuracy of a K-way reconstruction: ``accuracy`` (= recall) is the share of true
    tuples recovered, ``precision`` the share of complete tuples made that are true, ``f1`` their
    harmonic mean; ``correct``, ``tuples`` (complete tuples made) and ``true_tuples`` are the
    counts. ``positions``: :attr:`~synthlink.reconstruct.TupleReconstruction.positions`;
    ``truth``: the split's truth table (one column of positions per part, NaN: not held)."""
    parts = list(positions.columns)
    want = true_tuples(truth, parts)
    pos = positions.to_numpy(dtype=np.int64)
    made = pos[(pos >= 0).all(axis=1)]
    if len(want) and len(made):
        keys_t = _row_keys(want)
        keys_m = _row_keys(made)
        correct = int(np.isin(keys_m, keys_t).sum())
    else:
        correct = 0
    recall = correct / len(want) if len(want) else 0.0
    precision = correct / len(made) if len(made) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": recall, "precision": precision, "recall": recall, "f1": f1,
            "correct": float(correct), "tuples": float(len(made)), "true_tuples": float(len(want))}


def _row_keys(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a.astype(np.int64))
    return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).reshape(-1)


def expected_tuple_bound(parts: Mapping[str, pd.DataFrame], truth: pd.DataFrame,
                         edges: Sequence[tuple[str, str]], columns: Sequence[str] | Mapping[str, Sequence[str]]) -> tuple[float, float]:
    """Expected tuple accuracy of the best use of exact agreement on the linking ``columns``
    along the tree ``edges`` (see the module docstring), and its standard deviation over the
    random choice among identical records.

    ``columns``: one list for every edge, or a mapping edge name ``a-b`` -> list. ``edges`` must
    form a tree over the parts (for an all-pairs plan pass the chain in plan order).

    The standard deviation treats true tuples with the same cells on every edge as one group
    (``k`` tuples, cells of sizes ``M_e = max(a_e, b_e)``: ``E[R] = k prod 1/M_e``,
    ``E[R(R-1)] = k (k-1) prod 1/(M_e (M_e - 1))``, as for the fixed points of independent random
    permutations) and groups as independent; groups that share one edge's cell are in fact weakly
    dependent, which the simulation test bounds."""
    from synthlink.schema import joint_codes

    names = list(parts)
    want = true_tuples(truth, names)
    n_true = len(want)
    if n_true == 0:
        return 0.0, 0.0
    col = {p: i for i, p in enumerate(names)}
    p = np.ones(n_true)
    m_all = []
    cell_all = []
    for a, b in edges:
        cols = list(columns[f"{a}-{b}"]) if isinstance(columns, Mapping) else list(columns)
        left, right = parts[a], parts[b]
        both = pd.concat([left[cols], right[cols]], ignore_index=True)
        lc, rc = joint_codes([both], len(left))
        size = int(max(lc.max(initial=0), rc.max(initial=0))) + 1
        ca = np.bincount(lc, minlength=size)
        cb = np.bincount(rc, minlength=size)
        tl = lc[want[:, col[a]]]
        tr = rc[want[:, col[b]]]
        agree = tl == tr
        m = np.where(agree, np.maximum(ca[tl], cb[tr]), 0)
        p *= np.where(agree, 1.0 / np.maximum(m, 1), 0.0)
        m_all.append(m)
        cell_all.append(np.where(agree, tl, -1))
    expected = float(p.mean())
    # groups: tuples with the same cell on every edge (and all edges agreeing)
    ok = p > 0
    if not ok.any():
        return expected, 0.0
    cells = np.stack([c[ok] for c in cell_all], axis=1)
    ms = np.stack([m[ok] for m in m_all], axis=1).astype(float)
    _, first, k = np.unique(cells, axis=0, return_index=True, return_counts=True)
    mg = ms[first]
    e1 = k * np.prod(1.0 / mg, axis=1)
    pair = np.prod(1.0 / np.where(mg > 1, mg * (mg - 1), np.inf), axis=1)
    e2 = k * (k - 1) * pair
    var = float(np.sum(e1 + e2 - e1 ** 2))
    return expected, float(np.sqrt(max(var, 0.0))) / n_true

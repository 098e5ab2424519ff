"""Build the joint table from two parts and their :class:`~synthlink.link.Links`, accounting for
every input row: each left row and each right row appears exactly once, as ``linked``,
``left_only`` or ``right_only``.

Links that are not one-to-one are first resolved greedily by score (highest first; ties broken by
row position), so a person is never duplicated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthlink.link.base import Links

STATUS = "_link_status"
SCORE = "_link_score"


def resolve_one_to_one(links: Links) -> pd.DataFrame:
    """Greedy one-to-one selection by descending score."""
    p = links.pairs
    if links.one_to_one or len(p) == 0:
        return p[["left", "right", "score"]]
    p = p.sort_values(["score", "left", "right"], ascending=[False, True, True], kind="stable")
    used_l: set[int] = set()
    used_r: set[int] = set()
    keep = np.zeros(len(p), dtype=bool)
    for i, (lft, rgt) in enumerate(zip(p["left"].to_numpy(), p["right"].to_numpy(), strict=True)):
        if lft in used_l or rgt in used_r:
            continue
        used_l.add(int(lft))
        used_r.add(int(rgt))
        keep[i] = True
    return p[keep][["left", "right", "score"]].reset_index(drop=True)


@dataclass
class Reconstruction:
    joint: pd.DataFrame
    accounting: dict[str, int]


def reconstruct(
    left: pd.DataFrame,
    right: pd.DataFrame,
    links: Links,
    common: Sequence[str],
    drop: Sequence[str] = (),
) -> Reconstruction:
    """Joint table: common variables (the left part's values where it has the row, else the
    right's), the left part's own columns, the right part's own columns, and ``_link_status`` /
    ``_link_score``. Columns in ``drop`` (identifiers) are left out."""
    if links.n_left != len(left) or links.n_right != len(right):
        raise ValueError(
            f"links were made for {links.n_left} x {links.n_right} rows, parts have {len(left)} x {len(right)}"
        )
    pairs = resolve_one_to_one(links)
    common = [c for c in common if c not in drop]
    left_own = [c for c in left.columns if c not in common and c not in drop]
    right_own = [c for c in right.columns if c not in common and c not in drop and c not in left_own]
    li = pairs["left"].to_numpy()
    ri = pairs["right"].to_numpy()
    l_only = np.setdiff1d(np.arange(len(left)), li)
    r_only = np.setdiff1d(np.arange(len(right)), ri)

    L = left.reset_index(drop=True)
    R = right.reset_index(drop=True)
    linked = pd.concat([L.iloc[li][common + left_own].reset_index(drop=True),
                        R.iloc[ri][right_own].reset_index(drop=True)], axis=1)
    linked[STATUS] = "linked"
    linked[SCORE] = pairs["score"].to_numpy()
    lo = L.iloc[l_only][common + left_own].reset_index(drop=True)
    lo[STATUS] = "left_only"
    lo[SCORE] = np.nan
    ro = R.iloc[r_only][common + right_own].reset_index(drop=True)
    ro[STATUS] = "right_only"
    ro[SCORE] = np.nan
    frames = [f for f in (linked, lo, ro) if len(f)]
    joint = pd.concat(frames, ignore_index=True) if frames else linked
    joint = joint[common + left_own + right_own + [STATUS, SCORE]]
    acc = {
        "n_left": len(left), "n_right": len(right), "linked": len(pairs),
        "left_only": len(l_only), "right_only": len(r_only), "rows": len(joint),
    }
    if acc["linked"] + acc["left_only"] != acc["n_left"] or acc["linked"] + acc["right_only"] != acc["n_right"]:
        raise AssertionError(f"row accounting broken: {acc}")
    return Reconstruction(joint, acc)


def linked_only(rec: Reconstruction) -> pd.DataFrame:
    """The linked rows of a reconstruction, without the bookkeeping columns."""
    j = rec.joint
    return j[j[STATUS] == "linked"].drop(columns=[STATUS, SCORE]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# K parts

#: how many parts a row of a K-way reconstruction holds
SIZE = "_tuple_size"


@dataclass
class TupleReconstruction:
    """J* of K parts: ``joint`` has one row per person (a tuple of at most one record per part),
    complete tuples first; ``positions`` gives, row for row, each part's record position (-1:
    none); ``accounting`` proves that every input row appears exactly once."""

    joint: pd.DataFrame
    positions: pd.DataFrame
    accounting: dict[str, object]
    #: the complete tuples alone, with the parts' own dtypes (the J* that is evaluated)
    complete: pd.DataFrame | None = None


def reconstruct_tuples(
    parts: dict[str, pd.DataFrame],
    links: dict[tuple[str, str], Links],
    common: Sequence[str],
    drop: Sequence[str] = (),
) -> TupleReconstruction:
    """Join K parts along the edges of a linkage plan into tuples.

    ``parts`` in plan order (the first part holding a tuple's record gives its common values);
    ``links`` maps each edge ``(a, b)`` to the links between ``parts[a]`` (left) and ``parts[b]``
    (right), made one-to-one first (:func:`resolve_one_to_one`).

    The K-partite consistency rule: the edges are taken in plan order and each edge's links by
    descending score; a link joins the two tuples its records belong to unless the joined tuple
    would hold two records of one part, in which case it is rejected and counted
    (``links_rejected``: an A-B and B-C link that disagree with an A-C link already taken). A link
    between records already in one tuple confirms it (``links_agreeing``). A chain or a star
    (a tree of parts) with one-to-one edges can never reject a link.

    Columns: the common variables, each part's own columns (a column a part shares with an
    earlier one is taken from the earlier), ``_link_status`` (``complete``: a record of every
    part; ``partial``; ``alone``) and ``_tuple_size``. ``drop`` (identifiers) is left out."""
    names = list(parts)
    k = len(names)
    index = {p: i for i, p in enumerate(names)}
    sizes = np.array([len(parts[p]) for p in names], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(sizes)])
    for (a, b), lk in links.items():
        if a not in index or b not in index:
            raise ValueError(f"links for edge {a}-{b}: no such part (parts: {', '.join(names)})")
        if lk.n_left != sizes[index[a]] or lk.n_right != sizes[index[b]]:
            raise ValueError(f"links for edge {a}-{b} were made for {lk.n_left} x {lk.n_right} rows, "
                             f"the parts have {sizes[index[a]]} x {sizes[index[b]]}")
    n = int(offset[-1])
    parent = np.arange(n, dtype=np.int64)
    # members[root] = the record of each part in the root's tuple (-1: none)
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:
            parent[x], x = root, int(parent[x])
        return root

    def tuple_of(node: int, part: int) -> list[int]:
        m = members.get(node)
        if m is None:
            m = [-1] * k
            m[part] = node - int(offset[part])
            members[node] = m
        return m

    made: dict[str, int] = {}
    rejected = agreeing = 0
    for (a, b), lk in links.items():
        ia, ib = index[a], index[b]
        pairs = resolve_one_to_one(lk)
        pairs = pairs.sort_values("score", ascending=False, kind="stable")
        made[f"{a}-{b}"] = len(pairs)
        for li, ri in zip(pairs["left"].to_numpy(dtype=np.int64), pairs["right"].to_numpy(dtype=np.int64), strict=True):
            x, y = int(offset[ia] + li), int(offset[ib] + ri)
            rx, ry = find(x), find(y)
            if rx == ry:
                agreeing += 1
                continue
            mx, my = tuple_of(rx, ia) if rx == x else members[rx], tuple_of(ry, ib) if ry == y else members[ry]
            if any(u >= 0 and v >= 0 for u, v in zip(mx, my, strict=True)):
                rejected += 1
                continue
            merged = [u if u >= 0 else v for u, v in zip(mx, my, strict=True)]
            parent[ry] = rx
            members[rx] = merged
            members.pop(ry, None)
    # every record: its root's tuple, or alone
    roots = np.array([find(i) for i in range(n)], dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    pos = np.full((0, k), -1, dtype=np.int64)
    if n:
        uniq = np.unique(roots)
        pos = np.full((len(uniq), k), -1, dtype=np.int64)
        part_of = np.searchsorted(offset, np.arange(n), side="right") - 1
        row_of = np.arange(n) - offset[part_of]
        slot = np.searchsorted(uniq, roots)
        pos[slot, part_of] = row_of
    size = (pos >= 0).sum(axis=1)
    # complete tuples first, then by size, then by the first record's part and position
    first_part = np.argmax(pos >= 0, axis=1) if len(pos) else np.zeros(0, dtype=np.int64)
    first_row = pos[np.arange(len(pos)), first_part] if len(pos) else np.zeros(0, dtype=np.int64)
    order = np.lexsort((first_row, first_part, -size))
    pos, size = pos[order], size[order]

    common = [c for c in common if c not in drop]
    own: dict[str, list[str]] = {}
    seen = set(common)
    for p in names:
        own[p] = [c for c in parts[p].columns if c not in seen and c not in drop]
        seen.update(own[p])
    frames = []
    masks = pos >= 0
    patterns, inverse = np.unique(masks, axis=0, return_inverse=True) if len(pos) else (np.zeros((0, k), bool), np.zeros(0, int))
    inverse = np.asarray(inverse).reshape(-1)
    row_ids = []
    all_cols = common + [c for p in names for c in own[p]]
    complete = pd.DataFrame(columns=all_cols)
    for j, pat in enumerate(patterns):
        rows = np.flatnonzero(inverse == j)
        present = [p for p, on in zip(names, pat, strict=True) if on]
        first = present[0]
        cols = [parts[first].reset_index(drop=True).iloc[pos[rows, index[first]]][common].reset_index(drop=True)]
        for p in present:
            cols.append(parts[p].reset_index(drop=True).iloc[pos[rows, index[p]]][own[p]].reset_index(drop=True))
        frames.append(pd.concat(cols, axis=1))
        row_ids.append(rows)
        if pat.all():
            complete = frames[-1][all_cols].reset_index(drop=True)
    if frames:
        order_back = np.concatenate(row_ids)
        joint = pd.concat(frames, ignore_index=True)
        joint.index = order_back
        joint = joint.sort_index().reset_index(drop=True).reindex(columns=all_cols)
    else:
        joint = pd.DataFrame(columns=all_cols)
    joint[STATUS] = np.where(size == k, "complete", np.where(size > 1, "partial", "alone"))
    joint[SIZE] = size
    positions = pd.DataFrame(pos, columns=names)
    by_size = {str(s): int((size == s).sum()) for s in range(k, 0, -1)}
    acc: dict[str, object] = {
        "parts": {p: int(sizes[i]) for i, p in enumerate(names)},
        "links": made, "links_rejected": rejected, "links_agreeing": agreeing,
        "by_size": by_size, "complete": by_size[str(k)],
        "alone": {p: int(((size == 1) & (pos[:, i] >= 0)).sum()) for i, p in enumerate(names)},
        "rows": len(joint),
    }
    for i, p in enumerate(names):  # every input row exactly once
        got = np.sort(pos[:, i][pos[:, i] >= 0])
        if len(got) != sizes[i] or (len(got) and not np.array_equal(got, np.arange(sizes[i]))):
            raise AssertionError(f"row accounting broken for part {p}: {len(got)} of {sizes[i]} rows placed")
    return TupleReconstruction(joint, positions, acc, complete)


def complete_only(rec: TupleReconstruction) -> pd.DataFrame:
    """The complete tuples (a record of every part) of a K-way reconstruction, without the
    bookkeeping columns: the J* that is evaluated."""
    if rec.complete is not None:
        return rec.complete
    j = rec.joint
    return j[j[STATUS] == "complete"].drop(columns=[STATUS, SIZE]).reset_index(drop=True)

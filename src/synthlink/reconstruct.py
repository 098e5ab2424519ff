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

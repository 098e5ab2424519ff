"""Cells of identical values, shared by the linkers: sorted distinct values, positions grouped by
code, and random one-to-one pairs within cells (no record-level information can tell the rows of
one cell apart, so a seeded random pairing is the only fair one)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort based; much faster than hashing for large int arrays)."""
    y = np.sort(x)
    return y[np.concatenate([[True], y[1:] != y[:-1]])] if len(y) else y


def group_positions(codes: np.ndarray, idx: np.ndarray) -> dict[int, np.ndarray]:
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


def random_pairs_within_cells(lcode: np.ndarray, rcode: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """One-to-one pairs drawn at random within each cell (code >= 0). Returns left, right, cell_size."""
    lidx = np.flatnonzero(lcode >= 0)
    ridx = np.flatnonzero(rcode >= 0)
    lperm = rng.permutation(lidx)
    rperm = rng.permutation(ridx)
    lf = pd.DataFrame({"cell": lcode[lperm], "left": lperm})
    rf = pd.DataFrame({"cell": rcode[rperm], "right": rperm})
    lf["rank"] = lf.groupby("cell").cumcount()
    rf["rank"] = rf.groupby("cell").cumcount()
    lsize = lf.groupby("cell").size().rename("n_left")
    rsize = rf.groupby("cell").size().rename("n_right")
    pairs = lf.merge(rf, on=["cell", "rank"], how="inner")
    pairs = pairs.join(lsize, on="cell").join(rsize, on="cell")
    pairs["cell_size"] = np.maximum(pairs["n_left"], pairs["n_right"])
    return pairs[["left", "right", "cell_size"]]

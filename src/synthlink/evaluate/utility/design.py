"""What the split design allows: cells of the common variables, the conditional-independence (CI)
join of train given them, and the Frechet bounds of cross-part cell proportions.

- The CI join is a random hot deck within cells of the common variables (donor never the record
  itself): the association it shows between own variables of two parts is what the common
  variables alone explain, the best any linkage of independently synthesized parts can be
  expected to reach (D'Orazio, Di Zio and Scanu 2006, *Statistical Matching: Theory and
  Practice*, Wiley).
- The Frechet bounds of the joint cell proportions given the common variables are those of
  StatMatch's ``Frechet.bounds.cat`` (D'Orazio, R package StatMatch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from synthlink.errors import InputError
from synthlink.evaluate.utility.encoding import (
    NA_LABEL,
    as_float,
    as_labels,
    cell_codes,
    column_kinds,
    quantile_bins,
)

#: numeric common variables with more distinct values than this are cut into quantile bins when
#: they define cells (CI join, Frechet bounds)
MAX_CELL_LEVELS = 20
CELL_BINS = 10
#: a cross-part pair whose train association differs from its CI-join association by less than
#: this has nothing beyond conditional independence to retain: its retained share is not defined
MIN_CI_GAP = 0.02


def common_cells(df: pd.DataFrame, common: Sequence[str], *, kinds: Mapping[str, str] | None = None,
                 max_levels: int = MAX_CELL_LEVELS, bins: int = CELL_BINS) -> np.ndarray:
    """Cell code (0..k-1) of each row for the cross-classification of the common variables.
    Numeric common variables with more than ``max_levels`` distinct values are cut into ``bins``
    quantile bins; missing values form a level of their own."""
    labels = []
    for c in common:
        k = (kinds or {}).get(c) or column_kinds(df, [c])[c]
        if k == "numeric":
            v = as_float(df[c])
            if len(np.unique(v[~np.isnan(v)])) > max_levels:
                lab = quantile_bins(v, v, bins)
            else:
                lab = as_labels(pd.Series(v))
        else:
            lab = as_labels(df[c])
        labels.append(lab)
    return cell_codes(labels, len(df))


def ci_donors(levels: Sequence[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """For each row, a random donor row from the same cell, never the row itself (random hot deck
    within donation classes). ``levels`` are cell codes from the finest to coarser; a row alone in
    its cell at one level falls back to the next; after the last level the donor is drawn from all
    rows. Returns (donor index, level used per row; len(levels) = all rows)."""
    n = len(levels[0]) if levels else 0
    donor = np.arange(n)
    used = np.full(n, len(levels), dtype=np.int64)
    todo = np.ones(n, dtype=bool)
    for li, cell in enumerate([*levels, np.zeros(n, dtype=np.int64)]):
        idx = np.flatnonzero(todo)
        if len(idx) == 0:
            break
        # donors come from all rows of the cell, recipients are only the rows still to do
        order = np.argsort(cell, kind="stable")
        sorted_cells = cell[order]
        starts_all = np.searchsorted(sorted_cells, sorted_cells, side="left")
        ends_all = np.searchsorted(sorted_cells, sorted_cells, side="right")
        pos_of = np.empty(n, dtype=np.int64)
        pos_of[order] = np.arange(n)
        p = pos_of[idx]
        start, size = starts_all[p], ends_all[p] - starts_all[p]
        ok = size >= 2
        sel = idx[ok]
        if len(sel):
            k = np.floor(rng.random(len(sel)) * (size[ok] - 1)).astype(np.int64)
            within = p[ok] - start[ok]
            k = k + (k >= within)
            donor[sel] = order[start[ok] + k]
            used[sel] = li
            todo[sel] = False
    return donor, used


def ci_join(df: pd.DataFrame, common: Sequence[str], part_columns: Mapping[str, Sequence[str]], *,
            seed: int = 0, kinds: Mapping[str, str] | None = None, max_levels: int = MAX_CELL_LEVELS,
            bins: int = CELL_BINS) -> pd.DataFrame:
    """A join of the parts under conditional independence given the common variables: the first
    part's own columns stay with their row; each other part's own columns are taken from a random
    other row of the same cell of the common variables (coarsening by dropping the last common
    variable where a cell holds one row), each part with its own donors. The association this
    table shows between own variables of two parts is what the common variables alone explain."""
    rng = np.random.default_rng(seed)
    levels = [common_cells(df, common[:i], kinds=kinds, max_levels=max_levels, bins=bins)
              for i in range(len(common), 0, -1)]
    out = df.reset_index(drop=True).copy()
    for pname in list(part_columns)[1:]:
        cols = [c for c in part_columns[pname] if c in df.columns]
        donor, _ = ci_donors(levels, rng)
        for c in cols:
            out[c] = df[c].iloc[donor].to_numpy()
    return out


def frechet_bounds_cat(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Frechet bounds of the cell proportions of Y x Z given X, as StatMatch's
    ``Frechet.bounds.cat`` computes them from P(X), P(Y|X) and P(Z|X) (here all from one table
    holding x, y and z; rows with a missing y or z are left out):

    - unconditional: low.u = max(0, p_j + p_k - 1), up.u = min(p_j, p_k);
    - conditional: low.cx = sum_x p_x max(0, p_j|x + p_k|x - 1), up.cx = sum_x p_x min(p_j|x, p_k|x);
    - CIA = sum_x p_x p_j|x p_k|x (conditional independence).

    Returns (cells: y, z, low_u, up_u, low_cx, up_cx, cia, observed; uncertainty: av_width_u =
    mean(up.u - low.u), av_width_cx = mean(up.cx - low.cx), as StatMatch's ``uncertainty``)."""
    xl, yl, zl = (as_labels(pd.Series(np.asarray(v, dtype=object))) for v in (x, y, z))
    ok = (yl != NA_LABEL) & (zl != NA_LABEL)
    xl, yl, zl = xl[ok], yl[ok], zl[ok]
    n = len(xl)
    if n == 0:
        raise InputError("Frechet bounds: no row has both variables observed")
    xc, xlev = pd.factorize(xl)
    yc, ylev = pd.factorize(yl, sort=True)
    zc, zlev = pd.factorize(zl, sort=True)
    nx, ny, nz = len(xlev), len(ylev), len(zlev)
    n_x = np.bincount(xc, minlength=nx).astype(float)
    p_x = n_x / n
    p_yx = np.bincount(xc * ny + yc, minlength=nx * ny).reshape(nx, ny) / n_x[:, None]
    p_zx = np.bincount(xc * nz + zc, minlength=nx * nz).reshape(nx, nz) / n_x[:, None]
    low_cx = np.zeros((ny, nz))
    up_cx = np.zeros((ny, nz))
    cia = np.zeros((ny, nz))
    step = max(1, int(2_000_000 // max(1, ny * nz)))
    for s in range(0, nx, step):  # chunks over cells of X, to bound memory
        py = p_yx[s:s + step, :, None]
        pz = p_zx[s:s + step, None, :]
        w = p_x[s:s + step, None, None]
        low_cx += (w * np.maximum(0.0, py + pz - 1)).sum(0)
        up_cx += (w * np.minimum(py, pz)).sum(0)
        cia += (w * py * pz).sum(0)
    p_y = np.bincount(yc, minlength=ny) / n
    p_z = np.bincount(zc, minlength=nz) / n
    low_u = np.maximum(0.0, p_y[:, None] + p_z[None, :] - 1)
    up_u = np.minimum(p_y[:, None], p_z[None, :])
    obs = np.bincount(yc * nz + zc, minlength=ny * nz).reshape(ny, nz) / n
    yy, zz = np.meshgrid(np.arange(ny), np.arange(nz), indexing="ij")
    cells = pd.DataFrame({
        "y": np.asarray(ylev, dtype=object)[yy.ravel()], "z": np.asarray(zlev, dtype=object)[zz.ravel()],
        "low_u": low_u.ravel(), "up_u": up_u.ravel(), "low_cx": low_cx.ravel(), "up_cx": up_cx.ravel(),
        "cia": cia.ravel(), "observed": obs.ravel(),
    })
    unc = {"av_width_u": float((up_u - low_u).mean()), "av_width_cx": float((up_cx - low_cx).mean()),
           "x_cells": int(nx), "rows": int(n)}
    return cells, unc


def cell_shares(y: np.ndarray, z: np.ndarray, ylev: Sequence[str], zlev: Sequence[str]) -> np.ndarray:
    """Shares of the (y, z) cells over the levels ``ylev`` x ``zlev`` among rows with both
    labels observed; categories outside the levels count in the total but in no cell."""
    ok = (y != NA_LABEL) & (z != NA_LABEL)
    y, z = y[ok], z[ok]
    if len(y) == 0:
        return np.full((len(ylev), len(zlev)), np.nan)
    yi = pd.Index(ylev).get_indexer(y)
    zi = pd.Index(zlev).get_indexer(z)
    keep = (yi >= 0) & (zi >= 0)  # categories train never shows have no bounds
    tab = np.bincount(yi[keep] * len(zlev) + zi[keep], minlength=len(ylev) * len(zlev))
    return tab.reshape(len(ylev), len(zlev)) / len(y)

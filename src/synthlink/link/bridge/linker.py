"""The bridge linker: one-to-one linkage of two synthetic parts whose linked table's
cross-register cells are calibrated to a released marginal (issue 16, section 2).

Algorithm (:mod:`synthlink.link.bridge.problem`, :mod:`synthlink.link.bridge.calibrate`)
    1. Common cells: exact agreement on ``on`` (as the exact linker and the CIA join); a cell of
       ``nL`` left and ``nR`` right records links ``m = min(nL, nR)`` pairs.
    2. Profiles: each record's bridge columns binned to the release's declared domain; records of
       one profile in one cell are interchangeable, so the problem is over (cell, left profile,
       right profile) triples.
    3. Targets: each released marginal rescaled to the number of pairs to link (the release
       counts people of the real joint table; the linked table has ``sum m`` pairs).
    4. ``method="ipf"`` (default): rake the CIA pair weights to the targets and to each cell's
       left and right margins (``m n_p / nL``, ``m n_q / nR``); ``method="lp"``: the
       transportation LP with the targets as soft constraints (L1 slack), then the most pairs.
    5. Controlled rounding to integer pair counts that keep each cell's integer margins and track
       the released marginals (:mod:`synthlink.link.bridge.rounding`), and expansion of profile
       pairs to record pairs at random (seeded, :func:`synthlink.link.assignment.expand_profile_pairs`).

When to use ``lp``
    The LP has one variable per triple plus two per released cell. On 100,000 x 100,000 demo parts
    (134,769 triples, one 10 x 11 marginal, 2 cores) HiGHS's interior point method takes about 10 s
    against 1 s for IPF (0.1 s for the exact linker); at 20,000 x 20,000 (33,326 triples) 1.6 s
    against 0.6 s (``benchmarks/bench_bridge_linker.py``). Above ``lp_max_triples`` triples the linker falls
    back to IPF and says so in ``Links.warnings``. Where the targets are consistent with the
    parts both reach (nearly) zero slack; IPF keeps the CIA structure within the targets (the
    minimum-KL table), the LP returns any least-slack table, so IPF is the default.

Diagnostics
    Per marginal: the L1 distance (as a share of the pairs) between the linked table's cells and
    the targets under the CIA weights (``l1_cia``) and after calibration (``l1_calibrated``), and
    ``unmet_target_share``: the share of the target in cells with a positive target but no
    feasible pair in any common cell.

Sources: D'Orazio, Di Zio and Scanu (2006), *Statistical Matching: Theory and Practice*, Wiley
(auxiliary information beyond conditional independence); Renssen (1998), *Survey Methodology*
24:171-176 (calibration to a third sample); Deming and Stephan (1940) for IPF.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthlink.bridge.spec import BridgeRelease, BridgeSpec, binned
from synthlink.errors import ConfigError, InputError
from synthlink.link.assignment import expand_profile_pairs
from synthlink.link.base import Linker, Links, common_columns
from synthlink.link.bridge.calibrate import rake, transport_lp
from synthlink.link.bridge.problem import Problem, build_problem
from synthlink.link.bridge.rounding import controlled_round, largest_remainder

METHODS = ("ipf", "lp")


class BridgeLinker(Linker):
    """Calibrated one-to-one linkage to a released cross-register marginal (module docstring).

    Parameters
    ----------
    release: the :class:`~synthlink.bridge.BridgeRelease`, or the path of its file.
    on: the common variables cells agree on (default: every column both parts share).
    method: ``"ipf"`` (raking of the CIA weights) or ``"lp"`` (the soft-constrained LP).
    max_iterations, tolerance: IPF stops when the largest weight change of a sweep is below
        ``tolerance`` times the pairs to link, or after ``max_iterations`` sweeps.
    lp_max_triples: the largest LP solved; larger problems use IPF (with a warning).
    """

    name = "bridge"
    summary = "1:1 within common cells, cross-register cells calibrated to a released marginal (IPF or LP)"

    def __init__(self, release: BridgeRelease | str | Path | None = None, on: Sequence[str] | None = None,
                 method: str = "ipf", max_iterations: int = 200, tolerance: float = 1e-6,
                 lp_max_triples: int = 200_000) -> None:
        self.release = release
        self.on = on
        self.method = method
        self.max_iterations = max_iterations
        self.tolerance = tolerance
        self.lp_max_triples = lp_max_triples

    def loaded_release(self) -> BridgeRelease:
        if self.release is None:
            raise ConfigError("bridge: needs a release (release=<file> from 'synthlink bridge release')")
        if isinstance(self.release, BridgeRelease):
            return self.release
        if isinstance(self.release, (str, Path)):
            return BridgeRelease.load(self.release)
        raise ConfigError(f"bridge: release must be a BridgeRelease or a file path, got {type(self.release).__name__}")

    def link(self, seed: int = 0) -> Links:
        if self.method not in METHODS:
            raise ConfigError(f"bridge: method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if int(self.max_iterations) < 1 or not float(self.tolerance) > 0:
            raise ConfigError("bridge: max_iterations must be >= 1 and tolerance > 0")
        left, right = self.left_, self.right_
        release = self.loaded_release()
        release.check_parts(left, right, "bridge")
        on = common_columns(left, right, list(self.on) if self.on is not None else None)
        prob = build_problem(left, right, on, release)
        warnings = [f"bridge: {s}; not used" for s in prob.skipped]
        shared = [c for c in release.spec.columns if c in left.columns and c in right.columns and c not in on]
        if shared:
            warnings.append(f"bridge: release column(s) {', '.join(map(repr, shared))} are in both parts but not in "
                            "'on'; their cells are read from the left part")
        method = self.method
        if method == "lp" and len(prob.cell) > int(self.lp_max_triples):
            warnings.append(f"bridge: {len(prob.cell)} profile triples exceed lp_max_triples={self.lp_max_triples}; "
                            "calibrated by IPF instead")
            method = "ipf"
        if method == "ipf":
            w, info = rake(prob, int(self.max_iterations), float(self.tolerance))
            rows = largest_remainder(prob.row_targets(), prob.row_cell, prob.pairs)
            cols = largest_remainder(prob.col_targets(), prob.col_cell, prob.pairs)
        else:
            w, info = transport_lp(prob)
            per_cell = np.rint(np.bincount(prob.cell, weights=w, minlength=len(prob.pairs))).astype(np.int64)
            rows = np.minimum(largest_remainder(np.round(np.bincount(prob.row, weights=w, minlength=len(prob.row_count)), 9),
                                                prob.row_cell, per_cell), prob.row_count)
            cols = np.minimum(largest_remainder(np.round(np.bincount(prob.col, weights=w, minlength=len(prob.col_count)), 9),
                                                prob.col_cell, per_cell), prob.col_count)
        x = controlled_round(prob, w, rows, cols)
        lrec, rrec, tix = expand_profile_pairs(prob.row, prob.col, x, prob.left_row, prob.right_col, seed)
        cell = prob.cell[tix]
        score = 1.0 / np.maximum(prob.cell_left[cell], prob.cell_right[cell])
        pairs = pd.DataFrame({"left": lrec, "right": rrec, "score": score})
        diag = diagnostics(prob, x, method, on, info)
        if not prob.marginals:
            warnings.append("bridge: no usable marginal in the release; the links are the CIA join's")
        return Links(pairs, len(left), len(right), self.name, one_to_one=True, diagnostics=diag, warnings=warnings)

    @classmethod
    def conformance_params(cls, left: pd.DataFrame, right: pd.DataFrame, on: Sequence[str]) -> dict[str, Any]:
        """Parameters for the linker conformance suite on any two parts: ``on`` and a release of
        one marginal (the first own column of each part) over a domain read from the parts
        (categories, or quartile bins of a numeric column with many values), with the counts of
        conditional independence (``n_p n_q / n``, rounded). Not a DP release: a test fixture."""
        own_l = [c for c in left.columns if c not in right.columns]
        own_r = [c for c in right.columns if c not in left.columns]
        if not own_l or not own_r:
            raise InputError("bridge: the parts need an own column each for a conformance release")
        cl, cr = own_l[0], own_r[0]
        bins: dict[str, tuple[float, ...]] = {}
        cats: dict[str, tuple[Any, ...]] = {}
        missing = []
        for c, s in ((cl, left[cl]), (cr, right[cr])):
            vals = s.dropna()
            if s.isna().any():
                missing.append(c)
            if pd.api.types.is_numeric_dtype(s) and vals.nunique() > 12:
                e = np.unique(np.quantile(vals.to_numpy(dtype=float), [0, 0.25, 0.5, 0.75, 1]))
                bins[c] = tuple(float(v) for v in e)
            elif len(vals):
                cats[c] = tuple(sorted(vals.unique().tolist(), key=str))
            else:
                cats[c] = ("(none)",)
            if c in bins and len(bins[c]) < 2:
                bins[c] = (bins[c][0], bins[c][0] + 1.0)
        spec = BridgeSpec(((cl, cr),), bins, cats, 1.0, "laplace", None, tuple(missing))
        n_p = binned(left, spec, [cl])[cl].value_counts()
        n_q = binned(right, spec, [cr])[cr].value_counts()
        n = max(len(left), len(right))
        table = spec.cells((cl, cr))
        table["count"] = np.rint(table[cl].map(n_p).fillna(0).to_numpy(dtype=float)
                                 * table[cr].map(n_q).fillna(0).to_numpy(dtype=float) / n).astype(np.int64)
        release = BridgeRelease(spec, {(cl, cr): table}, {"note": "conformance fixture, not a DP release"})
        return {"release": release, "on": list(on)}


def diagnostics(prob: Problem, x: np.ndarray, method: str, on: Sequence[str], info: dict[str, Any]) -> dict[str, Any]:
    """What the calibration did, per marginal (module docstring) and in all."""
    total = max(prob.total, 1)
    cia = prob.cia_weights()
    per: list[dict[str, Any]] = []
    unmet = mass = 0.0
    for m in prob.marginals:
        n_cells = len(m.target)
        covered = np.bincount(m.cell, minlength=n_cells) > 0
        miss = float(m.target[(m.target > 0) & ~covered].sum())
        unmet += miss
        mass += float(m.target.sum())
        per.append({"columns": list(m.columns), "released_total": m.released_total,
                    "l1_cia": float(np.abs(np.bincount(m.cell, weights=cia, minlength=n_cells) - m.target).sum() / total),
                    "l1_calibrated": float(np.abs(np.bincount(m.cell, weights=x, minlength=n_cells) - m.target).sum() / total),
                    "unmet_target_share": miss / float(m.target.sum()) if m.target.sum() > 0 else 0.0})
    return {"method": method, "on": list(on), "common_cells": int((prob.pairs > 0).sum()),
            "profile_triples": int(len(prob.cell)), "pairs_to_link": int(prob.total), "pairs": int(x.sum()),
            "marginals": per, "unmet_target_share": unmet / mass if mass > 0 else 0.0,
            "skipped": list(prob.skipped), **info, "one_to_one": True}

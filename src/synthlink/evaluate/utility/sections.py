"""The sections of the utility report, one function each: every function takes what it reads
explicitly and returns a :class:`Section` (the JSON value of the section and the summary
metrics it adds). :func:`synthlink.evaluate.utility.report.utility_report` composes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthlink.disclosure_control import suppress_small_shares
from synthlink.errors import ConfigError
from synthlink.evaluate.metric import Metric, safe_metric
from synthlink.evaluate.utility.association import association, bivariate, pair_measures, pair_type
from synthlink.evaluate.utility.design import (
    CELL_BINS,
    MAX_CELL_LEVELS,
    MIN_CI_GAP,
    cell_shares,
    ci_donors,
    common_cells,
    frechet_bounds_cat,
)
from synthlink.evaluate.utility.encoding import GROUP, Encoded, encode, jsonable, nanmean, records
from synthlink.evaluate.utility.marginal import univariate
from synthlink.evaluate.utility.memo import array_key, memoized
from synthlink.evaluate.utility.metrics import metric
from synthlink.evaluate.utility.ml import ml_utility_unthreaded
from synthlink.evaluate.utility.questions import research_question


@dataclass
class Section:
    """One section's JSON value, the metrics it adds to the summary (in order) and, for the
    bivariate section, the pair table the cross-part section reads."""

    value: Any
    metrics: list[Metric] = field(default_factory=list)
    frame: pd.DataFrame | None = None


def run_section(name: str, fn: Callable[[], Section], errors: list[dict[str, Any]]) -> Section:
    """Run one section; a failure becomes an error entry (via safe_metric) appended to
    ``errors`` and the section ``{"error": ...}`` without metrics."""
    holder: dict[str, Section] = {}

    def run() -> Metric:
        holder["v"] = fn()
        return Metric(name, 0.0, group=GROUP)

    m = safe_metric(name, GROUP, run)[0]
    if m.error:
        errors.append(m.to_dict())
        return Section({"error": m.error})
    return holder["v"]


def univariate_section(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame | None,
                       kinds: Mapping[str, str], roles: Mapping[str, str], bins: int) -> Section:
    """KS and TVD per column; metrics ``ks_mean`` and ``tvd_mean``."""
    uni = univariate(train, synthetic, control, kinds, roles=roles, bins=bins)
    out = []
    for meas, label in (("ks", "ks_mean"), ("tvd", "tvd_mean")):
        sub = uni[uni["measure"] == meas]
        if len(sub):
            out.append(metric(label, nanmean(sub["synthetic"]), control=nanmean(sub["control"]), columns=len(sub)))
    return Section(records(uni), out)


def encode_tables(frames: Mapping[str, pd.DataFrame], kinds: Mapping[str, str], into: dict[str, Encoded]) -> Section:
    """Encode every frame into ``into`` in order; on a failure the tables encoded before it stay."""
    for k, df in frames.items():
        into[k] = encode(df, kinds, f"{k}: ")
    return Section({})


def bivariate_section(enc: Mapping[str, Encoded], kinds: Mapping[str, str], roles: Mapping[str, str]) -> Section:
    """Association per pair and its summary per pair type; metrics ``assoc_diff_mean`` and
    ``cross_assoc_diff_mean``. The pair table is kept in ``frame``."""
    biv = bivariate(enc, kinds, roles)
    prim = biv[biv["primary"]] if len(biv) else biv
    summary: dict[str, Any] = {}
    for t in ("all", "common", "within", "cross", "unknown"):
        sub = prim if t == "all" else prim[prim["pair_type"] == t]
        if len(sub) == 0:
            continue
        summary[t] = {"pairs": len(sub), "diff_synthetic_mean": nanmean(sub.get("diff_synthetic", [])),
                      "diff_control_mean": nanmean(sub["diff_control"]) if "diff_control" in sub else None}
    out = []
    if "all" in summary:
        out.append(metric("assoc_diff_mean", summary["all"]["diff_synthetic_mean"],
                          control=summary["all"]["diff_control_mean"], pairs=summary["all"]["pairs"]))
    if "cross" in summary:
        out.append(metric("cross_assoc_diff_mean", summary["cross"]["diff_synthetic_mean"],
                          control=summary["cross"]["diff_control_mean"], pairs=summary["cross"]["pairs"]))
    return Section({"pairs": records(biv), "summary": summary}, out, frame=biv)


def cross_pairs(columns: Sequence[str], roles: Mapping[str, str]) -> list[tuple[str, str]]:
    """The pairs of columns that are own variables of two different parts."""
    return [(a, b) for i, a in enumerate(columns) for b in columns[i + 1:] if pair_type(roles[a], roles[b]) == "cross"]


def ci_reference_section(enc: Mapping[str, Encoded], train_s: pd.DataFrame, cross_cols: Sequence[tuple[str, str]],
                         common: Sequence[str], part_columns: Mapping[str, Sequence[str]], columns: Sequence[str],
                         kinds: Mapping[str, str], seed: int, ci_draws: int) -> Section:
    """Associations of the cross-part pairs in ``ci_draws`` CI joins of the (sampled) train
    table, averaged; donors drawn with the generator seeded ``[seed, 1]``."""
    common = list(common)
    if not cross_cols:
        return Section({"pairs": [], "note": "no cross-part pairs (give part_columns with two or more parts)"})
    if not common:
        raise ConfigError("CI reference: no common variables given")
    levels = [common_cells(train_s, common[:i], kinds=kinds) for i in range(len(common), 0, -1)]
    parts = [p for p in part_columns if any(c in columns for c in part_columns[p])]
    per_draw = []
    level_use = np.zeros(len(levels) + 1)
    ci_rng = np.random.default_rng([seed, 1])
    for _ in range(max(1, ci_draws)):
        e = enc["train"]
        joined = e.copy()
        for p in parts[1:]:
            donor, used = ci_donors(levels, ci_rng)
            level_use += np.bincount(used, minlength=len(levels) + 1)
            for c in part_columns[p]:
                if c in joined.num:
                    joined.num[c] = e.num[c][donor]
                elif c in joined.code:
                    joined.code[c] = e.code[c][donor]
                    joined.lab[c] = e.lab[c][donor]
        per_draw.append({(a, b, m): association(joined, a, b, m) for a, b in cross_cols
                         for m in pair_measures(kinds[a], kinds[b])})
    keys = list(per_draw[0])
    ci_val = {k: float(np.nanmean([d[k] for d in per_draw])) if any(not np.isnan(d[k]) for d in per_draw) else float("nan")
              for k in keys}
    ci_sd = {k: float(np.nanstd([d[k] for d in per_draw])) if len(per_draw) > 1 else None for k in keys}
    level_share = level_use / level_use.sum() if level_use.sum() else level_use
    cells_finest = levels[0]
    sizes = np.bincount(cells_finest)
    return Section({
        "method": "random hot deck within cells of the common variables (donor never the row "
                  "itself; a row alone in its cell falls back to the cell of fewer common "
                  "variables); associations averaged over draws",
        "draws": max(1, ci_draws), "common": common,
        "cells": {"count": int(len(sizes)), "mean_size": float(sizes.mean()),
                  "share_rows_alone": float((sizes[cells_finest] == 1).mean())},
        "donor_level_share": {("+".join(common[: len(common) - i]) if i < len(common) else "(all rows)"): float(s)
                              for i, s in enumerate(level_share)},
        "pairs": [{"a": a, "b": b, "measure": m, "ci": ci_val[(a, b, m)], "ci_sd": ci_sd[(a, b, m)]}
                  for (a, b, m) in keys],
    })


def cross_part_section(biv: pd.DataFrame | None, ci_ref: Any) -> Section:
    """The cross-part pairs of the bivariate table beside their CI-join association, the gap the
    design leaves and the share of the association beyond it that each table keeps; metrics
    ``cross_retained_mean`` and ``ci_gap_mean``."""
    if biv is None or len(biv) == 0:
        return Section({"pairs": [], "summary": {}})
    cross = biv[biv["pair_type"] == "cross"].copy()
    if not isinstance(ci_ref, dict) or "error" in ci_ref or not ci_ref.get("pairs"):
        cross["ci"] = np.nan
    else:
        cmap = {(p["a"], p["b"], p["measure"]): p["ci"] for p in ci_ref["pairs"]}
        cross["ci"] = [cmap.get((a, b, m), np.nan) for a, b, m in zip(cross["a"], cross["b"], cross["measure"], strict=True)]
    cross["ci"] = cross["ci"].astype(float)
    cross["ci_gap"] = (cross["train"] - cross["ci"]).abs()
    gap = cross["train"] - cross["ci"]
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in ("synthetic", "control"):
            if name in cross:
                r = (cross[name] - cross["ci"]) / gap
                cross[f"retained_{name}"] = r.where(gap.abs() >= MIN_CI_GAP)
    prim = cross[cross["primary"]]
    summary = {
        "pairs": len(prim),
        "ci_gap_mean": nanmean(prim["ci_gap"]),
        "retained_synthetic_mean": nanmean(prim.get("retained_synthetic", [])),
        "retained_control_mean": nanmean(prim["retained_control"]) if "retained_control" in prim else None,
        "pairs_beyond_ci": int((prim["ci_gap"] >= MIN_CI_GAP).sum()),
        "diff_synthetic_mean": nanmean(prim.get("diff_synthetic", [])),
        "diff_control_mean": nanmean(prim["diff_control"]) if "diff_control" in prim else None,
    }
    out = []
    if len(prim):
        out.append(metric("cross_retained_mean", summary["retained_synthetic_mean"],
                          control=summary["retained_control_mean"], pairs=summary["pairs_beyond_ci"]))
        out.append(metric("ci_gap_mean", summary["ci_gap_mean"], pairs=len(prim)))
    return Section({"pairs": records(cross), "summary": summary,
                    "reading": "train = real association; ci = what a join under conditional independence "
                               "given the common variables keeps (the design's limit); synthetic = the "
                               "linked synthetic table. ci_gap = lost by the design; train - synthetic "
                               "beyond that = lost by the method (synthesis + linkage)."}, out)


def frechet_section(enc: Mapping[str, Encoded], train_s: pd.DataFrame, cross_cols: Sequence[tuple[str, str]],
                    common: Sequence[str], kinds: Mapping[str, str]) -> Section:
    """Frechet bounds from train of every categorical cross-part pair and where the compared
    tables' cells fall; metrics ``frechet_width_mean`` and ``frechet_inside_share``. Train's
    cross-tabulation is masked (cells of fewer than 10 people) before it leaves."""
    cat_pairs = [(a, b) for a, b in cross_cols if kinds[a] == "categorical" and kinds[b] == "categorical"]
    if not cat_pairs:
        return Section({"pairs": [], "note": "no categorical cross-part pair"})
    if not common:
        raise ConfigError("Frechet bounds: no common variables given")
    x = common_cells(train_s, list(common), kinds=kinds)
    out = []
    for a, b in cat_pairs:
        try:
            ya, zb = enc["train"].lab[a], enc["train"].lab[b]
            # train's bounds are the same for every J* compared against this train
            cells, unc = memoized("frechet_train", (array_key(x), array_key(ya), array_key(zb)),
                                  partial(frechet_bounds_cat, x, ya, zb))
        except Exception as e:
            out.append({"a": a, "b": b, "error": f"{type(e).__name__}: {e}"})
            continue
        ylev, zlev = sorted(cells["y"].unique()), sorted(cells["z"].unique())
        entry: dict[str, Any] = {"a": a, "b": b, **unc}
        for name in ("synthetic", "control"):
            if name not in enc:
                continue
            sh = cell_shares(enc[name].lab[a], enc[name].lab[b], ylev, zlev).ravel()
            cells[name] = sh
            inside = (sh >= cells["low_cx"] - 1e-12) & (sh <= cells["up_cx"] + 1e-12)
            entry[f"inside_share_{name}"] = float(inside.mean())
            outside = np.maximum(cells["low_cx"] - sh, 0) + np.maximum(sh - cells["up_cx"], 0)
            entry[f"outside_mass_{name}"] = float(np.nansum(outside))
            entry[f"tvd_cells_{name}"] = float(0.5 * np.nansum(np.abs(sh - cells["observed"])))
        # the train cross-tabulation is real data: cells of fewer than 10 people are masked
        # (statistical disclosure control) before the table leaves this function
        cells = suppress_small_shares(cells, "observed", n=len(enc["train"].lab[a]),
                                      derived=[c for c in ("cia", "low_cx", "up_cx") if c in cells.columns])
        entry["cells"] = records(cells.rename(columns={"observed": "train"}))
        out.append(entry)
    ok = [e for e in out if "error" not in e]
    ms = [metric("frechet_width_mean", nanmean(e["av_width_cx"] for e in ok),
                 unconditional=nanmean(e["av_width_u"] for e in ok), pairs=len(ok))]
    if ok and "inside_share_synthetic" in ok[0]:
        ms.append(metric("frechet_inside_share", nanmean(e["inside_share_synthetic"] for e in ok),
                         control=nanmean(e.get("inside_share_control") for e in ok), pairs=len(ok)))
    return Section({"pairs": out, "x": "cells of the common variables (numeric ones with more than "
                    f"{MAX_CELL_LEVELS} values in {CELL_BINS} quantile bins)",
                    "note": "bounds from train; with many sparse cells of the common variables the "
                            "conditional bounds narrow towards train's own table"}, ms)


def pmse_section(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame | None,
                 columns: Sequence[str], pmse_model: str, seed: int) -> Section:
    """pMSE and S_pMSE (synthpop) of the synthetic table and of control against train, via
    :func:`synthlink.evaluate.propensity_utility.pmse`; metrics ``pmse`` and ``s_pmse``."""
    from synthlink.evaluate import propensity_utility

    cols = list(columns)
    out: dict[str, Any] = {"model": pmse_model}
    for name, df in (("synthetic", synthetic), ("control", control)):
        if df is None:
            continue
        out[name] = jsonable(pmse_result(propensity_utility.pmse(train[cols], df[cols], pmse_model, seed)))
    syn = out.get("synthetic", {})
    ctl = out.get("control", {})
    return Section(out, [metric("pmse", syn.get("pmse"), control=ctl.get("pmse"), model=pmse_model),
                         metric("s_pmse", syn.get("s_pmse"), control=ctl.get("s_pmse"), model=pmse_model)])


def pmse_result(r: Any) -> dict[str, Any]:
    """Normalise what propensity_utility.pmse returns (a dict, a Metric, a list of Metrics or an
    object with pmse/s_pmse attributes) to {"pmse": .., "s_pmse": .., ...}."""
    if isinstance(r, Mapping):
        return dict(r)
    if isinstance(r, Metric):
        return {r.name.lower(): r.value, **r.details}
    if isinstance(r, (list, tuple)) and all(isinstance(m, Metric) for m in r):
        return {m.name.lower(): m.value for m in r}
    if hasattr(r, "__dict__"):
        return {k: v for k, v in vars(r).items() if not k.startswith("_")}
    raise TypeError(f"propensity_utility.pmse returned {type(r).__name__}")


def question_section(q: Any, frames: Mapping[str, pd.DataFrame | None]) -> Section:
    """One research question fitted on every frame; per compared table the metrics
    ``ci_overlap_mean``, ``ci_overlap_orig_se_mean`` and ``std_diff_mean_abs`` (labelled
    ``name[question|table]``)."""
    res = research_question(q, frames)
    out = []
    for name, fit in res["fits"].items():
        if name == "train" or "error" in fit:
            continue
        out.append(metric("ci_overlap_mean", fit.get("ci_overlap_mean"), label=f"ci_overlap_mean[{res['name']}|{name}]",
                          question=res["name"], table=name))
        out.append(metric("ci_overlap_orig_se_mean", fit.get("ci_overlap_orig_se_mean"),
                          label=f"ci_overlap_orig_se_mean[{res['name']}|{name}]", question=res["name"], table=name))
        out.append(metric("std_diff_mean_abs", fit.get("std_diff_mean_abs"), label=f"std_diff_mean_abs[{res['name']}|{name}]",
                          question=res["name"], table=name))
    return Section(jsonable(res), out)


def ml_section(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame | None, target: str,
               kinds: Mapping[str, str], seed: int, max_rows: int | None) -> Section:
    """Train-on-synthetic, test-on-control; metrics ``ml_r2`` or ``ml_accuracy`` and ``ml_roc_auc``."""
    if control is None:
        raise ConfigError("ML utility needs a control set to test on")
    res = ml_utility_unthreaded(train, synthetic, control, target, kinds, seed=seed, max_rows=max_rows)
    out = [metric(f"ml_{key}", res["synthetic"].get(key), train=res["train"].get(key), target=target)
           for key in (("r2",) if kinds[target] == "numeric" else ("accuracy", "roc_auc"))]
    return Section(jsonable(res), out)

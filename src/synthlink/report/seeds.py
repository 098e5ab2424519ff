"""Mean and spread over a study's seeds.

Two readings: :func:`seed_rows` shows the study's own runs table (``metrics["summary"]["runs"]``,
:func:`synthlink.pipeline.tables.summary_over_seeds`) in the "Across seeds" section; :func:`kpis` and
:func:`linkage_rows` average the typed seed records (:class:`synthlink.results.SeedRecord`) for the
key figures and the linkage table. Both use the sample standard deviation (n - 1 in the
denominator, as ``pandas.DataFrame.std``), so the same figure reads the same in both places; with
one seed there is no spread (``sd`` None) and the figure is that seed's value.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from synthlink.report.figures import accuracy_ci
from synthlink.report.format import get_path, num
from synthlink.results import RunRecord, SeedRecord, StudyRecord


@dataclass(frozen=True)
class Spread:
    """The mean of a figure over the seeds that have it (``n`` of them), with the sample standard
    deviation (None for fewer than two values). ``mean`` None when no seed has the figure."""

    mean: float | None
    sd: float | None = None
    n: int = 0


def spread(values: Iterable[Any]) -> Spread:
    """Mean and sample standard deviation of the finite numbers among ``values`` (None skipped)."""
    vals = [v for v in (num(x) for x in values) if v is not None]
    if not vals:
        return Spread(None)
    return Spread(statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else None, len(vals))


def seed_bound(seed: SeedRecord | None) -> tuple[float | None, float | None]:
    """The reference every method is shown against: the expected bound (coverage and noise taken
    into account) and its tie-breaking standard deviation; the uniqueness bound among the linked
    population when no expected bound was written (both parts hold the same people unchanged)."""
    ub = seed.uniqueness_bound if seed is not None else None
    bound, bound_sd = num(get_path(ub, "expected")), num(get_path(ub, "expected_sd"))
    if bound is None:
        bound = num(get_path(ub, "linked_population"))
    return bound, bound_sd


def kpis(study: StudyRecord) -> dict[str, Spread]:
    """The key figures at the top of the report over all seeds: people in both parts
    (``true_pairs``), the expected bound and the uniqueness bound among them."""
    seeds = study.seeds
    return {"true_pairs": spread(s.true_pairs for s in seeds),
            "bound": spread(seed_bound(s)[0] for s in seeds),
            "bound_linked": spread(get_path(s.uniqueness_bound, "linked_population") for s in seeds)}


#: the linkage table's quality columns (attributes of :class:`synthlink.results.LinkageQuality`)
LINKAGE_COLUMNS = ("accuracy", "precision", "recall", "f1", "share_unlinked_left")
#: the linkage table's accounting columns (keys of a run's ``accounting``)
ACCOUNTING_COLUMNS = ("linked", "n_left", "n_right")


def _ok_run(seed: SeedRecord, linker: str) -> RunRecord | None:
    return next((b for b in seed.baseline if b.linker == linker and b.status == "ok"), None)


def linkage_rows(study: StudyRecord) -> list[dict[str, Any]]:
    """One row per baseline run of the first seed (in its order): its status and, over the seeds
    where the same linker ran ("ok"), the mean and spread of each quality column, of accuracy over
    the seed's expected bound, and the mean of each accounting count (the run's own counts with one
    seed). ``ci``: the Wilson 95% interval of the first seed's accuracy (the chart's interval)."""
    if not study.seeds:
        return []
    first, many = study.seeds[0], len(study.seeds) > 1
    rows = []
    for b in first.baseline:
        row: dict[str, Any] = {"linker": b.linker, "status": b.status, "ok": b.status == "ok"}
        if b.status == "ok":
            runs = [(r, seed_bound(s)[0]) for s in study.seeds if (r := _ok_run(s, b.linker)) is not None]
            for k in LINKAGE_COLUMNS:
                row[k] = spread(getattr(r.quality, k) if r.quality is not None else None for r, _ in runs)
            row["ratio"] = spread(_ratio(r, bd) for r, bd in runs)
            for k in ACCOUNTING_COLUMNS:
                # K parts: the complete tuples are the linked persons; n_left / n_right are the two-part counts
                vals = [get_path(r.accounting, "complete" if k == "linked" and "complete" in (r.accounting or {}) else k)
                        for r, _ in runs]
                if many:
                    m = spread(vals).mean
                    row[k] = None if m is None else round(m)
                else:
                    row[k] = vals[0] if vals else None
            row["ci"] = accuracy_ci(b.quality)
            row["n_seeds"] = len(runs)
        rows.append(row)
    return rows


def _ratio(r: RunRecord, bound: float | None) -> float | None:
    a = r.quality.accuracy if r.quality is not None else None
    return a / bound if a is not None and bound else None


#: headline figures shown with their mean and spread over seeds (keys of the runs table)
SEED_KEYS = (("accuracy", "accuracy"), ("f1", "F1"), ("risk_singling_out", "singling out"),
             ("risk_linkability", "linkability"), ("risk_inference", "inference"),
             ("risk_key_holder", "key holder"), ("utility_cross_retained_mean_synthetic", "retained beyond the design"),
             ("utility_s_pmse_synthetic", "S_pMSE"), ("utility_ci_overlap_mean_synthetic", "CI overlap"))


def seed_rows(summary: dict[str, Any] | None) -> tuple[list[str], list[dict[str, Any]]]:
    """Mean and standard deviation over all seeds of each run's headline figures (the study's runs
    table, ``summary["runs"]``): the column labels and one row per run with a figure."""
    runs = get_path(summary, "runs") or []
    keys = [(k, lab) for k, lab in SEED_KEYS if any(num((r.get("mean") or {}).get(k)) is not None for r in runs)]
    out = []
    for r in runs:
        mean, sd = r.get("mean") or {}, r.get("sd") or {}
        if not any(num(mean.get(k)) is not None for k, _ in keys):
            continue
        label = (f"original split: {r.get('linker', '')}" if r.get("stage") == "baseline"
                 else f"{r.get('synthesizer', '')} × {r.get('linker', '')}")
        out.append({"label": label,
                    "cells": [(num(mean.get(k)), num(sd.get(k))) for k, _ in keys]})
    return [lab for _, lab in keys], out

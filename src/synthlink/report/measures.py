"""The "Other registered measures" section: measures plugged in through a registry, which a study
entry (``seeds[i]["synthetic"][j]``) carries as

``"measures": {name: {"value": float | None, "ci": [lo, hi] | None, "goal": "lower" | "higher",
"range": [lo, hi], "summary": str, "control": float (optional), "error": str (only when it failed)}}``
(:func:`synthlink.evaluate.measures.run`).

One row per J* (synthesizer × linker), one column per measure name (in the order they first
appear), the header with each measure's goal and range. A cell holds the first seed's value with
its interval when the study has one seed, else the mean and standard deviation over the seeds where
the measure gave a value (:func:`synthlink.report.seeds.spread`); a measure that failed everywhere
says "failed", its error in the cell's title. The template escapes every string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthlink.report.format import fmt, num
from synthlink.report.seeds import spread
from synthlink.results import Estimate, RunRecord, StudyRecord


def _measures(run: RunRecord) -> Mapping[str, Any]:
    m = run.details.get("measures")
    return m if isinstance(m, Mapping) else {}


def _estimate(d: Mapping[str, Any]) -> Estimate | None:
    """A measure's value as an :class:`Estimate` (None when it failed or gave no value)."""
    if d.get("error") is not None:
        return None
    ci = d.get("ci")
    ci = ci if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
    try:
        e = Estimate.from_dict({"value": d.get("value"), "ci": ci})
    except (TypeError, ValueError):  # a value that is not a number: shown as no value
        return None
    return e if e.value is not None else None


def _end(x: Any, infinite: str) -> str:
    """One end of a range: whole numbers without decimals, an open end (null in JSON) as ``infinite``."""
    v = num(x)
    if v is None:
        return infinite
    return str(int(v)) if v.is_integer() else fmt(v)


def _header(name: str, d: Mapping[str, Any]) -> dict[str, Any]:
    """A column's header: the measure's name, its goal and range in words, and its summary."""
    goal, rng = d.get("goal"), d.get("range")
    text = None
    if isinstance(rng, (list, tuple)) and len(rng) == 2:
        text = f"[{_end(rng[0], '-∞')}, {_end(rng[1], '∞')}]"
    return {"name": name, "goal": f"{goal} is better" if goal in ("lower", "higher") else None, "range": text,
            "summary": str(d.get("summary") or "")}


def measure_table(study: StudyRecord) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The section's columns (name, goal, range, summary) and rows (label and one cell per column),
    empty when no entry of any seed has measures. A cell: ``value`` (a float or None), ``sd``,
    ``ci`` (single-seed studies), ``control`` (the measure on the control set, where it gives one;
    mean over seeds), ``n`` (seeds with a value), ``failed`` (seeds where it failed) and ``error``
    (the first error text)."""
    many = len(study.seeds) > 1
    columns: dict[str, dict[str, Any]] = {}
    by_run: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for seed in study.seeds:
        for run in seed.synthetic:
            ms = _measures(run)
            if not ms:
                continue
            by_run.setdefault((run.synthesizer or "", run.linker), []).append(dict(ms))
            for name, d in ms.items():
                if isinstance(d, Mapping) and (name not in columns or columns[name]["goal"] is None):
                    columns[str(name)] = _header(str(name), d)
    rows = []
    for (syn, linker), per_seed in by_run.items():
        cells = []
        for name in columns:
            ds = [d[name] for d in per_seed if isinstance(d.get(name), Mapping)]
            ests = [_estimate(d) for d in ds]
            errors = [str(d["error"]) for d in ds if d.get("error") is not None]
            vals = [e.value for e in ests if e is not None]
            s = spread(vals)
            ctl = spread(d.get("control") for d, e in zip(ds, ests, strict=True) if e is not None)
            first = next((e for e in ests if e is not None), None)
            cells.append({"value": s.mean, "sd": s.sd if many else None,
                          "ci": first.ci if first is not None and not many else None,
                          "control": ctl.mean, "n": s.n, "failed": len(errors), "error": errors[0] if errors else None,
                          "present": bool(ds)})
        rows.append({"label": f"{syn} × {linker}", "cells": cells})
    return list(columns.values()), rows

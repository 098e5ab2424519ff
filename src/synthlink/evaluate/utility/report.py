"""Utility of the linked synthetic joint table J* against train, with control against train as the
reference: :func:`utility_report` runs every section of :mod:`synthlink.evaluate.utility.sections`
and returns a JSON-serialisable dict; a failing section is recorded as an error entry and the
batch goes on.

The control set is a fresh real sample that never entered synthesis, so "control vs train" shows
how far pure sampling noise moves each score: a synthetic score near the control score is as good
as a real sample of the same kind can be. Every measure is reported for both, side by side.

Sampling: measures that grow faster than linearly with the rows or fit models (bivariate
associations, CI join, Frechet bounds, ML) use at most ``max_rows`` rows of each table, drawn
without replacement with the report's seed (16k-row tables are used whole with the default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError, SchemaError
from synthlink.evaluate.metric import Metric
from synthlink.evaluate.utility.association import column_roles
from synthlink.evaluate.utility.encoding import (
    GROUP,
    Encoded,
    column_kinds,
    jsonable,
    nanmean,
    subsample,
)
from synthlink.evaluate.utility.metrics import DESIGN_METRICS
from synthlink.evaluate.utility.sections import (
    Section,
    bivariate_section,
    ci_reference_section,
    cross_pairs,
    cross_part_section,
    encode_tables,
    frechet_section,
    ml_section,
    pmse_section,
    question_section,
    run_section,
    univariate_section,
)
from synthlink.threads import limited_threads


def utility_report(
    train: pd.DataFrame,
    control: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    *,
    part_columns: Mapping[str, Sequence[str]] | None = None,
    common: Sequence[str] = (),
    questions: Sequence[str | Mapping[str, Any]] = (),
    target: str | None = None,
    baseline: pd.DataFrame | None = None,
    seed: int = 0,
    identifier: str | None = None,
    kinds: Mapping[str, str] | None = None,
    ci_draws: int = 3,
    max_rows: int | None = 50_000,
    pmse_model: str = "logit",
    bins: int = 20,
    n_threads: int | None = 1,
) -> dict[str, Any]:
    """Every utility measure of the linked synthetic table ``synthetic`` (J*) against ``train``,
    with ``control`` against ``train`` beside it. JSON-serialisable result with keys
    ``univariate``, ``bivariate``, ``cross_part``, ``ci_reference``, ``frechet``, ``pmse``,
    ``questions``, ``ml``, ``summary``, ``metrics`` (flat list of :class:`Metric` dicts) and
    ``errors``. A failing section is an error entry; the others still run.

    Columns analysed: the common variables and the part columns when ``part_columns`` is given,
    else every column train and synthetic share; never ``identifier`` nor columns starting with
    ``_link``. ``baseline`` (the joint table reconstructed by linking the original split) is used
    by the research questions. ``ci_draws`` CI joins are averaged. ``n_threads`` caps the
    BLAS/OpenMP threads of the model fits (None = library default): gradient boosting on a busy
    shared machine ran 60x slower with free threading than with one thread."""
    with limited_threads(n_threads):
        return utility_report_unthreaded(
            train, control, synthetic, part_columns=part_columns, common=common, questions=questions,
            target=target, baseline=baseline, seed=seed, identifier=identifier, kinds=kinds,
            ci_draws=ci_draws, max_rows=max_rows, pmse_model=pmse_model, bins=bins)


def analysed_columns(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame | None,
                     part_columns: Mapping[str, Sequence[str]], common: Sequence[str],
                     identifier: str | None, target: str | None) -> list[str]:
    """The columns the report analyses (see :func:`utility_report`); a table lacking one is a
    :class:`SchemaError`, a target outside them a :class:`ConfigError`."""
    if len(train) == 0:
        raise InputError("utility: train has no rows")
    if len(synthetic) == 0:
        raise InputError("utility: the synthetic table has no rows")
    if part_columns or common:
        wanted = [*common, *[c for cols in part_columns.values() for c in cols]]
    else:
        wanted = [c for c in train.columns if c in synthetic.columns]
    wanted = [c for c in dict.fromkeys(wanted) if c != identifier and not str(c).startswith("_link")]
    for where, df in (("train", train), ("synthetic", synthetic), ("control", control)):
        if df is None:
            continue
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            raise SchemaError(f"utility: {where} lacks column(s) {', '.join(map(repr, missing))}")
    if target is not None and target not in wanted:
        raise ConfigError(f"utility: target '{target}' is not among the analysed columns")
    return wanted


def utility_report_unthreaded(
    train: pd.DataFrame, control: pd.DataFrame | None, synthetic: pd.DataFrame, *,
    part_columns: Mapping[str, Sequence[str]] | None, common: Sequence[str],
    questions: Sequence[str | Mapping[str, Any]], target: str | None, baseline: pd.DataFrame | None,
    seed: int, identifier: str | None, kinds: Mapping[str, str] | None, ci_draws: int,
    max_rows: int | None, pmse_model: str, bins: int,
) -> dict[str, Any]:
    """:func:`utility_report` without the thread cap (the caller sets it)."""
    part_columns = {str(k): list(v) for k, v in (part_columns or {}).items()}
    common = list(common)
    wanted = analysed_columns(train, synthetic, control, part_columns, common, identifier, target)
    kinds_ = column_kinds(train, wanted, kinds)
    roles = column_roles(wanted, part_columns, common)
    rng = np.random.default_rng(seed)
    errors: list[dict[str, Any]] = []

    uni = run_section("univariate", lambda: univariate_section(train, synthetic, control, kinds_, roles, bins), errors)

    # encodings (sampled) for bivariate, CI join, Frechet
    train_s = sampled(train, max_rows, rng).reset_index(drop=True)
    frames = {"train": train_s, "synthetic": sampled(synthetic, max_rows, rng)}
    if control is not None:
        frames["control"] = sampled(control, max_rows, rng)
    enc: dict[str, Encoded] = {}
    run_section("encode", lambda: encode_tables(frames, kinds_, enc), errors)
    failed = Section({"error": "encoding failed"})

    biv = run_section("bivariate", lambda: bivariate_section(enc, kinds_, roles), errors) if enc else failed
    cross_cols = cross_pairs(wanted, roles)
    ci_ref = run_section("ci_reference", lambda: ci_reference_section(
        enc, train_s, cross_cols, common, part_columns, wanted, kinds_, seed, ci_draws), errors) if enc else failed
    cross = run_section("cross_part", lambda: cross_part_section(biv.frame, ci_ref.value), errors)
    frechet = run_section("frechet", lambda: frechet_section(enc, train_s, cross_cols, common, kinds_),
                          errors) if enc else failed
    pmse = run_section("pmse", lambda: pmse_section(train, synthetic, control, wanted, pmse_model, seed), errors)
    tables = {"train": train, "baseline": baseline, "synthetic": synthetic, "control": control}
    qs = [question_entry(q, tables, errors) for q in questions]
    if target is not None:
        ml = run_section("ml", lambda: ml_section(train, synthetic, control, target, kinds_, seed, max_rows), errors)
    else:
        ml = Section({"note": "no target declared"})

    metrics = [m for sec in (uni, biv, ci_ref, cross, frechet, pmse, *qs, ml) for m in sec.metrics]
    report: dict[str, Any] = {
        "columns": [{"name": c, "kind": kinds_[c], "role": roles[c]} for c in wanted],
        "rows": {"train": len(train), "synthetic": len(synthetic), "control": None if control is None else len(control)},
        "seed": seed,
        "univariate": uni.value if isinstance(uni.value, list) else [uni.value],
        "bivariate": biv.value,
        "ci_reference": ci_ref.value,
        "cross_part": cross.value,
        "frechet": frechet.value,
        "pmse": pmse.value,
        "questions": [q.value for q in qs],
        "ml": ml.value,
    }
    report["summary"] = jsonable(summary(metrics, report["questions"], len(errors)))
    report["metrics"] = [m.to_dict() for m in metrics]
    report["errors"] = errors
    return jsonable(report)


def sampled(df: pd.DataFrame, max_rows: int | None, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``df`` (see :func:`~synthlink.evaluate.utility.encoding.subsample`)."""
    idx = subsample(len(df), max_rows, rng)
    return df if idx is None else df.iloc[idx].reset_index(drop=True)


def question_entry(q: str | Mapping[str, Any], tables: Mapping[str, pd.DataFrame | None],
                   errors: list[dict[str, Any]]) -> Section:
    """One research question's section of the report. A question that fails on train is an
    error entry besides its own ``error``."""
    label = f"question: {q.get('formula', q) if isinstance(q, Mapping) else q}"
    sec = run_section(label, lambda: question_section(q, tables), errors)
    r = sec.value
    if isinstance(r, dict) and "error" in r and "formula" not in r:
        sec = Section({"question": jsonable(q), **r}, sec.metrics)
    elif isinstance(r, dict) and r.get("error"):  # the fit on train failed
        errors.append(Metric(label, None, group=GROUP, error=r["error"]).to_dict())
    return sec


def summary(metrics: Sequence[Metric], questions: Sequence[Any], n_errors: int) -> dict[str, Any]:
    """The summary dict: each summary metric's value per table (``<name>_synthetic``, and
    ``<name>_control`` / ``_train`` / ``_unconditional`` from its details; design metrics under
    their bare name), the utility scores 1 - association difference, the mean CI overlaps over the
    research questions per table, and the number of errors."""
    s: dict[str, Any] = {}
    for m in metrics:
        if "[" in m.name:
            continue
        design = m.name in DESIGN_METRICS  # a property of train and the split, not of J*
        s[m.name if design else f"{m.name}_synthetic"] = m.value
        for ref in ("control", "train", "unconditional"):
            if ref in m.details:
                s[f"{m.name}_{ref}"] = m.details[ref]
    # one number per table for a privacy-utility plot: 1 - mean |association difference|
    for key, src in (("utility_score", "assoc_diff_mean"), ("cross_utility_score", "cross_assoc_diff_mean")):
        for name in ("synthetic", "control"):
            v = s.get(f"{src}_{name}")
            s[f"{key}_{name}"] = None if v is None else 1.0 - v
    for qr in questions:
        if isinstance(qr, dict) and "fits" in qr:
            for name, fit in qr["fits"].items():
                for key in ("ci_overlap_mean", "ci_overlap_orig_se_mean"):
                    if name != "train" and key in fit:
                        s.setdefault(f"{key}_{name}", [])
                        s[f"{key}_{name}"].append(fit[key])
    for k in [k for k in s if k.startswith(("ci_overlap_mean_", "ci_overlap_orig_se_mean_")) and isinstance(s[k], list)]:
        s[k] = nanmean(s[k])
    s["errors"] = n_errors
    return s

"""One self-contained HTML report from a study's metrics.

No scripts from elsewhere, no fonts or styles from the network: the file opens offline in any
browser. Every string that comes from data or configuration is escaped (Jinja2 autoescape, and
:mod:`synthlink.report.charts` escapes its own labels). The report shows aggregates only, never
records.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from synthlink.evaluate.privacy import HEADLINE_RISKS
from synthlink.evaluate.privacy.stats import wilson
from synthlink.io import write_text
from synthlink.report import charts
from synthlink.report.glossary import GLOSSARY

_env = Environment(
    loader=PackageLoader("synthlink", "report/templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return "n/a"
        if isinstance(v, int) or float(v).is_integer() and abs(v) >= 100:
            return f"{int(v):,}"
        return f"{v:.{digits}f}"
    return str(v)


_env.filters["f"] = _f


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


# ---------------------------------------------------------------------------------------------
# view model


def _risk(priv: Any, name: str) -> tuple[float | None, float | None, float | None]:
    v = _get(priv, name)
    if not isinstance(v, dict):
        return None, None, None
    ci = v.get("ci") or [None, None]
    return _num(v.get("risk")), _num(ci[0]) if ci else None, _num(ci[1]) if ci else None


def _max_risk(priv: Any) -> float | None:
    vals = [r for r in (_risk(priv, k)[0] for k in HEADLINE_RISKS) if r is not None]
    return max(vals) if vals else None


def _retained(util: Any, who: str = "synthetic") -> float | None:
    """The utility figure the report leads with: the share of the cross-part association beyond
    conditional independence that J* keeps (``cross_retained_mean``; 1 = all of it, as the real
    data; 0 = no more than a join on the common variables; below 0 = less). No composite "utility
    score": 1 - mean association difference barely separates methods (a marginals synthesizer that
    destroys every relationship scored 0.87 beside CART's 0.89), and two such scores under one name
    read as contradictory numbers."""
    return _num(_get(util, "summary", f"cross_retained_mean_{who}"))


def _accuracy_ci(b: dict[str, Any]) -> tuple[float | None, float | None, int | None]:
    """Wilson 95% interval of one-to-one accuracy, the share of the n true pairs linked correctly
    (each true pair one trial)."""
    q = b.get("quality") or {}
    a, n = _num(q.get("accuracy")), _num(q.get("true_pairs"))
    if a is None or not n:
        return None, None, None
    # true_positives counts correct pairs before the one-to-one step (recall); the accuracy's own
    # successes are accuracy x true pairs (a many-to-one hot deck has more of the former)
    r = wilson(round(a * n), int(n))
    lo, hi = r.ci()
    return lo, hi, int(n)


#: headline figures shown with their mean and spread over seeds (keys of the runs table)
_SEED_KEYS = (("accuracy", "accuracy"), ("f1", "F1"), ("risk_singling_out", "singling out"),
              ("risk_linkability", "linkability"), ("risk_inference", "inference"),
              ("risk_key_holder", "key holder"), ("utility_cross_retained_mean_synthetic", "retained beyond the design"),
              ("utility_s_pmse_synthetic", "S_pMSE"), ("utility_ci_overlap_mean_synthetic", "CI overlap"))


def _seed_rows(metrics: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Mean and standard deviation over all seeds of each run's headline figures (the study's runs
    table, metrics['summary']['runs'])."""
    runs = _get(metrics, "summary", "runs") or []
    keys = [(k, lab) for k, lab in _SEED_KEYS if any(_num((r.get("mean") or {}).get(k)) is not None for r in runs)]
    out = []
    for r in runs:
        mean, sd = r.get("mean") or {}, r.get("sd") or {}
        if not any(_num(mean.get(k)) is not None for k, _ in keys):
            continue
        label = (f"original split: {r.get('linker', '')}" if r.get("stage") == "baseline"
                 else f"{r.get('synthesizer', '')} × {r.get('linker', '')}")
        out.append({"label": label,
                    "cells": [(_num(mean.get(k)), _num(sd.get(k))) for k, _ in keys]})
    return [lab for _, lab in keys], out


#: the fits of a research question, in the order the report shows them
_FIT_SOURCES = (("train", "train"), ("baseline", "original split, linked"), ("synthetic", "J* (synthetic, linked)"),
                ("control", "control (fresh real)"))


def _fit_label(fits: dict[str, Any], src: str, label: str) -> str:
    """A fit's label with the number of observations behind it (the rows the model used)."""
    f = fits.get(src) or {}
    nobs = _num(f.get("nobs"))
    if nobs is None:
        return label
    return f"{label}, n = {int(nobs):,}"


def _question_rows(q: dict[str, Any]) -> list[tuple[str, float | None, float | None, float | None, str]]:
    """Coefficient intervals (estimate +/- 1.96 se) from train, the baseline link, J* and control,
    each labelled with the number of observations of its fit."""
    rows: list[tuple[str, float | None, float | None, float | None, str]] = []
    fits = q.get("fits") or {}
    train = {c["term"]: c for c in _get(fits, "train", "coefficients") or []}
    others = {src: {c["term"]: c for c in _get(fits, src, "coefficients") or []} for src, _ in _FIT_SOURCES}
    for term in train:
        if term == "Intercept":
            continue
        for label, coefs in ((_fit_label(fits, src, lab), others[src]) for src, lab in _FIT_SOURCES):
            e = coefs.get(term)
            if not e:
                continue
            b, se = _num(e.get("coef")), _num(e.get("se"))
            if b is None:
                continue
            lo = b - 1.96 * se if se is not None else None
            hi = b + 1.96 * se if se is not None else None
            rows.append((term, b, lo, hi, label))
    return rows


def build_view(metrics: dict[str, Any]) -> dict[str, Any]:
    seeds = metrics.get("seeds") or []
    first = seeds[0] if seeds else {}
    cfg = metrics.get("config") or {}
    # the reference every method is shown against: the expected bound (coverage and noise taken
    # into account); it equals the uniqueness bound when both parts hold the same people unchanged
    bound = _num(_get(first, "uniqueness_bound", "expected"))
    bound_sd = _num(_get(first, "uniqueness_bound", "expected_sd"))
    if bound is None:
        bound = _num(_get(first, "uniqueness_bound", "linked_population"))
    baseline = [b for b in first.get("baseline", []) if b.get("status") == "ok"]
    synthetic = [s for s in first.get("synthetic", []) if s.get("status") == "ok"]

    # linkage chart: accuracy per method vs the bound
    labels = [b["linker"] for b in baseline]
    acc = [_num(_get(b, "quality", "accuracy")) for b in baseline]
    f1 = [_num(_get(b, "quality", "f1")) for b in baseline]
    acc_ci = {b["linker"]: _accuracy_ci(b) for b in baseline}
    n_pairs = next((c[2] for c in acc_ci.values() if c[2]), None)
    linkage_chart = charts.hbar(labels, acc, lo=[acc_ci[lab][0] for lab in labels], hi=[acc_ci[lab][1] for lab in labels],
                                ref=bound, ref_label="expected bound", xmax=1.0,
                                title="One-to-one accuracy on the original split, with 95% interval",
                                xlabel="share of the true pairs linked correctly"
                                + (f" (n = {n_pairs:,} true pairs)" if n_pairs else "")) if baseline else ""

    # propensity diagnostic
    psm = []
    for b in first.get("baseline", []):
        d = b.get("diagnostics") or {}
        if "record_linkage_supported" in d:
            psm.append({"linker": b["linker"], "auc": d.get("auc"), "supported": d.get("record_linkage_supported"),
                        "populations_differ": d.get("populations_differ"), "same_population": d.get("same_population"),
                        "difference": _population_difference(d),
                        "reason": d.get("reason", ""), "share_ties": d.get("share_ties"),
                        "score_sd": d.get("score_sd")})

    # method warnings, grouped: one entry per linker and message (numbers in a message vary
    # from run to run, so messages are grouped by their first clause), listing where it arose
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for where, entries in (("original split", first.get("baseline", [])), (None, first.get("synthetic", []))):
        for e in entries:
            for w in e.get("warnings") or []:
                head = str(w).split(":")[0].split("(")[0].strip()
                g = grouped.setdefault((e["linker"], head), {"linker": e["linker"], "message": str(w), "where": []})
                g["where"].append(where or e.get("synthesizer", ""))
    warnings = list(grouped.values())

    # influence
    infl = first.get("influence") or {}
    var_rows = infl.get("variables") if isinstance(infl.get("variables"), list) else []
    infl_chart = ""
    if var_rows:
        if "loss_when_dropped" in var_rows[0]:
            infl_chart = charts.intervals(
                [(str(r.get("variable", "?")), _num(r.get(k)), None, None, lab) for r in var_rows
                 for k, lab in (("loss_when_dropped", "accuracy lost when dropped"),
                                ("accuracy_alone", "accuracy with this variable alone"),
                                ("bound_loss_when_dropped", "uniqueness bound lost when dropped"))],
                title=f"Influence of each common variable ({infl.get('linker', 'exact')} linkage, original split)",
                xlabel="share of the true pairs (accuracy, or uniqueness bound)")
    # Splink's match weights per variable (the baseline probabilistic run): EM beside m from the truth
    weight_rows: list[dict[str, Any]] = []
    weight_chart = ""
    prob = next((b for b in baseline if b.get("method") == "probabilistic" and not str(b.get("linker", "")).endswith(":truth")
                 and isinstance(_get(b, "diagnostics", "match_weights_em") or _get(b, "diagnostics", "match_weights_truth"), dict)), None)
    if prob is not None:
        d = prob.get("diagnostics") or {}
        em = d.get("match_weights_em") or {}
        tr = d.get("match_weights_truth") or {}
        points_w: list[tuple[str, float | None, float | None, float | None, str]] = []
        for var in d.get("linking_columns") or list(em or tr):
            levels_em = em.get(var) or []
            levels_tr = tr.get(var) or []
            for i in range(max(len(levels_em), len(levels_tr))):
                le = levels_em[i] if i < len(levels_em) else {}
                lt = levels_tr[i] if i < len(levels_tr) else {}
                weight_rows.append({"variable": var, "level": str(le.get("level") or lt.get("level") or ""),
                                    "u": _num(le.get("u", lt.get("u"))), "m_em": _num(le.get("m")),
                                    "weight_em": _num(le.get("weight")), "m_truth": _num(lt.get("m")),
                                    "weight_truth": _num(lt.get("weight"))})
            # the chart: the weight of exact agreement, the first non-null level
            if levels_em:
                points_w.append((str(var), _num(levels_em[0].get("weight")), None, None, "agreement weight, m by EM"))
            if levels_tr:
                points_w.append((str(var), _num(levels_tr[0].get("weight")), None, None, "agreement weight, m from the truth"))
        if points_w:
            weight_chart = charts.intervals(points_w, title=f"Splink's match weight of agreement per variable "
                                            f"({prob['linker']}, original split)",
                                            xlabel="match weight of exact agreement, bits: log2(m / u)")
    so_rows = infl.get("singling_out") if isinstance(infl.get("singling_out"), list) else []
    so_chart = ""
    if so_rows:
        by_k: dict[int, float] = {}
        for r in so_rows:
            k = int(r.get("k", 0) or 0)
            v = _num(r.get("share_unique_records"))
            if v is not None:
                by_k[k] = max(by_k.get(k, 0.0), v)
        if by_k:
            so_chart = charts.hbar([f"{k} variable(s)" for k in sorted(by_k)], [by_k[k] for k in sorted(by_k)], xmax=1.0,
                                   title="Highest share of people singled out, by combination size",
                                   xlabel="share of the people unique on the combination")
        so_rows = sorted(so_rows, key=lambda r: -(_num(r.get("share_unique_records")) or 0))[:10]

    # privacy-utility points
    points = []
    for s in synthetic:
        u = _retained(s.get("utility"))
        r = _max_risk(s.get("privacy"))
        if u is not None and r is not None:
            points.append((f"{s['synthesizer']} × {s['linker']}", r, u, s["synthesizer"]))
    pu_chart = charts.scatter(points, xlabel="highest privacy risk of J*, key holder included (lower is safer)",
                              ylabel="retained beyond the design (higher is better)") if points else ""

    # privacy intervals per table (parts and J*)
    priv_rows: list[tuple[str, float | None, float | None, float | None, str]] = []
    for syn, parts in (first.get("parts_privacy") or {}).items():
        for pname, priv in parts.items():
            for measure in HEADLINE_RISKS:
                r, lo, hi = _risk(priv, measure)
                if r is not None:
                    priv_rows.append((f"{syn}: {pname}*", r, lo, hi, measure.replace("_", " ")))
    for s in synthetic:
        for measure in HEADLINE_RISKS:
            r, lo, hi = _risk(s.get("privacy"), measure)
            if r is not None:
                priv_rows.append((f"{s['synthesizer']} × {s['linker']}: J*", r, lo, hi, measure.replace("_", " ")))
    priv_chart = charts.intervals(priv_rows, title="Privacy risk of each synthetic table, with 95% interval",
                                  xlabel="risk: excess success over the control set (0 = none, 1 = every attack)") if priv_rows else ""
    # which columns of each synthetic part single real people out on their own (univariate queries)
    so_columns: list[dict[str, Any]] = []
    for syn, parts in (first.get("parts_privacy") or {}).items():
        for pname, priv in parts.items():
            by = _get(priv, "singling_out", "univariate", "by_column")
            if not isinstance(by, dict):
                continue
            for col, c in list(by.items())[:3]:
                q, tr, co = (_num(c.get(k)) for k in ("queries", "train_successes", "control_successes"))
                if q and tr is not None and co is not None and tr > co:
                    so_columns.append({"table": f"{syn}: {pname}*", "column": col, "queries": int(q),
                                       "train": tr / q, "control": co / q})

    # research questions: coefficient intervals, train vs baseline link vs J*
    q_charts = []
    for s in synthetic:
        for q in _get(s, "utility", "questions") or []:
            if not isinstance(q, dict) or "fits" not in q:
                continue
            rows = _question_rows(q)
            if rows:
                q_charts.append({"title": f"{s['synthesizer']} × {s['linker']}: {q.get('formula', '')}",
                                 "svg": Markup(charts.coef_panels(rows)),
                                 "nobs": [(lab, _num(_get(q, "fits", src, "nobs")), _num(_get(q, "fits", src, "rows")))
                                          for src, lab in _FIT_SOURCES if isinstance(_get(q, "fits", src), dict)],
                                 "overlap": _get(q, "fits", "synthetic", "ci_overlap_mean"),
                                 "overlap_baseline": _get(q, "fits", "baseline", "ci_overlap_mean"),
                                 "overlap_control": _get(q, "fits", "control", "ci_overlap_mean")})
    q_charts = q_charts[:8]

    # cross-part relationships of the best-utility combination: train, what the design allows, J*
    cross_rows: list[dict[str, Any]] = []
    cross_chart = ""
    with_retained = [s for s in synthetic if _retained(s.get("utility")) is not None]
    best = max(with_retained, key=lambda s: _retained(s.get("utility")) or 0.0) if with_retained else None
    if best is not None:
        pairs = [p for p in (_get(best, "utility", "cross_part", "pairs") or []) if p.get("primary", True)]
        pairs = sorted(pairs, key=lambda p: -(_num(p.get("train")) or 0))[:12]
        rows = []
        for p in pairs:
            lab = f"{p.get('a')} ~ {p.get('b')}"
            rows.append((lab, _num(p.get("train")), None, None, "train"))
            rows.append((lab, _num(p.get("ci")), None, None, "design limit (conditional independence)"))
            rows.append((lab, _num(p.get("synthetic")), None, None, f"J* ({best['synthesizer']} × {best['linker']})"))
            cross_rows.append(p)
        cross_chart = charts.intervals(rows, title="Association of cross-part pairs",
                                       xlabel="association (Spearman, Cramér's V or eta; 0 = none)") if rows else ""

    # utility table: headline numbers with the control reference
    util_rows = []
    for s in synthetic:
        summ = _get(s, "utility", "summary") or {}
        util_rows.append({"label": f"{s['synthesizer']} × {s['linker']}", **{k: summ.get(k) for k in (
            "assoc_diff_mean_synthetic", "assoc_diff_mean_control", "cross_assoc_diff_mean_synthetic",
            "cross_assoc_diff_mean_control", "cross_retained_mean_synthetic", "cross_retained_mean_control",
            "ci_overlap_mean_synthetic", "ci_overlap_mean_control", "s_pmse_synthetic",
            "s_pmse_control", "ml_r2_synthetic", "ml_r2_train", "ml_accuracy_synthetic", "ml_accuracy_train")}})

    # the share of people unique on all the common variables together (the full combination)
    common = _get(first, "uniqueness_bound", "columns") or []
    full = [r for r in (infl.get("singling_out") or []) if isinstance(r, dict) and int(r.get("k", 0) or 0) == len(common)]
    unique_common = max((_num(r.get("share_unique_records")) or 0.0 for r in full), default=None) if full and common else None
    seed_cols, seed_rows = _seed_rows(metrics)
    verdict = _verdict(first, baseline, synthetic, bound, psm, bound_sd)
    flags = _red_flags(so_columns, unique_common, common)
    failures = [f for f in (metrics.get("failures") or []) if isinstance(f, dict)]
    guarantees = _guarantees(first)
    return {
        "name": metrics.get("name", "study"),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": metrics.get("synthlink_version", ""),
        "config": cfg,
        "config_json": json.dumps(cfg, indent=2, default=str),
        "first": first,
        "seeds": [s.get("seed") for s in seeds],
        "shown_seed": first.get("seed"),
        "seed_cols": seed_cols,
        "seed_rows": seed_rows,
        "acc_ci": acc_ci,
        "unique_common": unique_common,
        "bound": bound,
        "bound_sd": bound_sd,
        "bound_all": _num(_get(first, "uniqueness_bound", "common_all_train")),
        "bound_linked": _num(_get(first, "uniqueness_bound", "linked_population")),
        "common": _get(first, "uniqueness_bound", "columns") or [],
        "baseline": baseline,
        "baseline_all": first.get("baseline", []),
        "synthetic": synthetic,
        "synthetic_all": first.get("synthetic", []),
        "linkage_chart": Markup(linkage_chart),
        "f1": f1,
        "psm": psm,
        "warnings": warnings,
        "infl_chart": Markup(infl_chart),
        "var_rows": var_rows,
        "so_chart": Markup(so_chart),
        "so_rows": so_rows,
        "pu_chart": Markup(pu_chart),
        "priv_chart": Markup(priv_chart),
        "so_columns": so_columns,
        "risk_names": HEADLINE_RISKS,
        "weight_rows": weight_rows,
        "weight_chart": Markup(weight_chart),
        "q_charts": q_charts,
        "cross_chart": Markup(cross_chart),
        "cross_rows": cross_rows,
        "util_rows": util_rows,
        "verdict": verdict,
        "flags": flags,
        "failures": failures,
        "guarantees": guarantees,
        "summary": metrics.get("summary") or {},
        "timings": metrics.get("timings_seconds") or {},
        "total_seconds": metrics.get("total_seconds"),
        "glossary": GLOSSARY,
        "retained": _retained,
        "max_risk": _max_risk,
        "risk": _risk,
    }


def _population_difference(d: dict[str, Any]) -> str:
    """The propensity diagnostic's reading of its AUC in words, the same three levels as its text:
    at chance (same population), slight, or clear (at or above the method's ``min_auc``)."""
    if d.get("same_population"):
        return "no (AUC at chance)"
    if d.get("populations_differ"):
        return "yes"
    return "slightly" if _num(d.get("auc")) is not None else "n/a"


def _guarantees(first: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per DP synthesizer and part: its epsilon and what epsilon does not cover (parts of
    the output shaped by values read from the data instead of declared), shown beside the label."""
    rows = []
    for syn, parts in (first.get("guarantees") or {}).items():
        for pname, g in (parts or {}).items():
            if not isinstance(g, dict):
                continue
            rows.append({"synthesizer": syn, "part": f"{pname}*", "epsilon": _num(g.get("epsilon")),
                         "delta": _num(g.get("delta")), "not_covered": [str(x) for x in g.get("not_covered") or []],
                         "assumed_public": [str(x) for x in g.get("assumed_public") or []]})
    return rows


def _red_flags(so_columns: list[dict[str, Any]] | None, unique_common: float | None,
               common: list[str] | None) -> list[str]:
    """What a reader must not miss, shown in the summary right after the verdict."""
    lines = []
    for c in so_columns or []:
        # flagged when the two Wilson 95% intervals are apart: a few queries prove nothing
        q = int(c["queries"])
        if wilson(c["train"] * q, q).ci()[0] > wilson(c["control"] * q, q).ci()[1]:
            lines.append(
                f"Red flag: in {c['table']}, the column '{c['column']}' on its own isolates a real person of the "
                f"training data in {c['train']:.3f} of {c['queries']:,} queries, against {c['control']:.3f} for people the "
                "synthesizer never saw: it gives away real values (smooth or coarsen it before release)."
            )
    if unique_common is not None and common:
        lines.append(
            f"Red flag: {unique_common:.0%} of the people are unique on the common variables "
            f"({' + '.join(str(c) for c in common)}): whoever knows these of a person singles them out in each "
            "real part. The same variables are what every linker uses."
        )
    return lines


def _verdict(first: dict[str, Any], baseline: list[dict[str, Any]], synthetic: list[dict[str, Any]], bound: float | None,
             psm: list[dict[str, Any]], bound_sd: float | None = None) -> list[str]:
    lines = []
    nonid = [b for b in baseline if b.get("method") != "identifier"]
    if nonid and bound is not None:
        best = max(nonid, key=lambda b: _num(_get(b, "quality", "accuracy")) or 0)
        a = _num(_get(best, "quality", "accuracy")) or 0.0
        lo, hi, n = _accuracy_ci(best)
        ci = f" [95% interval {lo:.1%}, {hi:.1%}; n = {n:,} true pairs]" if lo is not None and hi is not None and n else ""
        lines.append(
            f"On the original split, the best method without the identifier ({best['linker']}) links "
            f"{a:.1%}{ci} of people correctly; the best any method using only the common variables can expect "
            f"here is {bound:.1%}, so it reaches {a / bound:.0%} of that bound."
            if bound else f"Best method without the identifier: {best['linker']}, accuracy {a:.1%}."
        )
        if bound and bound_sd:
            at = [b["linker"] for b in nonid if abs((_num(_get(b, "quality", "accuracy")) or 0.0) - bound) <= 2 * bound_sd]
            lines.append(
                f"Which of several people with identical common values a link takes is a random choice: one seed's "
                f"accuracy varies by about {bound_sd:.1%} (one standard deviation) around the expected bound. "
                + (f"Within two of them: {', '.join(at)}; these methods do as well as the data allow."
                   if at else "No method is within two of them.")
            )
        if bound < 0.5:
            lines.append(
                "The common variables single out fewer than half of the people: record-level linkage of "
                "independently synthesized parts cannot recover individuals; at best it preserves "
                "relationships that the common variables explain."
            )
    by_label = {b["linker"]: b for b in baseline}
    for label, b in by_label.items():
        if not label.endswith(":truth"):
            continue
        em = by_label.get(label[: -len(":truth")])
        a_t = _num(_get(b, "quality", "accuracy"))
        a_em = _num(_get(em, "quality", "accuracy")) if em else None
        if a_t is not None and a_em is not None and a_t - a_em > 0.05:
            lines.append(
                f"Probabilistic linkage with m estimated by EM links {a_em:.1%} correctly on the original split, "
                f"against {a_t:.1%} with m trained from the true pairs: EM failed on these common variables, "
                "so its links on the synthetic parts (where no truth exists) cannot be trusted."
            )
    for p in psm:
        if p.get("supported") is False:
            reason = str(p.get("reason") or "the scores cannot tell the records of the two parts apart")
            head = ("Propensity score matching fails for record-level matching here: both parts come from the "
                    "same population" if p.get("same_population") else
                    "Propensity score matching does not link records: the AUC measures how the parts' populations "
                    "differ, not who is who")
            lines.append(f"{head} (AUC {_f(p.get('auc'))}). {reason.rstrip('.')}.")
    keyed = [(s, _risk(s.get("privacy"), "key_holder")) for s in synthetic]
    keyed = [(s, r) for s, r in keyed if r[0] is not None]
    if keyed:
        s, (r, lo, hi) = max(keyed, key=lambda x: x[1][0] or 0.0)
        secret = _get(s, "privacy", "key_holder", "secret")
        lines.append(
            f"Record-preserving synthesis ({s['synthesizer']} × {s['linker']}) ties every row to a real person "
            f"through the pseudonymised key: whoever holds the key reads that person's own row, which gives away "
            f"their true '{secret}' beyond chance with risk {_f(r)} [{_f(lo)}, {_f(hi)}]. Fully synthetic rows "
            "belong to nobody and carry no such risk."
        )
    if synthetic:
        scored = [(s, _retained(s.get("utility")), _max_risk(s.get("privacy"))) for s in synthetic]
        with_u = [x for x in scored if x[1] is not None]
        if with_u:
            s, u, r = max(with_u, key=lambda x: x[1] or 0.0)
            ctl = _retained(s.get("utility"), "control")
            lines.append(
                f"Most cross-part association kept on synthetic parts: {s['synthesizer']} × {s['linker']} retains "
                f"{_f(u)} of the association beyond the design (1 = all, as the real data; 0 = no more than a join "
                "on the common variables"
                + (f"; fresh real records {_f(ctl)}" if ctl is not None else "") + ")"
                + (f", highest privacy risk {_f(r)}." if r is not None else ".")
            )
    return lines


def render(metrics: dict[str, Any]) -> str:
    view = build_view(metrics)
    return _env.get_template("report.html.j2").render(**view)


def write_report(metrics: dict[str, Any], path: str | Path) -> Path:
    return write_text(render(metrics), path)


def write_report_from_folder(folder: str | Path) -> Path:
    folder = Path(folder)
    p = folder / "metrics.json"
    if not p.exists():
        from synthlink.errors import InputError

        raise InputError(f"{folder}: no metrics.json (run a study first)")
    return write_report(json.loads(p.read_text(encoding="utf-8")), folder / "report.html")

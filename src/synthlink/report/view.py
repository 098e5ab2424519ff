"""The view model of the report: everything the template shows, built from a metrics dict.

The headline records (seeds, baseline and synthetic runs, their linkage quality and privacy risks)
are read through the typed views of :mod:`synthlink.results` (:meth:`StudyRecord.from_metrics`);
method-specific sections (utility details, diagnostics, influence) stay the dicts the study wrote.
The key figures and the linkage table show the mean and spread over seeds
(:mod:`synthlink.report.seeds`); the charts and the other tables show the first seed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from synthlink.evaluate.privacy import HEADLINE_RISKS
from synthlink.report import charts
from synthlink.report.bridge import bridge_view, bridged_labels
from synthlink.report.decision import decision_view
from synthlink.report.figures import accuracy, accuracy_ci, max_risk, retained, risk
from synthlink.report.format import get_path, num
from synthlink.report.glossary import GLOSSARY
from synthlink.report.measures import measure_table
from synthlink.report.seeds import kpis, linkage_rows, seed_bound, seed_rows
from synthlink.report.verdict import red_flags, verdict
from synthlink.results import RunRecord, SeedRecord, StudyRecord

Interval = tuple[str, float | None, float | None, float | None, str]

#: the fits of a research question, in the order the report shows them
FIT_SOURCES = (("train", "train"), ("baseline", "original split, linked"), ("synthetic", "J* (synthetic, linked)"),
               ("control", "control (fresh real)"))


def _label(s: RunRecord) -> str:
    return f"{s.synthesizer} × {s.linker}"


def _fit_label(fits: dict[str, Any], src: str, label: str) -> str:
    """A fit's label with the number of observations behind it (the rows the model used)."""
    nobs = num((fits.get(src) or {}).get("nobs"))
    return label if nobs is None else f"{label}, n = {int(nobs):,}"


def question_rows(q: dict[str, Any]) -> list[Interval]:
    """Coefficient intervals (estimate +/- 1.96 se) from train, the baseline link, J* and control,
    each labelled with the number of observations of its fit."""
    rows: list[Interval] = []
    fits = q.get("fits") or {}
    train = {c["term"]: c for c in get_path(fits, "train", "coefficients") or []}
    others = {src: {c["term"]: c for c in get_path(fits, src, "coefficients") or []} for src, _ in FIT_SOURCES}
    for term in train:
        if term == "Intercept":
            continue
        for label, coefs in ((_fit_label(fits, src, lab), others[src]) for src, lab in FIT_SOURCES):
            e = coefs.get(term)
            if not e:
                continue
            b, se = num(e.get("coef")), num(e.get("se"))
            if b is None:
                continue
            lo = b - 1.96 * se if se is not None else None
            hi = b + 1.96 * se if se is not None else None
            rows.append((term, b, lo, hi, label))
    return rows


def population_difference(d: dict[str, Any]) -> str:
    """The propensity diagnostic's reading of its AUC in words, the same three levels as its text:
    at chance (same population), slight, or clear (at or above the method's ``min_auc``)."""
    if d.get("same_population"):
        return "no (AUC at chance)"
    if d.get("populations_differ"):
        return "yes"
    return "slightly" if num(d.get("auc")) is not None else "n/a"


def _psm(first: SeedRecord) -> list[dict[str, Any]]:
    """The propensity diagnostic of each baseline run that wrote one."""
    psm = []
    for b in first.baseline:
        d = b.diagnostics or {}
        if "record_linkage_supported" in d:
            psm.append({"linker": b.linker, "auc": d.get("auc"), "supported": d.get("record_linkage_supported"),
                        "populations_differ": d.get("populations_differ"), "same_population": d.get("same_population"),
                        "difference": population_difference(d),
                        "reason": d.get("reason", ""), "share_ties": d.get("share_ties"),
                        "score_sd": d.get("score_sd")})
    return psm


def _warnings(first: SeedRecord) -> list[dict[str, Any]]:
    """Method warnings, grouped: one entry per linker and message (numbers in a message vary from
    run to run, so messages are grouped by their first clause), listing where it arose."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for where, entries in (("original split", first.baseline), (None, first.synthetic)):
        for e in entries:
            for w in e.warnings or ():
                head = str(w).split(":")[0].split("(")[0].strip()
                g = grouped.setdefault((e.linker, head), {"linker": e.linker, "message": str(w), "where": []})
                g["where"].append(where or e.synthesizer or "")
    return list(grouped.values())


def _linkage_chart(baseline: list[RunRecord], acc_ci: dict[str, Any], bound: float | None) -> str:
    """One-to-one accuracy per baseline method with its Wilson interval, against the bound."""
    if not baseline:
        return ""
    labels = [b.linker for b in baseline]
    n_pairs = next((c[2] for c in acc_ci.values() if c[2]), None)
    return charts.hbar(labels, [accuracy(b) for b in baseline], lo=[acc_ci[lab][0] for lab in labels],
                       hi=[acc_ci[lab][1] for lab in labels], ref=bound, ref_label="expected bound", xmax=1.0,
                       title="One-to-one accuracy on the original split, with 95% interval",
                       xlabel="share of the true pairs linked correctly"
                       + (f" (n = {n_pairs:,} true pairs)" if n_pairs else ""))


def _influence_chart(infl: dict[str, Any], var_rows: list[dict[str, Any]]) -> str:
    if not var_rows or "loss_when_dropped" not in var_rows[0]:
        return ""
    return charts.intervals(
        [(str(r.get("variable", "?")), num(r.get(k)), None, None, lab) for r in var_rows
         for k, lab in (("loss_when_dropped", "accuracy lost when dropped"),
                        ("accuracy_alone", "accuracy with this variable alone"),
                        ("bound_loss_when_dropped", "uniqueness bound lost when dropped"))],
        title=f"Influence of each common variable ({infl.get('linker', 'exact')} linkage, original split)",
        xlabel="share of the true pairs (accuracy, or uniqueness bound)")


def _weights(baseline: list[RunRecord]) -> tuple[list[dict[str, Any]], str]:
    """Splink's match weights per variable (the baseline probabilistic run): EM beside m from the
    truth, as table rows and a chart of the weight of exact agreement."""
    weight_rows: list[dict[str, Any]] = []
    prob = next((b for b in baseline if b.method == "probabilistic" and not b.linker.endswith(":truth")
                 and isinstance(get_path(b.diagnostics, "match_weights_em")
                                or get_path(b.diagnostics, "match_weights_truth"), dict)), None)
    if prob is None:
        return weight_rows, ""
    d = prob.diagnostics or {}
    em = d.get("match_weights_em") or {}
    tr = d.get("match_weights_truth") or {}
    points_w: list[Interval] = []
    for var in d.get("linking_columns") or list(em or tr):
        levels_em = em.get(var) or []
        levels_tr = tr.get(var) or []
        for i in range(max(len(levels_em), len(levels_tr))):
            le = levels_em[i] if i < len(levels_em) else {}
            lt = levels_tr[i] if i < len(levels_tr) else {}
            weight_rows.append({"variable": var, "level": str(le.get("level") or lt.get("level") or ""),
                                "u": num(le.get("u", lt.get("u"))), "m_em": num(le.get("m")),
                                "weight_em": num(le.get("weight")), "m_truth": num(lt.get("m")),
                                "weight_truth": num(lt.get("weight"))})
        # the chart: the weight of exact agreement, the first non-null level
        if levels_em:
            points_w.append((str(var), num(levels_em[0].get("weight")), None, None, "agreement weight, m by EM"))
        if levels_tr:
            points_w.append((str(var), num(levels_tr[0].get("weight")), None, None, "agreement weight, m from the truth"))
    chart = charts.intervals(points_w, title=f"Splink's match weight of agreement per variable "
                             f"({prob.linker}, original split)",
                             xlabel="match weight of exact agreement, bits: log2(m / u)") if points_w else ""
    return weight_rows, chart


def _singling_out(so_rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The highest share of people unique on a combination of k common variables, by k (chart), and
    the ten combinations that single out the most (table)."""
    if not so_rows:
        return so_rows, ""
    by_k: dict[int, float] = {}
    for r in so_rows:
        k = int(r.get("k", 0) or 0)
        v = num(r.get("share_unique_records"))
        if v is not None:
            by_k[k] = max(by_k.get(k, 0.0), v)
    chart = ""
    if by_k:
        chart = charts.hbar([f"{k} variable(s)" for k in sorted(by_k)], [by_k[k] for k in sorted(by_k)], xmax=1.0,
                            title="Highest share of people singled out, by combination size",
                            xlabel="share of the people unique on the combination")
    return sorted(so_rows, key=lambda r: -(num(r.get("share_unique_records")) or 0))[:10], chart


def _pu_chart(synthetic: list[RunRecord]) -> str:
    """Privacy against utility: one point per J* with both a retained figure and a risk."""
    points = []
    for s in synthetic:
        u, r = retained(s.utility), max_risk(s.privacy)
        if u is not None and r is not None:
            points.append((_label(s), r, u, s.synthesizer or ""))
    return charts.scatter(points, xlabel="highest privacy risk of J*, key holder included (lower is safer)",
                          ylabel="retained beyond the design (higher is better)") if points else ""


def _priv_chart(first: SeedRecord, synthetic: list[RunRecord]) -> str:
    """Privacy intervals per table: each synthetic part, then each J*."""
    priv_rows: list[Interval] = []
    for syn, parts in (first.parts_privacy or {}).items():
        for pname, priv in parts.items():
            for measure in HEADLINE_RISKS:
                r, lo, hi = risk(priv, measure)
                if r is not None:
                    priv_rows.append((f"{syn}: {pname}*", r, lo, hi, measure.replace("_", " ")))
    for s in synthetic:
        for measure in HEADLINE_RISKS:
            r, lo, hi = risk(s.privacy, measure)
            if r is not None:
                priv_rows.append((f"{_label(s)}: J*", r, lo, hi, measure.replace("_", " ")))
    return charts.intervals(priv_rows, title="Privacy risk of each synthetic table, with 95% interval",
                            xlabel="risk: excess success over the control set (0 = none, 1 = every attack)") if priv_rows else ""


def _so_columns(first: SeedRecord) -> list[dict[str, Any]]:
    """Which columns of each synthetic part single real people out on their own (univariate
    queries): the first three columns of each part isolating more training than control people."""
    out: list[dict[str, Any]] = []
    for syn, parts in (first.parts_privacy or {}).items():
        for pname, priv in parts.items():
            by = get_path(priv, "singling_out", "univariate", "by_column")
            if not isinstance(by, dict):
                continue
            for col, c in list(by.items())[:3]:
                q, tr, co = (num(c.get(k)) for k in ("queries", "train_successes", "control_successes"))
                if q and tr is not None and co is not None and tr > co:
                    out.append({"table": f"{syn}: {pname}*", "column": col, "queries": int(q),
                                "train": tr / q, "control": co / q})
    return out


def _questions(synthetic: list[RunRecord]) -> list[dict[str, Any]]:
    """Research questions: coefficient intervals, train vs baseline link vs J* (at most eight)."""
    q_charts = []
    for s in synthetic:
        for q in get_path(s.utility, "questions") or []:
            if not isinstance(q, dict) or "fits" not in q:
                continue
            rows = question_rows(q)
            if rows:
                q_charts.append({"title": f"{_label(s)}: {q.get('formula', '')}",
                                 "svg": Markup(charts.coef_panels(rows)),
                                 "nobs": [(lab, num(get_path(q, "fits", src, "nobs")), num(get_path(q, "fits", src, "rows")))
                                          for src, lab in FIT_SOURCES if isinstance(get_path(q, "fits", src), dict)],
                                 "overlap": get_path(q, "fits", "synthetic", "ci_overlap_mean"),
                                 "overlap_baseline": get_path(q, "fits", "baseline", "ci_overlap_mean"),
                                 "overlap_control": get_path(q, "fits", "control", "ci_overlap_mean")})
    return q_charts[:8]


def _forests(synthetic: list[RunRecord]) -> list[dict[str, Any]]:
    """One forest plot per research question across every option: each coefficient a panel, the
    real data (train), fresh real records (control) and every option's J* its rows."""
    by_formula: dict[str, list[Interval]] = {}
    seen: set[str] = set()
    for s in synthetic:
        for q in get_path(s.utility, "questions") or []:
            if not isinstance(q, dict) or "fits" not in q:
                continue
            f = str(q.get("formula", ""))
            rows = by_formula.setdefault(f, [])
            srcs = [("synthetic", _label(s))] if f in seen else [("train", "train (real data)"),
                                                                   ("control", "control (fresh real)"),
                                                                   ("synthetic", _label(s))]
            seen.add(f)
            fits = q["fits"]
            for src, lab in srcs:
                for c in get_path(fits, src, "coefficients") or []:
                    b, se = num(c.get("coef")), num(c.get("se"))
                    if c.get("term") == "Intercept" or b is None:
                        continue
                    rows.append((str(c["term"]), b, b - 1.96 * se if se is not None else None,
                                 b + 1.96 * se if se is not None else None, lab))
    return [{"formula": f, "svg": Markup(charts.coef_panels(rows))} for f, rows in by_formula.items() if rows]


def _cross(synthetic: list[RunRecord]) -> tuple[list[dict[str, Any]], str]:
    """Cross-part relationships of the best-utility combination: train, what the design allows, J*."""
    with_retained = [s for s in synthetic if retained(s.utility) is not None]
    best = max(with_retained, key=lambda s: retained(s.utility) or 0.0) if with_retained else None
    if best is None:
        return [], ""
    pairs = [p for p in (get_path(best.utility, "cross_part", "pairs") or []) if p.get("primary", True)]
    pairs = sorted(pairs, key=lambda p: -(num(p.get("train")) or 0))[:12]
    rows: list[Interval] = []
    for p in pairs:
        lab = f"{p.get('a')} ~ {p.get('b')}"
        rows.append((lab, num(p.get("train")), None, None, "train"))
        rows.append((lab, num(p.get("ci")), None, None, "design limit (conditional independence)"))
        rows.append((lab, num(p.get("synthetic")), None, None, f"J* ({_label(best)})"))
    chart = charts.intervals(rows, title="Association of cross-part pairs",
                             xlabel="association (Spearman, Cramér's V or eta; 0 = none)") if rows else ""
    return pairs, chart


#: the utility table's keys of a utility summary
UTILITY_KEYS = ("assoc_diff_mean_synthetic", "assoc_diff_mean_control", "cross_assoc_diff_mean_synthetic",
                "cross_assoc_diff_mean_control", "cross_retained_mean_synthetic", "cross_retained_mean_control",
                "ci_overlap_mean_synthetic", "ci_overlap_mean_control", "s_pmse_synthetic",
                "s_pmse_control", "ml_r2_synthetic", "ml_r2_train", "ml_accuracy_synthetic", "ml_accuracy_train")


def _util_rows(synthetic: list[RunRecord]) -> list[dict[str, Any]]:
    """The utility table: headline numbers with the control reference."""
    rows = []
    for s in synthetic:
        summ = get_path(s.utility, "summary") or {}
        rows.append({"label": _label(s), **{k: summ.get(k) for k in UTILITY_KEYS}})
    return rows


def guarantees(first: SeedRecord) -> list[dict[str, Any]]:
    """One row per DP synthesizer and part: its epsilon and what epsilon does not cover (parts of
    the output shaped by values read from the data instead of declared), shown beside the label."""
    rows = []
    for syn, parts in (first.details.get("guarantees") or {}).items():
        for pname, g in (parts or {}).items():
            if not isinstance(g, dict):
                continue
            rows.append({"synthesizer": syn, "part": f"{pname}*", "epsilon": num(g.get("epsilon")),
                         "delta": num(g.get("delta")), "not_covered": [str(x) for x in g.get("not_covered") or []],
                         "assumed_public": [str(x) for x in g.get("assumed_public") or []]})
    return rows


def build_view(metrics: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, from a metrics dict (as loaded from metrics.json; optional
    sections may be absent)."""
    study = StudyRecord.from_metrics(metrics)
    first = study.seeds[0] if study.seeds else SeedRecord(seed=0)
    cfg = study.config or {}
    bound, bound_sd = seed_bound(first)
    baseline = [b for b in first.baseline if b.status == "ok"]
    synthetic = [s for s in first.synthetic if s.status == "ok"]
    acc_ci = {b.linker: accuracy_ci(b.quality) for b in baseline}
    psm = _psm(first)

    infl = first.details.get("influence") or {}
    var_rows: list[dict[str, Any]] = infl["variables"] if isinstance(infl.get("variables"), list) else []
    weight_rows, weight_chart = _weights(baseline)
    so_rows, so_chart = _singling_out(infl["singling_out"] if isinstance(infl.get("singling_out"), list) else [])
    so_columns = _so_columns(first)
    cross_rows, cross_chart = _cross(synthetic)

    # the share of people unique on all the common variables together (the full combination)
    common = get_path(first.uniqueness_bound, "columns") or []
    full = [r for r in (infl.get("singling_out") or []) if isinstance(r, dict) and int(r.get("k", 0) or 0) == len(common)]
    unique_common = max((num(r.get("share_unique_records")) or 0.0 for r in full), default=None) if full and common else None
    seed_cols, seed_rows_ = seed_rows(study.summary)
    measure_cols, measure_rows = measure_table(study)
    bridged = bridged_labels(first)
    bridge = bridge_view(first, baseline, synthetic)
    decision = decision_view(first, synthetic)
    if bridge is not None:
        bridge["chart"] = Markup(bridge["chart"])  # charts escape their own labels
    return {
        "name": metrics.get("name", "study"),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": metrics.get("synthlink_version", ""),
        "config": cfg,
        "config_json": json.dumps(cfg, indent=2, default=str),
        "first": first,
        "seeds": [s.seed for s in study.seeds],
        "shown_seed": first.seed if study.seeds else None,
        "kpis": kpis(study),
        "link_rows": linkage_rows(study),
        "seed_cols": seed_cols,
        "seed_rows": seed_rows_,
        "acc_ci": acc_ci,
        "unique_common": unique_common,
        "bound": bound,
        "bound_sd": bound_sd,
        "bound_all": num(get_path(first.uniqueness_bound, "common_all_train")),
        "bound_linked": num(get_path(first.uniqueness_bound, "linked_population")),
        "common": common,
        "baseline": baseline,
        "baseline_all": list(first.baseline),
        "synthetic": synthetic,
        "synthetic_all": list(first.synthetic),
        "linkage_chart": Markup(_linkage_chart(baseline, acc_ci, bound)),
        "f1": [b.quality.f1 if b.quality is not None else None for b in baseline],
        "psm": psm,
        "warnings": _warnings(first),
        "infl_chart": Markup(_influence_chart(infl, var_rows)),
        "var_rows": var_rows,
        "so_chart": Markup(so_chart),
        "so_rows": so_rows,
        "pu_chart": Markup(_pu_chart(synthetic)),
        "priv_chart": Markup(_priv_chart(first, synthetic)),
        "so_columns": so_columns,
        "risk_names": HEADLINE_RISKS,
        "weight_rows": weight_rows,
        "weight_chart": Markup(weight_chart),
        "q_charts": _questions(synthetic),
        "forests": _forests(synthetic),
        "cross_chart": Markup(cross_chart),
        "cross_rows": cross_rows,
        "util_rows": _util_rows(synthetic),
        "measure_cols": measure_cols,
        "measure_rows": measure_rows,
        "verdict": [q["verdict"] for q in (decision or {}).get("questions", []) if q.get("verdict")]
        + verdict([b for b in baseline if b.linker not in bridged],
                  [s for s in synthetic if s.details.get("option") != "central synthesis"], bound, psm, bound_sd)
        + (bridge["lines"] if bridge else []),
        "decision": decision,
        "bridge": bridge,
        "flags": red_flags(so_columns, unique_common, common),
        "failures": list(study.failures),
        "guarantees": guarantees(first),
        "summary": study.summary or {},
        "timings": metrics.get("timings_seconds") or {},
        "total_seconds": metrics.get("total_seconds"),
        "glossary": GLOSSARY,
        "retained": retained,
        "max_risk": max_risk,
        "risk": risk,
    }

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


def _utility_score(util: Any, key: str = "cross_utility_score_synthetic") -> float | None:
    """A headline utility number of a utility report's summary: by default the cross-part score
    (1 - mean absolute difference in association over pairs of variables held by different
    institutions: what linkage must preserve)."""
    s = _get(util, "summary")
    if isinstance(s, dict):
        for k in (key, "utility_score_synthetic", "score"):
            if _num(s.get(k)) is not None:
                return _num(s.get(k))
    return None


def _question_rows(q: dict[str, Any]) -> list[tuple[str, float | None, float | None, float | None, str]]:
    """Coefficient intervals (estimate +/- 1.96 se) from train, the baseline link and J*."""
    rows: list[tuple[str, float | None, float | None, float | None, str]] = []
    fits = q.get("fits") or {}
    train = {c["term"]: c for c in _get(fits, "train", "coefficients") or []}
    others = {src: {c["term"]: c for c in _get(fits, src, "coefficients") or []} for src in ("baseline", "synthetic")}
    for term in train:
        if term == "Intercept":
            continue
        for label, coefs in (("train", train), ("original split, linked", others["baseline"]),
                             ("synthetic, linked (J*)", others["synthetic"])):
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
    linkage_chart = charts.hbar(labels, acc, ref=bound, ref_label="expected bound", xmax=1.0,
                                title="One-to-one accuracy on the original split") if baseline else ""

    # propensity diagnostic
    psm = []
    for b in first.get("baseline", []):
        d = b.get("diagnostics") or {}
        if "record_linkage_supported" in d:
            psm.append({"linker": b["linker"], "auc": d.get("auc"), "supported": d.get("record_linkage_supported"),
                        "populations_differ": d.get("populations_differ"), "same_population": d.get("same_population"),
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
                title=f"Influence of each common variable ({infl.get('linker', 'exact')} linkage, original split)")
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
                                            f"({prob['linker']}, original split; bits)")
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
                                   title="Highest share of people singled out, by combination size")
        so_rows = sorted(so_rows, key=lambda r: -(_num(r.get("share_unique_records")) or 0))[:10]

    # privacy-utility points
    points = []
    for s in synthetic:
        u = _utility_score(s.get("utility"))
        r = _max_risk(s.get("privacy"))
        if u is not None and r is not None:
            points.append((f"{s['synthesizer']} × {s['linker']}", r, u, s["synthesizer"]))
    pu_chart = charts.scatter(points, xlabel="highest privacy risk of J*, key holder included (lower is better)",
                              ylabel="cross-part utility of J* (higher is better)") if points else ""

    # privacy intervals per table (parts and J*)
    priv_rows: list[tuple[str, float | None, float | None, float | None, str]] = []
    for syn, parts in (first.get("parts_privacy") or {}).items():
        for pname, priv in parts.items():
            for measure in HEADLINE_RISKS:
                r, lo, hi = _risk(priv, measure)
                if r is not None:
                    priv_rows.append((f"{syn}: {pname}* {measure.replace('_', ' ')}", r, lo, hi, measure))
    for s in synthetic:
        for measure in HEADLINE_RISKS:
            r, lo, hi = _risk(s.get("privacy"), measure)
            if r is not None:
                priv_rows.append((f"{s['synthesizer']} × {s['linker']}: J* {measure.replace('_', ' ')}", r, lo, hi, measure))
    priv_chart = charts.intervals(priv_rows, title="Risk with 95% interval (0 = no more than the control set)") if priv_rows else ""
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
                                 "svg": Markup(charts.intervals(rows)),
                                 "overlap": _get(q, "fits", "synthetic", "ci_overlap_mean"),
                                 "overlap_baseline": _get(q, "fits", "baseline", "ci_overlap_mean"),
                                 "overlap_control": _get(q, "fits", "control", "ci_overlap_mean")})
    q_charts = q_charts[:8]

    # cross-part relationships of the best-utility combination: train, what the design allows, J*
    cross_rows: list[dict[str, Any]] = []
    cross_chart = ""
    best = max(synthetic, key=lambda s: _utility_score(s.get("utility")) or -1) if synthetic else None
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
        cross_chart = charts.intervals(rows, title="Association of cross-part pairs") if rows else ""

    # utility table: headline numbers with the control reference
    util_rows = []
    for s in synthetic:
        summ = _get(s, "utility", "summary") or {}
        util_rows.append({"label": f"{s['synthesizer']} × {s['linker']}", **{k: summ.get(k) for k in (
            "utility_score_synthetic", "utility_score_control", "cross_utility_score_synthetic",
            "cross_utility_score_control", "cross_retained_mean_synthetic", "s_pmse_synthetic",
            "s_pmse_control", "ml_r2_synthetic", "ml_r2_train", "ml_accuracy_synthetic", "ml_accuracy_train")}})

    verdict = _verdict(first, baseline, synthetic, bound, psm, bound_sd)
    return {
        "name": metrics.get("name", "study"),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": metrics.get("synthlink_version", ""),
        "config": cfg,
        "config_json": json.dumps(cfg, indent=2, default=str),
        "first": first,
        "seeds": [s.get("seed") for s in seeds],
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
        "summary": metrics.get("summary") or {},
        "timings": metrics.get("timings_seconds") or {},
        "total_seconds": metrics.get("total_seconds"),
        "glossary": GLOSSARY,
        "utility_score": _utility_score,
        "max_risk": _max_risk,
        "risk": _risk,
    }


def _verdict(first: dict[str, Any], baseline: list[dict[str, Any]], synthetic: list[dict[str, Any]], bound: float | None, psm: list[dict[str, Any]], bound_sd: float | None = None) -> list[str]:
    lines = []
    nonid = [b for b in baseline if b.get("method") != "identifier"]
    if nonid and bound is not None:
        best = max(nonid, key=lambda b: _num(_get(b, "quality", "accuracy")) or 0)
        a = _num(_get(best, "quality", "accuracy")) or 0.0
        lines.append(
            f"On the original split, the best method without the identifier ({best['linker']}) links "
            f"{a:.1%} of people correctly; the best any method using only the common variables can expect "
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
        scored = [(s, _utility_score(s.get("utility")), _max_risk(s.get("privacy"))) for s in synthetic]
        with_u = [x for x in scored if x[1] is not None]
        if with_u:
            s, u, r = max(with_u, key=lambda x: x[1] or 0)
            lines.append(
                f"Highest utility on synthetic parts: {s['synthesizer']} × {s['linker']} (utility score {_f(u)}"
                + (f", highest privacy risk {_f(r)})." if r is not None else ").")
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

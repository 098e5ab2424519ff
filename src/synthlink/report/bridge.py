"""The report's bridge section: what was released, how much of the lost association each bridged
J* recovers (against the CIA join, as a function of epsilon), what it costs in privacy, and how
much the release helps an attacker link real persons on the original split."""

from __future__ import annotations

from typing import Any

from synthlink.report import charts
from synthlink.report.figures import accuracy, max_risk
from synthlink.report.format import fmt, num
from synthlink.results import RunRecord, SeedRecord


def bridged_labels(first: SeedRecord) -> set[str]:
    """The linker labels that read a bridge release (not limited by the common-variable bound)."""
    b = first.details.get("bridge") or {}
    return set((b.get("releases") or {}).keys())


def _eps_label(eps: Any) -> str:
    return "true counts (no noise)" if eps is None else f"epsilon = {eps:g}"


def bridge_view(first: SeedRecord, baseline: list[RunRecord], synthetic: list[RunRecord]) -> dict[str, Any] | None:
    """The section's rows, chart and sentences; None when the study has no bridge."""
    b = first.details.get("bridge")
    if not isinstance(b, dict):
        return None
    labels = bridged_labels(first)
    releases = []
    for label, r in (b.get("releases") or {}).items():
        bud = r.get("budget") or {}
        releases.append({"label": label, "epsilon": bud.get("epsilon"), "mechanism": bud.get("mechanism"),
                         "private": bud.get("private", True), "cells": sum(m.get("cells", 0) for m in r.get("marginals") or []),
                         "marginals": " ; ".join(" x ".join(m.get("columns") or []) for m in r.get("marginals") or [])})
    rows, points = [], []
    syn_by = {(s.synthesizer, s.linker): s for s in synthetic}
    for rec in b.get("recovered") or []:
        s = syn_by.get((rec.get("synthesizer"), rec.get("linker")))
        ref = syn_by.get((rec.get("synthesizer"), "exact"))
        coefs = [c for c in rec.get("coefficients") or [] if c.get("share") is not None]
        rows.append({"synthesizer": rec.get("synthesizer"), "linker": rec.get("linker"),
                     "epsilon": _eps_label(rec.get("epsilon")), "pairs": num(rec.get("released_pairs_mean")),
                     "coefficients": [(f"{c['term']} in {c['formula']}", num(c["share"]), num(c["train"]),
                                       num(c["reference"]), num(c["bridged"])) for c in coefs],
                     "risk": max_risk(s.privacy) if s else None, "risk_cia": max_risk(ref.privacy) if ref else None})
        for c in coefs:
            points.append((_eps_label(rec.get("epsilon")), num(c["share"]), None, None,
                           f"{rec.get('synthesizer')}: {c['term']} ({c['formula'].split('~')[0].strip()})"))
        if num(rec.get("released_pairs_mean")) is not None:
            points.append((_eps_label(rec.get("epsilon")), num(rec.get("released_pairs_mean")), None, None,
                           f"{rec.get('synthesizer')}: released pairs (association)"))
    order = sorted({p[0] for p in points}, key=lambda lab: (lab.startswith("true"), float(lab.split("= ")[1]) if "= " in lab else 0.0))
    points.sort(key=lambda p: order.index(p[0]))
    chart = charts.intervals(points, title="Share of the lost association the bridge recovers",
                             xlabel="recovered share (0 = CIA join, 1 = as the real data)") if points else ""
    base = {r.linker: accuracy(r) for r in baseline}
    without = [a for lk, a in base.items() if lk not in labels and a is not None and lk != "identifier"]
    best_without = max(without) if without else None
    # only what is released can help an attacker: the noiseless reference never leaves the environment
    private = {r["label"] for r in releases if r["private"]}
    risk_side = [{"linker": lk, "accuracy": a, "gain": (a - best_without) if a is not None and best_without is not None else None}
                 for lk, a in base.items() if lk in private]
    return {"releases": releases, "rows": rows, "chart": chart, "risk_side": risk_side, "best_without": best_without,
            "method": b.get("method"), "lines": _lines(rows, risk_side, best_without)}


def _lines(rows: list[dict[str, Any]], risk_side: list[dict[str, Any]], best_without: float | None) -> list[str]:
    """The verdict's bridge sentences: the recovered share at the smallest private epsilon with a
    coefficient, and how much the release raises the linkage of real persons."""
    lines = []
    private = [r for r in rows if r["coefficients"] and not r["epsilon"].startswith("true")]
    if private:
        r = min(private, key=lambda r: float(r["epsilon"].split("= ")[1]))
        term, share, tr, ref, br = r["coefficients"][0]
        lines.append(
            f"With the bridge release at {r['epsilon'].replace('epsilon', 'ε')} ({r['synthesizer']} parts), the linked "
            f"table recovers {share:.0%} of the effect '{term}' that the CIA join loses (train {fmt(tr)}, CIA join "
            f"{fmt(ref)}, bridged {fmt(br)})"
            + (f"; highest privacy risk {fmt(r['risk'])} against {fmt(r['risk_cia'])} without the bridge." if r["risk"] is not None else "."))
    gains = [x for x in risk_side if x["gain"] is not None]
    if gains and best_without is not None:
        g = max(gains, key=lambda x: x["gain"])
        lines.append(
            f"The release also helps link real persons: on the original split {g['linker']} links {g['accuracy']:.1%} "
            f"correctly, against {best_without:.1%} for the best method without it ({g['gain'] * 100:+.1f} points); "
            "the expected bound of the common variables does not limit a method that reads the release.")
    return lines

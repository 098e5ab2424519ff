"""The report's decision section: for each research question, the options a data service weighs
(secure access, central synthesis, independent synthesis + linkage, + bridge), which answer it
under the study's rule, the lowest-risk one, and the risk-utility map of all options."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from synthlink.report import charts
from synthlink.report.figures import max_risk, retained
from synthlink.results import RunRecord, SeedRecord

#: the order options are listed in, from the reference to the floor
ORDER = {"secure access": 0, "central synthesis": 1, "independent synthesis + bridge": 2,
         "independent synthesis + linkage": 3}


def _fit(values: list[float], pad: float = 0.08) -> tuple[float, float]:
    """Axis limits that fit the values with a margin (never a fixed 0 that squashes them)."""
    lo, hi = min(values), max(values)
    span = (hi - lo) or max(abs(hi), 1e-3)
    return lo - pad * span, hi + pad * span


def _map(synthetic: list[RunRecord], hidden: set[str]) -> str:
    pts = []
    for s in synthetic:
        if s.linker in hidden:
            continue
        u, r = retained(s.utility), max_risk(s.privacy)
        if u is not None and r is not None:
            opt = s.details.get("option") or "independent synthesis + linkage"
            pts.append((f"{s.synthesizer} × {s.linker}", r, u, str(opt)))
    ctl = next((retained(s.utility, "control") for s in synthetic if retained(s.utility, "control") is not None), None)
    if ctl is not None:
        pts.append(("fresh real records (control: the sampling-noise reference)", 0.0, ctl, "reference: control"))
    if len(pts) < 2:
        return ""
    xs, ys = [p[1] for p in pts], [p[2] for p in pts]
    return charts.scatter(pts, xlabel="highest headline privacy risk (lower is safer)",
                          ylabel="cross-register association kept (1 = as the real data)",
                          xlim=_fit(xs), ylim=_fit(ys))


def _question_map(q: dict[str, Any]) -> str:
    pts = []
    for o in q.get("options") or []:
        ov = min((t.get("ci_overlap") for t in o.get("terms") or [] if isinstance(t.get("ci_overlap"), (int, float))), default=None)
        if ov is not None and o.get("max_risk") is not None:
            pts.append((o["label"], float(o["max_risk"]), float(ov), "answers" if o.get("answers") else "does not answer"))
    if len(pts) < 2:
        return ""
    xs, ys = [p[1] for p in pts], [p[2] for p in pts]
    return charts.scatter(pts, xlabel="highest headline privacy risk (lower is safer)",
                          ylabel="CI overlap of the key coefficient", height=300,
                          xlim=_fit(xs), ylim=_fit(ys))


def decision_view(first: SeedRecord, synthetic: list[RunRecord]) -> dict[str, Any] | None:
    """The section's content; None when the study declared no research question."""
    d = first.details.get("decision")
    if not isinstance(d, dict) or not d.get("questions"):
        return None
    hidden = {lk for lk, r in ((first.details.get("bridge") or {}).get("releases") or {}).items()
              if (r.get("budget") or {}).get("private") is False}
    qs = []
    for q in d["questions"]:
        rows = [q["secure_access"], *sorted(q.get("options") or [], key=lambda o: (
            ORDER.get(o.get("option"), 9), not o.get("answers"), o.get("max_risk") if o.get("max_risk") is not None else 9))]
        qs.append({"formula": q["formula"], "terms": q.get("terms") or [], "verdict": q.get("verdict"),
                   "selected": q.get("selected"), "rows": rows, "control": q.get("control") or [],
                   "map": Markup(_question_map(q))})
    return {"rule": d.get("rule") or {}, "questions": qs, "map": Markup(_map(synthetic, hidden))}

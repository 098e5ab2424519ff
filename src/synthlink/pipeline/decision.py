"""The decision a data service takes, per research question: which options answer it, and among
those the one with the lowest privacy risk (issue: the decision).

Options: **secure access** (researchers work on the real linked data in a controlled
environment: the reference, with the risk of real records), **central synthesis** (the
registers joined by the identifier inside the secure environment, then synthesized as one
table), **independent synthesis + linkage** (what synthlink measures: each institution
synthesizes its register, the parts are linked; the exact linker, a random join within
common-variable cells, is the floor of published work on disjoint generative models) and the
same **+ bridge** (linked with a released cross-register marginal).

An option answers a question when every coefficient whose term and response come from different
parts (the effect only linkage can keep; every non-intercept term when none crosses) has a
confidence-interval overlap with train of at least ``min_ci_overlap`` (Karr et al. 2006), the
same sign as in train (``keep_sign``) and, with ``keep_significance``, the same significance at
the 5% level. Among the synthetic options that answer, the rule selects the one whose highest
headline risk is lowest; where none answers, only secure access does.
"""

from __future__ import annotations

import math
import re
from typing import Any

from synthlink.config import OptionsConfig

#: z of a two-sided 95% interval
Z95 = 1.959963984540054


def _owner(part_cols: dict[str, list[str]]) -> dict[str, str]:
    return {c: p for p, cols in part_cols.items() for c in cols}


def key_terms(formula: str, terms: list[str], part_cols: dict[str, list[str]]) -> list[str]:
    """The terms of a question whose variables come from another part than the response's; every
    non-intercept term when none does."""
    owner = _owner(part_cols)

    def parts(text: str) -> set[str]:
        return {owner[n] for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if n in owner}

    lhs = formula.split("~", 1)[0]
    crossing = [t for t in terms if t != "Intercept" and parts(t) and parts(lhs) and not parts(t) & parts(lhs)]
    return crossing or [t for t in terms if t != "Intercept"]


def _risks(priv: Any) -> dict[str, dict[str, Any]]:
    from synthlink.evaluate.privacy import HEADLINE_RISKS

    out = {}
    for k in HEADLINE_RISKS:
        v = (priv or {}).get(k) if isinstance(priv, dict) else None
        if isinstance(v, dict) and isinstance(v.get("risk"), (int, float)):
            out[k] = {"risk": float(v["risk"]), "ci": v.get("ci")}
    return out


def _term_row(c: dict[str, Any], train: tuple[float, float]) -> dict[str, Any]:
    coef, se = float(c["coef"]), float(c.get("se") or 0.0)
    bt, st = train
    sig = abs(coef) > Z95 * se if se > 0 else None
    sig_t = abs(bt) > Z95 * st if st > 0 else None
    return {"term": c["term"], "coef": coef, "ci": [coef - Z95 * se, coef + Z95 * se],
            "ci_overlap": c.get("ci_overlap"), "sign_kept": (coef > 0) == (bt > 0) and coef != 0,
            "significance_kept": None if sig is None or sig_t is None else sig == sig_t}


def _answers(rows: list[dict[str, Any]], rule: OptionsConfig) -> bool:
    if not rows:
        return False
    for r in rows:
        ov = r.get("ci_overlap")
        if not isinstance(ov, (int, float)) or not math.isfinite(ov) or ov < rule.min_ci_overlap:
            return False
        if rule.keep_sign and not r["sign_kept"]:
            return False
        if rule.keep_significance and r["significance_kept"] is False:
            return False
    return True


def decide(record: dict[str, Any], part_cols: dict[str, list[str]], rule: OptionsConfig) -> dict[str, Any]:
    """The decision table of one seed: per question, every option's key coefficients with their
    interval, CI overlap, sign and significance against train, its headline risks, whether it
    answers (the rule), and the option selected."""
    # a noiseless bridge reference is never released: it is no option a data service has
    hidden = {lk for lk, r in ((record.get("bridge") or {}).get("releases") or {}).items()
              if (r.get("budget") or {}).get("private") is False}
    entries = [e for e in record.get("synthetic") or [] if e.get("status") == "ok" and e.get("linker") not in hidden]
    formulas = []
    for e in entries:
        for q in (e.get("utility") or {}).get("questions") or []:
            if q.get("formula") and q["formula"] not in formulas and "fits" in q:
                formulas.append(q["formula"])
    out = []
    for f in formulas:
        train_fit: dict[str, tuple[float, float]] = {}
        control_rows: list[dict[str, Any]] = []
        options = []
        for e in entries:
            q = next((q for q in (e.get("utility") or {}).get("questions") or [] if q.get("formula") == f), None)
            fits = (q or {}).get("fits") or {}
            if not train_fit:
                train_fit = {c["term"]: (float(c["coef"]), float(c.get("se") or 0.0))
                             for c in (fits.get("train") or {}).get("coefficients") or [] if c.get("coef") is not None}
                keys = key_terms(f, list(train_fit), part_cols)
                control_rows = [_term_row(c, train_fit[c["term"]]) for c in (fits.get("control") or {}).get("coefficients") or []
                                if c.get("term") in keys and c.get("coef") is not None]
            keys = key_terms(f, list(train_fit), part_cols)
            syn = (fits.get("synthetic") or {}).get("coefficients") or []
            rows = [_term_row(c, train_fit[c["term"]]) for c in syn if c.get("term") in keys and c.get("coef") is not None
                    and c["term"] in train_fit]
            risks = _risks(e.get("privacy"))
            options.append({"option": e.get("option") or "independent synthesis + linkage",
                            "synthesizer": e.get("synthesizer"), "linker": e.get("linker"),
                            "label": f"{e.get('synthesizer')} × {e.get('linker')}", "terms": rows,
                            "answers": _answers(rows, rule), "risks": risks,
                            "max_risk": max((r["risk"] for r in risks.values()), default=None),
                            "error": (fits.get("synthetic") or {}).get("error") if q else "question not fitted"})
        keys = key_terms(f, list(train_fit), part_cols)
        secure = {"option": "secure access", "label": "secure access (the real linked data)",
                  "terms": [{"term": t, "coef": train_fit[t][0],
                             "ci": [train_fit[t][0] - Z95 * train_fit[t][1], train_fit[t][0] + Z95 * train_fit[t][1]],
                             "ci_overlap": 1.0, "sign_kept": True, "significance_kept": True} for t in keys if t in train_fit],
                  "answers": True, "risks": {}, "max_risk": 1.0,
                  "note": "the real records themselves: every figure is the reference; releasing them is full risk"}
        answering = [o for o in options if o["answers"]]
        best = min(answering, key=lambda o: (o["max_risk"] if o["max_risk"] is not None else 1.0,
                                             -min((r.get("ci_overlap") or 0.0) for r in o["terms"])), default=None)
        out.append({"formula": f, "terms": keys, "secure_access": secure, "control": control_rows,
                    "options": options, "selected": best["label"] if best else None,
                    "verdict": _verdict(f, keys, best, options, rule)})
    return {"rule": rule.to_dict()["rule"], "questions": out}


def _verdict(formula: str, keys: list[str], best: dict[str, Any] | None, options: list[dict[str, Any]],
             rule: OptionsConfig) -> str:
    terms = ", ".join(f"'{t}'" for t in keys)
    crit = f"CI overlap with the real data of at least {rule.min_ci_overlap:g}" + (", the same sign" if rule.keep_sign else "") \
        + (", the same significance" if rule.keep_significance else "")
    if best is None:
        return (f"For '{formula}', no synthetic option keeps {terms} ({crit}): only secure access to the real linked "
                "data answers this question.")
    n = sum(o["answers"] for o in options)
    kinds = sorted({o["option"] for o in options if o["answers"]})
    ov = min((r.get("ci_overlap") or 0.0) for r in best["terms"]) if best["terms"] else float("nan")
    lost = sorted({o["option"] for o in options if not o["answers"]} - set(kinds))
    return (f"For '{formula}', {n} of {len(options)} synthetic options keep {terms} ({crit}): "
            f"{'; '.join(kinds)}" + (f" (no {' or '.join(lost)} option keeps it)" if lost else "") +
            f". The lowest-risk of them is {best['label']} ({best['option']}; CI overlap {ov:.2f}, highest risk "
            f"{best['max_risk']:.3f}" + ").")

"""The summary's sentences: the verdict (what the study found, in words) and the red flags (what a
reader must not miss), both from the first seed's typed runs (:class:`synthlink.results.RunRecord`)."""

from __future__ import annotations

from typing import Any

from synthlink.evaluate.privacy.stats import wilson
from synthlink.report.figures import accuracy, accuracy_ci, max_risk, retained, risk
from synthlink.report.format import fmt, get_path
from synthlink.results import RunRecord


def red_flags(so_columns: list[dict[str, Any]] | None, unique_common: float | None,
              common: list[str] | None) -> list[str]:
    """What a reader must not miss, shown in the summary right after the verdict: a synthetic
    part's column that isolates real training people far more often than control people (the two
    Wilson 95% intervals apart: a few queries prove nothing), and the share of people unique on the
    common variables."""
    lines = []
    for c in so_columns or []:
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


def _bound_lines(baseline: list[RunRecord], bound: float | None, bound_sd: float | None) -> list[str]:
    """The best method without the identifier against the expected bound, the tie-breaking noise
    around the bound, and the warning when the bound is below one half."""
    lines: list[str] = []
    nonid = [b for b in baseline if b.method != "identifier"]
    if not nonid or bound is None:
        return lines
    best = max(nonid, key=lambda b: accuracy(b) or 0)
    a = accuracy(best) or 0.0
    lo, hi, n = accuracy_ci(best.quality)
    ci = f" [95% interval {lo:.1%}, {hi:.1%}; n = {n:,} true pairs]" if lo is not None and hi is not None and n else ""
    lines.append(
        f"On the original split, the best method without the identifier ({best.linker}) links "
        f"{a:.1%}{ci} of people correctly; the best any method using only the common variables can expect "
        f"here is {bound:.1%}, so it reaches {a / bound:.0%} of that bound."
        if bound else f"Best method without the identifier: {best.linker}, accuracy {a:.1%}."
    )
    if bound and bound_sd:
        at = [b.linker for b in nonid if abs((accuracy(b) or 0.0) - bound) <= 2 * bound_sd]
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
    return lines


def _em_lines(baseline: list[RunRecord]) -> list[str]:
    """Probabilistic linkage with m by EM far below m trained from the truth: EM failed."""
    lines = []
    by_label = {b.linker: b for b in baseline}
    for label, b in by_label.items():
        if not label.endswith(":truth"):
            continue
        a_t = accuracy(b)
        a_em = accuracy(by_label.get(label[: -len(":truth")]))
        if a_t is not None and a_em is not None and a_t - a_em > 0.05:
            lines.append(
                f"Probabilistic linkage with m estimated by EM links {a_em:.1%} correctly on the original split, "
                f"against {a_t:.1%} with m trained from the true pairs: EM failed on these common variables, "
                "so its links on the synthetic parts (where no truth exists) cannot be trusted."
            )
    return lines


def _synthetic_lines(synthetic: list[RunRecord]) -> list[str]:
    """The key holder's risk of record-preserving synthesis, and the combination that keeps the most
    cross-part association."""
    lines = []
    keyed = [(s, risk(s.privacy, "key_holder")) for s in synthetic]
    keyed = [(s, r) for s, r in keyed if r[0] is not None]
    if keyed:
        s, (r, lo, hi) = max(keyed, key=lambda x: x[1][0] or 0.0)
        secret = get_path(s.privacy, "key_holder", "secret")
        lines.append(
            f"Record-preserving synthesis ({s.synthesizer} × {s.linker}) ties every row to a real person "
            f"through the pseudonymised key: whoever holds the key reads that person's own row, which gives away "
            f"their true '{secret}' beyond chance with risk {fmt(r)} [{fmt(lo)}, {fmt(hi)}]. Fully synthetic rows "
            "belong to nobody and carry no such risk."
        )
    scored = [(s, retained(s.utility), max_risk(s.privacy)) for s in synthetic]
    with_u = [x for x in scored if x[1] is not None]
    if with_u:
        s, u, mr = max(with_u, key=lambda x: x[1] or 0.0)
        ctl = retained(s.utility, "control")
        lines.append(
            f"Most cross-part association kept by independently synthesized, linked parts: {s.synthesizer} × {s.linker} retains "
            f"{fmt(u)} of the association beyond the design (1 = all, as the real data; 0 = no more than a join "
            "on the common variables"
            + (f"; fresh real records {fmt(ctl)}" if ctl is not None else "") + ")"
            + (f", highest privacy risk {fmt(mr)}." if mr is not None else ".")
        )
    return lines


def verdict(baseline: list[RunRecord], synthetic: list[RunRecord], bound: float | None,
            psm: list[dict[str, Any]], bound_sd: float | None = None) -> list[str]:
    """The verdict: the best linkage against the expected bound, EM against the truth, propensity
    score matching where it cannot link records, the key holder's risk and the most association kept
    (runs with status "ok" of the seed shown; ``psm`` as the view's propensity rows)."""
    lines = _bound_lines(baseline, bound, bound_sd) + _em_lines(baseline)
    for p in psm:
        if p.get("supported") is False:
            reason = str(p.get("reason") or "the scores cannot tell the records of the two parts apart")
            head = ("Propensity score matching fails for record-level matching here: both parts come from the "
                    "same population" if p.get("same_population") else
                    "Propensity score matching does not link records: the AUC measures how the parts' populations "
                    "differ, not who is who")
            lines.append(f"{head} (AUC {fmt(p.get('auc'))}). {reason.rstrip('.')}.")
    return lines + _synthetic_lines(synthetic)

"""The result of an Anonymeter-style attack: success rates, residual risk and its interval.

Each attack (:mod:`.singling_attack`, :mod:`.linkability_attack`, :mod:`.inference_attack`) is run
three times, as in Anonymeter (Giomi et al., "A Unified Framework for Quantifying Privacy Risk in
Synthetic Data", PETS 2023): using the synthetic data against the training records (*attack*), as
a naive *baseline* (random guessing), and against the *control* records, which the synthesizer never
saw. The risk is the residual success ``(attack - control) / (1 - control)`` with Anonymeter's
Wilson-based 95% interval (:mod:`.stats`). A baseline as good as the attack means the attack is
uninformative (flagged).
"""

from __future__ import annotations

from typing import Any

from synthlink.evaluate.privacy.stats import residual_risk, wilson


def attack_result(n: int, n_success: float, n_baseline: float, n_control: float, confidence: float,
                  definition: str, **extra: Any) -> dict[str, Any]:
    """The JSON-ready result of ``n`` attempts: the three Wilson rates, the residual risk, its
    interval and the unclipped risk, with ``definition``, ``direction``, ``range`` and ``extra``."""
    if n <= 0:
        raise ValueError("the attack produced no attempts (too few rows or no usable queries)")
    attack = wilson(n_success, n, confidence)
    base = wilson(n_baseline, n, confidence)
    ctrl = wilson(n_control, n, confidence)
    risk, ci, raw = residual_risk(attack, ctrl)
    out: dict[str, Any] = {
        "risk": risk,
        "ci": ci,
        "risk_unclipped": raw,
        "attack": attack.to_dict(),
        "baseline": base.to_dict(),
        "control": ctrl.to_dict(),
        "n_attacks": n,
        "definition": definition,
        "direction": "lower is safer",
        "range": "[0, 1]",
    }
    if base.value >= attack.value:
        out["warning"] = "the attack is no better than random guessing (baseline); the risk estimate is not informative"
    out.update(extra)
    return out

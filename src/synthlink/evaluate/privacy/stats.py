"""Rates, risks and intervals shared by the privacy measures.

The success rate of an attack and the residual risk follow Anonymeter (Giomi et al., PETS 2023,
``anonymeter.stats.confidence``) exactly, so that the numbers are comparable:

* the success rate of ``k`` successes out of ``n`` attacks is the centre of the Wilson score
  interval, ``(k + z^2/2) / (n + z^2)``, with half-width ``z / (n + z^2) * sqrt(k (n - k) / n + z^2 / 4)``
  (``z`` the normal quantile of the confidence level, 1.96 for 95%);
* the risk is the residual success over the control attack,
  ``risk = (attack - control) / (1 - control)``, its error propagated to first order from the two
  Wilson half-widths; risk and interval are then clipped to [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata


@dataclass(frozen=True)
class Rate:
    """A success rate (Wilson centre) with its symmetric error bound."""

    value: float
    error: float
    n_success: float
    n_total: int

    def ci(self) -> list[float]:
        return [max(0.0, self.value - self.error), min(1.0, self.value + self.error)]

    def to_dict(self) -> dict[str, float | int | list[float]]:
        return {"rate": self.value, "ci": self.ci(), "n_success": self.n_success, "n_attacks": self.n_total}


def z_value(confidence: float = 0.95) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be within (0, 1), got {confidence}")
    return float(norm.ppf(0.5 * (1.0 + confidence)))


def wilson(n_success: float, n_total: int, confidence: float = 0.95) -> Rate:
    """Wilson score estimate of a Bernoulli rate (Anonymeter's ``success_rate``)."""
    if n_total <= 0:
        raise ValueError("a success rate needs at least one attack")
    z = z_value(confidence)
    z2 = z * z
    k = float(n_success)
    var = k * (n_total - k) / n_total
    den = n_total + z2
    rate = (k + 0.5 * z2) / den
    err = (z / den) * math.sqrt(max(var, 0.0) + 0.25 * z2)
    return Rate(rate, err, n_success, n_total)


def residual_risk(attack: Rate, control: Rate) -> tuple[float, list[float], float]:
    """(risk, [lo, hi], unclipped value): excess success of the attack over the control attack,
    normalised by the room the control leaves, with first-order error propagation, clipped to
    [0, 1] (Anonymeter's ``residual_success`` + ``bind_value``)."""
    if control.value >= 1.0:
        return 0.0, [0.0, 1.0], float("nan")
    raw = (attack.value - control.value) / (1.0 - control.value)
    d_attack = 1.0 / abs(1.0 - control.value)
    d_control = (attack.value - 1.0) / (1.0 - control.value) ** 2
    err = math.sqrt((attack.error * d_attack) ** 2 + (control.error * d_control) ** 2)
    return _clip(raw), [_clip(raw - err), _clip(raw + err)], raw


def _clip(x: float) -> float:
    return float(min(max(x, 0.0), 1.0))


def delong_auc(pos: np.ndarray, neg: np.ndarray, confidence: float = 0.95) -> tuple[float, list[float], float]:
    """ROC AUC of scores ``pos`` (members) against ``neg`` (non-members), ties counted half, with a
    DeLong (1988) normal interval. Returns (auc, [lo, hi], standard error)."""
    pos = np.asarray(pos, dtype=float)
    neg = np.asarray(neg, dtype=float)
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        raise ValueError("membership AUC needs at least two members and two non-members")
    allr = rankdata(np.concatenate([pos, neg]))  # midranks
    rp, rn = allr[:m], allr[m:]
    auc = (rp.sum() - m * (m + 1) / 2) / (m * n)
    v10 = (rp - rankdata(pos)) / n  # placement of each member among non-members
    v01 = 1.0 - (rn - rankdata(neg)) / m
    se = math.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    z = z_value(confidence)
    return float(auc), [_clip(auc - z * se), _clip(auc + z * se)], se

"""The headline figures of one run as the report reads them: a privacy measure's risk with its
interval, the highest headline risk, the utility figure the report leads with, and the Wilson
interval of one-to-one accuracy. Privacy measures are read through :class:`synthlink.results.Risk`,
linkage quality through :class:`synthlink.results.LinkageQuality`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthlink.evaluate.privacy import HEADLINE_RISKS
from synthlink.report.format import get_path, num
from synthlink.results import LinkageQuality, Risk, RunRecord


def risk(priv: Any, name: str) -> tuple[float | None, float | None, float | None]:
    """The risk of privacy measure ``name`` in a privacy section, with its 95% interval
    (``(None, None, None)`` when the measure is absent or not a dict)."""
    v = priv.get(name) if isinstance(priv, Mapping) else None
    if not isinstance(v, Mapping):
        return None, None, None
    r = Risk.from_dict(v)
    lo, hi = r.risk.ci if r.risk.ci is not None else (None, None)
    return r.risk.value, lo, hi


def max_risk(priv: Any) -> float | None:
    """The highest of the headline risks (:data:`synthlink.evaluate.privacy.HEADLINE_RISKS`)."""
    vals = [r for r in (risk(priv, k)[0] for k in HEADLINE_RISKS) if r is not None]
    return max(vals) if vals else None


def retained(util: Any, who: str = "synthetic") -> float | None:
    """The utility figure the report leads with: the share of the cross-part association beyond
    conditional independence that J* keeps (``cross_retained_mean``; 1 = all of it, as the real
    data; 0 = no more than a join on the common variables; below 0 = less). No composite "utility
    score": 1 - mean association difference barely separates methods (a marginals synthesizer that
    destroys every relationship scored 0.87 beside CART's 0.89), and two such scores under one name
    read as contradictory numbers."""
    return num(get_path(util, "summary", f"cross_retained_mean_{who}"))


def accuracy(run: RunRecord | None) -> float | None:
    """One-to-one accuracy of a run (None without a quality)."""
    return run.quality.accuracy if run is not None and run.quality is not None else None


def accuracy_ci(quality: LinkageQuality | None) -> tuple[float | None, float | None, int | None]:
    """Wilson 95% interval of one-to-one accuracy, the share of the n true pairs linked correctly
    (each true pair one trial): ``(low, high, n)``, all None without accuracy or true pairs.
    true_positives counts correct pairs before the one-to-one step (recall); the accuracy's own
    successes are accuracy x true pairs (a many-to-one hot deck has more of the former), see
    :attr:`synthlink.results.LinkageQuality.accuracy_estimate`."""
    if quality is None:
        return None, None, None
    e = quality.accuracy_estimate
    if e.ci is None:
        return None, None, None
    return e.ci[0], e.ci[1], e.n

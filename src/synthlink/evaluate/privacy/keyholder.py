"""Attribute disclosure to a holder of the record key (record-preserving synthesis).

A record-preserving (partially synthetic) part keeps a pseudonymised key per row so that parts can
be joined. Every institution that joins them holds the pseudonymisation key, and so does anyone it
leaks to: for them each synthetic row *belongs to a known person*. No attack is needed to find the
person's row; the question is how much of the person's true values the row gives away.

For every synthetic row derived from a real record (``source[i]`` = that record's row in
``train``) and every secret column, the guess is the row's value. It is correct when equal
(categorical) or, for a number, when ``|guess - true| <= tolerance * |guess|`` (the relative
tolerance of the inference attack, 5%); two missing values match. The baseline is a reader
without the key, who takes a random row of the same synthetic table: its success rate is computed
exactly (the share of synthetic rows that would be a correct guess, averaged over the persons), not
sampled. The risk is the excess over that baseline, normalised as Anonymeter does:
``(attack - baseline) / (1 - baseline)``, with a Wilson interval on the attack rate.

Fully synthetic rows belong to nobody: the measure is then not applicable (``risk`` None with the
reason), which is not the same as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import InputError
from synthlink.evaluate.privacy.neighbors import as_float, column_kinds
from synthlink.evaluate.privacy.stats import Rate, residual_risk, wilson

DEFINITION = ("share of persons whose true value of the secret equals (numbers: within 5%) the value in "
              "the synthetic row their key points to, in excess of reading a random synthetic row")


def not_applicable(reason: str) -> dict[str, Any]:
    return {"risk": None, "ci": None, "applicable": False, "reason": reason, "definition": DEFINITION,
            "direction": "lower is safer", "range": "[0, 1]"}


def random_row_rate_numeric(truth: np.ndarray, syn: np.ndarray, tolerance: float) -> float:
    """Mean over the persons of the share of synthetic values g with |g - t| <= tolerance * |g|."""
    g = np.sort(syn[~np.isnan(syn)])
    n_syn = len(syn)
    nan_share = float(np.isnan(syn).sum()) / n_syn
    t = truth
    with np.errstate(divide="ignore", invalid="ignore"):
        # |g - t| <= tol |g|  <=>  g in [t / (1 + tol), t / (1 - tol)] for t > 0 (mirrored for t < 0)
        lo = np.where(t >= 0, t / (1 + tolerance), t / (1 - tolerance))
        hi = np.where(t >= 0, t / (1 - tolerance), t / (1 + tolerance))
    ok = ~np.isnan(t)
    share = np.zeros(len(t))
    share[ok] = (np.searchsorted(g, hi[ok], side="right") - np.searchsorted(g, lo[ok], side="left")) / n_syn
    share[~ok] = nan_share
    return float(share.mean()) if len(share) else 0.0


def key_holder_disclosure(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    source: np.ndarray | Sequence[int],
    secrets: Sequence[str],
    *,
    kinds: dict[str, str] | None = None,
    tolerance: float = 0.05,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Per-secret and headline (largest) key-holder disclosure risk. ``source[i]`` is the row of
    ``train`` that synthetic row ``i`` was derived from, or -1 when it belongs to nobody."""
    src = np.asarray(source, dtype=np.int64)
    if len(src) != len(synthetic):
        raise InputError(f"key-holder disclosure: {len(src)} source positions for {len(synthetic)} synthetic rows")
    if len(src) and src.max() >= len(train):
        raise InputError("key-holder disclosure: a source position is outside the train table")
    owned = np.flatnonzero(src >= 0)
    if len(owned) == 0:
        return not_applicable("no synthetic row is tied to a real record")
    missing = [s for s in secrets if s not in synthetic.columns or s not in train.columns]
    if missing:
        raise InputError(f"key-holder disclosure: secret column(s) {', '.join(map(repr, missing))} missing")
    ctypes = column_kinds([train], list(secrets), kinds)
    by: dict[str, Any] = {}
    for s in secrets:
        numeric = ctypes[s] == "numeric"
        true_s = train[s].iloc[src[owned]].reset_index(drop=True)
        syn_all = synthetic[s].reset_index(drop=True)
        guess_s = syn_all.iloc[owned].reset_index(drop=True)
        if numeric:
            t, g = as_float(true_s), as_float(guess_s)
            with np.errstate(invalid="ignore"):
                hit = (np.abs(g - t) <= tolerance * np.abs(g) + 1e-12) | (np.isnan(g) & np.isnan(t))
            base = random_row_rate_numeric(t, as_float(syn_all), tolerance)
        else:
            codes, _ = pd.factorize(pd.concat([true_s, guess_s, syn_all], ignore_index=True).astype(object),
                                    use_na_sentinel=True)
            n = len(owned)
            t, g, a = codes[:n], codes[n:2 * n], codes[2 * n:]
            hit = t == g  # the NA sentinel (-1) matches itself: two missing values match
            freq = np.bincount(a + 1, minlength=int(codes.max()) + 2) / len(a)
            base = float(freq[t + 1].mean())
        attack = wilson(float(hit.sum()), len(owned), confidence)
        risk, ci, raw = residual_risk(attack, Rate(base, 0.0, base * len(owned), len(owned)))
        by[s] = {"risk": risk, "ci": ci, "attack_rate": attack.value, "baseline_rate": base,
                 "n_persons": int(len(owned)), "numeric": bool(numeric),
                 "tolerance": tolerance if numeric else None}
    worst = max(by, key=lambda k: by[k]["risk"])
    return {"risk": by[worst]["risk"], "ci": by[worst]["ci"], "secret": worst, "by_secret": by,
            "applicable": True, "n_persons": int(len(owned)), "definition": DEFINITION,
            "direction": "lower is safer", "range": "[0, 1]"}

"""Attribute-inference risk as Anonymeter defines it (Giomi et al., PETS 2023; anonymeter
``evaluators/inference_evaluator.py``, ``evaluate_inference_guesses``), re-implemented natively and
seeded. The risk arithmetic is in :mod:`.risk`, the nearest-neighbour search in :mod:`.neighbors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.evaluate.privacy.neighbors import column_kinds, nearest_indices
from synthlink.evaluate.privacy.risk import attack_result


def inference(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    secret: str,
    aux_cols: Sequence[str],
    *,
    n_attacks: int = 500,
    regression: bool | None = None,
    tolerance: float = 0.05,
    kinds: dict[str, str] | None = None,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Attribute-inference risk. The attacker knows ``aux_cols`` of a target and guesses its
    ``secret`` as the secret of the nearest synthetic record. A guess is correct when equal
    (categorical) or, for a numeric secret (``regression``), when ``|guess - secret| / (guess + 1e-12)
    <= tolerance`` (Anonymeter's ``evaluate_inference_guesses``, 5%); two missing values match. One
    deliberate difference: Anonymeter divides by the signed guess, so every negative guess passes;
    here the guess's absolute value is used, which is the same rule for guesses >= 0. The baseline guesses
    the secret of a random synthetic record."""
    aux = [c for c in aux_cols if c != secret]
    if not aux:
        raise ValueError(f"inference on '{secret}': no auxiliary columns")
    rng = np.random.default_rng(seed)
    cols = [*aux, secret]
    ctypes = column_kinds([train], cols, kinds)
    if regression is None:
        regression = ctypes[secret] == "numeric"
    n = min(n_attacks, len(train), len(control), len(synthetic))
    # secrets on one scale: numbers for regression, shared codes for categories
    sv = pd.concat([train[secret], control[secret], synthetic[secret]], ignore_index=True)
    if regression:
        vals = pd.to_numeric(sv, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    else:
        codes, _ = pd.factorize(sv.astype(object), use_na_sentinel=True)
        vals = codes.astype(float)
        vals[codes < 0] = np.nan
    n_tr, n_co = len(train), len(control)
    s_train, s_control, s_syn = vals[:n_tr], vals[n_tr:n_tr + n_co], vals[n_tr + n_co:]

    def correct(guess: np.ndarray, truth: np.ndarray) -> int:
        both_nan = np.isnan(guess) & np.isnan(truth)
        if regression:
            with np.errstate(invalid="ignore"):
                ok = np.abs(guess - truth) / (np.abs(guess) + 1e-12) <= tolerance
        else:
            ok = guess == truth
        return int((ok | both_nan).sum())

    def attack(real: pd.DataFrame, secrets: np.ndarray) -> int:
        pick = np.sort(rng.choice(len(real), size=n, replace=False))
        idx = nearest_indices(synthetic, real.iloc[pick], aux, ctypes, 1)[:, 0]
        return correct(s_syn[idx], secrets[pick])

    pick_b = np.sort(rng.choice(len(train), size=n, replace=False))
    n_baseline = correct(s_syn[rng.choice(len(synthetic), size=n, replace=False)], s_train[pick_b])
    n_success = attack(train, s_train)
    n_control = attack(control, s_control)
    return attack_result(n, n_success, n_baseline, n_control, confidence,
                   f"share of correct guesses of '{secret}' from the nearest synthetic record on the "
                   "auxiliary columns, in excess of the same share for control records",
                   secret=secret, aux_cols=aux, regression=bool(regression),
                   tolerance=tolerance if regression else None)

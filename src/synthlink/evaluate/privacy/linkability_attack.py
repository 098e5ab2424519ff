"""Linkability risk as Anonymeter defines it (Giomi et al., PETS 2023; anonymeter
``evaluators/linkability_evaluator.py``), re-implemented natively and seeded. The risk arithmetic
is in :mod:`.risk`, the nearest-neighbour search in :mod:`.neighbors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.evaluate.privacy.neighbors import column_kinds, nearest_indices
from synthlink.evaluate.privacy.risk import attack_result


def linkability(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    aux_cols: tuple[Sequence[str], Sequence[str]],
    *,
    n_attacks: int = 500,
    n_neighbors: int = 1,
    kinds: dict[str, str] | None = None,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Linkability risk. The attacker holds two views of the same people (``aux_cols[0]`` and
    ``aux_cols[1]``, e.g. one institution's columns and the other's) and links them through the
    synthetic data: a target is linked when the ``n_neighbors`` nearest synthetic records of its
    two halves share a record (Gower-like distance, :mod:`.neighbors`)."""
    a0, a1 = list(aux_cols[0]), list(aux_cols[1])
    if not a0 or not a1:
        raise ValueError("linkability needs two non-empty sets of auxiliary columns")
    rng = np.random.default_rng(seed)
    cols = list(dict.fromkeys(a0 + a1))
    ctypes = column_kinds([train], cols, kinds)
    n = min(n_attacks, len(train), len(control))
    k = min(n_neighbors, len(synthetic))

    def attack(real: pd.DataFrame) -> int:
        tg = real.iloc[np.sort(rng.choice(len(real), size=n, replace=False))]
        i0 = nearest_indices(synthetic, tg, a0, ctypes, k)
        i1 = nearest_indices(synthetic, tg, a1, ctypes, k)
        return int((i0[:, :, None] == i1[:, None, :]).any(axis=(1, 2)).sum())

    n_success = attack(train)
    n_control = attack(control)
    r0 = np.argsort(rng.random((n, len(synthetic))), axis=1)[:, :k] if len(synthetic) <= 20_000 else rng.integers(0, len(synthetic), (n, k))
    r1 = np.argsort(rng.random((n, len(synthetic))), axis=1)[:, :k] if len(synthetic) <= 20_000 else rng.integers(0, len(synthetic), (n, k))
    n_baseline = int((r0[:, :, None] == r1[:, None, :]).any(axis=(1, 2)).sum())
    return attack_result(n, n_success, n_baseline, n_control, confidence,
                   "share of target records whose two halves (two sets of auxiliary columns) have a "
                   "common synthetic record among their nearest neighbours, in excess of the same share "
                   "for control records",
                   aux_cols=[a0, a1], n_neighbors=k)

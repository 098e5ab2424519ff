"""Distance to closest record (DCR), nearest-neighbour distance ratio (NNDR), the share of
synthetic rows closer to train than to control, and the identical-match share.

Distances are mean per-column Gower distances in [0, 1] (see :mod:`.neighbors`), numeric columns
scaled by their range over train and control together.

Cost: every query (synthetic row) is compared with every train and control row, so the exact
search is quadratic. With more than ``max_queries`` synthetic rows (default 20,000), a seeded
uniform sample of that many synthetic rows is the query set (documented sampling for large
tables: the shares and quantiles are means over synthetic rows, so the sample estimates them
without bias, and the interval uses the sample size); train and control are always searched in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.evaluate.privacy.neighbors import column_kinds, encode, nearest
from synthlink.evaluate.privacy.stats import wilson


def normalised_share(p: float, n_train: int, n_control: int) -> float:
    """Map the raw share ``p`` of synthetic rows closer to train than to control onto the scale
    where 0.5 means no leak whatever the set sizes.

    Without a leak the nearest record of the pooled train + control set is equally likely to be any
    of them, so P(closer to train) = n_train / (n_train + n_control). The normalised share divides
    the observed odds by that null odds: ``q = (p / (1 - p)) / (n_train / n_control)`` and returns
    ``q / (1 + q)``: 0.5 under the null, 1 when every synthetic row is closer to train, 0 when none is.
    """
    if p >= 1.0:
        return 1.0
    if p <= 0.0:
        return 0.0
    q = (p / (1.0 - p)) * (n_control / n_train)
    return float(q / (1.0 + q))


def dcr_measures(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str],
    kinds: dict[str, str] | None = None,
    n_jobs: int = 2,
    max_queries: int | None = 20_000,
    seed: int = 0,
) -> dict[str, Any]:
    n_all = len(synthetic)
    if max_queries is not None and n_all > max_queries:
        synthetic = synthetic.iloc[np.sort(np.random.default_rng(seed).choice(n_all, size=int(max_queries), replace=False))]
    ctypes = column_kinds([train], columns, kinds)
    (et, ec, es), _, _ = encode([train, control, synthetic], columns, ctypes, reference=[0, 1])
    m = len(columns)
    d_t, _ = nearest(es, et, k=2, n_jobs=n_jobs)
    d_c, _ = nearest(es, ec, k=1, n_jobs=n_jobs)
    d1 = d_t[:, 0] / m
    d2 = d_t[:, 1] / m if d_t.shape[1] > 1 else np.full_like(d1, np.nan)
    dc = d_c[:, 0] / m
    with np.errstate(divide="ignore", invalid="ignore"):
        nndr = np.where(d2 > 0, d1 / d2, 1.0)
    eps = 1e-9
    closer = np.where(d1 < dc - eps, 1.0, np.where(np.abs(d1 - dc) <= eps, 0.5, 0.0))
    n = len(synthetic)
    p = float(closer.mean())
    rate = wilson(p * n, n)
    lo_raw, hi_raw = max(0.0, rate.value - rate.error), min(1.0, rate.value + rate.error)
    share = normalised_share(p, len(train), len(control))
    ci = [normalised_share(lo_raw, len(train), len(control)), normalised_share(hi_raw, len(train), len(control))]
    risk = max(0.0, 2.0 * (share - 0.5))
    risk_ci = [max(0.0, 2.0 * (ci[0] - 0.5)), max(0.0, 2.0 * (ci[1] - 0.5))]

    def q(x: np.ndarray) -> dict[str, float]:
        return {"p05": float(np.quantile(x, 0.05)), "median": float(np.median(x)), "mean": float(x.mean())}

    return {
        "risk": risk,
        "ci": risk_ci,
        "share_closer_to_train": share,
        "share_closer_to_train_ci": ci,
        "share_closer_to_train_raw": p,
        "identical_match_share": float((d1 <= eps).mean()),
        "identical_match_share_control": float((dc <= eps).mean()),
        "dcr_train": q(d1),
        "dcr_control": q(dc),
        "nndr_train": q(nndr),
        "n_synthetic": n_all,
        "n_queries": n,
        "n_train": len(train),
        "n_control": len(control),
        "definition": (
            "DCR: mean per-column Gower distance of each synthetic row to its nearest train row "
            "(numeric |a-b|/range over train+control, categorical mismatch 0/1). NNDR: nearest over "
            "second-nearest train distance (1 when both are 0). share_closer_to_train: share of "
            "synthetic rows nearer to train than to control (ties count 1/2), normalised for set "
            "sizes by dividing its odds by the null odds n_train/n_control (0.5 = no leak). "
            "risk = max(0, 2 * (share - 0.5)). identical_match_share: synthetic rows with DCR 0 to "
            "train (_control: to control, the reference for what real data repeats by chance). Above "
            "max_queries synthetic rows, a seeded uniform sample of them is measured (n_queries)."
        ),
        "direction": "lower risk is safer; higher DCR and NNDR are safer; identical-match share near the control figure is expected",
        "range": "risk, shares, DCR and NNDR in [0, 1]",
    }

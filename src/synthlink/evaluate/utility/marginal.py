"""Univariate utility: per column, the Kolmogorov-Smirnov statistic (numeric columns,
``scipy.stats.ks_2samp``) and the total variation distance (every column; numeric ones cut into
quantile bins of train; missing values a category of their own), of the compared table and of
control against train."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.evaluate.utility.encoding import as_float, as_labels, quantile_bins

#: ``scipy.stats.ks_2samp``'s ``method="auto"`` takes the exact path up to this sample size
KS_EXACT_MAX_N = 10_000


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic, missing values left out; NaN if either sample is
    empty. The statistic of ``scipy.stats.ks_2samp(a, b)`` (two-sided, ``method="auto"``),
    computed as scipy 1.17 does (``_stats_py.ks_2samp``: the largest gap between the two
    empirical CDFs evaluated at every observation, and on its exact path, samples of at most
    :data:`KS_EXACT_MAX_N`, rounded to a multiple of 1 / lcm(n1, n2) as
    ``_attempt_exact_2kssamp`` does) without the p-value, which the report does not use and
    which cost most of the time."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = np.sort(a[~np.isnan(a)])
    b = np.sort(b[~np.isnan(b)])
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return float("nan")
    both = np.concatenate([a, b])
    cddiffs = np.searchsorted(a, both, side="right") / n1 - np.searchsorted(b, both, side="right") / n2
    min_s = np.clip(-cddiffs[np.argmin(cddiffs)], 0, 1)
    max_s = cddiffs[np.argmax(cddiffs)]
    d = min_s if min_s > max_s else max_s
    if max(n1, n2) <= KS_EXACT_MAX_N:
        lcm = (n1 // math.gcd(n1, n2)) * n2
        d = int(np.round(d * lcm)) * 1.0 / lcm
    return float(d)


def tvd(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray) -> float:
    """Total variation distance between the category distributions of two label arrays:
    0.5 * sum_k |p_k - q_k|. Labels are compared as given (use :func:`as_labels` first so that
    missing values form a category)."""
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    codes, _ = pd.factorize(np.concatenate([a, b]))
    k = int(codes.max()) + 1
    p = np.bincount(codes[: len(a)], minlength=k) / len(a)
    q = np.bincount(codes[len(a):], minlength=k) / len(b)
    return float(0.5 * np.abs(p - q).sum())


def univariate(
    train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame | None,
    kinds: Mapping[str, str], *, roles: Mapping[str, str] | None = None, bins: int = 20,
) -> pd.DataFrame:
    """Per column: KS (numeric) and TVD (all; numeric binned on train's quantiles) of synthetic vs
    train and control vs train. Tidy: one row per (column, measure) with columns ``column``,
    ``kind``, ``role``, ``measure``, ``synthetic``, ``control`` and the missing shares."""
    rows = []
    tables = {"train": train, "synthetic": synthetic}
    if control is not None:
        tables["control"] = control
    for c, k in kinds.items():
        miss = {f"missing_{name}": float(t[c].isna().mean()) if len(t) else float("nan") for name, t in tables.items()}
        base = {"column": c, "kind": k, "role": (roles or {}).get(c, "")}
        if k == "numeric":
            arr = {name: as_float(t[c], f"{name}: ") for name, t in tables.items()}
            ks = {name: ks_statistic(arr[name], arr["train"]) for name in arr if name != "train"}
            rows.append({**base, "measure": "ks", "synthetic": ks["synthetic"], "control": ks.get("control"), **miss})
            lab = {name: quantile_bins(arr["train"], v, bins) for name, v in arr.items()}
        else:
            lab = {name: as_labels(t[c]) for name, t in tables.items()}
        tv = {name: tvd(lab[name], lab["train"]) for name in lab if name != "train"}
        rows.append({**base, "measure": "tvd", "synthetic": tv["synthetic"], "control": tv.get("control"), **miss})
    return pd.DataFrame(rows)

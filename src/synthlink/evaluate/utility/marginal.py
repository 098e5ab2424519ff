"""Univariate utility: per column, the Kolmogorov-Smirnov statistic (numeric columns,
``scipy.stats.ks_2samp``) and the total variation distance (every column; numeric ones cut into
quantile bins of train; missing values a category of their own), of the compared table and of
control against train."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthlink.evaluate.utility.encoding import as_float, as_labels, quantile_bins


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (``scipy.stats.ks_2samp``), missing values left out.
    NaN if either sample is empty."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = a[~np.isnan(a)]
    b = b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(stats.ks_2samp(a, b).statistic)


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

"""Association between pairs of columns and the pairs' tags.

Measures: Pearson and Spearman correlation for numeric-numeric pairs, bias-corrected Cramer's V
(Bergsma 2013, "A bias-correction for Cramer's V and Tschuprow's T", J. Korean Stat. Soc. 42) for
categorical-categorical pairs, the correlation ratio eta for mixed pairs. Each pair is tagged
``common`` (two common variables), ``within`` (both held by one part) or ``cross`` (own variables
of two different parts: what linkage must preserve)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthlink.evaluate.utility.encoding import Encoded, as_labels, label_codes


def dense_codes(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes renumbered 0..k-1 in sorted order, and k."""
    u, inv = np.unique(codes, return_inverse=True)
    return inv.astype(np.int64), len(u)


def cramers_v(x: Sequence[Any] | np.ndarray, y: Sequence[Any] | np.ndarray) -> float:
    """Bias-corrected Cramer's V (Bergsma 2013) of two categorical arrays; pairs with a missing value
    (None/NaN or :data:`NA_LABEL`) are left out. 0.0 when either variable has a single category."""
    xl = as_labels(pd.Series(list(x) if not isinstance(x, np.ndarray) else x))
    yl = as_labels(pd.Series(list(y) if not isinstance(y, np.ndarray) else y))
    return cramers_v_codes(label_codes(xl), label_codes(yl))


def cramers_v_codes(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramer's V of two code arrays (-1 = missing, pair left out)."""
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 2:
        return float("nan")
    a, r = dense_codes(a)
    b, k = dense_codes(b)
    if r < 2 or k < 2:
        return 0.0
    table = np.bincount(a * k + b, minlength=r * k).reshape(r, k).astype(float)
    expected = np.outer(table.sum(1), table.sum(0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    return float(math.sqrt(phi2c / denom)) if denom > 0 else 0.0


def correlation_ratio(categories: Sequence[Any] | np.ndarray, values: Sequence[float] | np.ndarray) -> float:
    """Correlation ratio eta = sqrt(SS_between / SS_total) of numeric ``values`` by ``categories``;
    incomplete pairs left out. 0.0 when the values are constant."""
    lab = as_labels(pd.Series(list(categories) if not isinstance(categories, np.ndarray) else categories))
    return eta_codes(label_codes(lab), np.asarray(values, dtype=float))


def eta_codes(c: np.ndarray, v: np.ndarray) -> float:
    """Correlation ratio of values ``v`` by category codes ``c`` (-1 or NaN = left out)."""
    ok = (c >= 0) & ~np.isnan(v)
    c, v = c[ok], v[ok]
    if len(v) < 2:
        return float("nan")
    c, k = dense_codes(c)
    mean = v.mean()
    ss_tot = float(((v - mean) ** 2).sum())
    if ss_tot <= 0:
        return 0.0
    cnt = np.bincount(c, minlength=k)
    sums = np.bincount(c, weights=v, minlength=k)
    ss_b = float((cnt * (sums / np.maximum(cnt, 1) - mean) ** 2).sum())
    return float(math.sqrt(min(1.0, ss_b / ss_tot)))


def correlation(x: np.ndarray, y: np.ndarray, rank: bool) -> float:
    """Pearson (``rank`` False) or Spearman (``rank`` True) correlation over complete pairs; NaN
    below three pairs, 0.0 when either column is constant."""
    ok = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return float("nan")
    if rank:
        x = stats.rankdata(x)
        y = stats.rankdata(y)
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return 0.0
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def pair_measures(ka: str, kb: str) -> list[str]:
    """The association measures of a pair of column kinds, the primary one first."""
    if ka == "numeric" and kb == "numeric":
        return ["spearman", "pearson"]  # first = primary
    if ka == "categorical" and kb == "categorical":
        return ["cramers_v"]
    return ["eta"]


def association(e: Encoded, a: str, b: str, measure: str) -> float:
    """One association measure of columns ``a`` and ``b`` of an encoded table."""
    if measure == "spearman":
        return correlation(e.num[a], e.num[b], rank=True)
    if measure == "pearson":
        return correlation(e.num[a], e.num[b], rank=False)
    if measure == "cramers_v":
        return cramers_v_codes(e.code[a], e.code[b])
    cat, num = (a, b) if a in e.code else (b, a)
    return eta_codes(e.code[cat], e.num[num])


def column_roles(columns: Iterable[str], part_columns: Mapping[str, Sequence[str]], common: Sequence[str]) -> dict[str, str]:
    """``common``, the owning part's name, or ``""`` (not placed)."""
    owner = {c: p for p, cols in part_columns.items() for c in cols}
    return {c: "common" if c in common else owner.get(c, "") for c in columns}


def pair_type(role_a: str, role_b: str) -> str:
    """``common`` (two common variables), ``within`` (one part holds both), ``cross`` (own variables
    of two different parts) or ``unknown`` (a column is in no part)."""
    if role_a == "" or role_b == "":
        return "unknown"
    if role_a == "common" and role_b == "common":
        return "common"
    if role_a == "common" or role_b == "common" or role_a == role_b:
        return "within"
    return "cross"


def bivariate(
    enc: Mapping[str, Encoded], kinds: Mapping[str, str], roles: Mapping[str, str],
) -> pd.DataFrame:
    """Association per pair of columns and measure in every encoded table (``train`` required);
    ``diff_<table>`` = |assoc(table) - assoc(train)|."""
    cols = list(kinds)
    rows = []
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            measures = pair_measures(kinds[a], kinds[b])
            for j, m in enumerate(measures):
                row: dict[str, Any] = {
                    "a": a, "b": b, "kind": f"{kinds[a]}-{kinds[b]}", "measure": m, "primary": j == 0,
                    "pair_type": pair_type(roles.get(a, ""), roles.get(b, "")),
                    "part_a": roles.get(a, ""), "part_b": roles.get(b, ""),
                }
                for name, e in enc.items():
                    row[name] = association(e, a, b, m)
                for name in enc:
                    if name != "train":
                        row[f"diff_{name}"] = abs(row[name] - row["train"])
                rows.append(row)
    return pd.DataFrame(rows)

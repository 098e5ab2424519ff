"""Linkage quality against the truth (known on the original split), and the uniqueness bound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from synthlink.evaluate.metric import Metric
from synthlink.link.base import Links
from synthlink.reconstruct import resolve_one_to_one


def _pair_keys(left: np.ndarray, right: np.ndarray, n_right: int) -> np.ndarray:
    return left.astype(np.int64) * np.int64(n_right + 1) + right.astype(np.int64)


def linkage_quality(links: Links, truth: pd.DataFrame) -> dict[str, float]:
    """Precision, recall and F1 of the pairs; one-to-one accuracy after resolving to one-to-one;
    share of left rows left unlinked.

    ``truth``: true pairs as row positions (columns ``left``, ``right``).
    """
    n_true = len(truth)
    tkeys = _pair_keys(truth["left"].to_numpy(), truth["right"].to_numpy(), links.n_right)
    p = links.pairs
    lkeys = _pair_keys(p["left"].to_numpy(), p["right"].to_numpy(), links.n_right)
    tp = int(np.isin(lkeys, tkeys).sum())
    precision = tp / len(p) if len(p) else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    one = resolve_one_to_one(links)
    okeys = _pair_keys(one["left"].to_numpy(), one["right"].to_numpy(), links.n_right)
    correct = int(np.isin(okeys, tkeys).sum())
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": correct / n_true if n_true else 0.0,
        "true_positives": float(tp),
        "pairs": float(len(p)),
        "true_pairs": float(n_true),
        "share_unlinked_left": 1 - one["left"].nunique() / links.n_left if links.n_left else 0.0,
    }


def discretise(df: pd.DataFrame, bins: Mapping[str, int | Sequence[float]] | None = None) -> pd.DataFrame:
    """Cut numeric columns named in ``bins`` into intervals (an int = that many equal-width bins,
    a sequence = the edges); others are used as they are (each distinct value is a cell)."""
    if not bins:
        return df
    out = df.copy()
    for c, b in bins.items():
        if c in out.columns:
            out[c] = pd.cut(out[c], bins=b, include_lowest=True).astype(str)
    return out


def uniqueness_bound(df: pd.DataFrame, columns: Sequence[str], bins: Mapping[str, int | Sequence[float]] | None = None) -> float:
    """Distinct combinations of ``columns`` divided by records. When two parts hold the same people
    with the same values, random one-to-one matching within cells of equal values gets exactly one
    correct link per cell in expectation, so no method that only sees these columns can expect a
    higher one-to-one accuracy. Missing values count as a value of their own."""
    if len(df) == 0:
        return 0.0
    d = discretise(df[list(columns)], bins)
    return float(len(d.drop_duplicates())) / len(d)


def uniqueness_bound_metric(df: pd.DataFrame, columns: Sequence[str]) -> Metric:
    return Metric(
        "uniqueness_bound", uniqueness_bound(df, columns), goal="none", low=0.0, high=1.0, group="linkage",
        description="distinct combinations of the linking variables / records: the best one-to-one "
        "accuracy any method that sees only these variables can expect",
        details={"columns": list(columns)},
    )

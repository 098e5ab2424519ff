"""Linkage quality against the truth (known on the original split), and the uniqueness bound."""

from __future__ import annotations

import math
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


# -- baseline figures: ties, per-block bound, expected bound, metric list ------------------------

def share_ties(links: Links) -> float | None:
    """Share of links chosen among equally good candidates, as the method reports it
    (``diagnostics['share_ties']``); ``None`` when the method does not report it."""
    v = links.diagnostics.get("share_ties")
    return float(v) if v is not None else None


def uniqueness_bound_by_block(
    df: pd.DataFrame,
    columns: Sequence[str],
    block: str | Sequence[str],
    bins: Mapping[str, int | Sequence[float]] | None = None,
) -> pd.DataFrame:
    """The uniqueness bound within each block (value of ``block``; missing is a block of its own):
    one row per block with ``records``, ``distinct`` (combinations of ``columns``) and ``bound``
    (distinct / records), sorted by block size (largest first). The overall bound is the
    record-weighted mean of the block bounds when ``block`` is among ``columns``."""
    block_cols = [block] if isinstance(block, str) else list(block)
    cols = list(dict.fromkeys([*block_cols, *columns]))
    d = discretise(df[cols], bins)
    keys = d[block_cols].astype("object").fillna("<missing>")
    rows = d.assign(**{f"__b{i}": keys[c].astype(str) for i, c in enumerate(block_cols)})
    bcols = [f"__b{i}" for i in range(len(block_cols))]
    distinct = rows.drop_duplicates(subset=cols).groupby(bcols, dropna=False).size()
    size = rows.groupby(bcols, dropna=False).size()
    out = pd.DataFrame({"records": size, "distinct": distinct.reindex(size.index).fillna(0).astype(int)})
    out["bound"] = out["distinct"] / out["records"]
    out = out.reset_index().rename(columns={f"__b{i}": c for i, c in enumerate(block_cols)})
    return out.sort_values("records", ascending=False, kind="stable").reset_index(drop=True)


def expected_bound(
    left: pd.DataFrame,
    right: pd.DataFrame,
    truth: pd.DataFrame,
    columns: Sequence[str],
) -> float:
    return expected_bound_and_sd(left, right, truth, columns)[0]


def expected_bound_and_sd(
    left: pd.DataFrame,
    right: pd.DataFrame,
    truth: pd.DataFrame,
    columns: Sequence[str],
) -> tuple[float, float]:
    """Expected one-to-one accuracy of the best use of exact agreement on ``columns``, for parts
    that may cover different people or disagree (recording noise).

    Within a cell of equal values holding ``a`` left and ``b`` right records, ``min(a, b)`` random
    one-to-one pairs give a given true pair probability ``1 / max(a, b)``; true pairs whose values
    disagree cannot be found this way. The sum over true pairs, divided by the number of true
    pairs (the denominator of the accuracy in :func:`linkage_quality`), is the figure. With the
    same people and no noise it equals :func:`uniqueness_bound`. Missing is a value of its own.

    Returns the figure and its standard deviation under that random choice among identical
    records (what one seed of a linker that cannot tell them apart may differ by). A cell with
    ``k`` true pairs and ``M = max(a, b)`` gives ``E[TP] = k / M`` and, the ``min(a, b)`` links
    being a uniformly random one-to-one choice, ``E[TP (TP - 1)] = k (k - 1) / (M (M - 1))``, so
    ``var = k / M + k (k - 1) / (M (M - 1)) - (k / M)^2`` (1 for a cell of ``m`` people on each
    side, as for the fixed points of a random permutation); cells are independent.
    """
    from synthlink.schema import joint_codes

    n_true = len(truth)
    if n_true == 0:
        return 0.0, 0.0
    cols = list(columns)
    both = pd.concat([left[cols], right[cols]], ignore_index=True)
    lc, rc = joint_codes([both], len(left))
    a = np.bincount(lc, minlength=int(max(lc.max(initial=0), rc.max(initial=0))) + 1)
    b = np.bincount(rc, minlength=len(a))
    tl = lc[truth["left"].to_numpy()]
    tr = rc[truth["right"].to_numpy()]
    agree = tl == tr
    p = np.zeros(n_true)
    p[agree] = 1.0 / np.maximum(a[tl[agree]], b[tl[agree]])
    cells, k = np.unique(tl[agree], return_counts=True)
    big = np.maximum(a[cells], b[cells]).astype("float64")
    k = k.astype("float64")
    pair_term = np.where(big > 1, k * (k - 1) / (big * np.maximum(big - 1, 1)), 0.0)
    var = float(np.maximum(k / big + pair_term - (k / big) ** 2, 0.0).sum())
    return float(p.sum() / n_true), math.sqrt(var) / n_true


def baseline_metrics(
    links: Links,
    truth: pd.DataFrame,
    left: pd.DataFrame,
    right: pd.DataFrame,
    cols: Sequence[str],
) -> list[Metric]:
    """The baseline figures of one linkage run on the original split (truth known).

    ===================== ====== ======== ====================================================
    name                  goal   range    meaning
    ===================== ====== ======== ====================================================
    precision             max    [0, 1]   share of proposed pairs that are true pairs
    recall                max    [0, 1]   share of true pairs among the proposed pairs
    f1                    max    [0, 1]   harmonic mean of precision and recall
    accuracy              max    [0, 1]   true pairs kept after resolving to one-to-one /
                                          true pairs (the figure compared with the bound)
    share_unlinked_left   none   [0, 1]   left records without a link after resolution
    share_ties            min    [0, 1]   links chosen among equally good candidates
                                          (method's own count; absent if not reported)
    uniqueness_bound      none   [0, 1]   distinct combinations of ``cols`` / records of the
                                          left part
    expected_bound        none   [0, 1]   expected accuracy of random one-to-one pairing within
                                          cells of equal values, given coverage and noise
    accuracy_vs_bound     max    [0, ~1]  accuracy / expected_bound: 1 = as good as the data
                                          allow (can exceed 1 slightly by chance, or when a
                                          method uses near agreement where values are noisy)
    ===================== ====== ======== ====================================================
    Each metric is computed inside :func:`safe_metric`: a failure becomes an error entry.
    """
    from synthlink.evaluate.metric import safe_metric

    group = "linkage"
    out: list[Metric] = []
    q: dict[str, float] = {}

    def _quality() -> list[Metric]:
        q.update(linkage_quality(links, truth))
        return [
            Metric("precision", q["precision"], "max", 0.0, 1.0, group=group,
                   description="share of proposed pairs that are true pairs",
                   details={"true_positives": q["true_positives"], "pairs": q["pairs"]}),
            Metric("recall", q["recall"], "max", 0.0, 1.0, group=group,
                   description="share of true pairs found among the proposed pairs",
                   details={"true_pairs": q["true_pairs"]}),
            Metric("f1", q["f1"], "max", 0.0, 1.0, group=group,
                   description="harmonic mean of precision and recall"),
            Metric("accuracy", q["accuracy"], "max", 0.0, 1.0, group=group,
                   description="true pairs kept after resolving the links to one-to-one, divided by "
                   "the number of true pairs"),
            Metric("share_unlinked_left", q["share_unlinked_left"], "none", 0.0, 1.0, group=group,
                   description="left records left without a link after one-to-one resolution"),
        ]

    out += safe_metric("linkage_quality", group, _quality)
    ties = share_ties(links)
    if ties is not None:
        out.append(Metric("share_ties", ties, "min", 0.0, 1.0, group=group,
                          description="share of links chosen among equally good candidates (as reported "
                          "by the method): such links are right only by chance",
                          details={"method": links.method}))
    out += safe_metric("uniqueness_bound", group, lambda: uniqueness_bound_metric(left, cols))
    eb: dict[str, float] = {}

    def _expected() -> Metric:
        eb["v"], sd = expected_bound_and_sd(left, right, truth, cols)
        return Metric("expected_bound", eb["v"], "none", 0.0, 1.0, group=group,
                      description="expected accuracy of random one-to-one pairing within cells of equal "
                      "values of the linking variables, given the parts' coverage and noise",
                      details={"columns": list(cols), "sd": sd})

    out += safe_metric("expected_bound", group, _expected)

    def _ratio() -> Metric:
        if "accuracy" not in q or not eb.get("v"):
            raise ValueError("accuracy or expected bound unavailable")
        return Metric("accuracy_vs_bound", q["accuracy"] / eb["v"], "max", 0.0, None, group=group,
                      description="accuracy divided by the expected bound: 1 means as good as the "
                      "linking variables allow")

    out += safe_metric("accuracy_vs_bound", group, _ratio)
    return out

"""Which common variables drive the links, and which combinations single people out.

Both sides of the same coin: a variable that makes links right is a variable that makes people
recognisable. :func:`variable_influence` measures, on the original split (truth known), how much
one-to-one accuracy each common variable brings; :func:`singling_out_combinations` measures, on a
table, the share of records alone in their cell for each combination of common variables.

Everything returns tidy :class:`pandas.DataFrame` objects (one row per variable, step or
combination) that a report can chart directly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from synthlink.evaluate.linkage import discretise, linkage_quality, uniqueness_bound
from synthlink.link.base import Linker, shuffled_link

LinkerFactory = Callable[[list[str]], Linker]


def _accuracy_cache(
    left: pd.DataFrame, right: pd.DataFrame, truth: pd.DataFrame, factory: LinkerFactory, seed: int
) -> Callable[[Sequence[str]], float]:
    cache: dict[frozenset[str], float] = {}
    n_true = len(truth)

    def acc(cols: Sequence[str]) -> float:
        key = frozenset(cols)
        if key not in cache:
            if not cols:
                # no information: random one-to-one pairing finds 1/max(n) true pairs in expectation
                m = max(len(left), len(right))
                cache[key] = 1.0 / m if n_true and m else 0.0
            else:
                c = list(cols)
                links = shuffled_link(factory(c), left[c], right[c], seed=seed)
                cache[key] = linkage_quality(links, truth)["accuracy"]
        return cache[key]

    return acc


def variable_influence(
    left: pd.DataFrame,
    right: pd.DataFrame,
    truth: pd.DataFrame,
    columns: Sequence[str],
    factory: LinkerFactory,
    seed: int = 0,
    bins: Mapping[str, int | Sequence[float]] | None = None,
    forward: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Influence of each common variable on linkage accuracy and on the uniqueness bound.

    ``factory(cols)`` returns a fresh linker that links on ``cols`` (e.g.
    ``lambda c: DistanceLinker(on=c)``); the parts are restricted to those columns before linking.

    Returns ``(per_variable, forward_steps)``:

    ``per_variable`` (one row per variable): ``accuracy_all`` (all variables),
    ``accuracy_without`` and ``loss_when_dropped`` (= all - without: the accuracy the variable
    adds to the others), ``accuracy_alone`` (its gain from nothing), ``bound_all``,
    ``bound_without``, ``bound_loss_when_dropped`` and ``bound_alone`` (uniqueness bounds of the
    left part with the same column sets), and ``forward_step`` (its rank in forward selection).

    ``forward_steps`` (one row per step): greedy forward selection from no variable, adding at
    each step the variable with the largest accuracy gain: ``step``, ``variable``, ``accuracy``,
    ``gain``, ``bound``.
    """
    cols = list(columns)
    if not cols:
        raise ValueError("variable_influence needs at least one column")
    acc = _accuracy_cache(left, right, truth, factory, seed)

    def bound(c: Sequence[str]) -> float:
        return uniqueness_bound(left, list(c), bins) if c else (1.0 / len(left) if len(left) else 0.0)

    a_all = acc(cols)
    b_all = bound(cols)
    rows = []
    for v in cols:
        others = [c for c in cols if c != v]
        a_wo = acc(others)
        b_wo = bound(others)
        rows.append({
            "variable": v,
            "accuracy_all": a_all,
            "accuracy_without": a_wo,
            "loss_when_dropped": a_all - a_wo,
            "accuracy_alone": acc([v]),
            "bound_all": b_all,
            "bound_without": b_wo,
            "bound_loss_when_dropped": b_all - b_wo,
            "bound_alone": bound([v]),
        })
    per_var = pd.DataFrame(rows)
    steps = []
    if forward:
        chosen: list[str] = []
        current = acc([])
        remaining = list(cols)
        while remaining:
            trial = {v: acc([*chosen, v]) for v in remaining}
            best = max(remaining, key=lambda v: (trial[v], -cols.index(v)))
            chosen.append(best)
            remaining.remove(best)
            steps.append({"step": len(chosen), "variable": best, "accuracy": trial[best],
                          "gain": trial[best] - current, "bound": bound(chosen)})
            current = trial[best]
    fwd = pd.DataFrame(steps, columns=["step", "variable", "accuracy", "gain", "bound"])
    order = {r["variable"]: r["step"] for r in steps}
    per_var["forward_step"] = per_var["variable"].map(order).astype("Int64") if steps else pd.array([pd.NA] * len(per_var), dtype="Int64")
    return per_var, fwd


def _cell_sizes(d: pd.DataFrame) -> np.ndarray:
    """Size of each record's cell (records with equal values on all columns of ``d``)."""
    codes = np.zeros(len(d), dtype=np.int64)
    for c in d.columns:
        col = d[c]
        col = col.astype("float64") if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) else col.astype("object")
        k, uniq = pd.factorize(col, use_na_sentinel=False)
        codes = pd.factorize(codes * (len(uniq) + 1) + k)[0].astype(np.int64)
    return np.bincount(codes)[codes]


def singling_out_combinations(
    df: pd.DataFrame,
    cols: Sequence[str],
    max_k: int | None = None,
    max_combos: int = 200,
    seed: int = 0,
    bins: Mapping[str, int | Sequence[float]] | None = None,
) -> pd.DataFrame:
    """For each combination of ``cols`` of size ``k = 1 .. max_k`` (default: all), the share of
    records that are alone in their cell (unique on that combination: singled out by it).

    Columns: ``k``, ``combination`` (names joined by ``" + "``), ``variables`` (tuple),
    ``cells`` (distinct combinations of values), ``unique_records`` (records in cells of size one),
    ``share_unique_records`` (= unique_records / records), ``share_unique_cells`` (cells of size
    one / cells). When a size has more than ``max_combos`` combinations, ``max_combos`` of them
    are drawn at random (seeded) and ``sampled`` is True. Numeric columns named in ``bins`` are cut
    into intervals first (see :func:`~synthlink.evaluate.linkage.discretise`); other values are
    used as they are, missing counting as a value. Sorted by ``k`` then share (largest first).
    """
    cols = list(cols)
    if not cols:
        raise ValueError("singling_out_combinations needs at least one column")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        from synthlink.errors import InputError

        raise InputError(f"singling out: column(s) {', '.join(map(repr, missing))} not in the table")
    d = discretise(df[cols], bins)
    n = len(d)
    max_k = len(cols) if max_k is None else max(1, min(int(max_k), len(cols)))
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(1, max_k + 1):
        total = math.comb(len(cols), k)
        if total <= max_combos:
            combos = list(itertools.combinations(cols, k))
            sampled = False
        else:
            seen: set[tuple[str, ...]] = set()
            while len(seen) < max_combos:
                pick = tuple(sorted(rng.choice(len(cols), size=k, replace=False)))
                seen.add(tuple(cols[i] for i in pick))
            combos = sorted(seen, key=lambda t: [cols.index(x) for x in t])
            sampled = True
        for combo in combos:
            size = _cell_sizes(d[list(combo)]) if n else np.zeros(0, np.int64)
            uniq = int((size == 1).sum())
            cells = int((1.0 / size).sum().round()) if n else 0
            rows.append({
                "k": k, "combination": " + ".join(combo), "variables": combo, "cells": cells,
                "unique_records": uniq, "share_unique_records": uniq / n if n else 0.0,
                "share_unique_cells": uniq / cells if cells else 0.0, "sampled": sampled,
            })
    out = pd.DataFrame(rows)
    return out.sort_values(["k", "share_unique_records"], ascending=[True, False], kind="stable").reset_index(drop=True)


def singling_out_by_size(combos: pd.DataFrame) -> pd.DataFrame:
    """Summary of :func:`singling_out_combinations` per combination size: the largest and the
    mean share of unique records, and the combination reaching the largest."""
    if combos.empty:
        return pd.DataFrame(columns=["k", "combinations", "max_share_unique_records", "mean_share_unique_records", "worst_combination"])
    g = combos.groupby("k", sort=True)
    idx = g["share_unique_records"].idxmax()
    return pd.DataFrame({
        "k": g.size().index,
        "combinations": g.size().to_numpy(),
        "max_share_unique_records": g["share_unique_records"].max().to_numpy(),
        "mean_share_unique_records": g["share_unique_records"].mean().to_numpy(),
        "worst_combination": combos.loc[idx.to_numpy(), "combination"].to_numpy(),
    })

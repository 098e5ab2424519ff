"""The measures NIST's SDNist reports, as plug-in measures (issue 15 §2): the k-marginal score, over
all columns and restricted to the marginals that cross the partition, and the apparent-match
distribution on the quasi-identifiers. Unique exact matches live in
:mod:`synthlink.evaluate.measures`; the registrations are at the end of that module.

Definitions follow SDNist 2.4/2.5 (github.com/usnistgov/SDNist, ``sdnist/``), re-implemented here:

k-marginal (``metrics/kmarginal.py``)
    The marginals are the pairs of columns (``get_marginal_pairs``, l. 9-22): every pair ``i < j``
    of the sorted columns when there are fewer than 30, otherwise 200 pairs drawn with replacement
    by ``numpy.random.default_rng(seed).choice(columns, size=2)``; one column alone gives the pair
    (c, c). With a stable feature (SDNist's ACS configuration names ``PUMA``), the feature is left
    out of the pairs and put in front of each (l. 72, 126): 3-way marginals. A marginal's density
    is the count of each cell over the table's row count (l. 5-7); the marginal's distance is the
    sum over cells of the absolute density difference, in [0, 2] (l. 92, 106); the score is
    ``(2 - mean distance) * 500`` (l. 112, 153), i.e. ``1000 * (1 - mean total variation distance)``,
    in [0, 1000], 1000 for identical marginals and 0 for disjoint supports. Per value of the stable
    feature, SDNist also scores ``(1 - mean scaled distance) * 1000`` with the group's distance
    capped at its target share and scaled by N / group size (l. 119-152).
Binning (``report/dataset/binning.py``, l. 12-95, 20 bins)
    A numeric column whose (train) range exceeds 20 is cut into equal-frequency bins: edges at the
    train's percentiles ``0, 5, ..., 95`` (numpy ``method='higher'``), deduplicated, plus the train's
    maximum; one bin fewer and an extra edge when the other table reaches above the train's
    maximum (or below its minimum); a last edge equal to the one before is dropped; then
    ``pd.cut(include_lowest=True, labels=False)``. SDNist's null codes (``N``) stay out of binning
    and count as a value of their own: here a missing value is that value (``dropna=False``).
    Dates are binned as numbers (nanoseconds). SDNist reads "numeric" and the range from its data
    dictionary; here from the dtype and the train's observed range.
Apparent match distribution (``metrics/apparent_match_dist.py`` l. 11-30, ``report/score/privacy.py``
l. 79-123)
    The records unique on the quasi-identifiers in the synthetic table and in the target
    (``drop_duplicates(keep=False)``) are merged on them; each matched pair scores the percentage of
    the remaining shared columns whose values agree. SDNist reports the number matched and its
    percentage of the target's row count (``privacy.py`` l. 122-123), and the distribution of the
    agreement percentages (the histogram). Two missing values agree (as SDNist's ``N`` equals ``N``).

No discriminator AUC: SDNist's propensity (``metrics/propensity.py``) is a pMSE of a depth-6 tree,
not an AUC, and synthpop defines pMSE / S_pMSE, which the utility already reports (S_pMSE).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

N_BINS = 20  # binning.py bin_data(n_bins=20)
N_PERMUTATIONS = 200  # kmarginal.py KMarginal.N_PERMUTATIONS
MAX_ALL_PAIRS = 30  # kmarginal.py get_marginal_pairs: all pairs below 30 columns


# -- binning -----------------------------------------------------------------------------------------


def _as_numbers(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.Series(np.where(s.isna(), np.nan, s.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)),
                        index=s.index)
        return out
    return pd.to_numeric(s, errors="coerce").astype(float)


def is_binnable(s: pd.Series) -> bool:
    """Numeric (not boolean) or date columns: what SDNist's data dictionary calls continuous."""
    return (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)) \
        or pd.api.types.is_datetime64_any_dtype(s)


def bin_edges(target: pd.Series, other: pd.Series, n_bins: int = N_BINS) -> list[float] | None:
    """SDNist's bin edges for one numeric column (``binning.py`` l. 12-63), or None when the
    target's range is at most ``n_bins`` (left as it is, l. 25-26)."""
    t = _as_numbers(target).dropna()
    o = _as_numbers(other).dropna()
    if not len(t) or t.max() - t.min() <= n_bins:
        return None
    t_min, t_max = float(t.min()), float(t.max())
    o_min = float(o.min()) if len(o) else t_min
    o_max = float(o.max()) if len(o) else t_max
    extra = [t_max]
    if o_max > t_max:
        n_bins -= 1
        extra.append(o_max)
    if o_min < t_min:
        extra = [o_min, *extra]
        n_bins -= 1
    pct = [i * (100 / n_bins) for i in range(n_bins)]
    edges = [float(e) for e in np.unique(np.percentile(t.to_numpy(), pct, method="higher"))] + extra
    if edges[-1] == edges[-2]:
        edges = edges[:-1]
    return sorted(edges)


def bin_pair(target: pd.DataFrame, other: pd.DataFrame, n_bins: int = N_BINS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables with every binnable column of the target cut into SDNist's bins (codes 0, 1, ...;
    missing stays missing); other columns unchanged."""
    t, o = target.copy(), other.copy()
    for c in target.columns:
        if c not in other.columns or not is_binnable(target[c]):
            continue
        edges = bin_edges(target[c], other[c], n_bins)
        if edges is None:
            continue
        t[c] = pd.cut(_as_numbers(target[c]), bins=edges, labels=False, include_lowest=True, duplicates="drop")
        o[c] = pd.cut(_as_numbers(other[c]), bins=edges, labels=False, include_lowest=True, duplicates="drop")
    return t, o


# -- k-marginal --------------------------------------------------------------------------------------


def marginal_pairs(columns: Sequence[str], seed: int, n_permutations: int = N_PERMUTATIONS) -> list[tuple[str, str]]:
    """SDNist's pairs (``kmarginal.py`` ``get_marginal_pairs``, l. 9-22) of the columns, sorted."""
    cols = sorted(columns)
    if len(cols) == 1:
        return [(cols[0], cols[0])]
    if len(cols) < MAX_ALL_PAIRS:
        return list(itertools.combinations(cols, 2))
    rng = np.random.default_rng(seed=seed)
    return [(str(a), str(b)) for a, b in (rng.choice(cols, size=2) for _ in range(n_permutations))]


def codes(target: pd.DataFrame, other: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Per column, shared integer codes of the two tables' values (a missing value is a code of its
    own, as SDNist's ``N``) and the number of codes: the cells of the marginals."""
    out: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for c in target.columns:
        both = pd.concat([target[c], other[c]], ignore_index=True)
        k, uniq = pd.factorize(both, use_na_sentinel=False)
        out[c] = (k[:len(target)].astype(np.int64), k[len(target):].astype(np.int64), max(1, len(uniq)))
    return out


def marginal_distance(coded: Mapping[str, tuple[np.ndarray, np.ndarray, int]], cols: Sequence[str],
                      n_target: int, n_other: int) -> tuple[np.ndarray, np.ndarray]:
    """(per cell of the marginal on ``cols``, |target density - other density|; the cell's code of
    the first column). A density is the cell's count over the table's row count
    (``compute_marginal_densities``, l. 5-7); the sum is in [0, 2] (l. 92, 106)."""
    cols = list(dict.fromkeys(cols))  # SDNist's (c, c) pair is the 1-way marginal of c
    t = np.zeros(n_target, dtype=np.int64)
    o = np.zeros(n_other, dtype=np.int64)
    size = 1
    for c in cols:
        tc, oc, n = coded[c]
        t, o, size = t * n + tc, o * n + oc, size * n
    if size <= 4_000_000:
        cells = np.arange(size)
        diff = np.abs(np.bincount(t, minlength=size) / n_target - np.bincount(o, minlength=size) / n_other)
    else:  # many cells: only the occupied ones
        cells, inv = np.unique(np.concatenate([t, o]), return_inverse=True)
        diff = np.abs(np.bincount(inv[:n_target], minlength=len(cells)) / n_target
                      - np.bincount(inv[n_target:], minlength=len(cells)) / n_other)
    return diff, cells // (size // coded[cols[0]][2])


def kmarginal(target: pd.DataFrame, other: pd.DataFrame, *, marginals: Sequence[Sequence[str]] | None = None,
              group: str | None = None, seed: int = 0, binned: bool = False) -> dict[str, Any]:
    """SDNist's k-marginal score of ``other`` against ``target`` (0-1000, higher is better) on the
    given marginals (default: SDNist's pairs of the shared columns). With ``group`` (SDNist's
    stable feature), each marginal gets it in front (3-way) and ``scores`` holds SDNist's score per
    value of it (``kmarginal.py`` l. 115-152). Numeric columns are binned first unless ``binned``."""
    cols = [c for c in target.columns if c in other.columns]
    t, o = (target[cols], other[cols]) if binned else bin_pair(target[cols], other[cols])
    if marginals is None:
        marginals = marginal_pairs([c for c in cols if c != group], seed)
    marginals = [list(m) for m in marginals]
    if not marginals or not len(t) or not len(o):
        return {"score": float("nan"), "n_marginals": len(marginals), "scores": None}
    coded = codes(t, o)
    total = 0.0
    group_sum: np.ndarray | None = None
    for m in marginals:
        cells = ([group] if group else []) + [c for c in m if c != group]
        diff, first = marginal_distance(coded, cells, len(t), len(o))
        total += float(diff.sum())
        if group:
            g_codes, _, n_g = coded[group]
            t_share = np.bincount(g_codes, minlength=n_g) / len(t)
            d_sum = np.bincount(first, weights=diff, minlength=n_g)
            scaled = np.minimum(d_sum, t_share)  # kmarginal.py l. 137: at most the group's target share
            group_sum = scaled if group_sum is None else group_sum + scaled
    score = (2 - total / len(marginals)) * 500  # kmarginal.py l. 112 and 153
    scores = None
    if group and group_sum is not None:
        g_codes, _, n_g = coded[group]
        values = pd.factorize(pd.concat([t[group], o[group]], ignore_index=True), use_na_sentinel=False)[1]
        n_in = np.bincount(g_codes, minlength=n_g)
        # kmarginal.py l. 139 and 152: scaled by N / group size, groups of the target only
        scores = {values[i]: float((1 - group_sum[i] * len(t) / n_in[i] / len(marginals)) * 1000)
                  for i in range(n_g) if n_in[i]}
    return {"score": min(1000.0, max(0.0, score)), "n_marginals": len(marginals), "scores": scores}


def part_of(part_columns: Mapping[str, Sequence[str]] | None, common: Sequence[str]) -> dict[str, str]:
    """Column -> the part that holds it; common columns belong to no part."""
    out: dict[str, str] = {}
    for part, cols in (part_columns or {}).items():
        for c in cols:
            if c not in common:
                out[c] = part
    return out


def cross_pairs(columns: Sequence[str], owner: Mapping[str, str], seed: int,
                n_permutations: int = N_PERMUTATIONS) -> list[tuple[str, str]]:
    """SDNist's pairs restricted to those whose two columns come from two different parts. Below 30
    columns: every such pair; from 30 on, SDNist's 200 seeded draws are made among them instead."""
    cols = sorted(columns)
    pairs = [(a, b) for a, b in itertools.combinations(cols, 2)
             if a in owner and b in owner and owner[a] != owner[b]]
    if len(cols) < MAX_ALL_PAIRS or not pairs:
        return pairs
    rng = np.random.default_rng(seed=seed)
    return [pairs[int(i)] for i in rng.integers(0, len(pairs), size=n_permutations)]


def _with_control(fn: Any, train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, Any]:
    got = fn(train, synthetic)
    ref = fn(train, control) if set(got.get("columns", [])) <= set(control.columns) and len(control) else None
    out = {k: v for k, v in got.items() if k != "columns"}
    r = None if ref is None else ref.get("value")
    out["control"] = r if isinstance(r, float) and math.isfinite(r) else None
    return out


def k_marginal(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *, common: Sequence[str],
               part_columns: Mapping[str, Sequence[str]] | None, seed: int) -> dict[str, Any]:
    """SDNist's k-marginal score (0-1000) of J* against train on SDNist's pairs of every shared
    column (no stable feature: synthlink declares none); ``control``: the same for fresh real
    records, the sampling-noise reference."""
    cols = [c for c in synthetic.columns if c in train.columns]

    def one(t: pd.DataFrame, o: pd.DataFrame) -> dict[str, Any]:
        got = kmarginal(t[cols], o[cols], seed=seed)
        return {"value": got["score"], "n_marginals": got["n_marginals"], "k": 2, "columns": cols}

    return _with_control(one, train, control, synthetic)


def k_marginal_cross(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *, common: Sequence[str],
                     part_columns: Mapping[str, Sequence[str]] | None, seed: int) -> dict[str, Any]:
    """The k-marginal score on the pairs whose columns come from two different parts (common
    columns count as no part): the relations only the linkage can carry."""
    cols = [c for c in synthetic.columns if c in train.columns]
    pairs = cross_pairs(cols, part_of(part_columns, common), seed)

    def one(t: pd.DataFrame, o: pd.DataFrame) -> dict[str, Any]:
        got = kmarginal(t[cols], o[cols], marginals=pairs, seed=seed)
        return {"value": got["score"], "n_marginals": got["n_marginals"], "k": 2, "columns": cols}

    return _with_control(one, train, control, synthetic)


#: at most this many 3-way marginals (seeded draws) in :func:`k_marginal_cross3`
MAX_TRIPLES = 200


def cross_triples(columns: Sequence[str], owner: Mapping[str, str], seed: int,
                  max_triples: int = MAX_TRIPLES) -> list[tuple[str, str, str]]:
    """The 3-way marginals whose columns come from at least two different parts (a common column
    belongs to no part, and may be the third): all of them, or ``max_triples`` seeded draws
    without replacement when there are more, those spanning three parts first."""
    cols = sorted(columns)
    trip = [t for t in itertools.combinations(cols, 3) if len({owner[c] for c in t if c in owner}) >= 2]
    if len(trip) <= max_triples:
        return trip
    three = [t for t in trip if len({owner[c] for c in t if c in owner}) >= 3]
    rng = np.random.default_rng(seed=seed)
    if len(three) >= max_triples:
        return [three[int(i)] for i in np.sort(rng.choice(len(three), size=max_triples, replace=False))]
    two = [t for t in trip if len({owner[c] for c in t if c in owner}) == 2]
    pick = np.sort(rng.choice(len(two), size=max_triples - len(three), replace=False))
    return three + [two[int(i)] for i in pick]


def k_marginal_cross3(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *, common: Sequence[str],
                      part_columns: Mapping[str, Sequence[str]] | None, seed: int) -> dict[str, Any]:
    """SDNist's k-marginal score (the same densities and scale) on 3-way marginals whose columns
    come from at least two parts: what linking K registers must preserve. ``n_three_parts``: how
    many of them span three parts."""
    cols = [c for c in synthetic.columns if c in train.columns]
    owner = part_of(part_columns, common)
    triples = cross_triples(cols, owner, seed)
    n3 = sum(1 for t in triples if len({owner[c] for c in t if c in owner}) >= 3)

    def one(t: pd.DataFrame, o: pd.DataFrame) -> dict[str, Any]:
        got = kmarginal(t[cols], o[cols], marginals=triples, seed=seed)
        return {"value": got["score"], "n_marginals": got["n_marginals"], "n_three_parts": n3, "k": 3, "columns": cols}

    return _with_control(one, train, control, synthetic)


# -- apparent match distribution ---------------------------------------------------------------------


def agree(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Value by value: equal, or both missing (SDNist's ``N`` equals ``N``)."""
    an, bn = a.isna().to_numpy(), b.isna().to_numpy()
    eq = np.array([bool(x == y) if not (p or q) else False
                   for x, y, p, q in zip(a.to_numpy(dtype=object), b.to_numpy(dtype=object), an, bn, strict=True)],
                  dtype=bool)
    return eq | (an & bn)


def apparent_matches(target: pd.DataFrame, synthetic: pd.DataFrame, quasi: Sequence[str],
                     exclude: Sequence[str] = ()) -> tuple[int, np.ndarray]:
    """(matched, percentages): the number of records unique on ``quasi`` in both tables that match
    on it (``cellchange``), and per match the percentage of the remaining shared columns that agree
    (``match``)."""
    quasi = list(quasi)
    u_syn = synthetic.drop_duplicates(subset=quasi, keep=False)
    u_tar = target.drop_duplicates(subset=quasi, keep=False)
    merged = u_syn.merge(u_tar, how="inner", on=quasi)
    rest = sorted(set(synthetic.columns) & set(target.columns) - set(quasi) - set(exclude))
    if not len(merged) or not rest:
        return len(merged), np.full(len(merged), np.nan)
    agreeing = np.zeros(len(merged))
    for c in rest:
        agreeing += agree(merged[f"{c}_x"], merged[f"{c}_y"])
    return len(merged), agreeing / len(rest) * 100


def apparent_match_share(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *, common: Sequence[str],
                         part_columns: Mapping[str, Sequence[str]] | None, seed: int) -> dict[str, Any]:
    """SDNist's apparent match on the quasi-identifiers (the common columns): the number of records
    unique on them in both J* and train that match, over train's row count; extras: the matched
    count and the quartiles of the matched records' agreement on the other columns (percent)."""
    quasi = [c for c in common if c in train.columns and c in synthetic.columns]
    if not quasi:
        return {"value": float("nan"), "n": 0, "control": None}

    def one(t: pd.DataFrame, o: pd.DataFrame) -> dict[str, Any]:
        n, pct = apparent_matches(t, o, quasi)
        ok = pct[np.isfinite(pct)]
        q = [float(x) for x in np.percentile(ok, [25, 50, 75])] if len(ok) else None
        return {"value": n / len(t) if len(t) else float("nan"), "n": n, "agreement_quartiles": q,
                "agreement_median": None if q is None else q[1], "columns": list(t.columns)}

    return _with_control(one, train, control, synthetic)

"""Distance to closest record (DCR), nearest-neighbour distance ratio (NNDR), the share of
synthetic rows closer to train than to control, and the identical-match share.

Distances are mean per-column Gower distances in [0, 1] (see :mod:`.neighbors`), numeric columns
scaled by their range over train and control together.

Share closer to train, with ties. Each synthetic row ``s`` scores the share of train records
among its nearest real records: with ``m_t`` train and ``m_c`` control records at the smallest
distance from ``s`` over train and control together,

    score(s) = m_t / (m_t + m_c)      (1 if only train records are nearest, 0 if only control ones),

the probability that a nearest real record drawn at random among the tied ones is a train
record. Under the null (``s`` no more related to train than to control, train and control a
random split of one real sample) the train/control labels of the tied records are a random
draw of ``n_train`` labels out of ``n_train + n_control``, so each tied record is a train record
with probability ``pi = n_train / (n_train + n_control)`` and ``E[score(s)] = pi`` exactly,
whatever the number of ties. Counting a tie as 1/2 (the former rule) has the null expectation
``pi`` only without ties or with equal sizes: on categorical data, where most rows have many
exact copies in both sets, it tends to 1/2 and read a fresh sample at 4:1 as 0.2-0.3 on the
normalised scale instead of 0.5 (issue 11). Exact copies (distance 0) are counted by hashing the
encoded rows; ties at a positive distance by a float64 scan of that row against train and control.

The raw share ``p`` (mean score) is mapped to the no-leak scale by dividing its odds by the null
odds ``pi / (1 - pi)`` (:func:`normalised_share`: 0.5 when ``p = pi``), and the risk is
``max(0, 2 * (share - 0.5))``.

Interval. ``p = sum_r w_r [r in train]``, where ``w_r`` is the share of synthetic rows whose
nearest real record is ``r`` (a tied row spreads its 1/n_s evenly over its nearest records).
Under the null the labels are a random draw of ``n_train`` of the ``N`` real records, so
``Var(p) = pi (1 - pi) N / (N - 1) * sum_r (w_r - 1/N)^2`` exactly (:func:`split_se`). The
Wilson interval over the ``n_s`` synthetic rows alone treats them as independent and is too
narrow when they share nearest records (more synthetic than real rows: at 1:1 with 250 + 250
real and 1,000 fresh rows it held the null value in 35 of 40 demo splits). The raw interval is
the union of the Wilson interval and ``p +/- z se``, mapped through :func:`normalised_share`.

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

from synthlink.evaluate.privacy.neighbors import Encoded, column_kinds, encode, nearest
from synthlink.evaluate.privacy.stats import wilson, z_value

#: nearest distances (summed Gower units, float32 search) closer than this are checked for a tie
CANDIDATE_TOL = 1e-5
#: in the float64 scan, distances closer than this are a tie
TIE_TOL = 1e-9
#: float64 elements per chunk of the tie scan
_SCAN_ELEMENTS = 4_000_000


def normalised_share(p: float, n_train: int, n_control: int) -> float:
    """Map the raw share ``p`` of synthetic rows closer to train than to control onto the scale
    where 0.5 means no leak whatever the set sizes.

    Without a leak a nearest real record is a train record with probability
    ``pi = n_train / (n_train + n_control)`` (ties scored as in :func:`closer_scores`), so the null
    expectation of ``p`` is ``pi``. The normalised share divides the observed odds by that null
    odds: ``q = (p / (1 - p)) / (n_train / n_control)`` and returns ``q / (1 + q)``: 0.5 when
    ``p = pi``, 1 when every synthetic row is closer to train, 0 when none is.
    """
    if p >= 1.0:
        return 1.0
    if p <= 0.0:
        return 0.0
    q = (p / (1.0 - p)) * (n_control / n_train)
    return float(q / (1.0 + q))


def _rows(e: Encoded) -> np.ndarray:
    return np.hstack([e.num.astype(float), e.cat.astype(float)])


def _groups(q: Encoded, t: Encoded, c: Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One code per distinct encoded row, shared by the queries, ``t`` and ``c`` (identical rows,
    i.e. exact copies, share a code)."""
    nq, nt = len(q), len(t)
    allr = np.vstack([_rows(q), _rows(t), _rows(c)])
    if allr.shape[1] == 0:
        inv = np.zeros(len(allr), dtype=np.int64)
    else:
        _, inv = np.unique(allr, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
    return inv[:nq], inv[nq:nq + nt], inv[nq + nt:]


def _distances(q: Encoded, t: Encoded) -> np.ndarray:
    """Summed Gower distances of the queries ``q`` to every row of ``t`` (float64, one block)."""
    d = np.zeros((len(q), len(t)))
    for j in range(q.num.shape[1]):
        d += np.abs(q.num[:, j, None] - t.num[None, :, j])
    for j in range(q.cat.shape[1]):
        d += q.cat[:, j, None] != t.cat[None, :, j]
    return d


def _scan(q: Encoded, t: Encoded, c: Encoded, w_t: np.ndarray, w_c: np.ndarray, mass: float) -> np.ndarray:
    """Scores of the queries ``q`` by a chunked float64 scan: the train share among the rows of
    ``t`` and ``c`` at the smallest distance over both. Adds ``mass / (m_t + m_c)`` to the weight
    of each of those nearest rows (``w_t``, ``w_c``, in place)."""
    nq = len(q)
    score = np.empty(nq)
    width = max(1, (len(t) + len(c)) * max(1, q.num.shape[1] + q.cat.shape[1]))
    step = max(1, _SCAN_ELEMENTS // width)
    for s in range(0, nq, step):
        part = q.take(np.arange(s, min(s + step, nq)))
        dt = _distances(part, t)
        dc = _distances(part, c)
        dmin = np.minimum(dt.min(axis=1), dc.min(axis=1))[:, None]
        near_t = dt <= dmin + TIE_TOL
        near_c = dc <= dmin + TIE_TOL
        m_t, m_c = near_t.sum(axis=1), near_c.sum(axis=1)
        score[s:s + len(part)] = m_t / (m_t + m_c)
        share = mass / (m_t + m_c)
        w_t += share @ near_t
        w_c += share @ near_c
    return score


def closer_scores(
    es: Encoded, et: Encoded, ec: Encoded,
    d_train: np.ndarray, i_train: np.ndarray, d_control: np.ndarray, i_control: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per synthetic row, the share of train records among its nearest real records
    (``m_t / (m_t + m_c)``, see the module docstring), from the nearest distances (summed Gower
    units) and indices of train and control; with the weight each train and control record
    receives (``w_r``: the sum over synthetic rows of ``1 / (n_s (m_t + m_c))`` over the rows it
    is nearest to; the raw share is ``sum_r w_r [r in train]``).

    A row with exact copies in train or control is scored by their counts; a row without copies
    whose nearest train and control distances tie (within :data:`CANDIDATE_TOL`) by a float64
    scan; any other row is 1 or 0, its weight on the nearest record found (a record tied with it
    on the same side gets none, which can only make the variance of :func:`split_se` larger)."""
    ns = len(es)
    mass = 1.0 / ns
    w_t = np.zeros(len(et))
    w_c = np.zeros(len(ec))
    score = np.where(d_train < d_control, 1.0, 0.0)
    g_q, g_t, g_c = _groups(es, et, ec)
    k = int(max(g_q.max(initial=-1), g_t.max(initial=-1), g_c.max(initial=-1))) + 1
    n_t = np.bincount(g_t, minlength=k)[g_q]
    n_c = np.bincount(g_c, minlength=k)[g_q]
    copied = (n_t + n_c) > 0
    score[copied] = n_t[copied] / (n_t[copied] + n_c[copied])
    per_copy = np.bincount(g_q[copied], weights=mass / (n_t[copied] + n_c[copied]), minlength=k)
    w_t += per_copy[g_t]
    w_c += per_copy[g_c]
    tied = ~copied & (np.abs(d_train - d_control) <= CANDIDATE_TOL)
    strict = ~copied & ~tied
    to_t = strict & (score == 1.0)
    to_c = strict & (score == 0.0)
    np.add.at(w_t, i_train[to_t], mass)
    np.add.at(w_c, i_control[to_c], mass)
    rest = np.flatnonzero(tied)
    if len(rest):
        score[rest] = _scan(es.take(rest), et, ec, w_t, w_c, mass)
    return score, w_t, w_c


def split_se(w_t: np.ndarray, w_c: np.ndarray) -> float:
    """Standard error of the raw share ``p = sum_r w_r L_r`` under the null, where the labels
    ``L_r`` (1 = train) are a random draw of ``n_train`` of the ``N = n_train + n_control`` real
    records and the synthetic data are fixed (sampling without replacement):
    ``Var(p) = pi (1 - pi) N / (N - 1) * sum_r (w_r - 1/N)^2`` with ``pi = n_train / N``.
    It is the binomial ``pi (1 - pi) / n_s`` when every synthetic row has its own nearest
    record, and larger when many synthetic rows share nearest records (more synthetic than
    real rows, or hubs)."""
    w = np.concatenate([w_t, w_c])
    n = len(w)
    if n < 2:
        return 0.0
    pi = len(w_t) / n
    var = pi * (1.0 - pi) * n / (n - 1) * float(((w - 1.0 / n) ** 2).sum())
    return float(np.sqrt(max(var, 0.0)))


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
    d_t, i_t = nearest(es, et, k=2, n_jobs=n_jobs)
    d_c, i_c = nearest(es, ec, k=1, n_jobs=n_jobs)
    d1 = d_t[:, 0] / m
    d2 = d_t[:, 1] / m if d_t.shape[1] > 1 else np.full_like(d1, np.nan)
    dc = d_c[:, 0] / m
    with np.errstate(divide="ignore", invalid="ignore"):
        nndr = np.where(d2 > 0, d1 / d2, 1.0)
    eps = 1e-9
    closer, w_t, w_c = closer_scores(es, et, ec, d_t[:, 0], i_t[:, 0], d_c[:, 0], i_c[:, 0])
    n = len(synthetic)
    p = float(closer.mean())
    rate = wilson(p * n, n)
    se_split = split_se(w_t, w_c)
    z = z_value(0.95)
    lo_raw = max(0.0, min(rate.value - rate.error, p - z * se_split))
    hi_raw = min(1.0, max(rate.value + rate.error, p + z * se_split))
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
        "share_closer_to_train_null": len(train) / (len(train) + len(control)),
        "share_closer_to_train_se_split": se_split,
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
            "second-nearest train distance (1 when both are 0). share_closer_to_train: mean over "
            "synthetic rows of m_t / (m_t + m_c), the share of train records among the row's nearest "
            "real records (1 if only train records are nearest; ties split by their counts, so its "
            "null expectation is n_train / (n_train + n_control) exactly), normalised for set sizes "
            "by dividing its odds by the null odds n_train/n_control (0.5 = no leak). "
            "risk = max(0, 2 * (share - 0.5)). Interval: the union of the Wilson interval over "
            "synthetic rows and p +/- 1.96 se_split, the standard error under a random train/control "
            "split with the synthetic data fixed (it counts synthetic rows that share nearest real "
            "records). identical_match_share: synthetic rows with DCR 0 to "
            "train (_control: to control, the reference for what real data repeats by chance). Above "
            "max_queries synthetic rows, a seeded uniform sample of them is measured (n_queries)."
        ),
        "direction": "lower risk is safer; higher DCR and NNDR are safer; identical-match share near the control figure is expected",
        "range": "risk, shares, DCR and NNDR in [0, 1]",
    }

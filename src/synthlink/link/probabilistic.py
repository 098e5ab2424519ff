"""Probabilistic (Fellegi-Sunter) linkage through Splink, on an in-memory DuckDB database (default) or Spark.

What Splink does (its own API, nothing re-implemented here):

- comparisons that fit each variable's type: exact agreement for categories; for numbers
  (years, ages, household sizes) the levels exact / ``|difference| <= 1`` / ``<= 2`` / else;
  for dates exact / within 1 month / within 1 year / else;
- blocking rules that generate the candidate pairs (each rule: exact agreement on a list of columns);
- u probabilities by random sampling (``estimate_u_using_random_sampling`` with a seed);
- m probabilities either by expectation maximisation (``m_from="em"``; one EM session per
  training rule, each rule blocking on some columns and leaving the others free to be estimated,
  as Splink documents), or from the true pairs (``m_from="truth"``; Splink's
  ``estimate_m_from_pairwise_labels``), which is possible on the original split where the true
  links are known. When a truth is given, both models are trained and both sets of weights are
  reported, so that an EM that failed to separate matches from non-matches is visible.
- the match weight and match probability of every candidate pair (``inference.predict``).

What is done here: the one-to-one step, instead of a greedy pass or Splink's whole-graph
single-best-link step (slow at 100k x 100k). The objective is the sum of the links' match
probabilities above the threshold (the expected number of correct links; ``objective="weight"``:
the sum of match weights, the maximum-likelihood assignment), solved exactly per connected
component of the candidate graph (for one exact blocking rule: the blocks).

Profiles. Match weights depend only on the compared values, so with ``one_to_one=True`` (the
default) the trained model is applied by Splink's ``predict`` to the distinct profiles of each part
(combinations of the linking columns, with a record count each), not to the records: far fewer
candidate pairs. The one-to-one step is then the same maximum-weight problem on profile counts (a
transportation problem, :func:`profile_assignment`, exact: per component ``linear_sum_assignment``
on the records' rows/columns, or an integral LP for very large components), and record pairs are
drawn within the chosen profile pairs in a seeded random order (:func:`expand_profile_pairs`).
``candidate_pairs`` still counts record pairs. With ``one_to_one=False`` every candidate record
pair is scored by Splink as before. Training (u sampling, EM, m from truth) runs on the records.

The prior ``lambda`` (probability that two random records match) is taken from the truth
(``true pairs / (n_left * n_right)``) when there is one, else from the data under the assumption that
every record of the smaller part has one match: ``min(n_left, n_right) / (n_left * n_right)``.

Privacy: only the linking columns and an internal row-position id reach Splink; identifiers and
any other column stay out. Nothing is fetched from the network (DuckDB in memory, extension
auto-install disabled); Splink's log is kept at WARNING.

Backends. ``backend="duckdb"`` (the default) runs Splink on an in-memory DuckDB database in this
process. ``backend="spark"`` runs the same Splink model (same comparisons, blocking rules, u
sampling call and seed, EM sessions or truth-trained m, same prior) through Splink's ``SparkAPI``;
only the pair list ``(left, right, match weight)`` comes back to the driver, where the one-to-one
assignment runs in numpy/scipy as above (its memory grows with the candidate pairs, not with the
cartesian product). Needs ``pyspark >= 4.0`` and Java 17 or 21 (``java`` on the PATH or
``JAVA_HOME``). Nothing is downloaded: no ``--packages``, no Maven jars; Splink's similarity-UDF
jar is not registered (``register_udfs_automatically=False``) because exact, absolute-difference
and date-difference comparisons are plain Spark SQL.

- ``spark=None`` (default): a Spark session is created for the call and stopped after it:
  ``local[2]``, 4 shuffle partitions, 2 GB driver memory, UI off, driver bound to 127.0.0.1, its
  scratch, warehouse and checkpoint directories in a temporary directory that is removed
  afterwards. ``spark_conf`` overrides or adds Spark settings of that session, e.g.
  ``{"spark.master": "spark://head:7077", "spark.executor.memory": "8g"}`` to run on a
  standalone cluster (the loopback binding is then not set). If a session is already active in
  the process it is used and left running.
- ``spark=<SparkSession>``: a session you built (for YARN, Kubernetes, Databricks, a standalone
  cluster) is used as is and left running; the temporary views this linker creates are dropped
  (and so uncached) at the end.
- ``spark_options`` go to Splink's ``SparkAPI``: ``break_lineage_method`` (default ``"persist"``
  for a local session; for a session given or on a cluster ``"parquet"`` when the session has a
  checkpoint directory, which must then be on storage every executor reads, e.g. HDFS or S3, else
  ``"persist"``), ``num_partitions_on_repartition`` (default: half of
  ``spark.sql.shuffle.partitions``), ``repartition_after_blocking``, ``catalog``, ``database``.

The u probabilities are estimated by Splink's deterministic sampler, which selects records by a
hash of their id and the seed: DuckDB's and Spark's hash functions differ, so the same seed
samples different pairs on the two backends and u (hence the weights) differ by sampling error.
With ``max_pairs_u >= n_left * n_right`` and ``u_min_count=None`` nothing is sampled (u from
every pair) and the two backends give the same model and, with ``m_from="truth"``, the same links;
EM then agrees to floating-point accuracy (sums are taken in another order).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.link.base import Linker, Links, common_columns
from synthlink.schema import Kind, infer_kind

_UID = "_sl_row"
_SRC_L = "part_l"
_SRC_R = "part_r"
_LOGGER = "splink"


def _quiet_splink() -> None:
    logging.getLogger(_LOGGER).setLevel(logging.WARNING)


def _kind(s: pd.Series) -> str:
    """The project's type inference (:func:`synthlink.schema.infer_kind`): integer columns with few
    values (codes of cantons, nationalities) are categories; years, ages, amounts are numeric."""
    k = infer_kind(s)
    if k is Kind.NUMERIC:
        return "numeric"
    if k is Kind.DATE:
        return "date"
    return "categorical"


def _comparison(col: str, kind: str, thresholds: Sequence[float] = (1, 2)) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    if kind == "numeric":
        levels: list[Any] = [cll.NullLevel(col), cll.ExactMatchLevel(col)]
        levels += [cll.AbsoluteDifferenceLevel(col, t) for t in thresholds]
        levels.append(cll.ElseLevel())
        return cl.CustomComparison(levels, output_column_name=col, comparison_description=f"{col} numeric")
    if kind == "date":
        return cl.AbsoluteDateDifferenceAtThresholds(col, input_is_string=False, metrics=["month", "year"], thresholds=[1, 1])
    return cl.ExactMatch(col)


def _pairs_count(left: pd.DataFrame, right: pd.DataFrame, cols: list[str]) -> float:
    """Number of candidate pairs an exact blocking rule on ``cols`` generates (missing values never agree)."""
    a = left[cols].dropna().value_counts()
    b = right[cols].dropna().value_counts()
    j = a.to_frame("a").join(b.to_frame("b"), how="inner")
    return float((j["a"].astype("float64") * j["b"].astype("float64")).sum())


def default_blocking(left: pd.DataFrame, right: pd.DataFrame, on: list[str], max_pairs_per_record: float = 50.0) -> list[list[str]]:
    """One exact blocking rule: add, greedily, the column that cuts the candidate pairs most, until
    there are at most ``max_pairs_per_record * max(n_left, n_right)`` pairs; keep at least one column
    free to compare (two if there are four or more)."""
    target = max_pairs_per_record * max(len(left), len(right))
    keep_free = 2 if len(on) >= 4 else 1
    chosen: list[str] = []
    current = float(len(left)) * len(right)
    while current > target and len(chosen) < len(on) - keep_free:
        best, best_n = None, math.inf
        for c in on:
            if c in chosen:
                continue
            n = _pairs_count(left, right, [*chosen, c])
            if n < best_n:
                best, best_n = c, n
        if best is None:
            break
        chosen.append(best)
        current = best_n
    return [chosen] if chosen else []


def _weights_from_model(model: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for c in model["comparisons"]:
        rows = []
        for lv in c["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m = lv.get("m_probability")
            u = lv.get("u_probability")
            bf = (m / u) if (m is not None and u) else None
            # m = 0 (a level never seen in true pairs): Bayes factor 0, weight minus infinity
            weight = None if bf is None else (math.log2(bf) if bf > 0 else -math.inf)
            rows.append({
                "level": lv.get("label_for_charts", lv.get("sql_condition")),
                "m": m,
                "u": u,
                "bayes_factor": bf,
                "weight": weight,
            })
        out[c["output_column_name"]] = rows
    return out


def _separates(weights: dict[str, list[dict[str, Any]]], min_abs_weight: float = 1.0) -> bool:
    """True when at least one level of one comparison has |log2(m/u)| >= min_abs_weight."""
    for rows in weights.values():
        for r in rows:
            if r["weight"] is not None and abs(r["weight"]) >= min_abs_weight:
                return True
    return False


def _connected_components(lft: np.ndarray, rgt: np.ndarray, n_left: int, n_right: int) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = n_left + n_right
    g = coo_matrix((np.ones(len(lft), dtype=np.int8), (lft, rgt + n_left)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=False)
    return labels[lft]


def one_to_one_assignment(lft: np.ndarray, rgt: np.ndarray, w: np.ndarray, n_left: int, n_right: int,
                          floor: float, dense_limit: int = 4_000_000) -> tuple[np.ndarray, dict[str, int]]:
    """Maximum-weight one-to-one assignment on candidate pairs (unique ``(lft, rgt)``) with ``w > floor``;
    the objective is the sum of ``w - floor`` over the chosen pairs.

    Solved per connected component of the candidate graph: stars (one record on a side) take their
    best pair; components with at most ``dense_limit`` cells use ``linear_sum_assignment``; larger ones
    the sparse ``min_weight_full_bipartite_matching`` with one "stay unlinked" dummy per record.
    Returns the indices of the chosen pairs (into ``lft``) and counts of the component kinds.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    eidx = np.flatnonzero(w > floor)
    stats = {"components": 0, "stars": 0, "dense": 0, "sparse": 0, "largest_component_pairs": 0}
    if len(eidx) == 0:
        return np.empty(0, np.int64), stats
    L, R, V = lft[eidx], rgt[eidx], (w[eidx] - floor).astype("float64")
    comp = _connected_components(L, R, n_left, n_right)
    order = np.argsort(comp, kind="stable")
    L, R, V, comp, eidx = L[order], R[order], V[order], comp[order], eidx[order]
    bounds = np.flatnonzero(np.diff(comp)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, len(comp)]
    # distinct records per side and component (a component's edges are contiguous)
    n_edges = ends - starts
    stats["components"] = int(len(starts))
    stats["largest_component_pairs"] = int(n_edges.max())
    # records of a component: count distinct left/right ids via sorting by (comp, id)
    def distinct_per_comp(ids: np.ndarray) -> np.ndarray:
        o = np.lexsort((ids, comp))
        c2, i2 = comp[o], ids[o]
        new = np.r_[True, (np.diff(c2) != 0) | (np.diff(i2) != 0)]
        return np.add.reduceat(new.astype(np.int64), starts)

    nl = distinct_per_comp(L)
    nr = distinct_per_comp(R)
    star = (nl == 1) | (nr == 1)
    stats["stars"] = int(star.sum())
    chosen = []
    if star.any():
        # best edge of each star component (ties: first in candidate order)
        is_star_edge = np.repeat(star, n_edges)
        se = np.flatnonzero(is_star_edge)
        o = np.lexsort((-V[se], comp[se]))
        se = se[o]
        first = np.r_[True, np.diff(comp[se]) != 0]
        chosen.append(eidx[se[first]])
    for k in np.flatnonzero(~star):
        a, b = starts[k], ends[k]
        cl, li = np.unique(L[a:b], return_inverse=True)
        cr, ri = np.unique(R[a:b], return_inverse=True)
        v = V[a:b]
        if len(cl) * len(cr) <= dense_limit:
            stats["dense"] += 1
            m = np.zeros((len(cl), len(cr)))
            ix = np.full((len(cl), len(cr)), -1, dtype=np.int64)
            m[li, ri] = v
            ix[li, ri] = eidx[a:b]
            i, j = linear_sum_assignment(m, maximize=True)
            ok = m[i, j] > 0
            chosen.append(ix[i[ok], j[ok]])
        else:
            stats["sparse"] += 1
            p, q = len(cl), len(cr)
            eps = 1e-9
            # rows: p real left + q dummies of the right records; columns: q real right + p dummies
            rows = np.r_[li, np.arange(p), p + np.arange(q), p + ri]
            cols = np.r_[ri, q + np.arange(p), np.arange(q), q + li]
            vals = np.r_[v + eps, np.full(p, eps), np.full(q, eps), np.full(len(v), eps)]
            g = coo_matrix((vals, (rows, cols)), shape=(p + q, p + q)).tocsr()
            i, j = min_weight_full_bipartite_matching(g, maximize=True)
            real = (i < p) & (j < q)
            lookup = pd.Series(eidx[a:b], index=pd.MultiIndex.from_arrays([li, ri]))
            chosen.append(lookup.loc[list(zip(i[real], j[real], strict=True))].to_numpy())
    out = np.concatenate(chosen).astype(np.int64) if chosen else np.empty(0, np.int64)
    return np.sort(out), stats


def assignment_values(mw: np.ndarray, objective: str, threshold: float | None) -> tuple[np.ndarray, float]:
    """What the one-to-one assignment sums, per candidate pair, and the floor a pair must pass.

    ``"probability"``: the match probability ``1 / (1 + 2^-weight)`` (computed from the rounded
    weights, so a backend's last-digit noise cannot decide between tied assignments); floor: the
    threshold, or just below 0 (every pair may link). ``"weight"``: the match weight; floor: the
    threshold's weight ``log2(p / (1 - p))``, or one bit below the smallest weight."""
    mw = np.asarray(mw, dtype="float64")
    if objective == "probability":
        return 1.0 / (1.0 + np.exp2(-mw)), (float(threshold) if threshold else -1e-9)
    if threshold is not None and threshold > 0:
        p = float(threshold)
        return mw, math.log2(p / (1 - p))
    return mw, (float(mw.min()) - 1.0) if len(mw) else 0.0


def profile_assignment(pl: np.ndarray, pr: np.ndarray, w: np.ndarray, count_l: np.ndarray, count_r: np.ndarray,
                       floor: float, dense_limit: int = 1_000_000) -> tuple[np.ndarray, dict[str, int]]:
    """Maximum-weight one-to-one assignment of RECORDS when records come in profiles (records with the
    same values of the linking columns, hence the same weights): candidate profile pairs
    ``(pl, pr)`` (unique) with weight ``w``; ``count_l[pl]`` / ``count_r[pr]`` records per profile.

    Records of one profile are interchangeable, so the record problem is the transportation problem
    ``max sum (w - floor) x`` over pairs with ``w > floor``, ``sum_r x <= count_l``, ``sum_l x <= count_r``,
    ``x >= 0``: its constraint matrix is totally unimodular (bipartite incidence), so a basic optimal
    solution (HiGHS dual simplex) is integral and is an optimal record assignment. Solved per connected
    component: an isolated profile pair takes ``min(count_l, count_r)``; a component of at most
    ``dense_limit`` record cells by ``linear_sum_assignment`` on its records (rows repeated per
    profile); a larger one by that LP (HiGHS dual simplex). Returns the number
    of record pairs ``x`` per profile pair (int64, same order as ``pl``).
    """
    from scipy.optimize import linear_sum_assignment, linprog
    from scipy.sparse import coo_matrix

    x = np.zeros(len(pl), dtype=np.int64)
    stats = {"profile_pairs": int(len(pl)), "isolated_pairs": 0, "components": 0, "dense": 0, "lp": 0}
    eidx = np.flatnonzero(w > floor)
    if len(eidx) == 0:
        return x, stats
    L, R, V = pl[eidx], pr[eidx], (w[eidx] - floor).astype("float64")
    cl = np.asarray(count_l, dtype=np.int64)
    cr = np.asarray(count_r, dtype=np.int64)
    # a profile pair whose two profiles have no other candidate takes min(count_l, count_r) directly
    deg_l = np.bincount(L, minlength=len(cl))
    deg_r = np.bincount(R, minlength=len(cr))
    alone = (deg_l[L] == 1) & (deg_r[R] == 1)
    x[eidx[alone]] = np.minimum(cl[L[alone]], cr[R[alone]])
    stats["isolated_pairs"] = int(alone.sum())
    rest = np.flatnonzero(~alone)
    if len(rest):
        L, R, V, e = L[rest], R[rest], V[rest], eidx[rest]
        comp = _connected_components(L, R, len(cl), len(cr))
        order = np.argsort(comp, kind="stable")
        L, R, V, comp, e = L[order], R[order], V[order], comp[order], e[order]
        bounds = np.flatnonzero(np.diff(comp)) + 1
        stats["components"] = int(len(bounds) + 1)
        for a, b in zip(np.r_[0, bounds], np.r_[bounds, len(comp)], strict=True):
            ul, li = np.unique(L[a:b], return_inverse=True)
            ur, ri = np.unique(R[a:b], return_inverse=True)
            nl_rec, nr_rec = int(cl[ul].sum()), int(cr[ur].sum())
            if nl_rec * nr_rec <= dense_limit:
                # records of a profile as identical rows/columns: linear_sum_assignment on the expansion
                wp = np.zeros((len(ul), len(ur)))
                wp[li, ri] = V[a:b]
                rows = np.repeat(np.arange(len(ul)), cl[ul])
                cols = np.repeat(np.arange(len(ur)), cr[ur])
                m = wp[rows][:, cols]
                i, j = linear_sum_assignment(m, maximize=True)
                ok = m[i, j] > 0
                flow = np.zeros((len(ul), len(ur)), dtype=np.int64)
                np.add.at(flow, (rows[i[ok]], cols[j[ok]]), 1)
                x[e[a:b]] = flow[li, ri]
                stats["dense"] += 1
            else:
                n = b - a
                a_ub = coo_matrix((np.ones(2 * n), (np.r_[li, len(ul) + ri], np.r_[np.arange(n), np.arange(n)])),
                                  shape=(len(ul) + len(ur), n)).tocsr()
                res = linprog(-V[a:b], A_ub=a_ub, b_ub=np.r_[cl[ul], cr[ur]].astype("float64"), bounds=(0, None),
                              method="highs-ds")
                if res.status != 0:  # pragma: no cover - the problem is always feasible and bounded
                    raise RuntimeError(f"probabilistic: profile assignment failed: {res.message}")
                sol = np.rint(res.x).astype(np.int64)
                if np.abs(res.x - sol).max(initial=0.0) > 1e-6:  # pragma: no cover - total unimodularity
                    raise RuntimeError("probabilistic: profile assignment gave a fractional solution")
                x[e[a:b]] = sol
                stats["lp"] += 1
    return x, stats


def expand_profile_pairs(pl: np.ndarray, pr: np.ndarray, x: np.ndarray, prof_l: np.ndarray, prof_r: np.ndarray,
                         seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record pairs from ``x`` record pairs per profile pair: within a profile, records are taken in a
    seeded random order, each at most once. ``prof_l`` / ``prof_r``: profile of each record.
    Returns left rows, right rows, and the index of the profile pair of each record pair."""
    rng = np.random.default_rng(seed)
    k = np.flatnonzero(x > 0)
    pl, pr, x = pl[k], pr[k], x[k]

    def side(p: np.ndarray, prof: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # records grouped by profile, in random order within the profile
        recs = np.lexsort((rng.random(len(prof)), prof))
        start = np.r_[0, np.cumsum(np.bincount(prof, minlength=int(prof.max()) + 1 if len(prof) else 0))]
        o = np.lexsort((other, p))  # flows of one profile in a fixed order
        units = np.repeat(o, x[o])  # one entry per record pair, grouped by profile
        up = p[units]
        first = np.r_[True, up[1:] != up[:-1]]
        pos = np.arange(len(units)) - np.maximum.accumulate(np.where(first, np.arange(len(units)), 0))
        rec = recs[start[up] + pos]
        # order by (flow, rank within flow) so that both sides line up
        flow_start = np.r_[True, units[1:] != units[:-1]]
        rank = np.arange(len(units)) - np.maximum.accumulate(np.where(flow_start, np.arange(len(units)), 0))
        o2 = np.lexsort((rank, units))
        return rec[o2], units[o2]

    lrec, lflow = side(pl, prof_l, pr)
    rrec, _ = side(pr, prof_r, pl)
    return lrec, rrec, k[lflow]


# ---------------------------------------------------------------------------------- backends
#: Spark settings of the session this linker creates when none is given (local mode)
SPARK_LOCAL_CONF: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.app.name": "synthlink-probabilistic",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
#: added only when the master is local: no listening socket outside the loopback interface
SPARK_LOOPBACK_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
_SPLINK_SPARK_OPTIONS = {"break_lineage_method", "num_partitions_on_repartition", "repartition_after_blocking",
                         "catalog", "database"}


class _DuckDBBackend:
    """In-memory DuckDB connection wrapped for Splink; ``quote`` quotes an identifier in its SQL."""

    name = "duckdb"
    quote = '"'

    def __init__(self) -> None:
        self.views: list[str] = []
        import duckdb
        from splink import DuckDBAPI

        self.con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
        self.con.execute("SET enable_progress_bar = false")
        self.db = DuckDBAPI(connection=self.con)
        self.info: dict[str, Any] = {"backend": "duckdb"}

    def table(self, df: pd.DataFrame) -> Any:
        return df

    def register(self, df: pd.DataFrame, display_name: str) -> Any:
        self.n_registered = getattr(self, "n_registered", 0) + 1
        name = display_name if self.n_registered <= 2 else f"__sl_{display_name}_{self.n_registered}"
        return self.db.register(df, dataset_display_name=display_name, table_name=name)

    def view(self, df: pd.DataFrame, name: str) -> None:
        self.con.register(name, df)

    def drop_view(self, name: str) -> None:
        self.con.unregister(name)

    def numpy(self, sql: str) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.con.execute(sql).fetchnumpy().items()}

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def close(self) -> None:
        self.con.close()


class _SparkBackend:
    """Splink's SparkAPI on a given or a new Spark session (see the module docstring)."""

    name = "spark"
    quote = "`"

    def __init__(self, spark: Any = None, conf: dict[str, Any] | None = None,
                 options: dict[str, Any] | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            from synthlink.errors import MethodUnavailableError

            raise MethodUnavailableError(
                "probabilistic: backend='spark' needs pyspark (pip install 'pyspark>=4.0') and Java 17 or 21") from e
        import pyspark

        if int(pyspark.__version__.split(".", 1)[0]) < 4:
            from synthlink.errors import MethodUnavailableError

            raise MethodUnavailableError(
                f"probabilistic: backend='spark' needs pyspark 4.0 or newer (Arrow input and output), "
                f"found {pyspark.__version__}")
        from splink.backends.spark import SparkAPI

        options = dict(options or {})
        bad = sorted(set(options) - _SPLINK_SPARK_OPTIONS)
        if bad:
            raise ConfigError(f"probabilistic: unknown spark_options {bad}; known: {sorted(_SPLINK_SPARK_OPTIONS)}")
        self.tmp: str | None = None
        self.owned = False
        self.views: list[str] = []
        self.tag = uuid.uuid4().hex[:10]
        if spark is None:
            spark = SparkSession.getActiveSession()
            if spark is not None and conf:
                raise ConfigError("probabilistic: a Spark session is already active, spark_conf cannot reconfigure "
                                  "it; pass it as spark= (configured as needed) or stop it first")
            if spark is None:
                if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
                    from synthlink.errors import MethodUnavailableError

                    raise MethodUnavailableError(
                        "probabilistic: backend='spark' needs Java 17 or 21 ('java' on the PATH or JAVA_HOME)")
                spark = self._new_session(SparkSession, conf or {})
                self.owned = True
        elif conf:
            raise ConfigError("probabilistic: spark_conf applies to the session the linker creates; "
                              "configure the SparkSession you pass instead")
        self.spark = spark
        # temporary views present before: everything new with Splink's or our prefix is dropped at the end
        self.views_before = self._temp_views()
        if "break_lineage_method" not in options:
            local = str(spark.sparkContext.master).startswith("local")
            has_dir = not spark.sparkContext._jsc.sc().getCheckpointDir().isEmpty()
            options["break_lineage_method"] = "persist" if (local and self.owned) or not has_dir else "parquet"
        self.db = SparkAPI(spark_session=spark, register_udfs_automatically=False, **options)
        self.info = {
            "backend": "spark",
            "spark_version": spark.version,
            "spark_master": str(spark.sparkContext.master),
            "session": "created for this call" if self.owned else "given or active session, left running",
            "break_lineage_method": self.db.break_lineage_method,
            "num_partitions_on_repartition": self.db.num_partitions_on_repartition,
        }

    def _new_session(self, SparkSession: Any, conf: dict[str, Any]) -> Any:
        self.tmp = tempfile.mkdtemp(prefix="synthlink_spark_")
        settings = dict(SPARK_LOCAL_CONF)
        settings["spark.local.dir"] = os.path.join(self.tmp, "local")
        settings["spark.sql.warehouse.dir"] = os.path.join(self.tmp, "warehouse")
        settings.update({str(k): str(v) for k, v in conf.items()})
        if settings["spark.master"].startswith("local"):
            for k, v in SPARK_LOOPBACK_CONF.items():
                settings.setdefault(k, v)
        b = SparkSession.builder
        for k, v in settings.items():
            b = b.config(k, v)
        try:
            spark = b.getOrCreate()
        except Exception:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        spark.sparkContext.setLogLevel("ERROR")
        if settings["spark.master"].startswith("local") and "spark.checkpoint.dir" not in settings:
            spark.sparkContext.setCheckpointDir(os.path.join(self.tmp, "checkpoints"))
        return spark

    def _temp_views(self) -> set[str]:
        try:
            t = self.spark.sql("SHOW VIEWS").toArrow().to_pydict()
            return {n for n, tmp in zip(t["viewName"], t["isTemporary"], strict=True) if tmp}
        except Exception:  # a catalog that cannot list views: drop only the views named here
            return set()

    def table(self, df: pd.DataFrame) -> Any:
        import pyarrow as pa

        return self.spark.createDataFrame(pa.Table.from_pandas(df, preserve_index=False))

    def register(self, df: pd.DataFrame, display_name: str) -> Any:
        name = f"__sl_{display_name}_{self.tag}_{len(self.views)}"
        self.views.append(name)
        return self.db.register(self.table(df), dataset_display_name=display_name, table_name=name)

    def view(self, df: pd.DataFrame, name: str) -> None:
        self.table(df).createOrReplaceTempView(name)
        self.views.append(name)

    def drop_view(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def numpy(self, sql: str) -> dict[str, np.ndarray]:
        t = self.spark.sql(sql).toArrow()
        return {c: t.column(c).to_numpy() for c in t.column_names}

    def frame(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toArrow().to_pandas()

    def close(self) -> None:
        try:
            if not self.owned:
                # drop (and so uncache) every view made here: Splink's tables (some are made by its
                # copies of the database API) and ours
                names = set(self.views) | {n for n in self._temp_views() - self.views_before
                                           if n.startswith(("__splink__", "__sl_"))}
                for name in sorted(names):
                    with contextlib.suppress(Exception):
                        self.spark.catalog.dropTempView(name)
            else:
                self.spark.stop()
        finally:
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def _backend(kind: str, spark: Any = None, conf: dict[str, Any] | None = None,
             options: dict[str, Any] | None = None) -> Iterator[Any]:
    be: Any = _SparkBackend(spark, conf, options) if kind == "spark" else _DuckDBBackend()
    try:
        yield be
    finally:
        be.close()


class ProbabilisticLinker(Linker):
    """Fellegi-Sunter linkage with Splink (DuckDB, or Spark with ``backend="spark"``), one-to-one by
    exact assignment per component.

    Parameters
    ----------
    on : linking columns (default: every column both parts share).
    blocking : list of column lists; each an exact-agreement blocking rule generating candidate
        pairs (default: :func:`default_blocking`).
    comparisons : ``{column: "categorical" | "numeric" | "date"}`` or ``{column: [t1, t2]}`` (numeric
        with those tolerance thresholds) to override the type-based choice.
    m_from : ``"em"`` (expectation maximisation) or ``"truth"`` (from the true pairs).
    truth : the true pairs, for ``m_from="truth"`` and for the side-by-side report: either the name of
        a column present in both parts whose equal values mark true pairs (used here only to list the
        pairs; it never reaches Splink), or a DataFrame of row positions ``left``, ``right``.
    em_blocking : list of column lists for the EM sessions (default: each prediction rule, which
        estimates the other columns, plus one rule on the columns outside the blocking, which
        estimates the blocking columns).
    max_pairs_u : pairs sampled for u. ``max_pairs_em`` : cap on the pairs of one EM session (default 1e6:
        in bench_probabilistic at 100k x 100k the same F1 as 5e6 in about half the EM time).
    threshold : minimum match probability of a link (default: none, every candidate may link).
    one_to_one : solve the one-to-one assignment (else return every candidate pair).
    objective : what the one-to-one assignment maximises: ``"probability"`` (default), the sum of the
        links' match probabilities, i.e. the expected number of correct links, which is what accuracy
        and F1 count; or ``"weight"``, the sum of match weights (log-likelihood ratios; Jaro's
        maximum-likelihood assignment). They rank single pairs alike and differ in trade-offs: two
        links of Bayes factor 10 and 10 have the same weight sum as 100 and 1, but 100 and 1 give
        more expected correct links. On ``bench_probabilistic`` at 100k noisy: F1 0.2665 / 0.2668
        against 0.2663 / 0.2641 (two seeds); identical when clean.
    max_iterations : EM iterations per session.
    u_min_count : Splink's ``min_count_per_level`` for u sampling: stop early once every level has that
        many sampled pairs. Default ``None``: no early stop, u from every pair of the ``max_pairs_u``
        sample (with ``max_pairs_u >= n_left * n_right``: exact u from all pairs, the same on every
        backend). Splink samples records, not pairs (about ``sqrt(max_pairs_u)`` per part), and with
        weak linking variables (sex, region, birth year) EM lives on a tiny excess of agreement over
        u: at 100k x 100k, stopping at Splink's usual 100 pairs per level estimated u(nationality) as
        0.55 instead of 0.50 and EM inverted the nationality weight (F1 0.04 instead of 0.24,
        ``benchmarks/bench_probabilistic.py``).
    backend : ``"duckdb"`` (default, in-memory, embedded) or ``"spark"`` (Splink's Spark backend).
    spark : a ``pyspark.sql.SparkSession`` to run on (``backend="spark"``; default: a local session
        created and stopped for the call, or the active one).
    spark_conf : Spark settings of the session created when ``spark`` is None, over the local
        defaults (:data:`SPARK_LOCAL_CONF`), e.g. ``{"spark.master": "spark://head:7077"}``.
    spark_options : keyword arguments of Splink's ``SparkAPI`` (``break_lineage_method``,
        ``num_partitions_on_repartition``, ``repartition_after_blocking``, ``catalog``, ``database``).
    """

    name = "probabilistic"
    summary = "Fellegi-Sunter via Splink (DuckDB or Spark): u by sampling, m by EM or truth, 1:1 by assignment"

    def __init__(self, on: Sequence[str] | None = None, blocking: Sequence[Sequence[str]] | None = None,
                 comparisons: dict[str, Any] | None = None, m_from: str = "em", truth: Any = None,
                 em_blocking: Sequence[Sequence[str]] | None = None, max_pairs_u: float = 2e6,
                 max_pairs_em: float = 1e6, threshold: float | None = None, one_to_one: bool = True,
                 max_iterations: int = 25, u_min_count: int | None = None, backend: str = "duckdb",
                 spark: Any = None, spark_conf: dict[str, Any] | None = None,
                 spark_options: dict[str, Any] | None = None, objective: str = "probability") -> None:
        self.on = on
        self.blocking = blocking
        self.comparisons = comparisons
        self.m_from = m_from
        self.truth = truth
        self.em_blocking = em_blocking
        self.max_pairs_u = max_pairs_u
        self.max_pairs_em = max_pairs_em
        self.threshold = threshold
        self.one_to_one = one_to_one
        self.max_iterations = max_iterations
        self.u_min_count = u_min_count
        self.backend = backend
        self.spark = spark
        self.spark_conf = spark_conf
        self.spark_options = spark_options
        self.objective = objective

    # ------------------------------------------------------------------ checks and set-up
    def _check_params(self) -> None:
        if self.m_from not in ("em", "truth"):
            raise ConfigError(f"probabilistic: m_from must be 'em' or 'truth', not {self.m_from!r}")
        if self.objective not in ("probability", "weight"):
            raise ConfigError(f"probabilistic: objective must be 'probability' or 'weight', not {self.objective!r}")
        if self.backend not in ("duckdb", "spark"):
            raise ConfigError(f"probabilistic: backend must be 'duckdb' or 'spark', not {self.backend!r}")
        if self.backend != "spark" and (self.spark is not None or self.spark_conf or self.spark_options):
            raise ConfigError("probabilistic: spark, spark_conf and spark_options need backend='spark'")
        if self.u_min_count is not None and int(self.u_min_count) < 1:
            raise ConfigError(f"probabilistic: u_min_count must be a positive count or None, not {self.u_min_count!r}")
        if self.m_from == "truth" and self.truth is None:
            raise ConfigError("probabilistic: m_from='truth' needs truth= (a column name or a DataFrame of true pairs)")
        if self.threshold is not None and not (0.0 <= float(self.threshold) < 1.0):
            raise ConfigError(f"probabilistic: threshold is a match probability in [0, 1), not {self.threshold!r}")

    def _truth_pairs(self, left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame | None:
        t = self.truth
        if t is None:
            return None
        if isinstance(t, str):
            for side, df in (("left", left), ("right", right)):
                if t not in df.columns:
                    raise InputError(f"probabilistic: truth column '{t}' missing from the {side} part")
            a = pd.DataFrame({"k": left[t].to_numpy(), "left": np.arange(len(left))}).dropna()
            b = pd.DataFrame({"k": right[t].to_numpy(), "right": np.arange(len(right))}).dropna()
            return a.merge(b, on="k")[["left", "right"]].reset_index(drop=True)
        if isinstance(t, pd.DataFrame):
            if not {"left", "right"} <= set(t.columns):
                raise InputError("probabilistic: a truth DataFrame needs columns 'left' and 'right' (row positions)")
            p = t[["left", "right"]].dropna().astype("int64")
            if len(p) and (p["left"].max() >= len(left) or p["right"].max() >= len(right) or p.min().min() < 0):
                raise InputError("probabilistic: truth row positions out of range")
            return p.reset_index(drop=True)
        raise ConfigError("probabilistic: truth must be a column name or a DataFrame of row positions")

    def _fit(self, left: pd.DataFrame, right: pd.DataFrame) -> None:
        self._check_params()
        exclude = (self.truth,) if isinstance(self.truth, str) else ()
        on = common_columns(left, right, list(self.on) if self.on else None, exclude=exclude)
        if isinstance(self.truth, str) and self.truth in on:
            raise ConfigError(f"probabilistic: the truth column '{self.truth}' cannot also be a linking column")
        kinds: dict[str, Any] = {}
        for c in on:
            if left[c].isna().all() or right[c].isna().all():
                raise InputError(f"probabilistic: linking column '{c}' is empty in a part")
            kinds[c] = _kind(pd.concat([left[c], right[c]], ignore_index=True))
        for c, spec in (self.comparisons or {}).items():
            if c not in on:
                raise ConfigError(f"probabilistic: comparison given for '{c}', which is not a linking column")
            kinds[c] = spec
        self.on_ = on
        self.kinds_ = kinds
        self.blocking_ = [list(b) for b in self.blocking] if self.blocking is not None else default_blocking(left, right, on)
        for b in self.blocking_:
            bad = [c for c in b if c not in on]
            if bad:
                raise ConfigError(f"probabilistic: blocking column(s) {bad} are not linking columns")
        self.truth_pairs_ = self._truth_pairs(left, right)

    def _frame(self, df: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame({_UID: np.arange(len(df), dtype=np.int64)})
        for c in self.on_:
            s = df[c]
            if self.kinds_[c] == "numeric" or isinstance(self.kinds_[c], (list, tuple)):
                s = pd.to_numeric(s, errors="coerce").astype("float64")
            elif self.kinds_[c] == "date":
                s = pd.to_datetime(s, errors="coerce")
            else:
                s = s.astype("object").where(s.notna(), None).map(lambda v: None if v is None else str(v))
            out[c] = s.to_numpy()
        return out

    def _em_rules(self) -> list[list[str]]:
        if self.em_blocking is not None:
            return [list(r) for r in self.em_blocking]
        rules = [list(b) for b in self.blocking_ if b]
        used = {c for b in rules for c in b}
        others = [c for c in self.on_ if c not in used]
        if used and len(others) >= 1:
            rules.append(others)
        if not rules:
            rules = [[c] for c in self.on_[:2]]
        return rules

    # ------------------------------------------------------------------ Splink
    def _new_linker(self, db: Any, tl: Any, tr: Any, prior: float) -> Any:
        from splink import Linker as SplinkLinker
        from splink import SettingsCreator, block_on

        comps: list[Any] = []
        for c in self.on_:
            k = self.kinds_[c]
            if isinstance(k, (list, tuple)):
                comps.append(_comparison(c, "numeric", k))
            else:
                comps.append(_comparison(c, k))
        rules: list[Any] = [block_on(*b) for b in self.blocking_ if b] or ["1=1"]
        settings = SettingsCreator(
            link_type="link_only", comparisons=comps, blocking_rules_to_generate_predictions=rules,
            probability_two_random_records_match=prior, unique_id_column_name=_UID,
            retain_matching_columns=False, retain_intermediate_calculation_columns=True,
            max_iterations=int(self.max_iterations),
        )
        return SplinkLinker([tl, tr], settings, log_level=logging.WARNING)

    def _train_em(self, lk: Any) -> dict[str, Any]:
        from splink import block_on

        sessions = []
        for rule in self._em_rules():
            free = [c for c in self.on_ if c not in rule]
            if not free:
                continue
            sess = lk.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True, max_pairs=self.max_pairs_em)
            iters = len(sess._core_model_settings_history) - 1
            sessions.append({"blocking": rule, "estimates": free, "iterations": iters,
                             "converged": iters < int(self.max_iterations)})
        return {"sessions": sessions, "converged": all(s["converged"] for s in sessions) if sessions else False,
                "iterations": sum(s["iterations"] for s in sessions)}

    def _train_truth(self, lk: Any, be: Any, tl: Any, tr: Any, truth: pd.DataFrame) -> Any:
        """m from the true pairs (Splink's ``estimate_m_from_pairwise_labels``), smoothed with half a
        pair per level so that a level no true pair shows (a year off by two, say) keeps a small,
        finite weight; the smoothed model is loaded back into a new Splink linker from its settings."""
        from splink import Linker as SplinkLinker

        labels = pd.DataFrame({
            "source_dataset_l": _SRC_L, f"{_UID}_l": truth["left"].to_numpy(np.int64),
            "source_dataset_r": _SRC_R, f"{_UID}_r": truth["right"].to_numpy(np.int64),
        })
        name = f"__sl_labels_{uuid.uuid4().hex[:10]}"
        lk.table_management.register_table(be.table(labels), name, overwrite=True)
        be.views.append(name)
        lk.training.estimate_m_from_pairwise_labels(name)
        model = lk.misc.save_model_to_json()
        n = float(len(truth))
        for comp in model["comparisons"]:
            levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
            ms = np.array([lv.get("m_probability") or 0.0 for lv in levels], dtype="float64")
            ms = (ms * n + 0.5) / (n + 0.5 * len(levels))
            for lv, m in zip(levels, ms, strict=True):
                lv["m_probability"] = float(m)
        return SplinkLinker([tl, tr], model, log_level=logging.WARNING)

    def _estimate_u(self, lk: Any, seed: int) -> None:
        kw: dict[str, Any] = {"max_pairs": float(self.max_pairs_u), "seed": int(seed)}
        if self.u_min_count is None:
            # no early stop: Splink's chunks would only add passes over the same sample
            kw.update(min_count_per_level=None, num_chunks=1)
        else:
            kw["min_count_per_level"] = int(self.u_min_count)
        lk.training.estimate_u_using_random_sampling(**kw)

    def _link_records(self, be: Any, used: Any, lap: Any) -> tuple[pd.DataFrame, int, dict[str, Any], Any]:
        """Splink's predict on every candidate record pair (used when ``one_to_one=False``)."""
        nl = len(self.left_)
        q = be.quote
        pred = used.inference.predict(warning_mode="never")
        lap("predict")
        gcols = [f"mw_{c}" for c in self.on_]
        t = pred.physical_name
        res = be.numpy(f"SELECT count(*) AS n FROM {t} WHERE source_dataset_l <> '{_SRC_L}'")
        if int(res["n"][0]):  # Splink orders link_only pairs by source name; part_l < part_r
            raise RuntimeError("probabilistic: unexpected pair orientation in Splink's predictions")
        res = be.numpy(f"SELECT {_UID}_l, {_UID}_r, match_weight FROM {t}")
        lft = np.asarray(res[f"{_UID}_l"], dtype=np.int64)
        rgt = np.asarray(res[f"{_UID}_r"], dtype=np.int64)
        # weights rounded to 1e-9 bits: the last-digit noise of a backend's log2 and summation
        # order must not decide between tied assignments
        mw = np.round(np.asarray(res["match_weight"], dtype="float64"), 9)
        del res
        # a fixed order of the pairs (the backends return them in any order): ties resolve alike
        o = np.lexsort((rgt, lft))
        lft, rgt, mw = lft[o], rgt[o], mw[o]
        lap("fetch")
        n_candidates = len(lft)
        # every candidate pair, or those above the threshold (no one-to-one step on this path)
        floor = assignment_values(mw, "weight", self.threshold)[1]
        idx = np.flatnonzero(mw > floor) if self.threshold is not None else np.arange(n_candidates)
        lap("one_to_one")
        # per-comparison weights of the linked pairs, from Splink's intermediate columns
        chosen_ids = pd.DataFrame({"l_": lft[idx], "r_": rgt[idx]})
        chosen_name = f"__sl_chosen_{uuid.uuid4().hex[:10]}"
        be.view(chosen_ids, chosen_name)
        pw = be.frame(
            f"SELECT c.l_ AS {q}left{q}, c.r_ AS {q}right{q}, t.match_weight, t.match_probability, "
            + ", ".join(f"t.{q}{g}{q} AS {q}weight_{c}{q}" for c, g in zip(self.on_, gcols, strict=True))
            + f" FROM {chosen_name} c JOIN {t} t ON t.{_UID}_l = c.l_ AND t.{_UID}_r = c.r_"
        )
        be.drop_view(chosen_name)
        pw = pw.sort_values("left", kind="stable").reset_index(drop=True)
        def tie_info(linked_left: np.ndarray) -> float:
            best = np.full(nl, -np.inf)
            gmax = pd.Series(mw).groupby(lft).max()
            best[gmax.index.to_numpy()] = gmax.to_numpy()
            n_top = np.bincount(lft[mw == best[lft]], minlength=nl)
            return float((n_top[linked_left] > 1).mean())

        return pw, n_candidates, {}, tie_info

    def _link_profiles(self, be: Any, used: Any, frame_l: pd.DataFrame, frame_r: pd.DataFrame, seed: int,
                       lap: Any) -> tuple[pd.DataFrame, int, dict[str, Any], Any]:
        """Match weights depend only on the compared values: Splink's predict runs on the distinct
        profiles (combinations of the linking columns) of each part, with the trained model; the
        one-to-one assignment is solved on profile counts (:func:`profile_assignment`) and expanded
        to records chosen at random (seeded) within profiles (:func:`expand_profile_pairs`)."""
        from splink import Linker as SplinkLinker

        def profiles(f: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
            g = f[self.on_].groupby(self.on_, dropna=False, sort=True).ngroup().to_numpy().astype(np.int64)
            _, first = np.unique(g, return_index=True)
            tab = f.iloc[first][self.on_].reset_index(drop=True)
            tab.insert(0, _UID, np.arange(len(tab), dtype=np.int64))
            return g, tab, np.bincount(g, minlength=len(tab))

        prof_l, tab_l, cnt_l = profiles(frame_l)
        prof_r, tab_r, cnt_r = profiles(frame_r)
        gcols = [f"mw_{c}" for c in self.on_]
        pl_t = be.register(tab_l, _SRC_L)
        pr_t = be.register(tab_r, _SRC_R)
        plk = SplinkLinker([pl_t, pr_t], used.misc.save_model_to_json(), log_level=logging.WARNING)
        pred = plk.inference.predict(warning_mode="never")
        lap("predict")
        t = pred.physical_name
        q = be.quote
        res = be.numpy(f"SELECT count(*) AS n FROM {t} WHERE source_dataset_l <> '{_SRC_L}'")
        if int(res["n"][0]):  # Splink orders link_only pairs by source name; part_l < part_r
            raise RuntimeError("probabilistic: unexpected pair orientation in Splink's predictions")
        res = be.numpy(f"SELECT {_UID}_l, {_UID}_r, match_weight, match_probability, "
                       + ", ".join(f"{q}{g}{q}" for g in gcols) + f" FROM {t}")
        pl = np.asarray(res[f"{_UID}_l"], dtype=np.int64)
        pr = np.asarray(res[f"{_UID}_r"], dtype=np.int64)
        # weights rounded to 1e-9 bits: the last-digit noise of a backend's log2 and summation
        # order must not decide between tied assignments; a fixed order of the pairs (the backends
        # return them in any order): ties resolve alike
        o = np.lexsort((pr, pl))
        pl, pr = pl[o], pr[o]
        mw = np.round(np.asarray(res["match_weight"], dtype="float64"), 9)[o]
        mp = np.asarray(res["match_probability"], dtype="float64")[o]
        per = {c: np.asarray(res[g], dtype="float64")[o] for c, g in zip(self.on_, gcols, strict=True)}
        del res
        lap("fetch")
        n_candidates = int((cnt_l[pl].astype(np.int64) * cnt_r[pr].astype(np.int64)).sum())
        values, floor = assignment_values(mw, self.objective, self.threshold)
        x, counts = profile_assignment(pl, pr, values, cnt_l, cnt_r, floor)
        lrec, rrec, fi = expand_profile_pairs(pl, pr, x, prof_l, prof_r, seed)
        astats: dict[str, Any] = {**counts, "objective": self.objective,
                                  "profiles_left": int(len(cnt_l)), "profiles_right": int(len(cnt_r))}
        pw = pd.DataFrame({"left": lrec, "right": rrec, "match_weight": mw[fi], "match_probability": mp[fi]})
        for c in self.on_:
            pw[f"weight_{c}"] = per[c][fi]
        pw = pw.sort_values("left", kind="stable").reset_index(drop=True)
        lap("one_to_one")

        def tie_info(linked_left: np.ndarray) -> float:
            best = np.full(len(cnt_l), -np.inf)
            gmax = pd.Series(mw).groupby(pl).max()
            best[gmax.index.to_numpy()] = gmax.to_numpy()
            top = mw == best[pl]
            n_top = np.bincount(pl[top], weights=cnt_r[pr[top]], minlength=len(cnt_l))
            return float((n_top[prof_l[linked_left]] > 1).mean())

        return pw, n_candidates, astats, tie_info

    def link(self, seed: int = 0) -> Links:
        from splink import Linker as SplinkLinker

        _quiet_splink()
        left, right = self.left_, self.right_
        nl, nr = len(left), len(right)
        truth = self.truth_pairs_
        warnings: list[str] = []
        if truth is not None and len(truth):
            prior = len(truth) / (nl * nr)
            prior_source = "truth"
        else:
            prior = min(nl, nr) / (nl * nr)
            prior_source = "data (every record of the smaller part assumed to have one match)"
        prior = float(min(max(prior, 1e-12), 0.999))

        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = timings.get(name, 0.0) + now - clock
            clock = now

        with _backend(self.backend, self.spark, self.spark_conf, self.spark_options) as be:
            lap("backend_start")
            frame_l, frame_r = self._frame(left), self._frame(right)
            tl = be.register(frame_l, _SRC_L)
            tr = be.register(frame_r, _SRC_R)
            models: dict[str, Any] = {}
            em_info: dict[str, Any] | None = None
            # u once (same seed, same sample) for both models
            lk_u = self._new_linker(be.db, tl, tr, prior)
            self._estimate_u(lk_u, seed)
            u_model = lk_u.misc.save_model_to_json()
            lap("u_sampling")
            # EM model: always when m_from="em", and alongside the truth model when a truth is known
            if self.m_from == "em" or truth is not None:
                lk_em = SplinkLinker([tl, tr], copy.deepcopy(u_model), log_level=logging.WARNING)
                em_info = self._train_em(lk_em)
                lap("em")
                models["em"] = lk_em
            if truth is not None and len(truth):
                lk_t = SplinkLinker([tl, tr], copy.deepcopy(u_model), log_level=logging.WARNING)
                lk_t = self._train_truth(lk_t, be, tl, tr, truth)
                lap("m_from_truth")
                models["truth"] = lk_t
            if self.m_from not in models:
                raise ConfigError("probabilistic: m_from='truth' but the truth holds no pair")
            weights = {k: _weights_from_model(v.misc.save_model_to_json()) for k, v in models.items()}
            used = models[self.m_from]
            lap("setup")
            if self.one_to_one:
                pw, n_candidates, astats, tie_info = self._link_profiles(be, used, frame_l, frame_r, seed, lap)
            else:
                pw, n_candidates, astats, tie_info = self._link_records(be, used, lap)
            backend_info = dict(be.info)
            lap("fetch")
        lap("backend_stop")

        pairs = pw[["left", "right", "match_probability"]].rename(columns={"match_probability": "score"})
        chosen = weights[self.m_from]
        self.pair_weights_ = pw

        diag: dict[str, Any] = {
            "m_from": self.m_from,
            "backend": backend_info,
            "linking_columns": list(self.on_),
            "comparison_kinds": {c: (list(k) if isinstance(k, (list, tuple)) else k) for c, k in self.kinds_.items()},
            "blocking": self.blocking_,
            "em_blocking": self._em_rules() if "em" in models else None,
            "u_sampling": {"max_pairs": float(self.max_pairs_u), "min_count_per_level": self.u_min_count,
                           "seed": int(seed)},
            "lambda": prior,
            "lambda_source": prior_source,
            "candidate_pairs": n_candidates,
            "links": len(pairs),
            "threshold": self.threshold,
            "assignment": astats,
            "match_weights": chosen,
            "match_weights_em": weights.get("em"),
            "match_weights_truth": weights.get("truth"),
            "em_converged": em_info["converged"] if em_info else None,
            "em_iterations": em_info["iterations"] if em_info else None,
            "em_sessions": em_info["sessions"] if em_info else None,
            "mean_weight_by_variable": {c: float(pw[f"weight_{c}"].mean()) if len(pw) else None for c in self.on_},
        }
        if em_info is not None:
            if not em_info["converged"]:
                stopped = [" + ".join(x["blocking"]) for x in em_info["sessions"] if not x["converged"]]
                warnings.append(
                    f"Splink's EM stopped at the iteration limit ({int(self.max_iterations)}) before converging in the "
                    f"session(s) blocking on {'; '.join(stopped) or 'its rules'}: the m probabilities may still move "
                    "(raise max_iterations to check; on the original split compare with m from the truth).")
            if not _separates(weights["em"]):
                warnings.append(
                    "Splink's EM did not separate matches from non-matches: for every variable m is close to u, "
                    "so the match weights carry almost no information.")
            inverted = [c for c, rows in weights["em"].items()
                        if len(rows) >= 2 and rows[0]["weight"] is not None
                        and any(r["weight"] is not None and r["weight"] > rows[0]["weight"] for r in rows[1:])]
            diag["em_non_monotone"] = inverted
            if inverted:
                warnings.append(
                    "Splink's EM gave weights that make no sense for " + ", ".join(inverted) + ": a partial or "
                    "non-agreement counts more towards a match than exact agreement. EM has probably latched onto "
                    "another structure in the data; check these links against a truth (m_from='truth') before use.")
            if "truth" in weights:
                # compared on m, not on weights: a level nearly no match shows (m 0.003 by EM, 0.0001
                # from the truth) differs by many bits and changes nothing
                diffs = {}
                for c in self.on_:
                    d = [abs(x["m"] - y["m"]) for x, y in zip(weights["em"][c], weights["truth"][c], strict=True)
                         if x["m"] is not None and y["m"] is not None]
                    diffs[c] = max(d) if d else None
                diag["em_vs_truth_max_m_difference"] = diffs
                bad = [c for c, d in diffs.items() if d is not None and d > 0.1]
                if bad:
                    warnings.append(
                        "EM-estimated m probabilities differ from those trained on the true pairs by more than "
                        f"0.1 for {', '.join(bad)}: EM mis-estimated m on these data.")
        ties = 0.0
        if len(pairs):
            # share of links whose left record had another candidate with the same (top) weight
            ties = float(tie_info(pairs["left"].to_numpy()))
        diag["share_ties"] = ties
        lap("diagnostics")
        diag["timings"] = timings
        return Links(pairs, nl, nr, self.name, one_to_one=bool(self.one_to_one), diagnostics=diag, warnings=warnings)

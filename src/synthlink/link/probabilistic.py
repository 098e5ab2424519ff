"""Probabilistic (Fellegi-Sunter) linkage through Splink on an in-memory DuckDB database.

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

What is done here: the one-to-one step. Instead of a greedy pass or Splink's whole-graph
single-best-link step (slow at 100k x 100k), the candidate graph is cut into connected components
(for one exact blocking rule: the blocks) and each component is solved exactly: a component with
one record on a side takes its best pair; a small one is solved by
:func:`scipy.optimize.linear_sum_assignment`; a large one by
:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching` on the sparse graph (with one
"stay unlinked" dummy per record, so a full matching always exists). The objective is the sum of
the pairs' match weights above the threshold (maximum-likelihood one-to-one assignment).

The prior ``lambda`` (probability that two random records match) is taken from the truth
(``true pairs / (n_left * n_right)``) when there is one, else from the data under the assumption that
every record of the smaller part has one match: ``min(n_left, n_right) / (n_left * n_right)``.

Privacy: only the linking columns and an internal row-position id reach Splink; identifiers and
any other column stay out. Nothing is fetched from the network (DuckDB in memory, extension
auto-install disabled); Splink's log is kept at WARNING.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
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


class ProbabilisticLinker(Linker):
    """Fellegi-Sunter linkage with Splink (DuckDB), one-to-one by exact assignment per component.

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
    max_pairs_u : pairs sampled for u. ``max_pairs_em`` : cap on the pairs of one EM session.
    threshold : minimum match probability of a link (default: none, every candidate may link).
    one_to_one : solve the one-to-one assignment (else return every candidate pair).
    max_iterations : EM iterations per session.
    """

    name = "probabilistic"
    summary = "Fellegi-Sunter via Splink (DuckDB): u by sampling, m by EM or truth, 1:1 by assignment"

    def __init__(self, on: Sequence[str] | None = None, blocking: Sequence[Sequence[str]] | None = None,
                 comparisons: dict[str, Any] | None = None, m_from: str = "em", truth: Any = None,
                 em_blocking: Sequence[Sequence[str]] | None = None, max_pairs_u: float = 2e6,
                 max_pairs_em: float = 5e6, threshold: float | None = None, one_to_one: bool = True,
                 max_iterations: int = 25, backend: str = "duckdb") -> None:
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
        self.backend = backend

    # ------------------------------------------------------------------ checks and set-up
    def _check_params(self) -> None:
        if self.m_from not in ("em", "truth"):
            raise ConfigError(f"probabilistic: m_from must be 'em' or 'truth', not {self.m_from!r}")
        if self.backend != "duckdb":
            raise ConfigError(f"probabilistic: backend {self.backend!r} is not supported (only 'duckdb')")
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

    def _train_truth(self, lk: Any, db: Any, tl: Any, tr: Any, truth: pd.DataFrame) -> Any:
        """m from the true pairs (Splink's ``estimate_m_from_pairwise_labels``), smoothed with half a
        pair per level so that a level no true pair shows (a year off by two, say) keeps a small,
        finite weight; the smoothed model is loaded back into a new Splink linker from its settings."""
        from splink import Linker as SplinkLinker

        labels = pd.DataFrame({
            "source_dataset_l": _SRC_L, f"{_UID}_l": truth["left"].to_numpy(np.int64),
            "source_dataset_r": _SRC_R, f"{_UID}_r": truth["right"].to_numpy(np.int64),
        })
        name = f"__sl_labels_{id(labels)}"
        lk.table_management.register_table(labels, name, overwrite=True)
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

    def link(self, seed: int = 0) -> Links:
        import duckdb
        from splink import DuckDBAPI

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

        con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
        con.execute("SET enable_progress_bar = false")
        try:
            db = DuckDBAPI(connection=con)
            tl = db.register(self._frame(left), dataset_display_name=_SRC_L)
            tr = db.register(self._frame(right), dataset_display_name=_SRC_R)
            models: dict[str, Any] = {}
            em_info: dict[str, Any] | None = None
            # EM model: always when m_from="em", and alongside the truth model when a truth is known
            if self.m_from == "em" or truth is not None:
                lk_em = self._new_linker(db, tl, tr, prior)
                lk_em.training.estimate_u_using_random_sampling(max_pairs=self.max_pairs_u, seed=int(seed))
                lap("u_sampling")
                em_info = self._train_em(lk_em)
                lap("em")
                models["em"] = lk_em
            if truth is not None and len(truth):
                lk_t = self._new_linker(db, tl, tr, prior)
                lk_t.training.estimate_u_using_random_sampling(max_pairs=self.max_pairs_u, seed=int(seed))
                lap("u_sampling")
                lk_t = self._train_truth(lk_t, db, tl, tr, truth)
                lap("m_from_truth")
                models["truth"] = lk_t
            if self.m_from not in models:
                raise ConfigError("probabilistic: m_from='truth' but the truth holds no pair")
            weights = {k: _weights_from_model(v.misc.save_model_to_json()) for k, v in models.items()}
            used = models[self.m_from]
            lap("setup")
            pred = used.inference.predict(warning_mode="never")
            lap("predict")
            gcols = [f"mw_{c}" for c in self.on_]
            t = pred.physical_name
            row = con.execute(f"SELECT count(*) FROM {t} WHERE source_dataset_l <> '{_SRC_L}'").fetchone()
            wrong_side = row[0] if row else 0
            if wrong_side:  # Splink orders link_only pairs by source name; part_l < part_r
                raise RuntimeError("probabilistic: unexpected pair orientation in Splink's predictions")
            res = con.execute(f"SELECT {_UID}_l, {_UID}_r, match_weight FROM {t}").fetchnumpy()
            lft = np.asarray(res[f"{_UID}_l"], dtype=np.int64)
            rgt = np.asarray(res[f"{_UID}_r"], dtype=np.int64)
            mw = np.asarray(res["match_weight"], dtype="float64")
            del res
            lap("fetch")
            n_candidates = len(lft)
            if self.threshold is not None and self.threshold > 0:
                p = float(self.threshold)
                floor = math.log2(p / (1 - p))
            else:
                floor = (float(mw.min()) - 1.0) if n_candidates else 0.0
            if self.one_to_one:
                idx, astats = one_to_one_assignment(lft, rgt, mw, nl, nr, floor)
            else:
                astats = {}
                idx = np.flatnonzero(mw > floor) if self.threshold is not None else np.arange(n_candidates)
            lap("one_to_one")
            # per-comparison weights of the linked pairs, from Splink's intermediate columns
            chosen_ids = pd.DataFrame({"l_": lft[idx], "r_": rgt[idx]})
            con.register("__sl_chosen", chosen_ids)
            pw = con.execute(
                'SELECT c.l_ AS "left", c.r_ AS "right", t.match_weight, t.match_probability, '
                + ", ".join(f't."{g}" AS "weight_{c}"' for c, g in zip(self.on_, gcols, strict=True))
                + f" FROM __sl_chosen c JOIN {t} t ON t.{_UID}_l = c.l_ AND t.{_UID}_r = c.r_ ORDER BY c.l_"
            ).df()
            con.unregister("__sl_chosen")
            lap("fetch")
        finally:
            con.close()

        pairs = pw[["left", "right", "match_probability"]].rename(columns={"match_probability": "score"})
        chosen = weights[self.m_from]
        self.pair_weights_ = pw

        diag: dict[str, Any] = {
            "m_from": self.m_from,
            "linking_columns": list(self.on_),
            "comparison_kinds": {c: (list(k) if isinstance(k, (list, tuple)) else k) for c, k in self.kinds_.items()},
            "blocking": self.blocking_,
            "em_blocking": self._em_rules() if "em" in models else None,
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
                warnings.append(
                    "Splink's EM did not converge within the iteration limit in at least one training session; "
                    "the estimated m probabilities may be wrong.")
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
                diffs = {}
                for c in self.on_:
                    a = [r["weight"] for r in weights["em"][c]]
                    b = [r["weight"] for r in weights["truth"][c]]
                    d = [abs(x - y) for x, y in zip(a, b, strict=True)
                         if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
                    diffs[c] = max(d) if d else None
                diag["em_vs_truth_max_weight_difference"] = diffs
                bad = [c for c, d in diffs.items() if d is not None and d > 2.0]
                if bad:
                    warnings.append(
                        "EM-estimated match weights differ from those trained on the true pairs by more than "
                        f"2 bits for {', '.join(bad)}: EM mis-estimated m on these data.")
        ties = 0.0
        if len(pairs):
            # share of links whose left record had another candidate with the same weight
            best = np.full(nl, -np.inf)
            gmax = pd.Series(mw).groupby(lft).max()
            best[gmax.index.to_numpy()] = gmax.to_numpy()
            n_top = np.bincount(lft[mw == best[lft]], minlength=nl)
            ties = float((n_top[pairs["left"].to_numpy()] > 1).mean())
        diag["share_ties"] = ties
        lap("diagnostics")
        diag["timings"] = timings
        return Links(pairs, nl, nr, self.name, one_to_one=bool(self.one_to_one), diagnostics=diag, warnings=warnings)

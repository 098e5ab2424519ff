"""The probabilistic linker: Fellegi-Sunter through Splink, one-to-one by exact assignment (the
package docstring, :mod:`synthlink.link.probabilistic`, says what runs where and why)."""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.link.assignment import expand_profile_pairs, profile_assignment
from synthlink.link.base import Linker, Links, common_columns
from synthlink.link.probabilistic.backends import (
    ROW_ID,
    SOURCE_LEFT,
    SOURCE_RIGHT,
    open_backend,
    quiet_splink,
)
from synthlink.link.probabilistic.comparisons import comparison_kinds, default_blocking
from synthlink.link.probabilistic.model import (
    assignment_values,
    em_checks,
    em_rules,
    estimate_u,
    new_splink_linker,
    train_em,
    train_truth,
    weights_from_model,
)


class ProbabilisticLinker(Linker):
    """Fellegi-Sunter linkage with Splink (DuckDB, or Spark with ``backend="spark"``), one-to-one by
    exact assignment per component.

    Parameters
    ----------
    on : linking columns (default: every column both parts share).
    blocking : list of column lists; each an exact-agreement blocking rule generating candidate
        pairs (default: :func:`default_blocking`).
    comparisons : ``{column: "categorical" | "numeric" | "date"}`` or ``{column: [t1, t2]}`` (numeric
        with those tolerance thresholds) to override the kind-based choice.
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
    kinds : declared kinds (``numeric``/``date``/``ordinal``/``categorical``) by column, over the
        inferred ones (:mod:`synthlink.schema`); they choose each column's comparison
        (:mod:`~synthlink.link.probabilistic.comparisons`). ``comparisons`` overrides both.
    """

    name = "probabilistic"
    summary = "Fellegi-Sunter via Splink (DuckDB or Spark): u by sampling, m by EM or truth, 1:1 by assignment"
    accepts_truth = True
    accepts_kinds = True
    baseline_variants = (("truth", {"m_from": "truth"}),)

    def __init__(self, on: Sequence[str] | None = None, blocking: Sequence[Sequence[str]] | None = None,
                 comparisons: dict[str, Any] | None = None, m_from: str = "em", truth: Any = None,
                 em_blocking: Sequence[Sequence[str]] | None = None, max_pairs_u: float = 2e6,
                 max_pairs_em: float = 1e6, threshold: float | None = None, one_to_one: bool = True,
                 max_iterations: int = 25, u_min_count: int | None = None, backend: str = "duckdb",
                 spark: Any = None, spark_conf: dict[str, Any] | None = None,
                 spark_options: dict[str, Any] | None = None, objective: str = "probability",
                 kinds: Mapping[str, str] | None = None) -> None:
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
        self.kinds = kinds

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
        for c in on:
            if left[c].isna().all() or right[c].isna().all():
                raise InputError(f"probabilistic: linking column '{c}' is empty in a part")
        kinds: dict[str, Any] = dict(comparison_kinds(left, right, on, self.kinds))
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
        out = pd.DataFrame({ROW_ID: np.arange(len(df), dtype=np.int64)})
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
        return em_rules(self.em_blocking, self.blocking_, self.on_)

    def _link_records(self, be: Any, used: Any, lap: Any) -> tuple[pd.DataFrame, int, dict[str, Any], Any]:
        """Splink's predict on every candidate record pair (used when ``one_to_one=False``)."""
        nl = len(self.left_)
        q = be.quote
        pred = used.inference.predict(warning_mode="never")
        lap("predict")
        gcols = [f"mw_{c}" for c in self.on_]
        t = pred.physical_name
        res = be.numpy(f"SELECT count(*) AS n FROM {t} WHERE source_dataset_l <> '{SOURCE_LEFT}'")
        if int(res["n"][0]):  # Splink orders link_only pairs by source name; part_l < part_r
            raise RuntimeError("probabilistic: unexpected pair orientation in Splink's predictions")
        res = be.numpy(f"SELECT {ROW_ID}_l, {ROW_ID}_r, match_weight FROM {t}")
        lft = np.asarray(res[f"{ROW_ID}_l"], dtype=np.int64)
        rgt = np.asarray(res[f"{ROW_ID}_r"], dtype=np.int64)
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
            + f" FROM {chosen_name} c JOIN {t} t ON t.{ROW_ID}_l = c.l_ AND t.{ROW_ID}_r = c.r_"
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
            tab.insert(0, ROW_ID, np.arange(len(tab), dtype=np.int64))
            return g, tab, np.bincount(g, minlength=len(tab))

        prof_l, tab_l, cnt_l = profiles(frame_l)
        prof_r, tab_r, cnt_r = profiles(frame_r)
        gcols = [f"mw_{c}" for c in self.on_]
        pl_t = be.register(tab_l, SOURCE_LEFT)
        pr_t = be.register(tab_r, SOURCE_RIGHT)
        plk = SplinkLinker([pl_t, pr_t], used.misc.save_model_to_json(), log_level=logging.WARNING)
        pred = plk.inference.predict(warning_mode="never")
        lap("predict")
        t = pred.physical_name
        q = be.quote
        res = be.numpy(f"SELECT count(*) AS n FROM {t} WHERE source_dataset_l <> '{SOURCE_LEFT}'")
        if int(res["n"][0]):  # Splink orders link_only pairs by source name; part_l < part_r
            raise RuntimeError("probabilistic: unexpected pair orientation in Splink's predictions")
        res = be.numpy(f"SELECT {ROW_ID}_l, {ROW_ID}_r, match_weight, match_probability, "
                       + ", ".join(f"{q}{g}{q}" for g in gcols) + f" FROM {t}")
        pl = np.asarray(res[f"{ROW_ID}_l"], dtype=np.int64)
        pr = np.asarray(res[f"{ROW_ID}_r"], dtype=np.int64)
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

        quiet_splink()
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

        with open_backend(self.backend, self.spark, self.spark_conf, self.spark_options) as be:
            lap("backend_start")
            frame_l, frame_r = self._frame(left), self._frame(right)
            tl = be.register(frame_l, SOURCE_LEFT)
            tr = be.register(frame_r, SOURCE_RIGHT)
            models: dict[str, Any] = {}
            em_info: dict[str, Any] | None = None
            # u once (same seed, same sample) for both models
            lk_u = new_splink_linker(tl, tr, prior, self.on_, self.kinds_, self.blocking_, self.max_iterations)
            estimate_u(lk_u, seed, self.max_pairs_u, self.u_min_count)
            u_model = lk_u.misc.save_model_to_json()
            lap("u_sampling")
            # EM model: always when m_from="em", and alongside the truth model when a truth is known
            if self.m_from == "em" or truth is not None:
                lk_em = SplinkLinker([tl, tr], copy.deepcopy(u_model), log_level=logging.WARNING)
                try:
                    em_info = train_em(lk_em, self._em_rules(), self.on_, self.max_pairs_em, self.max_iterations)
                except ValueError as e:  # Splink refuses a degenerate estimate (m = 0 on a handful of pairs)
                    raise InputError(f"probabilistic: EM could not estimate m on these parts ({len(self.left_)} x "
                                     f"{len(self.right_)} records): {e}; link larger parts, or use m_from='truth' "
                                     "where true pairs are known") from None
                lap("em")
                models["em"] = lk_em
            if truth is not None and len(truth):
                lk_t = SplinkLinker([tl, tr], copy.deepcopy(u_model), log_level=logging.WARNING)
                lk_t = train_truth(lk_t, be, tl, tr, truth)
                lap("m_from_truth")
                models["truth"] = lk_t
            if self.m_from not in models:
                raise ConfigError("probabilistic: m_from='truth' but the truth holds no pair")
            weights = {k: weights_from_model(v.misc.save_model_to_json()) for k, v in models.items()}
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
            em_warnings, em_diag = em_checks(weights, em_info, self.on_, int(self.max_iterations))
            warnings.extend(em_warnings)
            diag.update(em_diag)
        ties = 0.0
        if len(pairs):
            # share of links whose left record had another candidate with the same (top) weight
            ties = float(tie_info(pairs["left"].to_numpy()))
        diag["share_ties"] = ties
        lap("diagnostics")
        diag["timings"] = timings
        return Links(pairs, nl, nr, self.name, one_to_one=bool(self.one_to_one), diagnostics=diag, warnings=warnings)

"""Propensity score matching between two parts.

The two parts are stacked (left labelled 0, right labelled 1) and a model of part membership is
fitted on the common variables (logistic regression by default; ``model="tree"`` for histogram
gradient boosting, ``"forest"`` for a random forest). Records are then matched one-to-one on the
logit of the score, without replacement, within a caliper (default 0.2 standard deviations of
the pooled logit, Austin 2011).

Matching order: greedy, closest pairs first
    Of all cross-part pairs within the caliper, the one with the smallest gap is taken first,
    then the smallest among pairs whose both ends are still free, and so on. This is MatchIt's
    ``method = "nearest", m.order = "closest"`` (MatchIt >= 4.5.4, ``R/matchit2nearest.R``: "the
    pair with the smallest of the distances is matched first ... if the matched control is
    ineligible, a new match is found ... and the pairs are re-ordered by distance"); MatchIt's
    default order is ``"largest"`` (treated units in descending score, each taking its nearest
    free control), which is also greedy but in order of units. Greedy matching does not minimise
    the total gap; optimal matching does (Rosenbaum 1989, JASA 84:1024-1032; Gu & Rosenbaum
    1993), and it is not what is implemented here. In one dimension the closest free pair is
    always adjacent in the sorted order of the free records (any record between them would form
    a closer cross pair), so a heap of adjacent cross-part gaps and a linked list over the sorted
    scores give the exact greedy result in O(N log N) without an N x N matrix. Exact ties (equal
    scores, equal gaps) are broken at random (seeded); MatchIt breaks them by data order.

What it can and cannot do
    A propensity score is a *balancing* score (Rosenbaum & Rubin 1983): it makes the matched
    groups alike on the common variables (standardized mean differences near 0); it does not
    identify persons. Its AUC measures how different the two parts' *populations* are, not
    whether a record of one part is the same person as a record of the other:

    - AUC near 0.5 (the usual case in record linkage: the same people seen by two institutions):
      the model cannot tell the parts apart, the scores are nearly equal and heavily tied, and a
      record's neighbour on the score is, beyond records with exactly the same common values, an
      arbitrary person. PSM fails for record-level matching.
    - AUC well above 0.5: the parts hold different populations (``populations_differ``). That
      makes balancing worthwhile, but still identifies no one: persons with equal scores stay
      interchangeable, and two parts that share nobody score a high AUC too.

    So ``record_linkage_supported`` is always False, with the ``reason``; every run adds a
    plain-language warning to ``Links.warnings`` and emits an :class:`UnsuitableMethodWarning`.

Diagnostics
    ``auc`` (cross-validated, ``cv`` folds grouped by profile so that records with identical
    common values never sit on both sides of a split), ``auc_meaning``, ``populations_differ``
    (AUC >= ``min_auc``), ``same_population`` (AUC within 0.05 of 0.5), ``score_sd`` /
    ``score_iqr`` (of the probability), ``logit_sd``, ``caliper`` (absolute, on the logit),
    ``share_ties`` (records whose exact score occurs in the other part),
    ``share_pairs_same_score``, ``smd_before`` / ``smd_after`` (per variable; the largest absolute
    level difference for categorical ones), ``matching`` (the order used),
    ``record_linkage_supported`` (always False) and ``reason``.
"""

from __future__ import annotations

import heapq
import warnings as _warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.link.base import Linker, Links, UnsuitableMethodWarning, common_columns
from synthlink.link.cells import sorted_unique
from synthlink.link.kinds import CATEGORICAL, column_family
from synthlink.schema import joint_codes
from synthlink.threads import limited_threads

MODELS = ("logistic", "tree", "forest")


def _member(x: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted array of distinct values (binary search)."""
    if len(sorted_values) == 0:
        return np.zeros(len(x), bool)
    pos = np.minimum(np.searchsorted(sorted_values, x), len(sorted_values) - 1)
    return sorted_values[pos] == x


def _design(stacked: pd.DataFrame, cols: Sequence[str], kinds: Mapping[str, str]) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Model matrix: numeric/ordinal standardized (missing -> 0 plus an indicator), categorical
    one-hot with missing as a level. Returns the matrix and the columns belonging to each variable."""
    blocks: list[np.ndarray] = []
    owner: dict[str, list[int]] = {}
    at = 0
    for c in cols:
        s = stacked[c]
        kind = column_family(s, kinds.get(c))
        if kind == CATEGORICAL:
            col = s.astype("float64") if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) else s.astype("object")
            codes, uniq = pd.factorize(col, use_na_sentinel=False)
            m = np.zeros((len(s), len(uniq)), dtype=np.float64)
            m[np.arange(len(s)), codes] = 1.0
        else:
            if pd.api.types.is_datetime64_any_dtype(s):
                v = (s - pd.Timestamp("1970-01-01")).dt.days.astype("float64").to_numpy()
            elif isinstance(s.dtype, pd.CategoricalDtype):
                v = s.cat.codes.to_numpy().astype(np.float64)
                v[v < 0] = np.nan
            else:
                v = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
            miss = np.isnan(v)
            sd = float(np.nanstd(v)) if (~miss).any() else 0.0
            mu = float(np.nanmean(v)) if (~miss).any() else 0.0
            z = np.where(miss, 0.0, (v - mu) / sd if sd > 0 else 0.0)
            m = z[:, None] if not miss.any() else np.column_stack([z, miss.astype(np.float64)])
        blocks.append(m)
        owner[c] = list(range(at, at + m.shape[1]))
        at += m.shape[1]
    return np.hstack(blocks), owner


def standardized_differences(X: np.ndarray, group: np.ndarray, owner: Mapping[str, list[int]]) -> dict[str, float]:
    """Per variable, the largest absolute standardized mean difference over its model columns
    (pooled SD: sqrt((var0 + var1) / 2))."""
    a, b = X[group == 0], X[group == 1]
    out: dict[str, float] = {}
    if len(a) == 0 or len(b) == 0:
        return {c: float("nan") for c in owner}
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    sd = np.sqrt((a.var(axis=0) + b.var(axis=0)) / 2)
    smd = np.where(sd > 0, (ma - mb) / np.where(sd > 0, sd, 1.0), 0.0)
    for c, idx in owner.items():
        out[c] = float(np.max(np.abs(smd[idx])))
    return out


def match_on_score(sl: np.ndarray, sr: np.ndarray, caliper: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy one-to-one matching of two score vectors, closest pairs first, without replacement,
    within ``caliper`` (``inf`` = none): repeatedly take the cross-part pair with the smallest gap
    among the records still free (MatchIt ``m.order = "closest"``). Exact ties are broken at
    random.

    The closest free cross pair is always adjacent in the sorted order of the free records, so
    only adjacent gaps are kept in a heap; taking a pair joins its two outer neighbours, whose gap
    enters the heap.

    Returns (left positions, right positions, absolute gaps), in the order the pairs were taken."""
    n_l, n_r = len(sl), len(sr)
    vals = np.concatenate([sl, sr]).astype(np.float64)
    lab_a = np.concatenate([np.zeros(n_l, np.int8), np.ones(n_r, np.int8)])
    ids_a = np.concatenate([np.arange(n_l), np.arange(n_r)])
    order = np.lexsort((rng.random(len(vals)), vals))
    v_a, lab_a, ids_a = vals[order], lab_a[order], ids_a[order]
    n = len(v_a)
    v, lab, ids = v_a.tolist(), lab_a.tolist(), ids_a.tolist()
    prev = list(range(-1, n - 1))
    nxt = list(range(1, n + 1))  # n = no right neighbour
    free = [True] * n
    g0 = np.diff(v_a)
    ok = np.flatnonzero((lab_a[1:] != lab_a[:-1]) & (g0 <= caliper))
    keys = rng.random(len(ok)).tolist()
    heap = [(float(g0[i]), keys[t], int(i), int(i) + 1) for t, i in enumerate(ok)]
    heapq.heapify(heap)
    out_l: list[int] = []
    out_r: list[int] = []
    out_g: list[float] = []
    while heap:
        g, _, a, b = heapq.heappop(heap)
        if not (free[a] and free[b]) or nxt[a] != b:
            continue  # stale: one end already taken
        free[a] = free[b] = False
        if lab[a] == 0:
            out_l.append(ids[a])
            out_r.append(ids[b])
        else:
            out_l.append(ids[b])
            out_r.append(ids[a])
        out_g.append(g)
        p, q = prev[a], nxt[b]
        if p >= 0:
            nxt[p] = q
        if q < n:
            prev[q] = p
        if p >= 0 and q < n and lab[p] != lab[q]:
            gq = v[q] - v[p]
            if gq <= caliper:
                heapq.heappush(heap, (gq, float(rng.random()), p, q))
    return np.array(out_l, np.int64), np.array(out_r, np.int64), np.array(out_g, np.float64)


class PropensityLinker(Linker):
    """Propensity score matching on the common variables (see module docstring).

    Parameters
    ----------
    on: linking variables (default: every column both parts share).
    model: ``"logistic"`` (default), ``"tree"`` (histogram gradient boosting) or ``"forest"``.
    caliper: maximum gap on the logit, in standard deviations of the pooled logit (0.2 as in
        Austin 2011); ``None`` for no caliper.
    cv: folds for the cross-validated AUC.
    min_auc: AUC from which ``populations_differ`` is True (the parts hold different
        populations); it never makes record linkage supported.
    max_ties: share of records tied on the score above which the reason says so.
    kinds: declared variable kinds, over the inferred ones (:mod:`synthlink.schema`).
    threads: cap on BLAS/OpenMP threads while fitting the model (``None``: library default);
        1 by default, as oversubscribed threads slow tree models badly on shared machines.
    """

    name = "propensity"
    summary = "propensity score of part membership, 1:1 nearest on the logit with a caliper"
    accepts_kinds = True

    def __init__(
        self,
        on: Sequence[str] | None = None,
        model: str = "logistic",
        caliper: float | None = 0.2,
        cv: int = 5,
        min_auc: float = 0.6,
        max_ties: float = 0.5,
        kinds: Mapping[str, str] | None = None,
        threads: int | None = 1,
    ) -> None:
        self.on = on
        self.model = model
        self.caliper = caliper
        self.cv = cv
        self.min_auc = min_auc
        self.max_ties = max_ties
        self.kinds = kinds
        self.threads = threads

    def _fit(self, left: pd.DataFrame, right: pd.DataFrame) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"propensity: unknown model '{self.model}' (use one of {', '.join(MODELS)})")
        if self.caliper is not None and not float(self.caliper) > 0:
            raise ConfigError(f"propensity: caliper must be > 0 (in SD of the logit) or None, got {self.caliper}")
        if int(self.cv) < 2:
            raise ConfigError(f"propensity: cv must be at least 2, got {self.cv}")
        cols = common_columns(left, right, list(self.on) if self.on is not None else None)
        stacked = pd.concat([left[cols], right[cols]], ignore_index=True)
        self.columns_ = cols
        self.X_, self.owner_ = _design(stacked, cols, dict(self.kinds or {}))
        self.y_ = np.concatenate([np.zeros(len(left), np.int8), np.ones(len(right), np.int8)])
        gl, gr = joint_codes([stacked], len(left))
        self.groups_ = np.concatenate([gl, gr])

    def _estimator(self, seed: int) -> Any:
        if self.model == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(max_iter=1000)
        if self.model == "tree":
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(random_state=seed)
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=200, min_samples_leaf=20, n_jobs=self.threads, random_state=seed)

    def link(self, seed: int = 0) -> Links:
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict

        rng = np.random.default_rng(seed)
        X, y = self.X_, self.y_
        n_l, n_r = len(self.left_), len(self.right_)
        n_groups = int(self.groups_.max()) + 1 if len(self.groups_) else 0  # dense codes
        if n_groups >= int(self.cv):
            # records with identical common values stay in one fold: with ordinary folds the same
            # profiles sit on both sides of every split and the AUC of a null model falls below 0.5
            folds: Any = GroupKFold(n_splits=int(self.cv), shuffle=True, random_state=seed)
            auc_method = f"{int(self.cv)}-fold cross-validated, folds grouped by profile"
            groups: np.ndarray | None = self.groups_
        else:
            if min(n_l, n_r) < 2:
                raise InputError(f"propensity: each part needs at least 2 records to cross-validate the "
                                 f"propensity model (got {n_l} x {n_r})")
            folds = StratifiedKFold(n_splits=min(int(self.cv), n_l, n_r), shuffle=True, random_state=seed)
            auc_method = f"{folds.get_n_splits()}-fold cross-validated"
            groups = None
        with limited_threads(self.threads):
            cv_p = cross_val_predict(self._estimator(seed), X, y, cv=folds, groups=groups, method="predict_proba")[:, 1]
            est = self._estimator(seed).fit(X, y)
            p = est.predict_proba(X)[:, 1]
        auc = float(roc_auc_score(y, cv_p))
        pc = np.clip(p, 1e-9, 1 - 1e-9)
        logit = np.round(np.log(pc / (1 - pc)), 10)  # identical records -> identical scores
        sl, sr = logit[:n_l], logit[n_l:]
        logit_sd = float(np.std(logit))
        caliper = float(self.caliper) * logit_sd if self.caliper is not None else np.inf
        li, rj, gap = match_on_score(sl, sr, caliper, rng)
        if np.isfinite(caliper) and caliper > 0:
            score = 1.0 - gap / caliper
        else:
            score = 1.0 / (1.0 + gap)

        # diagnostics
        ul, ur = sorted_unique(sl), sorted_unique(sr)
        tie_l = _member(sl, ur)
        tie_r = _member(sr, ul)
        share_ties = float((tie_l.sum() + tie_r.sum()) / (n_l + n_r))
        matched_X = np.vstack([X[li], X[n_l + rj]])
        matched_g = np.concatenate([np.zeros(len(li)), np.ones(len(rj))])
        smd_before = standardized_differences(X, y, self.owner_)
        smd_after = standardized_differences(matched_X, matched_g, self.owner_)
        q75, q25 = np.percentile(p, [75, 25])
        verdict = self._verdict(auc, share_ties)
        diag: dict[str, Any] = {
            "columns": list(self.columns_),
            "model": self.model,
            "auc": auc,
            "auc_method": auc_method,
            "score_sd": float(np.std(p)),
            "score_iqr": float(q75 - q25),
            "logit_sd": logit_sd,
            "caliper": caliper if np.isfinite(caliper) else None,
            "caliper_sd": self.caliper,
            "share_ties": share_ties,
            "share_pairs_same_score": float((gap == 0).mean()) if len(gap) else 0.0,
            "pairs": int(len(li)),
            "share_unlinked_left": 1 - len(li) / n_l,
            "matching": "greedy, closest pairs first (MatchIt m.order = \"closest\"), without replacement",
            "smd_before": smd_before,
            "smd_after": smd_after,
            "max_abs_smd_before": max(smd_before.values()) if smd_before else None,
            "max_abs_smd_after": max(smd_after.values()) if smd_after else None,
            **verdict,
            "one_to_one": True,
        }
        msg = f"propensity matching does not link records: {verdict['reason']}"
        warns: list[str] = [msg]
        _warnings.warn(msg, UnsuitableMethodWarning, stacklevel=2)
        pairs = pd.DataFrame({"left": li, "right": rj, "score": score})
        return Links(pairs, n_l, n_r, self.name, one_to_one=True, diagnostics=diag, warnings=warns)

    def _verdict(self, auc: float, share_ties: float) -> dict[str, Any]:
        """What the AUC says (how different the parts' populations are) and why record linkage is
        never supported by a propensity score."""
        same = abs(auc - 0.5) <= 0.05
        differ = auc >= float(self.min_auc)
        if same:
            meaning = (f"cross-validated AUC {auc:.3f}, at chance (0.5): the model cannot tell the two parts "
                       "apart, so both parts come from the same population.")
            why = ("PSM fails for record-level matching here: when both parts come from the same population "
                   "the score carries no information about who is who, and beyond records that share exactly "
                   "the same common values each record is paired with an arbitrary person of the other part.")
        elif differ:
            meaning = (f"cross-validated AUC {auc:.3f}: the two parts hold different populations (the model "
                       "separates them); this says how the parts differ, not who is who.")
            why = ("A high AUC identifies no one: two parts that share nobody score it too. The score balances "
                   "the matched groups on the common variables; persons with equal scores stay "
                   "interchangeable, so the pairs are look-alikes, not the same persons.")
        else:
            meaning = (f"cross-validated AUC {auc:.3f}, a little above chance: the parts' populations differ "
                       "slightly in composition.")
            why = ("The score reflects small differences in the parts' composition, not who is who; beyond "
                   "records with exactly the same common values the pairs are arbitrary persons.")
        extra = ""
        if share_ties > float(self.max_ties):
            extra = (f" {share_ties:.0%} of the records share their exact score with a record of the other "
                     "part, so the score cannot separate them.")
        return {
            "auc_meaning": meaning,
            "same_population": bool(same),
            "populations_differ": bool(differ),
            "record_linkage_supported": False,
            "reason": (f"{meaning} {why}{extra} Propensity matching balances the two groups on the common "
                       "variables but cannot identify individuals (Rosenbaum & Rubin 1983: a balancing score)."),
        }

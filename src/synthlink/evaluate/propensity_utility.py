"""Propensity-score utility: pMSE and S_pMSE as synthpop's ``utility.gen`` (Snoke, Raab, Nowok,
Dibben & Slavkovic 2018, JRSS A).

The real and synthetic rows are stacked with a label (1 = synthetic) and a propensity model
predicts the label. With ``c = n_synth / N`` (N = all rows) and fitted propensities ``p_i``::

    pMSE = (1/N) * sum_i (p_i - c)^2

pMSE is 0 when the model cannot tell the two sets apart. **S_pMSE** divides it by its expectation
under the null hypothesis that both sets come from the same distribution:

* ``model="logit"``: the null expectation is ``(k - 1) * (1 - c)^2 * c / N`` with k the number of
  estimated parameters (intercept included), as in synthpop;
* ``model="cart"``: there is no closed form; as synthpop's ``resamp.method = "perm"`` the null is
  half the mean pMSE of the same tree refitted on ``nperms`` random permutations of the labels
  (synthpop divides the permuted pMSE by 2, matching the logit formula's scale).

Lower is better. On synthpop's scale, a second independent sample from the real distribution
scores about ``1 / (1 - c)`` (2 for equal sizes), since the logit formula above is half the
two-sample expectation ``(k - 1) c (1 - c) / N`` when c = 1/2; synthpop reads values near 1 as
synthetic data consistent with the model that generated them. Compare methods on the same data
and sizes, not against a fixed threshold.

Design matrix (logit): numeric and date columns enter as standardised values plus a missingness
indicator when they have nulls (missing values set to 0); categorical columns as dummies (first
level dropped; null is a level; levels beyond the ``max_levels`` most frequent are pooled).
``maxorder=1`` adds all pairwise products of columns from different variables (synthpop's default
first-order interactions); when that would exceed ``max_params``, the main-effects model is used
and ``details["maxorder_used"]`` says so (synthpop likewise refuses models above ``max.params``).
The model is fitted without penalty (scikit-learn ``LogisticRegression(C=inf)``).

CART propensity model: scikit-learn ``DecisionTreeClassifier`` with ``min_samples_leaf=minbucket``
(5) and ``min_impurity_decrease = cp * root Gini impurity``. The default ``cp`` is 0, not
synthpop's 1e-3: with scikit-learn's Gini-based threshold, 1e-3 (and even 1e-4 at 32k rows)
often refused the very first split when the marginals agree, giving pMSE = 0 for data whose
relationships clearly differ (and a zero permutation null). With cp = 0 the tree grows to
``minbucket``; the permutation null overfits the same way, so S_pMSE stays a fair ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from synthlink.errors import InputError


def _design(df: pd.DataFrame, max_levels: int) -> tuple[np.ndarray, list[int]]:
    """Main-effects design columns and, for each, the index of the variable it comes from."""
    cols: list[np.ndarray] = []
    owner: list[int] = []
    for j, c in enumerate(df.columns):
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            s = (s - pd.Timestamp("1970-01-01", tz=getattr(s.dtype, "tz", None))).dt.days.astype("float64")
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = s.astype("float64").to_numpy(dtype=float, na_value=np.nan)
            miss = np.isnan(x)
            obs = x[~miss]
            sd = obs.std() if len(obs) else 0.0
            if len(obs) and sd > 0:
                cols.append(np.where(miss, 0.0, (x - obs.mean()) / sd))
                owner.append(j)
            if miss.any() and not miss.all():
                cols.append(miss.astype(float))
                owner.append(j)
            continue
        key = s.astype(object).where(s.notna(), "\0NA").astype(str)
        levels = key.value_counts()
        top = list(levels.index[:max_levels])
        key = key.where(key.isin(top), "\0other")
        levels = sorted(key.unique())
        for lev in levels[1:]:
            cols.append((key == lev).to_numpy(dtype=float))
            owner.append(j)
    X = np.column_stack(cols) if cols else np.zeros((len(df), 0))
    return X, owner


def _interactions(X: np.ndarray, owner: list[int]) -> np.ndarray:
    extra = [X[:, a] * X[:, b] for a in range(X.shape[1]) for b in range(a + 1, X.shape[1])
             if owner[a] != owner[b]]
    extra = [e for e in extra if e.any()]
    return np.column_stack([X, *extra]) if extra else X


def _n_params_with_interactions(owner: list[int]) -> int:
    """Columns of the design with first-order interactions (an upper bound: all-zero products are
    dropped later), counted without building them."""
    k = len(owner)
    per_var = np.bincount(np.asarray(owner, dtype=np.int64)) if owner else np.zeros(0, np.int64)
    same = int((per_var * (per_var - 1) // 2).sum())
    return k + k * (k - 1) // 2 - same


def _pmse(p: np.ndarray, c: float) -> float:
    return float(np.mean((p - c) ** 2))


def pmse(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    model: str = "logit",
    seed: int = 0,
    *,
    maxorder: int = 1,
    max_params: int = 400,
    max_levels: int = 20,
    nperms: int = 50,
    cp: float = 0.0,
    minbucket: int = 5,
) -> dict[str, Any]:
    """pMSE and S_pMSE of ``synth`` against ``real`` (same columns). Returns a dict with
    ``pmse``, ``s_pmse``, ``null_pmse``, ``model``, ``n_real``, ``n_synth``, ``c`` and ``details``."""
    if model not in ("logit", "cart"):
        raise InputError(f"pmse: model must be 'logit' or 'cart', got {model!r}")
    missing = [c for c in real.columns if c not in synth.columns]
    if missing:
        raise InputError(f"pmse: synthetic data lack column(s) {', '.join(map(repr, missing))}")
    if len(real) == 0 or len(synth) == 0:
        raise InputError("pmse: both tables need rows")
    both = pd.concat([real.reset_index(drop=True), synth[list(real.columns)].reset_index(drop=True)],
                     ignore_index=True)
    y = np.r_[np.zeros(len(real)), np.ones(len(synth))]
    N = len(y)
    c = len(synth) / N
    X, owner = _design(both, max_levels)
    details: dict[str, Any] = {}
    if model == "logit":
        used = 0
        if maxorder >= 1 and _n_params_with_interactions(owner) + 1 <= max_params:
            Xi = _interactions(X, owner)  # built only when it will be used (it is the slow part)
            if Xi.shape[1] + 1 <= max_params:
                X, used = Xi, 1
        details["maxorder_used"] = used
        if X.shape[1] == 0:
            p = np.full(N, c)
            k = 1
        else:
            # parameters actually estimable: rank of [1, X]
            k = int(np.linalg.matrix_rank(np.column_stack([np.ones(N), X])))
            lr = LogisticRegression(C=np.inf, max_iter=1000)
            lr.fit(X, y)
            p = lr.predict_proba(X)[:, 1]
        value = _pmse(p, c)
        null = (k - 1) * (1 - c) ** 2 * c / N
        details["n_params"] = k
    else:
        def fit_tree(labels: np.ndarray, rs: int) -> np.ndarray:
            if X.shape[1] == 0:
                return np.full(N, labels.mean())
            t = DecisionTreeClassifier(min_samples_leaf=minbucket, random_state=rs,
                                       min_impurity_decrease=cp * 2 * c * (1 - c))
            t.fit(X, labels)
            return t.predict_proba(X)[:, 1] if t.n_classes_ == 2 else np.full(N, labels.mean())

        rng = np.random.default_rng(seed)
        value = _pmse(fit_tree(y, seed), c)
        perms = [_pmse(fit_tree(rng.permutation(y), seed + i + 1), c) for i in range(nperms)]
        null = float(np.mean(perms)) / 2  # synthpop: permuted pMSE "reduced by factor of 2"
        details["nperms"] = nperms
        details["null_sd"] = float(np.std(perms))
    s = value / null if null > 0 else float("nan")
    return {"pmse": value, "s_pmse": s, "null_pmse": null, "model": model, "n_real": len(real),
            "n_synth": len(synth), "c": c, "details": details}

"""Machine-learning utility: a histogram gradient-boosting model (scikit-learn) trained on the
synthetic table and on train, both tested on control (train on synthetic, test on real)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.evaluate.utility.encoding import NA_LABEL, as_float, as_labels, subsample
from synthlink.evaluate.utility.memo import frame_key, memoized
from synthlink.threads import limited_threads


def ml_frame(df: pd.DataFrame, features: Sequence[str], kinds: Mapping[str, str],
              levels: Mapping[str, list[str]]) -> pd.DataFrame:
    """The model's features: numeric columns as float, categorical ones as codes of train's
    ``levels`` (a pandas Categorical up to 250 levels, float codes beyond; unseen -> missing)."""
    out = {}
    for c in features:
        if kinds[c] == "numeric":
            out[c] = as_float(df[c])
        else:
            lab = as_labels(df[c])
            lev = levels[c]
            codes = pd.Index(lev).get_indexer(lab)  # -1: missing or a level train never shows
            if len(lev) <= 250:  # native categorical splits (HistGradientBoosting's limit)
                out[c] = pd.Categorical.from_codes(codes, categories=range(len(lev)))
            else:
                out[c] = np.where(codes < 0, np.nan, codes.astype(float))
    return pd.DataFrame(out)


def ml_utility(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame, target: str,
               kinds: Mapping[str, str], *, seed: int = 0, max_rows: int | None = 50_000,
               n_threads: int | None = 1) -> dict[str, Any]:
    """Train a histogram gradient-boosting model (scikit-learn) for ``target`` on synthetic and on
    train (rows with a missing target dropped; at most ``max_rows`` rows each, seeded), test both
    on control. Categorical target: accuracy and ROC AUC; numeric target: R^2. ``n_threads``
    caps OpenMP threads (None = all): on a busy machine free threading is many times slower."""
    with limited_threads(n_threads):
        return ml_utility_unthreaded(train, synthetic, control, target, kinds, seed=seed, max_rows=max_rows)


def ml_utility_unthreaded(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame, target: str,
                kinds: Mapping[str, str], *, seed: int, max_rows: int | None) -> dict[str, Any]:
    """:func:`ml_utility` without the thread cap (the caller sets it)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    if target not in kinds:
        raise ConfigError(f"ML utility: target '{target}' is not among the analysed columns")
    features = [c for c in kinds if c != target]
    if not features:
        raise ConfigError(f"ML utility: target '{target}' has no other column to learn from")
    levels = {c: sorted(set(as_labels(train[c])) - {NA_LABEL}) for c in features if kinds[c] == "categorical"}
    rng = np.random.default_rng(seed)
    numeric_target = kinds[target] == "numeric"

    def xy(df: pd.DataFrame, sample: bool) -> tuple[pd.DataFrame, np.ndarray]:
        y = as_float(df[target]) if numeric_target else as_labels(df[target])
        keep = ~np.isnan(y) if numeric_target else (y != NA_LABEL)
        idx = np.flatnonzero(keep)
        if sample:
            sub = subsample(len(idx), max_rows, rng)
            if sub is not None:
                idx = idx[sub]
        X = ml_frame(df.iloc[idx], features, kinds, levels)
        return X, y[idx]

    Xc, yc = xy(control, sample=False)
    out: dict[str, Any] = {"target": target, "kind": kinds[target], "test_rows": len(yc), "features": features}
    if len(yc) == 0:
        raise InputError(f"ML utility: control has no row with target '{target}' observed")

    def fit(df: pd.DataFrame) -> dict[str, Any]:
        X, y = xy(df, sample=True)
        res: dict[str, Any] = {"fit_rows": len(y)}
        if numeric_target:
            if len(y) < 2:
                res["error"] = "fewer than two rows with the target observed"
            else:
                model = HistGradientBoostingRegressor(random_state=seed, categorical_features="from_dtype")
                model.fit(X, y)
                res["r2"] = float(r2_score(yc, model.predict(Xc)))
        else:
            classes = np.unique(y)
            if len(classes) < 2:
                res["error"] = f"the target has {len(classes)} class(es) in this table"
                res["accuracy"] = float(np.mean(yc == classes[0])) if len(classes) else None
            else:
                model = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
                model.fit(X, y)
                res["accuracy"] = float(np.mean(model.predict(Xc) == yc))
                res["roc_auc"] = weighted_ovr_auc(yc, model.predict_proba(Xc), model.classes_)
        return res

    def fit_train() -> tuple[dict[str, Any], dict[str, Any]]:
        res = fit(train)
        return res, dict(rng.bit_generator.state)  # the synthetic table's sample continues this stream

    # the fit on train is the same for every J* compared against this train and control
    key = (frame_key(train[[*features, target]]), frame_key(control[[*features, target]]), target,
           tuple((c, kinds[c]) for c in [*features, target]), seed, max_rows)
    out["train"], state = memoized("ml_train_fit", key, fit_train)
    rng.bit_generator.state = state
    out["synthetic"] = fit(synthetic)
    return out


def weighted_ovr_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float | None:
    """ROC AUC: binary when two classes are present, else one-vs-rest weighted by class share.
    A class the model never saw scores probability 0."""
    from sklearn.metrics import roc_auc_score

    present, counts = np.unique(y, return_counts=True)
    if len(present) < 2:
        return None
    col = {c: i for i, c in enumerate(classes)}
    if len(present) == 2:
        pos = present[1]
        score = proba[:, col[pos]] if pos in col else np.zeros(len(y))
        return float(roc_auc_score(y == pos, score))
    total, wsum = 0.0, 0
    for c, cnt in zip(present, counts, strict=True):
        score = proba[:, col[c]] if c in col else np.zeros(len(y))
        total += cnt * roc_auc_score(y == c, score)
        wsum += cnt
    return float(total / wsum)

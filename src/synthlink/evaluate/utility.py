"""Utility of the linked synthetic joint table J* against train, with control against train as the
reference.

The control set is a fresh real sample that never entered synthesis, so "control vs train" shows
how far pure sampling noise moves each score: a synthetic score near the control score is as good
as a real sample of the same kind can be. Every measure below is reported for both, side by side.

Measures (each documented in :data:`METRICS`):

- **univariate**: Kolmogorov-Smirnov statistic per numeric column (``scipy.stats.ks_2samp``) and
  total variation distance per column (categorical as is, numeric cut into quantile bins of
  train; missing values count as a category of their own, so rows a linkage left unlinked show);
- **bivariate**: association per pair of columns (Pearson and Spearman correlation for
  numeric-numeric, bias-corrected Cramer's V for categorical-categorical, correlation ratio eta for
  mixed) and its absolute difference from train; each pair is tagged ``common`` (two common
  variables), ``within`` (both held by one part) or ``cross`` (own variables of two different
  parts: what linkage must preserve);
- **what the design allows**: the association of a conditional-independence (CI) join of train
  given the common variables (a random hot deck within cells of the common variables, donor never
  the record itself), the best any linkage of independently synthesized parts can be expected to
  reach; and, for categorical cross-part pairs, the Frechet bounds of the joint cell proportions
  given the common variables (as StatMatch's ``Frechet.bounds.cat``);
- **propensity utility**: pMSE and S_pMSE (synthpop) via
  :func:`synthlink.evaluate.propensity_utility.pmse`;
- **research questions**: user formulas fitted on train, the baseline-linked original split, J*
  and control; confidence-interval overlap in two forms: each interval from its own fit with its
  own standard error (Karr et al. 2006, ``ci_overlap``), and synthpop's ``compare.fit`` default,
  where the compared interval is centred on the compared estimate but uses the ORIGINAL fit's
  standard error (``ci_overlap_orig_se``); and synthpop's standardized coefficient difference;
- **machine-learning utility**: train on J* (and on train), test on control.

:func:`utility_report` runs everything and returns a JSON-serialisable dict; a failing measure is
recorded as an error entry and the batch goes on.

Sampling: measures that grow faster than linearly with the rows or fit models (bivariate
associations, CI join, Frechet bounds, ML) use at most ``max_rows`` rows of each table, drawn
without replacement with the report's seed (16k-row tables are used whole with the default).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthlink.errors import ConfigError, InputError, SchemaError
from synthlink.evaluate.metric import Metric, safe_metric
from synthlink.schema import Kind, infer_kind

GROUP = "utility"
NA_LABEL = "<NA>"
#: numeric common variables with more distinct values than this are cut into quantile bins when
#: they define cells (CI join, Frechet bounds)
MAX_CELL_LEVELS = 20
CELL_BINS = 10
#: a cross-part pair whose train association differs from its CI-join association by less than
#: this has nothing beyond conditional independence to retain: its retained share is not defined
MIN_CI_GAP = 0.02

# ----------------------------------------------------------------------------------------------
# metric documentation: name -> (goal, low, high, description)
# ----------------------------------------------------------------------------------------------
METRICS: dict[str, tuple[str, float | None, float | None, str]] = {
    "ks": ("min", 0.0, 1.0, "Kolmogorov-Smirnov statistic: largest gap between the empirical "
           "distribution functions of a numeric column in the compared table and in train "
           "(missing values left out). 0 = same distribution."),
    "tvd": ("min", 0.0, 1.0, "Total variation distance: half the sum of absolute differences of "
            "category shares (numeric columns cut into quantile bins of train; missing values are "
            "a category). 0 = same distribution, 1 = disjoint."),
    "ks_mean": ("min", 0.0, 1.0, "Mean Kolmogorov-Smirnov statistic over numeric columns."),
    "tvd_mean": ("min", 0.0, 1.0, "Mean total variation distance over all columns."),
    "pearson": ("none", -1.0, 1.0, "Pearson correlation of two numeric columns (complete pairs)."),
    "spearman": ("none", -1.0, 1.0, "Spearman rank correlation of two numeric columns (complete pairs)."),
    "cramers_v": ("none", 0.0, 1.0, "Bias-corrected Cramer's V (Bergsma 2013) of two categorical "
                  "columns (complete pairs); 0 = independent, 1 = one determines the other."),
    "eta": ("none", 0.0, 1.0, "Correlation ratio eta: square root of the share of a numeric "
            "column's variance explained by the categories of the other column."),
    "assoc_diff_mean": ("min", 0.0, 1.0, "Mean absolute difference in association (primary measure "
                        "of each pair: Spearman, Cramer's V or eta) from train, over all pairs."),
    "cross_assoc_diff_mean": ("min", 0.0, 1.0, "Mean absolute difference in association from train "
                              "over cross-part pairs (one own variable from each of two parts)."),
    "cross_retained_mean": ("max", None, None, "Share of the association beyond conditional "
                            "independence that is kept: (assoc(J*) - assoc(CI join)) / (assoc(train) "
                            "- assoc(CI join)), averaged over cross-part pairs whose train and CI "
                            "associations differ by at least 0.02. 1 = all kept, 0 = no better than "
                            "a CI join, below 0 = worse."),
    "ci_gap_mean": ("none", 0.0, 1.0, "Mean |assoc(train) - assoc(CI join of train)| over cross-part "
                    "pairs: the association the split design itself puts out of reach of a linkage "
                    "that only sees the common variables."),
    "frechet_width_mean": ("none", 0.0, 1.0, "Mean width of the Frechet bounds of the cross-part "
                           "cell proportions given the common variables (StatMatch av.cx), averaged "
                           "over categorical cross-part pairs: the uncertainty the design leaves."),
    "frechet_inside_share": ("max", 0.0, 1.0, "Share of cross-part cells whose proportion in the "
                             "compared table lies within train's conditional Frechet bounds."),
    "pmse": ("min", 0.0, 0.25, "Propensity mean squared error (synthpop): mean of (p_i - c)^2 over "
             "the stacked real and compared rows, p_i a classifier's probability that row i is the "
             "compared one, c its share of the stack."),
    "s_pmse": ("min", 0.0, None, "Standardised pMSE (synthpop): pMSE divided by its expectation under "
               "the null of the same distribution; about 1 = indistinguishable."),
    "ci_overlap_mean": ("max", None, 1.0, "Mean confidence-interval overlap of a research question's "
                        "coefficients, each interval from its own fit with its own standard error "
                        "(Karr et al. 2006): for each coefficient 0.5 * (overlap / length of train CI "
                        "+ overlap / length of compared CI); 1 = same interval, 0 = touching, "
                        "negative = apart."),
    "ci_overlap_orig_se_mean": ("max", None, 1.0, "Mean confidence-interval overlap as synthpop's "
                                "compare.fit reports it by default (population.inference = FALSE): the "
                                "compared interval is its estimate +- z * the TRAIN standard error, so "
                                "both intervals have train's length L and the overlap is "
                                "1 - |b_compared - b_train| / L = 1 - |std diff| / (2 z); 1 = same "
                                "estimate, negative = apart."),
    "std_diff_mean_abs": ("min", 0.0, None, "Mean absolute standardized coefficient difference "
                          "(synthpop compare.fit): (b_compared - b_train) / se_train."),
    "utility_score": ("max", 0.0, 1.0, "Summary for a privacy-utility plot: 1 - assoc_diff_mean "
                      "(the mean absolute association difference from train over all pairs of "
                      "columns). Reported for J* and for control (the sampling-noise ceiling)."),
    "cross_utility_score": ("max", 0.0, 1.0, "As utility_score over cross-part pairs only: "
                            "1 - cross_assoc_diff_mean, what linkage must preserve."),
    "ml_accuracy": ("max", 0.0, 1.0, "Accuracy on control of a gradient-boosting classifier for the "
                    "target, trained on the named table."),
    "ml_roc_auc": ("max", 0.0, 1.0, "ROC AUC on control (one-vs-rest, weighted by class share for "
                   "more than two classes) of a gradient-boosting classifier trained on the named table."),
    "ml_r2": ("max", None, 1.0, "R^2 on control of a gradient-boosting regressor for the target, "
              "trained on the named table."),
}


#: metrics that describe train and the split design rather than the compared table
DESIGN_METRICS = {"ci_gap_mean", "frechet_width_mean"}


def metric(name: str, value: float | None, *, label: str | None = None, **details: Any) -> Metric:
    """A :class:`Metric` with goal, range and description taken from :data:`METRICS`."""
    goal, low, high, desc = METRICS[name]
    v = None if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)
    return Metric(label or name, v, goal=goal, low=low, high=high, group=GROUP, description=desc,  # type: ignore[arg-type]
                  details=_jsonable(details))


# ----------------------------------------------------------------------------------------------
# helpers: JSON, kinds, column encodings
# ----------------------------------------------------------------------------------------------

def _jsonable(x: Any) -> Any:
    """Turn numpy/pandas scalars, NaN and containers into plain JSON values (NaN -> None)."""
    if isinstance(x, Metric):
        return x.to_dict()
    if isinstance(x, pd.DataFrame):
        return _jsonable(x.to_dict(orient="records"))
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray, pd.Series)):
        return [_jsonable(v) for v in list(x)]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, str):
        return x
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


def column_kinds(df: pd.DataFrame, columns: Iterable[str], kinds: Mapping[str, str] | None = None) -> dict[str, str]:
    """``numeric`` or ``categorical`` per column: declared in ``kinds`` (schema kinds accepted:
    numeric/date -> numeric, categorical/ordinal -> categorical), else inferred from ``df`` as
    :func:`synthlink.schema.infer_kind` does."""
    out = {}
    for c in columns:
        if kinds and c in kinds:
            k = str(kinds[c])
            if k not in {x.value for x in Kind}:
                raise ConfigError(f"column '{c}': unknown kind '{k}' (use numeric or categorical)")
            kind = Kind(k)
        else:
            kind = infer_kind(df[c])
        out[c] = "numeric" if kind in (Kind.NUMERIC, Kind.DATE) else "categorical"
    return out


def as_float(s: pd.Series, where: str = "") -> np.ndarray:
    """A column as float64 (dates as days since 1970-01-01; missing -> NaN). Values that are not
    numbers raise an :class:`InputError` naming the column."""
    if pd.api.types.is_datetime64_any_dtype(s):
        d = pd.to_datetime(s)
        out = (d - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan) / 86400.0
        return out
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    conv = pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce")
    bad = conv.isna() & s.notna()
    if bad.any():
        example = s[bad].iloc[0]
        raise InputError(f"{where}column '{s.name}': expected numbers, found {example!r} "
                         f"({int(bad.sum())} non-numeric value(s))")
    return conv.to_numpy(dtype=float, na_value=np.nan)


def as_labels(s: pd.Series) -> np.ndarray:
    """A column as string labels (object array), missing as :data:`NA_LABEL`. Whole-number floats
    are written without the decimal part, so an integer column that became float when a linkage
    left rows unlinked (1.0) still matches train (1)."""
    n = len(s)
    out = np.full(n, NA_LABEL, dtype=object)
    codes, uniques = pd.factorize(s)  # missing values get code -1
    if len(uniques) == 0:
        return out
    u = pd.Series(uniques)
    if pd.api.types.is_numeric_dtype(u) and not pd.api.types.is_bool_dtype(u):
        f = u.to_numpy(dtype=float)
        names = f.astype(np.int64).astype(str) if np.all(np.mod(f, 1) == 0) else f.astype(str)
    else:
        names = u.astype(str).to_numpy(dtype=object)
    ok = codes >= 0
    out[ok] = np.asarray(names, dtype=object)[codes[ok]]
    return out


def _codes(labels: np.ndarray) -> np.ndarray:
    """Integer codes of labels within one table, -1 for missing."""
    codes, _ = pd.factorize(labels)
    codes = codes.astype(np.int64)
    codes[labels == NA_LABEL] = -1
    return codes


@dataclass
class _Encoded:
    """One table's analysed columns: float arrays for numeric, labels and codes for categorical."""

    n: int
    num: dict[str, np.ndarray] = field(default_factory=dict)
    lab: dict[str, np.ndarray] = field(default_factory=dict)
    code: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, idx: np.ndarray) -> _Encoded:
        return _Encoded(len(idx), {k: v[idx] for k, v in self.num.items()},
                        {k: v[idx] for k, v in self.lab.items()}, {k: v[idx] for k, v in self.code.items()})


def _encode(df: pd.DataFrame, kinds: Mapping[str, str], where: str) -> _Encoded:
    e = _Encoded(len(df))
    for c, k in kinds.items():
        if k == "numeric":
            e.num[c] = as_float(df[c], where)
        else:
            e.lab[c] = as_labels(df[c])
            e.code[c] = _codes(e.lab[c])
    return e


def _subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray | None:
    if max_rows is None or n <= max_rows:
        return None
    return np.sort(rng.choice(n, size=max_rows, replace=False))


# ----------------------------------------------------------------------------------------------
# univariate
# ----------------------------------------------------------------------------------------------

def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (``scipy.stats.ks_2samp``), missing values left out.
    NaN if either sample is empty."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = a[~np.isnan(a)]
    b = b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(stats.ks_2samp(a, b).statistic)


def tvd(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray) -> float:
    """Total variation distance between the category distributions of two label arrays:
    0.5 * sum_k |p_k - q_k|. Labels are compared as given (use :func:`as_labels` first so that
    missing values form a category)."""
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    codes, _ = pd.factorize(np.concatenate([a, b]))
    k = int(codes.max()) + 1
    p = np.bincount(codes[: len(a)], minlength=k) / len(a)
    q = np.bincount(codes[len(a):], minlength=k) / len(b)
    return float(0.5 * np.abs(p - q).sum())


def quantile_bins(reference: np.ndarray, values: np.ndarray, bins: int) -> np.ndarray:
    """Bin labels of ``values`` on the quantile edges of ``reference`` (at most ``bins`` bins;
    values beyond the reference range fall into the end bins; missing -> :data:`NA_LABEL`)."""
    ref = reference[~np.isnan(reference)]
    out = np.full(len(values), NA_LABEL, dtype=object)
    ok = ~np.isnan(values)
    if len(ref) == 0:
        out[ok] = "0"
        return out
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1]
    idx = np.searchsorted(inner, values[ok], side="right")
    out[ok] = idx.astype(str)
    return out


def univariate(
    train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame | None,
    kinds: Mapping[str, str], *, roles: Mapping[str, str] | None = None, bins: int = 20,
) -> pd.DataFrame:
    """Per column: KS (numeric) and TVD (all; numeric binned on train's quantiles) of synthetic vs
    train and control vs train. Tidy: one row per (column, measure) with columns ``column``,
    ``kind``, ``role``, ``measure``, ``synthetic``, ``control`` and the missing shares."""
    rows = []
    tables = {"train": train, "synthetic": synthetic}
    if control is not None:
        tables["control"] = control
    for c, k in kinds.items():
        miss = {f"missing_{name}": float(t[c].isna().mean()) if len(t) else float("nan") for name, t in tables.items()}
        base = {"column": c, "kind": k, "role": (roles or {}).get(c, "")}
        if k == "numeric":
            arr = {name: as_float(t[c], f"{name}: ") for name, t in tables.items()}
            ks = {name: ks_statistic(arr[name], arr["train"]) for name in arr if name != "train"}
            rows.append({**base, "measure": "ks", "synthetic": ks["synthetic"], "control": ks.get("control"), **miss})
            lab = {name: quantile_bins(arr["train"], v, bins) for name, v in arr.items()}
        else:
            lab = {name: as_labels(t[c]) for name, t in tables.items()}
        tv = {name: tvd(lab[name], lab["train"]) for name in lab if name != "train"}
        rows.append({**base, "measure": "tvd", "synthetic": tv["synthetic"], "control": tv.get("control"), **miss})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# association measures
# ----------------------------------------------------------------------------------------------

def _dense(codes: np.ndarray) -> tuple[np.ndarray, int]:
    u, inv = np.unique(codes, return_inverse=True)
    return inv.astype(np.int64), len(u)


def cramers_v(x: Sequence[Any] | np.ndarray, y: Sequence[Any] | np.ndarray) -> float:
    """Bias-corrected Cramer's V (Bergsma 2013) of two categorical arrays; pairs with a missing value
    (None/NaN or :data:`NA_LABEL`) are left out. 0.0 when either variable has a single category."""
    xl = as_labels(pd.Series(list(x) if not isinstance(x, np.ndarray) else x))
    yl = as_labels(pd.Series(list(y) if not isinstance(y, np.ndarray) else y))
    return _cramers_v_codes(_codes(xl), _codes(yl))


def _cramers_v_codes(a: np.ndarray, b: np.ndarray) -> float:
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 2:
        return float("nan")
    a, r = _dense(a)
    b, k = _dense(b)
    if r < 2 or k < 2:
        return 0.0
    table = np.bincount(a * k + b, minlength=r * k).reshape(r, k).astype(float)
    expected = np.outer(table.sum(1), table.sum(0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    return float(math.sqrt(phi2c / denom)) if denom > 0 else 0.0


def correlation_ratio(categories: Sequence[Any] | np.ndarray, values: Sequence[float] | np.ndarray) -> float:
    """Correlation ratio eta = sqrt(SS_between / SS_total) of numeric ``values`` by ``categories``;
    incomplete pairs left out. 0.0 when the values are constant."""
    lab = as_labels(pd.Series(list(categories) if not isinstance(categories, np.ndarray) else categories))
    return _eta_codes(_codes(lab), np.asarray(values, dtype=float))


def _eta_codes(c: np.ndarray, v: np.ndarray) -> float:
    ok = (c >= 0) & ~np.isnan(v)
    c, v = c[ok], v[ok]
    if len(v) < 2:
        return float("nan")
    c, k = _dense(c)
    mean = v.mean()
    ss_tot = float(((v - mean) ** 2).sum())
    if ss_tot <= 0:
        return 0.0
    cnt = np.bincount(c, minlength=k)
    sums = np.bincount(c, weights=v, minlength=k)
    ss_b = float((cnt * (sums / np.maximum(cnt, 1) - mean) ** 2).sum())
    return float(math.sqrt(min(1.0, ss_b / ss_tot)))


def _corr(x: np.ndarray, y: np.ndarray, rank: bool) -> float:
    ok = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return float("nan")
    if rank:
        x = stats.rankdata(x)
        y = stats.rankdata(y)
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return 0.0
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def _pair_measures(ka: str, kb: str) -> list[str]:
    if ka == "numeric" and kb == "numeric":
        return ["spearman", "pearson"]  # first = primary
    if ka == "categorical" and kb == "categorical":
        return ["cramers_v"]
    return ["eta"]


def _assoc(e: _Encoded, a: str, b: str, measure: str) -> float:
    if measure == "spearman":
        return _corr(e.num[a], e.num[b], rank=True)
    if measure == "pearson":
        return _corr(e.num[a], e.num[b], rank=False)
    if measure == "cramers_v":
        return _cramers_v_codes(e.code[a], e.code[b])
    cat, num = (a, b) if a in e.code else (b, a)
    return _eta_codes(e.code[cat], e.num[num])


# ----------------------------------------------------------------------------------------------
# pairs and their tags
# ----------------------------------------------------------------------------------------------

def column_roles(columns: Iterable[str], part_columns: Mapping[str, Sequence[str]], common: Sequence[str]) -> dict[str, str]:
    """``common``, the owning part's name, or ``""`` (not placed)."""
    owner = {c: p for p, cols in part_columns.items() for c in cols}
    return {c: "common" if c in common else owner.get(c, "") for c in columns}


def pair_type(role_a: str, role_b: str) -> str:
    """``common`` (two common variables), ``within`` (one part holds both), ``cross`` (own variables
    of two different parts) or ``unknown`` (a column is in no part)."""
    if role_a == "" or role_b == "":
        return "unknown"
    if role_a == "common" and role_b == "common":
        return "common"
    if role_a == "common" or role_b == "common" or role_a == role_b:
        return "within"
    return "cross"


def bivariate(
    enc: Mapping[str, _Encoded], kinds: Mapping[str, str], roles: Mapping[str, str],
) -> pd.DataFrame:
    """Association per pair of columns and measure in every encoded table (``train`` required);
    ``diff_<table>`` = |assoc(table) - assoc(train)|."""
    cols = list(kinds)
    rows = []
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            measures = _pair_measures(kinds[a], kinds[b])
            for j, m in enumerate(measures):
                row: dict[str, Any] = {
                    "a": a, "b": b, "kind": f"{kinds[a]}-{kinds[b]}", "measure": m, "primary": j == 0,
                    "pair_type": pair_type(roles.get(a, ""), roles.get(b, "")),
                    "part_a": roles.get(a, ""), "part_b": roles.get(b, ""),
                }
                for name, e in enc.items():
                    row[name] = _assoc(e, a, b, m)
                for name in enc:
                    if name != "train":
                        row[f"diff_{name}"] = abs(row[name] - row["train"])
                rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# conditional-independence join and Frechet bounds
# ----------------------------------------------------------------------------------------------

def common_cells(df: pd.DataFrame, common: Sequence[str], *, kinds: Mapping[str, str] | None = None,
                 max_levels: int = MAX_CELL_LEVELS, bins: int = CELL_BINS) -> np.ndarray:
    """Cell code (0..k-1) of each row for the cross-classification of the common variables.
    Numeric common variables with more than ``max_levels`` distinct values are cut into ``bins``
    quantile bins; missing values form a level of their own."""
    n = len(df)
    code = np.zeros(n, dtype=np.int64)
    for c in common:
        k = (kinds or {}).get(c) or column_kinds(df, [c])[c]
        if k == "numeric":
            v = as_float(df[c])
            if len(np.unique(v[~np.isnan(v)])) > max_levels:
                lab = quantile_bins(v, v, bins)
            else:
                lab = as_labels(pd.Series(v))
        else:
            lab = as_labels(df[c])
        sub, _ = pd.factorize(lab)
        code, _ = pd.factorize(code * (int(sub.max()) + 1 if len(sub) else 1) + sub)
        code = code.astype(np.int64)
    return code


def ci_donors(levels: Sequence[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """For each row, a random donor row from the same cell, never the row itself (random hot deck
    within donation classes). ``levels`` are cell codes from the finest to coarser; a row alone in
    its cell at one level falls back to the next; after the last level the donor is drawn from all
    rows. Returns (donor index, level used per row; len(levels) = all rows)."""
    n = len(levels[0]) if levels else 0
    donor = np.arange(n)
    used = np.full(n, len(levels), dtype=np.int64)
    todo = np.ones(n, dtype=bool)
    for li, cell in enumerate([*levels, np.zeros(n, dtype=np.int64)]):
        idx = np.flatnonzero(todo)
        if len(idx) == 0:
            break
        # donors come from all rows of the cell, recipients are only the rows still to do
        order = np.argsort(cell, kind="stable")
        sorted_cells = cell[order]
        starts_all = np.searchsorted(sorted_cells, sorted_cells, side="left")
        ends_all = np.searchsorted(sorted_cells, sorted_cells, side="right")
        pos_of = np.empty(n, dtype=np.int64)
        pos_of[order] = np.arange(n)
        p = pos_of[idx]
        start, size = starts_all[p], ends_all[p] - starts_all[p]
        ok = size >= 2
        sel = idx[ok]
        if len(sel):
            k = np.floor(rng.random(len(sel)) * (size[ok] - 1)).astype(np.int64)
            within = p[ok] - start[ok]
            k = k + (k >= within)
            donor[sel] = order[start[ok] + k]
            used[sel] = li
            todo[sel] = False
    return donor, used


def ci_join(df: pd.DataFrame, common: Sequence[str], part_columns: Mapping[str, Sequence[str]], *,
            seed: int = 0, kinds: Mapping[str, str] | None = None, max_levels: int = MAX_CELL_LEVELS,
            bins: int = CELL_BINS) -> pd.DataFrame:
    """A join of the parts under conditional independence given the common variables: the first
    part's own columns stay with their row; each other part's own columns are taken from a random
    other row of the same cell of the common variables (coarsening by dropping the last common
    variable where a cell holds one row), each part with its own donors. The association this
    table shows between own variables of two parts is what the common variables alone explain."""
    rng = np.random.default_rng(seed)
    levels = [common_cells(df, common[:i], kinds=kinds, max_levels=max_levels, bins=bins)
              for i in range(len(common), 0, -1)]
    out = df.reset_index(drop=True).copy()
    for pname in list(part_columns)[1:]:
        cols = [c for c in part_columns[pname] if c in df.columns]
        donor, _ = ci_donors(levels, rng)
        for c in cols:
            out[c] = df[c].iloc[donor].to_numpy()
    return out


def frechet_bounds_cat(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Frechet bounds of the cell proportions of Y x Z given X, as StatMatch's
    ``Frechet.bounds.cat`` computes them from P(X), P(Y|X) and P(Z|X) (here all from one table
    holding x, y and z; rows with a missing y or z are left out):

    - unconditional: low.u = max(0, p_j + p_k - 1), up.u = min(p_j, p_k);
    - conditional: low.cx = sum_x p_x max(0, p_j|x + p_k|x - 1), up.cx = sum_x p_x min(p_j|x, p_k|x);
    - CIA = sum_x p_x p_j|x p_k|x (conditional independence).

    Returns (cells: y, z, low_u, up_u, low_cx, up_cx, cia, observed; uncertainty: av_width_u =
    mean(up.u - low.u), av_width_cx = mean(up.cx - low.cx), as StatMatch's ``uncertainty``)."""
    xl, yl, zl = (as_labels(pd.Series(np.asarray(v, dtype=object))) for v in (x, y, z))
    ok = (yl != NA_LABEL) & (zl != NA_LABEL)
    xl, yl, zl = xl[ok], yl[ok], zl[ok]
    n = len(xl)
    if n == 0:
        raise InputError("Frechet bounds: no row has both variables observed")
    xc, xlev = pd.factorize(xl)
    yc, ylev = pd.factorize(yl, sort=True)
    zc, zlev = pd.factorize(zl, sort=True)
    nx, ny, nz = len(xlev), len(ylev), len(zlev)
    n_x = np.bincount(xc, minlength=nx).astype(float)
    p_x = n_x / n
    p_yx = np.bincount(xc * ny + yc, minlength=nx * ny).reshape(nx, ny) / n_x[:, None]
    p_zx = np.bincount(xc * nz + zc, minlength=nx * nz).reshape(nx, nz) / n_x[:, None]
    low_cx = np.zeros((ny, nz))
    up_cx = np.zeros((ny, nz))
    cia = np.zeros((ny, nz))
    step = max(1, int(2_000_000 // max(1, ny * nz)))
    for s in range(0, nx, step):  # chunks over cells of X, to bound memory
        py = p_yx[s:s + step, :, None]
        pz = p_zx[s:s + step, None, :]
        w = p_x[s:s + step, None, None]
        low_cx += (w * np.maximum(0.0, py + pz - 1)).sum(0)
        up_cx += (w * np.minimum(py, pz)).sum(0)
        cia += (w * py * pz).sum(0)
    p_y = np.bincount(yc, minlength=ny) / n
    p_z = np.bincount(zc, minlength=nz) / n
    low_u = np.maximum(0.0, p_y[:, None] + p_z[None, :] - 1)
    up_u = np.minimum(p_y[:, None], p_z[None, :])
    obs = np.bincount(yc * nz + zc, minlength=ny * nz).reshape(ny, nz) / n
    yy, zz = np.meshgrid(np.arange(ny), np.arange(nz), indexing="ij")
    cells = pd.DataFrame({
        "y": np.asarray(ylev, dtype=object)[yy.ravel()], "z": np.asarray(zlev, dtype=object)[zz.ravel()],
        "low_u": low_u.ravel(), "up_u": up_u.ravel(), "low_cx": low_cx.ravel(), "up_cx": up_cx.ravel(),
        "cia": cia.ravel(), "observed": obs.ravel(),
    })
    unc = {"av_width_u": float((up_u - low_u).mean()), "av_width_cx": float((up_cx - low_cx).mean()),
           "x_cells": int(nx), "rows": int(n)}
    return cells, unc


def _cell_shares(y: np.ndarray, z: np.ndarray, ylev: Sequence[str], zlev: Sequence[str]) -> np.ndarray:
    ok = (y != NA_LABEL) & (z != NA_LABEL)
    y, z = y[ok], z[ok]
    if len(y) == 0:
        return np.full((len(ylev), len(zlev)), np.nan)
    yi = pd.Index(ylev).get_indexer(y)
    zi = pd.Index(zlev).get_indexer(z)
    keep = (yi >= 0) & (zi >= 0)  # categories train never shows have no bounds
    tab = np.bincount(yi[keep] * len(zlev) + zi[keep], minlength=len(ylev) * len(zlev))
    return tab.reshape(len(ylev), len(zlev)) / len(y)


# ----------------------------------------------------------------------------------------------
# research questions
# ----------------------------------------------------------------------------------------------

FAMILIES = ("ols", "logit", "poisson")
_C_RE = re.compile(r"\bC\(\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Question:
    """A research question: a statsmodels formula and a family (``ols`` (default), ``logit``
    (binomial GLM; the response must be 0/1 or a boolean expression) or ``poisson``)."""

    formula: str
    family: str = "ols"
    name: str = ""

    @classmethod
    def parse(cls, q: str | Mapping[str, Any] | Question) -> Question:
        if isinstance(q, Question):
            return q
        if isinstance(q, str):
            out = cls(q.strip())
        elif isinstance(q, Mapping):
            if "formula" not in q:
                raise ConfigError(f"research question {dict(q)!r}: needs a 'formula'")
            bad = set(q) - {"formula", "family", "name"}
            if bad:
                raise ConfigError(f"research question '{q['formula']}': unknown key(s) {', '.join(sorted(bad))}")
            out = cls(str(q["formula"]).strip(), str(q.get("family", "ols")).lower(), str(q.get("name", "")))
        else:
            raise ConfigError(f"research question {q!r}: expected a formula string or a mapping with 'formula'")
        if "~" not in out.formula:
            raise ConfigError(f"research question '{out.formula}': a formula needs '~' (response ~ terms)")
        aliases = {"gaussian": "ols", "lm": "ols", "binomial": "logit", "logistic": "logit"}
        out.family = aliases.get(out.family, out.family)
        if out.family not in FAMILIES:
            raise ConfigError(f"research question '{out.formula}': unknown family '{out.family}' (use {', '.join(FAMILIES)})")
        out.name = out.name or out.formula
        return out


def ci_overlap(lo1: float, hi1: float, lo2: float, hi2: float) -> float:
    """Confidence-interval overlap of two given intervals (Karr et al. 2006; the same formula as
    synthpop's ``overlap.CI``): with overlap = min(hi1, hi2) - max(lo1, lo2) (negative when the
    intervals are apart, not truncated at 0, as synthpop), 0.5 * (overlap / (hi1 - lo1) +
    overlap / (hi2 - lo2)). Interval 1 is the original's. Which intervals go in is the caller's
    choice: :func:`compare_fit` gives both Karr's (each fit's own standard error) and synthpop's
    default (the compared estimate with the original's standard error)."""
    ov = min(hi1, hi2) - max(lo1, lo2)
    return float(0.5 * (ov / (hi1 - lo1) + ov / (hi2 - lo2)))


def std_coef_diff(b_syn: float, b_orig: float, se_orig: float) -> float:
    """Standardized coefficient difference (synthpop compare.fit): (b_syn - b_orig) / se_orig."""
    return float((b_syn - b_orig) / se_orig)


def _prepare_for_formula(frames: Mapping[str, pd.DataFrame], formula: str, reference: str = "train") -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Give every frame the same column types as the reference for the columns in the formula:
    integer/float columns become float (so categorical levels print alike), columns used as C(x)
    become a pandas Categorical with the reference's levels (same reference level everywhere);
    values the reference never shows become missing and are counted."""
    ref = frames[reference]
    used = {c for c in ref.columns if re.search(rf"\b{re.escape(str(c))}\b", formula)}
    as_cat = set(_C_RE.findall(formula)) & used
    out: dict[str, pd.DataFrame] = {}
    unseen: dict[str, int] = {}
    levels: dict[str, list[Any]] = {}
    for c in as_cat:
        s = ref[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            levels[c] = sorted(pd.unique(s.dropna().astype(float)).tolist())
        else:
            levels[c] = sorted(pd.unique(s.dropna().astype(str)).tolist())
    for name, df in frames.items():
        cols = [c for c in used if c in df.columns]
        d = df[cols].copy()
        n_unseen = 0
        for c in cols:
            s = d[c]
            if c in as_cat:
                lev = levels[c]
                if lev and isinstance(lev[0], float):
                    vals = pd.to_numeric(s, errors="coerce").astype(float)
                else:
                    vals = s.astype(str).where(s.notna(), None)
                seen = vals.isin(lev)
                n_unseen += int((~seen & s.notna()).sum())
                cat = pd.Categorical(vals.where(seen), categories=lev)
                d[c] = cat
            elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                d[c] = s.astype(float)
        out[name] = d
        unseen[name] = n_unseen
    return out, unseen


def _fit(df: pd.DataFrame, q: Question) -> pd.DataFrame:
    """Coefficients and standard errors of one fit (rows with missing values dropped). Design
    columns that are all zero in this table (a category it never shows) are reported missing."""
    import warnings

    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if q.family == "ols":
            res = smf.ols(q.formula, data=df, missing="drop").fit()
        else:
            fam = sm.families.Binomial() if q.family == "logit" else sm.families.Poisson()
            res = smf.glm(q.formula, data=df, family=fam, missing="drop").fit()
    exog = np.asarray(res.model.exog)
    empty = ~np.any(exog != 0, axis=0)
    coef = np.asarray(res.params, dtype=float).copy()
    se = np.asarray(res.bse, dtype=float).copy()
    coef[empty] = np.nan
    se[empty] = np.nan
    return pd.DataFrame({"coef": coef, "se": se, "nobs": int(res.nobs)}, index=list(res.model.exog_names))


def compare_fit(orig: pd.DataFrame, other: pd.DataFrame, ci_level: float = 0.95) -> pd.DataFrame:
    """Per coefficient of the original fit: original and compared coefficient and SE, two CI
    overlaps and the standardized difference. Intervals are normal-quantile (b +- z se), as
    synthpop's ``dfCI``/``overlap.CI``.

    - ``ci_overlap``: each interval from its own fit with its own standard error (Karr et al. 2006,
      "A framework for evaluating the utility of data altered to protect confidentiality", The
      American Statistician 60(3)).
    - ``ci_overlap_orig_se``: synthpop's default (``compare.fit.synds`` with
      ``population.inference = FALSE``: ``summary.fit.synds`` takes the variances from the
      original fit, ``real.varcov``): the compared interval is b_compared +- z se_orig. Both
      intervals then have the same length, and the overlap is 1 - |std_diff| / (2 z). synthpop's
      ``population.inference = TRUE`` intervals (variance scaled by 1 + n/(k m) over m copies) are
      not computed here.
    - ``std_diff``: (b_compared - b_orig) / se_orig (synthpop ``Std. coef diff``).

    Coefficients the compared fit lacks get NaN."""
    zq = float(stats.norm.ppf(1 - (1 - ci_level) / 2))
    o = orig[["coef", "se"]]
    s = other[["coef", "se"]].reindex(o.index)
    lo1, hi1 = o["coef"] - zq * o["se"], o["coef"] + zq * o["se"]
    lo2, hi2 = s["coef"] - zq * s["se"], s["coef"] + zq * s["se"]
    ov = np.minimum(hi1, hi2) - np.maximum(lo1, lo2)
    # synthpop's default: the compared estimate with the original's standard error
    lo3, hi3 = s["coef"] - zq * o["se"], s["coef"] + zq * o["se"]
    ov3 = np.minimum(hi1, hi3) - np.maximum(lo1, lo3)
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = 0.5 * (ov / (hi1 - lo1) + ov / (hi2 - lo2))
        overlap_orig = 0.5 * (ov3 / (hi1 - lo1) + ov3 / (hi3 - lo3))
        sd = (s["coef"] - o["coef"]) / o["se"]
    return pd.DataFrame({
        "term": o.index, "coef_train": o["coef"].to_numpy(), "se_train": o["se"].to_numpy(),
        "coef": s["coef"].to_numpy(), "se": s["se"].to_numpy(),
        "ci_overlap": overlap.to_numpy(), "ci_overlap_orig_se": overlap_orig.to_numpy(), "std_diff": sd.to_numpy(),
    })


def research_question(q: str | Mapping[str, Any] | Question, frames: Mapping[str, pd.DataFrame | None],
                      ci_level: float = 0.95) -> dict[str, Any]:
    """Fit one question on every frame (``train`` required; others e.g. ``baseline``,
    ``synthetic``, ``control``) and compare each with train. A fit that fails on one frame is an
    error entry for that frame; a failure on train is an error for the whole question."""
    qq = Question.parse(q)
    present = {k: v for k, v in frames.items() if v is not None}
    prepared, unseen = _prepare_for_formula(present, qq.formula)
    out: dict[str, Any] = {"name": qq.name, "formula": qq.formula, "family": qq.family, "fits": {}}
    try:
        orig = _fit(prepared["train"], qq)
    except Exception as e:
        out["error"] = f"train: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        return out
    out["fits"]["train"] = {"nobs": int(orig["nobs"].iloc[0]), "rows": len(present["train"]),
                            "coefficients": _records(orig.drop(columns="nobs").reset_index(names="term"))}
    for name, df in prepared.items():
        if name == "train":
            continue
        entry: dict[str, Any] = {"rows": len(df), "rows_unseen_levels": unseen[name]}
        try:
            other = _fit(df, qq)
        except Exception as e:
            entry["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            out["fits"][name] = entry
            continue
        cmp_ = compare_fit(orig, other, ci_level)
        entry.update({
            "nobs": int(other["nobs"].iloc[0]),
            "missing_terms": [t for t in orig.index if t not in other.index or np.isnan(other["coef"].get(t, np.nan))],
            "extra_terms": [t for t in other.index if t not in orig.index],
            "ci_overlap_mean": float(np.nanmean(cmp_["ci_overlap"])) if cmp_["ci_overlap"].notna().any() else None,
            "ci_overlap_orig_se_mean": (float(np.nanmean(cmp_["ci_overlap_orig_se"]))
                                        if cmp_["ci_overlap_orig_se"].notna().any() else None),
            "std_diff_mean_abs": float(np.nanmean(np.abs(cmp_["std_diff"]))) if cmp_["std_diff"].notna().any() else None,
            "coefficients": _records(cmp_),
        })
        out["fits"][name] = entry
    return out


# ----------------------------------------------------------------------------------------------
# machine-learning utility
# ----------------------------------------------------------------------------------------------

def _ml_frame(df: pd.DataFrame, features: Sequence[str], kinds: Mapping[str, str],
              levels: Mapping[str, list[str]]) -> pd.DataFrame:
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
        return _ml_utility(train, synthetic, control, target, kinds, seed=seed, max_rows=max_rows)


def _ml_utility(train: pd.DataFrame, synthetic: pd.DataFrame, control: pd.DataFrame, target: str,
                kinds: Mapping[str, str], *, seed: int, max_rows: int | None) -> dict[str, Any]:
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
            sub = _subsample(len(idx), max_rows, rng)
            if sub is not None:
                idx = idx[sub]
        X = _ml_frame(df.iloc[idx], features, kinds, levels)
        return X, y[idx]

    Xc, yc = xy(control, sample=False)
    out: dict[str, Any] = {"target": target, "kind": kinds[target], "test_rows": len(yc), "features": features}
    if len(yc) == 0:
        raise InputError(f"ML utility: control has no row with target '{target}' observed")
    for name, df in (("train", train), ("synthetic", synthetic)):
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
                res["roc_auc"] = _weighted_ovr_auc(yc, model.predict_proba(Xc), model.classes_)
        out[name] = res
    return out


def _weighted_ovr_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float | None:
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


# ----------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def limited_threads(n: int | None) -> Iterator[None]:
    """Cap BLAS and OpenMP threads to ``n`` inside the block (None: leave them alone). The native
    libraries are loaded first: threadpoolctl only limits libraries already loaded."""
    if n is None:
        yield
        return
    import sklearn.ensemble  # noqa: F401
    import statsmodels.api  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return _jsonable(df.to_dict(orient="records"))


def _section(name: str, fn: Callable[[], Any], errors: list[dict[str, Any]]) -> Any:
    """Run one section; a failure becomes an error entry (via safe_metric) and None."""
    holder: dict[str, Any] = {}

    def run() -> Metric:
        holder["v"] = fn()
        return Metric(name, 0.0, group=GROUP)

    m = safe_metric(name, GROUP, run)[0]
    if m.error:
        errors.append(m.to_dict())
        return {"error": m.error}
    return holder["v"]


def _nanmean(x: Iterable[Any]) -> float | None:
    a = np.asarray([v for v in x if v is not None], dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if len(a) else None


def utility_report(
    train: pd.DataFrame,
    control: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    *,
    part_columns: Mapping[str, Sequence[str]] | None = None,
    common: Sequence[str] = (),
    questions: Sequence[str | Mapping[str, Any]] = (),
    target: str | None = None,
    baseline: pd.DataFrame | None = None,
    seed: int = 0,
    identifier: str | None = None,
    kinds: Mapping[str, str] | None = None,
    ci_draws: int = 3,
    max_rows: int | None = 50_000,
    pmse_model: str = "logit",
    bins: int = 20,
    n_threads: int | None = 1,
) -> dict[str, Any]:
    """Every utility measure of the linked synthetic table ``synthetic`` (J*) against ``train``,
    with ``control`` against ``train`` beside it. JSON-serialisable result with keys
    ``univariate``, ``bivariate``, ``cross_part``, ``ci_reference``, ``frechet``, ``pmse``,
    ``questions``, ``ml``, ``summary``, ``metrics`` (flat list of :class:`Metric` dicts) and
    ``errors``. A failing section is an error entry; the others still run.

    Columns analysed: the common variables and the part columns when ``part_columns`` is given,
    else every column train and synthetic share; never ``identifier`` nor columns starting with
    ``_link``. ``baseline`` (the joint table reconstructed by linking the original split) is used
    by the research questions. ``ci_draws`` CI joins are averaged. ``n_threads`` caps the
    BLAS/OpenMP threads of the model fits (None = library default): gradient boosting on a busy
    shared machine ran 60x slower with free threading than with one thread."""
    with limited_threads(n_threads):
        return _utility_report(train, control, synthetic, part_columns=part_columns, common=common,
                               questions=questions, target=target, baseline=baseline, seed=seed,
                               identifier=identifier, kinds=kinds, ci_draws=ci_draws,
                               max_rows=max_rows, pmse_model=pmse_model, bins=bins)


def _utility_report(
    train: pd.DataFrame, control: pd.DataFrame | None, synthetic: pd.DataFrame, *,
    part_columns: Mapping[str, Sequence[str]] | None, common: Sequence[str],
    questions: Sequence[str | Mapping[str, Any]], target: str | None, baseline: pd.DataFrame | None,
    seed: int, identifier: str | None, kinds: Mapping[str, str] | None, ci_draws: int,
    max_rows: int | None, pmse_model: str, bins: int,
) -> dict[str, Any]:
    part_columns = {str(k): list(v) for k, v in (part_columns or {}).items()}
    common = list(common)
    if len(train) == 0:
        raise InputError("utility: train has no rows")
    if len(synthetic) == 0:
        raise InputError("utility: the synthetic table has no rows")
    if part_columns or common:
        wanted = [*common, *[c for cols in part_columns.values() for c in cols]]
    else:
        wanted = [c for c in train.columns if c in synthetic.columns]
    wanted = [c for c in dict.fromkeys(wanted) if c != identifier and not str(c).startswith("_link")]
    for where, df in (("train", train), ("synthetic", synthetic), ("control", control)):
        if df is None:
            continue
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            raise SchemaError(f"utility: {where} lacks column(s) {', '.join(map(repr, missing))}")
    if target is not None and target not in wanted:
        raise ConfigError(f"utility: target '{target}' is not among the analysed columns")
    kinds_ = column_kinds(train, wanted, kinds)
    roles = column_roles(wanted, part_columns, common)
    rng = np.random.default_rng(seed)
    errors: list[dict[str, Any]] = []
    metrics: list[Metric] = []
    report: dict[str, Any] = {
        "columns": [{"name": c, "kind": kinds_[c], "role": roles[c]} for c in wanted],
        "rows": {"train": len(train), "synthetic": len(synthetic), "control": None if control is None else len(control)},
        "seed": seed,
    }

    # -- univariate ------------------------------------------------------------------------------
    def do_uni() -> list[dict[str, Any]]:
        uni = univariate(train, synthetic, control, kinds_, roles=roles, bins=bins)
        for meas, label in (("ks", "ks_mean"), ("tvd", "tvd_mean")):
            sub = uni[uni["measure"] == meas]
            if len(sub):
                metrics.append(metric(label, _nanmean(sub["synthetic"]), control=_nanmean(sub["control"]), columns=len(sub)))
        return _records(uni)

    uni = _section("univariate", do_uni, errors)
    report["univariate"] = uni if isinstance(uni, list) else [uni]

    # -- encodings (sampled) for bivariate, CI join, Frechet ---------------------------------------
    def sampled(df: pd.DataFrame) -> pd.DataFrame:
        idx = _subsample(len(df), max_rows, rng)
        return df if idx is None else df.iloc[idx].reset_index(drop=True)

    train_s = sampled(train).reset_index(drop=True)
    frames = {"train": train_s, "synthetic": sampled(synthetic)}
    if control is not None:
        frames["control"] = sampled(control)
    enc: dict[str, _Encoded] = {}

    def do_encode() -> dict[str, Any]:
        for k, df in frames.items():
            enc[k] = _encode(df, kinds_, f"{k}: ")
        return {}

    _section("encode", do_encode, errors)

    # -- bivariate ---------------------------------------------------------------------------------
    biv_holder: dict[str, pd.DataFrame] = {}

    def do_biv() -> dict[str, Any]:
        biv = bivariate(enc, kinds_, roles)
        biv_holder["df"] = biv
        prim = biv[biv["primary"]] if len(biv) else biv
        summary: dict[str, Any] = {}
        for t in ("all", "common", "within", "cross", "unknown"):
            sub = prim if t == "all" else prim[prim["pair_type"] == t]
            if len(sub) == 0:
                continue
            summary[t] = {"pairs": len(sub), "diff_synthetic_mean": _nanmean(sub.get("diff_synthetic", [])),
                          "diff_control_mean": _nanmean(sub["diff_control"]) if "diff_control" in sub else None}
        if "all" in summary:
            metrics.append(metric("assoc_diff_mean", summary["all"]["diff_synthetic_mean"],
                                  control=summary["all"]["diff_control_mean"], pairs=summary["all"]["pairs"]))
        if "cross" in summary:
            metrics.append(metric("cross_assoc_diff_mean", summary["cross"]["diff_synthetic_mean"],
                                  control=summary["cross"]["diff_control_mean"], pairs=summary["cross"]["pairs"]))
        return {"pairs": _records(biv), "summary": summary}

    report["bivariate"] = _section("bivariate", do_biv, errors) if enc else {"error": "encoding failed"}

    # -- CI reference and cross-part summary -------------------------------------------------------
    cross_cols = [(a, b) for i, a in enumerate(wanted) for b in wanted[i + 1:]
                  if pair_type(roles[a], roles[b]) == "cross"]

    def do_ci() -> dict[str, Any]:
        if not cross_cols:
            return {"pairs": [], "note": "no cross-part pairs (give part_columns with two or more parts)"}
        if not common:
            raise ConfigError("CI reference: no common variables given")
        levels = [common_cells(train_s, common[:i], kinds=kinds_) for i in range(len(common), 0, -1)]
        parts = [p for p in part_columns if any(c in wanted for c in part_columns[p])]
        per_draw = []
        level_use = np.zeros(len(levels) + 1)
        ci_rng = np.random.default_rng([seed, 1])
        for _ in range(max(1, ci_draws)):
            e = enc["train"]
            joined = _Encoded(e.n, dict(e.num), dict(e.lab), dict(e.code))
            for p in parts[1:]:
                donor, used = ci_donors(levels, ci_rng)
                level_use += np.bincount(used, minlength=len(levels) + 1)
                for c in part_columns[p]:
                    if c in joined.num:
                        joined.num[c] = e.num[c][donor]
                    elif c in joined.code:
                        joined.code[c] = e.code[c][donor]
                        joined.lab[c] = e.lab[c][donor]
            per_draw.append({(a, b, m): _assoc(joined, a, b, m) for a, b in cross_cols
                             for m in _pair_measures(kinds_[a], kinds_[b])})
        keys = list(per_draw[0])
        ci_val = {k: float(np.nanmean([d[k] for d in per_draw])) if any(not np.isnan(d[k]) for d in per_draw) else float("nan") for k in keys}
        ci_sd = {k: float(np.nanstd([d[k] for d in per_draw])) if len(per_draw) > 1 else None for k in keys}
        level_share = level_use / level_use.sum() if level_use.sum() else level_use
        cells_finest = levels[0]
        sizes = np.bincount(cells_finest)
        return {
            "method": "random hot deck within cells of the common variables (donor never the row "
                      "itself; a row alone in its cell falls back to the cell of fewer common "
                      "variables); associations averaged over draws",
            "draws": max(1, ci_draws), "common": common,
            "cells": {"count": int(len(sizes)), "mean_size": float(sizes.mean()),
                      "share_rows_alone": float((sizes[cells_finest] == 1).mean())},
            "donor_level_share": {("+".join(common[: len(common) - i]) if i < len(common) else "(all rows)"): float(s)
                                  for i, s in enumerate(level_share)},
            "pairs": [{"a": a, "b": b, "measure": m, "ci": ci_val[(a, b, m)], "ci_sd": ci_sd[(a, b, m)]}
                      for (a, b, m) in keys],
        }

    ci_ref = _section("ci_reference", do_ci, errors) if enc else {"error": "encoding failed"}
    report["ci_reference"] = ci_ref

    def do_cross() -> dict[str, Any]:
        biv = biv_holder.get("df")
        if biv is None or len(biv) == 0:
            return {"pairs": [], "summary": {}}
        cross = biv[biv["pair_type"] == "cross"].copy()
        if not isinstance(ci_ref, dict) or "error" in ci_ref or not ci_ref.get("pairs"):
            cross["ci"] = np.nan
        else:
            cmap = {(p["a"], p["b"], p["measure"]): p["ci"] for p in ci_ref["pairs"]}
            cross["ci"] = [cmap.get((a, b, m), np.nan) for a, b, m in zip(cross["a"], cross["b"], cross["measure"], strict=True)]
        cross["ci"] = cross["ci"].astype(float)
        cross["ci_gap"] = (cross["train"] - cross["ci"]).abs()
        gap = cross["train"] - cross["ci"]
        with np.errstate(divide="ignore", invalid="ignore"):
            for name in ("synthetic", "control"):
                if name in cross:
                    r = (cross[name] - cross["ci"]) / gap
                    cross[f"retained_{name}"] = r.where(gap.abs() >= MIN_CI_GAP)
        prim = cross[cross["primary"]]
        summary = {
            "pairs": len(prim),
            "ci_gap_mean": _nanmean(prim["ci_gap"]),
            "retained_synthetic_mean": _nanmean(prim.get("retained_synthetic", [])),
            "retained_control_mean": _nanmean(prim["retained_control"]) if "retained_control" in prim else None,
            "pairs_beyond_ci": int((prim["ci_gap"] >= MIN_CI_GAP).sum()),
            "diff_synthetic_mean": _nanmean(prim.get("diff_synthetic", [])),
            "diff_control_mean": _nanmean(prim["diff_control"]) if "diff_control" in prim else None,
        }
        if len(prim):
            metrics.append(metric("cross_retained_mean", summary["retained_synthetic_mean"],
                                  control=summary["retained_control_mean"], pairs=summary["pairs_beyond_ci"]))
            metrics.append(metric("ci_gap_mean", summary["ci_gap_mean"], pairs=len(prim)))
        return {"pairs": _records(cross), "summary": summary,
                "reading": "train = real association; ci = what a join under conditional independence "
                           "given the common variables keeps (the design's limit); synthetic = the "
                           "linked synthetic table. ci_gap = lost by the design; train - synthetic "
                           "beyond that = lost by the method (synthesis + linkage)."}

    report["cross_part"] = _section("cross_part", do_cross, errors)

    # -- Frechet bounds ----------------------------------------------------------------------------
    def do_frechet() -> dict[str, Any]:
        cat_pairs = [(a, b) for a, b in cross_cols if kinds_[a] == "categorical" and kinds_[b] == "categorical"]
        if not cat_pairs:
            return {"pairs": [], "note": "no categorical cross-part pair"}
        if not common:
            raise ConfigError("Frechet bounds: no common variables given")
        x = common_cells(train_s, common, kinds=kinds_)
        out = []
        for a, b in cat_pairs:
            try:
                cells, unc = frechet_bounds_cat(x, enc["train"].lab[a], enc["train"].lab[b])
            except Exception as e:
                out.append({"a": a, "b": b, "error": f"{type(e).__name__}: {e}"})
                continue
            ylev, zlev = sorted(cells["y"].unique()), sorted(cells["z"].unique())
            entry: dict[str, Any] = {"a": a, "b": b, **unc}
            for name in ("synthetic", "control"):
                if name not in enc:
                    continue
                sh = _cell_shares(enc[name].lab[a], enc[name].lab[b], ylev, zlev).ravel()
                cells[name] = sh
                inside = (sh >= cells["low_cx"] - 1e-12) & (sh <= cells["up_cx"] + 1e-12)
                entry[f"inside_share_{name}"] = float(inside.mean())
                outside = np.maximum(cells["low_cx"] - sh, 0) + np.maximum(sh - cells["up_cx"], 0)
                entry[f"outside_mass_{name}"] = float(np.nansum(outside))
                entry[f"tvd_cells_{name}"] = float(0.5 * np.nansum(np.abs(sh - cells["observed"])))
            # the train cross-tabulation is real data: cells of fewer than 10 people are masked
            # (statistical disclosure control) before the table leaves this function
            from synthlink.disclosure_control import suppress_small_shares

            cells = suppress_small_shares(cells, "observed", n=len(enc["train"].lab[a]),
                                          derived=[c for c in ("cia", "low_cx", "up_cx") if c in cells.columns])
            entry["cells"] = _records(cells.rename(columns={"observed": "train"}))
            out.append(entry)
        ok = [e for e in out if "error" not in e]
        metrics.append(metric("frechet_width_mean", _nanmean(e["av_width_cx"] for e in ok),
                              unconditional=_nanmean(e["av_width_u"] for e in ok), pairs=len(ok)))
        if ok and "inside_share_synthetic" in ok[0]:
            metrics.append(metric("frechet_inside_share", _nanmean(e["inside_share_synthetic"] for e in ok),
                                  control=_nanmean(e.get("inside_share_control") for e in ok), pairs=len(ok)))
        return {"pairs": out, "x": "cells of the common variables (numeric ones with more than "
                f"{MAX_CELL_LEVELS} values in {CELL_BINS} quantile bins)",
                "note": "bounds from train; with many sparse cells of the common variables the "
                        "conditional bounds narrow towards train's own table"}

    report["frechet"] = _section("frechet", do_frechet, errors) if enc else {"error": "encoding failed"}

    # -- propensity ----------------------------------------------------------------------------------
    def do_pmse() -> dict[str, Any]:
        from synthlink.evaluate import propensity_utility

        cols = wanted
        out: dict[str, Any] = {"model": pmse_model}
        for name, df in (("synthetic", synthetic), ("control", control)):
            if df is None:
                continue
            out[name] = _jsonable(_pmse_result(propensity_utility.pmse(train[cols], df[cols], pmse_model, seed)))
        syn = out.get("synthetic", {})
        ctl = out.get("control", {})
        metrics.append(metric("pmse", syn.get("pmse"), control=ctl.get("pmse"), model=pmse_model))
        metrics.append(metric("s_pmse", syn.get("s_pmse"), control=ctl.get("s_pmse"), model=pmse_model))
        return out

    report["pmse"] = _section("pmse", do_pmse, errors)

    # -- research questions --------------------------------------------------------------------------
    qs = []
    for q in questions:
        def do_q(q: Any = q) -> dict[str, Any]:
            res = research_question(q, {"train": train, "baseline": baseline, "synthetic": synthetic, "control": control})
            for name, fit in res["fits"].items():
                if name == "train" or "error" in fit:
                    continue
                metrics.append(metric("ci_overlap_mean", fit.get("ci_overlap_mean"), label=f"ci_overlap_mean[{res['name']}|{name}]",
                                      question=res["name"], table=name))
                metrics.append(metric("ci_overlap_orig_se_mean", fit.get("ci_overlap_orig_se_mean"),
                                      label=f"ci_overlap_orig_se_mean[{res['name']}|{name}]", question=res["name"], table=name))
                metrics.append(metric("std_diff_mean_abs", fit.get("std_diff_mean_abs"), label=f"std_diff_mean_abs[{res['name']}|{name}]",
                                      question=res["name"], table=name))
            return _jsonable(res)

        label = f"question: {q.get('formula', q) if isinstance(q, Mapping) else q}"
        r = _section(label, do_q, errors)
        if isinstance(r, dict) and "error" in r and "formula" not in r:
            r = {"question": _jsonable(q), **r}
        elif isinstance(r, dict) and r.get("error"):  # the fit on train failed
            errors.append(Metric(label, None, group=GROUP, error=r["error"]).to_dict())
        qs.append(r)
    report["questions"] = qs

    # -- ML ------------------------------------------------------------------------------------------
    if target is not None:
        def do_ml() -> dict[str, Any]:
            if control is None:
                raise ConfigError("ML utility needs a control set to test on")
            res = _ml_utility(train, synthetic, control, target, kinds_, seed=seed, max_rows=max_rows)
            for key in ("r2",) if kinds_[target] == "numeric" else ("accuracy", "roc_auc"):
                metrics.append(metric(f"ml_{key}", res["synthetic"].get(key), train=res["train"].get(key), target=target))
            return _jsonable(res)

        report["ml"] = _section("ml", do_ml, errors)
    else:
        report["ml"] = {"note": "no target declared"}

    # -- summary -------------------------------------------------------------------------------------
    s: dict[str, Any] = {}
    for m in metrics:
        if "[" in m.name:
            continue
        design = m.name in DESIGN_METRICS  # a property of train and the split, not of J*
        s[m.name if design else f"{m.name}_synthetic"] = m.value
        for ref in ("control", "train", "unconditional"):
            if ref in m.details:
                s[f"{m.name}_{ref}"] = m.details[ref]
    # one number per table for a privacy-utility plot: 1 - mean |association difference|
    for key, src in (("utility_score", "assoc_diff_mean"), ("cross_utility_score", "cross_assoc_diff_mean")):
        for name in ("synthetic", "control"):
            v = s.get(f"{src}_{name}")
            s[f"{key}_{name}"] = None if v is None else 1.0 - v
    for qr in qs:
        if isinstance(qr, dict) and "fits" in qr:
            for name, fit in qr["fits"].items():
                for key in ("ci_overlap_mean", "ci_overlap_orig_se_mean"):
                    if name != "train" and key in fit:
                        s.setdefault(f"{key}_{name}", [])
                        s[f"{key}_{name}"].append(fit[key])
    for k in [k for k in s if k.startswith(("ci_overlap_mean_", "ci_overlap_orig_se_mean_")) and isinstance(s[k], list)]:
        s[k] = _nanmean(s[k])
    s["errors"] = len(errors)
    report["summary"] = _jsonable(s)
    report["metrics"] = [m.to_dict() for m in metrics]
    report["errors"] = errors
    return _jsonable(report)


def _pmse_result(r: Any) -> dict[str, Any]:
    """Normalise what propensity_utility.pmse returns (a dict, a Metric, a list of Metrics or an
    object with pmse/s_pmse attributes) to {"pmse": .., "s_pmse": .., ...}."""
    if isinstance(r, Mapping):
        return dict(r)
    if isinstance(r, Metric):
        return {r.name.lower(): r.value, **r.details}
    if isinstance(r, (list, tuple)) and all(isinstance(m, Metric) for m in r):
        return {m.name.lower(): m.value for m in r}
    if hasattr(r, "__dict__"):
        return {k: v for k, v in vars(r).items() if not k.startswith("_")}
    raise TypeError(f"propensity_utility.pmse returned {type(r).__name__}")

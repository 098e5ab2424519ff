"""Research questions: a user's statsmodels formula fitted on train and on every compared table,
and the comparison of the fits.

Confidence-interval overlap in two forms: each interval from its own fit with its own standard
error (Karr et al. 2006, ``ci_overlap``), and synthpop's ``compare.fit`` default, where the
compared interval is centred on the compared estimate but uses the ORIGINAL fit's standard error
(``ci_overlap_orig_se``); and synthpop's standardized coefficient difference.

Formulas are evaluated by patsy among the table's columns and this module's globals (``np``,
``pd``, ``math``, ``stats`` among them); :mod:`synthlink.evaluate.utility` re-exports those names,
as :func:`synthlink.config.formula_columns`' check reads them there.
"""

from __future__ import annotations

import math  # noqa: F401  (formulas are evaluated among this module's globals: math.log as before)
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthlink.errors import ConfigError
from synthlink.evaluate.utility.encoding import records
from synthlink.evaluate.utility.memo import frame_key, memoized

FAMILIES = ("ols", "logit", "poisson")
#: the column of a ``C(x)`` term
C_TERM_RE = re.compile(r"\bC\(\s*([A-Za-z_][A-Za-z0-9_]*)")


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


def prepare_for_formula(frames: Mapping[str, pd.DataFrame], formula: str, reference: str = "train") -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Give every frame the same column types as the reference for the columns in the formula:
    integer/float columns become float (so categorical levels print alike), columns used as C(x)
    become a pandas Categorical with the reference's levels (same reference level everywhere);
    values the reference never shows become missing and are counted."""
    ref = frames[reference]
    used = {c for c in ref.columns if re.search(rf"\b{re.escape(str(c))}\b", formula)}
    as_cat = set(C_TERM_RE.findall(formula)) & used
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


def fit_question(df: pd.DataFrame, q: Question) -> pd.DataFrame:
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
    prepared, unseen = prepare_for_formula(present, qq.formula)
    out: dict[str, Any] = {"name": qq.name, "formula": qq.formula, "family": qq.family, "fits": {}}
    try:
        # the fit on train is the same for every J* compared against this train
        orig = memoized("question_train_fit", (frame_key(prepared["train"]), qq.formula, qq.family),
                        lambda: fit_question(prepared["train"], qq))
    except Exception as e:
        out["error"] = f"train: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        return out
    out["fits"]["train"] = {"nobs": int(orig["nobs"].iloc[0]), "rows": len(present["train"]),
                            "coefficients": records(orig.drop(columns="nobs").reset_index(names="term"))}
    for name, df in prepared.items():
        if name == "train":
            continue
        entry: dict[str, Any] = {"rows": len(df), "rows_unseen_levels": unseen[name]}
        try:
            other = fit_question(df, qq)
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
            "coefficients": records(cmp_),
        })
        out["fits"][name] = entry
    return out

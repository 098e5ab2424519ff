"""The documented utility measures: name -> goal, range and definition, and :func:`metric`, which
builds a :class:`~synthlink.evaluate.metric.Metric` from them."""

from __future__ import annotations

import math
from typing import Any

from synthlink.evaluate.metric import Metric
from synthlink.evaluate.utility.encoding import GROUP, jsonable

#: metric documentation: name -> (goal, low, high, description)
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
                  details=jsonable(details))

"""Utility of the linked synthetic joint table J* against train, with control against train as the
reference (:func:`utility_report`). One module per job:

- :mod:`.encoding`: kinds (via :mod:`synthlink.schema`), float / label / code encodings, JSON values;
- :mod:`.metrics`: the documented measures (:data:`METRICS`) and :func:`metric`;
- :mod:`.univariate`: Kolmogorov-Smirnov statistic and total variation distance per column;
- :mod:`.association`: association per pair of columns (Pearson, Spearman, bias-corrected
  Cramer's V, correlation ratio) and the pairs' tags (common, within, cross);
- :mod:`.design`: what the split design allows: cells of the common variables, the
  conditional-independence join, Frechet bounds (StatMatch's ``Frechet.bounds.cat``);
- :mod:`.questions`: research-question fits and confidence-interval overlap (Karr et al. 2006;
  synthpop's ``compare.fit``);
- :mod:`.ml`: train on synthetic, test on control (gradient boosting);
- :mod:`.sections`: one function per section of the report;
- :mod:`.report`: :func:`utility_report`, which composes the sections.

Propensity utility (pMSE, S_pMSE) lives in :mod:`synthlink.evaluate.propensity_utility`.

The names below are those the single module ``synthlink.evaluate.utility`` offered; ``np``,
``pd``, ``math`` and ``stats`` are kept too, as :mod:`synthlink.config` checks the functions a
research-question formula calls against this module's names.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from synthlink.evaluate.utility.association import (
    bivariate,
    column_roles,
    correlation_ratio,
    cramers_v,
    pair_type,
)
from synthlink.evaluate.utility.design import (
    CELL_BINS,
    MAX_CELL_LEVELS,
    MIN_CI_GAP,
    ci_donors,
    ci_join,
    common_cells,
    frechet_bounds_cat,
)
from synthlink.evaluate.utility.encoding import (
    GROUP,
    NA_LABEL,
    as_float,
    as_labels,
    column_kinds,
    quantile_bins,
)
from synthlink.evaluate.utility.marginal import ks_statistic, tvd, univariate
from synthlink.evaluate.utility.metrics import DESIGN_METRICS, METRICS, metric
from synthlink.evaluate.utility.ml import ml_utility
from synthlink.evaluate.utility.questions import (
    FAMILIES,
    Question,
    ci_overlap,
    compare_fit,
    research_question,
    std_coef_diff,
)
from synthlink.evaluate.utility.report import utility_report

__all__ = [
    "CELL_BINS",
    "DESIGN_METRICS",
    "FAMILIES",
    "GROUP",
    "MAX_CELL_LEVELS",
    "METRICS",
    "MIN_CI_GAP",
    "NA_LABEL",
    "Question",
    "as_float",
    "as_labels",
    "bivariate",
    "ci_donors",
    "ci_join",
    "ci_overlap",
    "column_kinds",
    "column_roles",
    "common_cells",
    "compare_fit",
    "correlation_ratio",
    "cramers_v",
    "frechet_bounds_cat",
    "ks_statistic",
    "math",
    "metric",
    "ml_utility",
    "np",
    "pair_type",
    "pd",
    "quantile_bins",
    "research_question",
    "stats",
    "std_coef_diff",
    "tvd",
    "univariate",
    "utility_report",
]

"""A catalogue of the summary measures of :func:`synthlink.evaluate.utility.utility_report`: for
every key its report can hold in ``summary``, the measure's definition, its goal (``lower`` or
``higher`` is better, ``none`` for measures of the design rather than of a table), its range and
where in the utility dict the value comes from, so a report can iterate them instead of naming
keys one by one.

Definitions, goals and ranges are those of :data:`synthlink.evaluate.utility.metrics.METRICS`;
this module adds only the table each key belongs to and its place in the utility dict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from synthlink.evaluate.utility.metrics import METRICS

GOALS = {"min": "lower", "max": "higher", "none": "none"}

#: the tables a research question is fitted on besides train
QUESTION_TABLES = ("baseline", "synthetic", "control")


@dataclass(frozen=True)
class SummaryMeasure:
    """One key of the summary. ``where`` is a dotted path into the utility dict when the summary
    copies a value (``path`` True), else a description of how the value is derived."""

    key: str
    measure: str
    table: str
    definition: str
    goal: str
    low: float | None
    high: float | None
    where: str
    path: bool = True


# measure -> (tables in the summary, where per table ({table} is filled in), is it a path)
_SOURCES: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "ks_mean": (("synthetic", "control"), "mean of univariate[measure == 'ks'].{table}", False),
    "tvd_mean": (("synthetic", "control"), "mean of univariate[measure == 'tvd'].{table}", False),
    "assoc_diff_mean": (("synthetic", "control"), "bivariate.summary.all.diff_{table}_mean", True),
    "cross_assoc_diff_mean": (("synthetic", "control"), "bivariate.summary.cross.diff_{table}_mean", True),
    "cross_retained_mean": (("synthetic", "control"), "cross_part.summary.retained_{table}_mean", True),
    "ci_gap_mean": (("design",), "cross_part.summary.ci_gap_mean", True),
    "frechet_width_mean": (("design",), "mean of frechet.pairs[].av_width_cx", False),
    "frechet_inside_share": (("synthetic", "control"), "mean of frechet.pairs[].inside_share_{table}", False),
    "pmse": (("synthetic", "control"), "pmse.{table}.pmse", True),
    "s_pmse": (("synthetic", "control"), "pmse.{table}.s_pmse", True),
    "ml_accuracy": (("synthetic", "train"), "ml.{table}.accuracy", True),
    "ml_roc_auc": (("synthetic", "train"), "ml.{table}.roc_auc", True),
    "ml_r2": (("synthetic", "train"), "ml.{table}.r2", True),
    "utility_score": (("synthetic", "control"), "1 - summary.assoc_diff_mean_{table}", False),
    "cross_utility_score": (("synthetic", "control"), "1 - summary.cross_assoc_diff_mean_{table}", False),
    "ci_overlap_mean": (QUESTION_TABLES, "mean over research questions of questions[].fits.{table}.ci_overlap_mean",
                        False),
    "ci_overlap_orig_se_mean": (QUESTION_TABLES, "mean over research questions of "
                                "questions[].fits.{table}.ci_overlap_orig_se_mean", False),
}


def summary_key(measure: str, table: str) -> str:
    """The summary key of a measure for a table: the bare name for a design measure, else
    ``<measure>_<table>``."""
    return measure if table == "design" else f"{measure}_{table}"


def _entries() -> Iterator[SummaryMeasure]:
    for measure, (tables, where, is_path) in _SOURCES.items():
        goal, low, high, definition = METRICS[measure]
        for table in tables:
            yield SummaryMeasure(summary_key(measure, table), measure, table, definition, GOALS[goal], low, high,
                                 where.format(table=table), is_path)
    # the unconditional Frechet width rides along with the conditional one
    yield SummaryMeasure("frechet_width_mean_unconditional", "frechet_width_mean", "unconditional",
                         "Mean width of the unconditional Frechet bounds of the cross-part cell proportions "
                         "(StatMatch av.u): the uncertainty without the common variables.",
                         "none", 0.0, 1.0, "mean of frechet.pairs[].av_width_u", False)
    yield SummaryMeasure("errors", "errors", "report", "Number of sections or measures that failed (see errors).",
                         "lower", 0.0, None, "len(errors)", False)


#: summary key -> its entry, in the order the report's sections run
CATALOGUE: dict[str, SummaryMeasure] = {m.key: m for m in _entries()}


def lookup(report: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a utility dict (None where a step is missing)."""
    node: Any = report
    for step in path.split("."):
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node

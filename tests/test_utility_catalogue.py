"""The catalogue of summary measures (synthlink.evaluate.utility.catalogue) covers every key a
utility report's summary holds, and each key it names as a path reads the summary's value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate.utility import utility_report
from synthlink.evaluate.utility.catalogue import CATALOGUE, lookup, summary_key
from synthlink.evaluate.utility.metrics import DESIGN_METRICS, METRICS

PARTS = {"edu": ["isced"], "work": ["wage", "employed"]}
COMMON = ["sex", "canton"]
QUESTIONS = ["np.log(wage) ~ C(isced) + C(sex)"]


def make(n: int, seed: int) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    isced = r.integers(1, 5, n)
    return pd.DataFrame({
        "sex": r.choice(["F", "M"], n), "canton": r.choice(list("ABC"), n), "isced": isced,
        "wage": np.exp(8 + 0.25 * isced + r.normal(0, 0.3, n)),
        "employed": np.where(r.random(n) < 0.2 + 0.15 * isced, "yes", "no"),
    })


@pytest.fixture(scope="module")
def reports() -> list[dict]:
    train, control, syn = make(400, 1), make(300, 2), make(400, 3)
    common = dict(part_columns=PARTS, common=COMMON, questions=QUESTIONS, seed=0, ci_draws=1)
    return [utility_report(train, control, syn, target="employed", baseline=train, **common),
            utility_report(train, control, train, target="wage", **common)]


def test_every_summary_key_has_a_catalogue_entry(reports: list[dict]) -> None:
    for r in reports:
        assert r["errors"] == []
        missing = [k for k in r["summary"] if k not in CATALOGUE]
        assert missing == []


def test_every_catalogue_entry_occurs_in_some_report(reports: list[dict]) -> None:
    seen = {k for r in reports for k in r["summary"]}
    assert [k for k in CATALOGUE if k not in seen] == []


def test_paths_read_the_summary_value(reports: list[dict]) -> None:
    for r in reports:
        for key, m in CATALOGUE.items():
            if m.path and key in r["summary"]:
                assert lookup(r, m.where) == r["summary"][key], key


def test_a_table_against_itself_reads_zero_difference(reports: list[dict]) -> None:
    # the second report compares train with itself: every association difference is 0 by definition
    r = reports[1]
    assert lookup(r, CATALOGUE["assoc_diff_mean_synthetic"].where) == 0.0
    assert r["summary"]["utility_score_synthetic"] == 1.0


def test_entries_follow_metrics() -> None:
    for m in CATALOGUE.values():
        if m.measure in METRICS:
            goal, low, high, definition = METRICS[m.measure]
            assert m.goal == {"min": "lower", "max": "higher", "none": "none"}[goal]
            assert (m.low, m.high) == (low, high)
        assert m.goal in {"lower", "higher", "none"}
        assert (m.table == "design") == (m.key in DESIGN_METRICS)
    assert summary_key("pmse", "control") == "pmse_control"
    assert summary_key("ci_gap_mean", "design") == "ci_gap_mean"

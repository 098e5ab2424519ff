"""Small-cell suppression (statistical disclosure control), checked on tables computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.disclosure_control import suppress_small_cells, suppress_small_shares
from synthlink.errors import InputError


def _table() -> pd.DataFrame:
    # canton x sex counts; total 100; shares by hand
    return pd.DataFrame({
        "canton": ["A", "A", "B", "B", "C", "C"],
        "sex": ["F", "M", "F", "M", "F", "M"],
        "count": [30, 25, 12, 9, 0, 24],
        "share": [0.30, 0.25, 0.12, 0.09, 0.00, 0.24],
    })


def test_counts_below_threshold_and_their_shares_are_masked():
    out = suppress_small_cells(_table(), "count", 10, secondary=False)
    # only B/M (9) is below 10; the zero cell is published; the share of B/M goes with its count
    assert out["suppressed"].tolist() == [False, False, False, True, False, False]
    assert out["count"].isna().tolist() == [False, False, False, True, False, False]
    assert out["share"].isna().tolist() == [False, False, False, True, False, False]
    assert out["count"].dtype == "Int64"
    assert out.loc[0, "count"] == 30 and out.loc[2, "share"] == pytest.approx(0.12)


def test_default_threshold_is_ten():
    t = pd.DataFrame({"count": [9, 10, 11], "pct": [30.0, 33.3, 36.7]})
    out = suppress_small_cells(t, "count", secondary=False)
    assert out["suppressed"].tolist() == [True, False, False]
    assert np.isnan(out["pct"].iloc[0])  # 'pct' detected as derived


def test_threshold_is_configurable():
    out = suppress_small_cells(_table(), "count", 25, secondary=False)
    # 12, 9 and 24 are below 25 (0 stays published); 25 is not
    assert out["suppressed"].tolist() == [False, False, True, True, False, True]
    out5 = suppress_small_cells(_table(), "count", 5, secondary=False)
    assert not out5["suppressed"].any()


def test_zero_cells_masked_on_request():
    out = suppress_small_cells(_table(), "count", 10, secondary=False, mask_zero=True)
    assert out["suppressed"].tolist() == [False, False, False, True, True, False]


def test_secondary_suppression_protects_a_single_cell_in_a_group():
    # by canton: B has one suppressed cell (9), recoverable from B's total 21 -> its other cell 12
    # goes too; A and C have none (C's 0 is published)
    out = suppress_small_cells(_table(), "count", 10, by=["canton"])
    assert out["suppressed"].tolist() == [False, False, True, True, False, False]
    # whole table: one primary cell (9) -> the smallest other non-zero cell (12) is masked too
    out_all = suppress_small_cells(_table(), "count", 10)
    assert out_all["suppressed"].tolist() == [False, False, True, True, False, False]
    # two primary cells in a group need no secondary one
    t = _table().assign(count=[3, 4, 12, 20, 30, 31])
    out2 = suppress_small_cells(t, "count", 10)
    assert out2["suppressed"].tolist() == [True, True, False, False, False, False]


def test_input_is_not_modified_and_explicit_derived_columns():
    t = _table().assign(rate_per_1000=[300, 250, 120, 90, 0, 240])
    before = t.copy()
    out = suppress_small_cells(t, "count", 10, derived=["rate_per_1000"], secondary=False)
    pd.testing.assert_frame_equal(t, before)
    assert out["rate_per_1000"].isna().tolist() == [False, False, False, True, False, False]
    assert not out["share"].isna().any()  # not listed, so not treated as derived


def test_shares_of_n_records():
    # shares of 200 records: 0.04 -> 8 persons (masked), 0.05 -> 10 (kept), 0.0 -> 0 (kept)
    t = pd.DataFrame({"cell": ["x", "y", "z", "w"], "train": [0.04, 0.05, 0.0, 0.91], "synthetic": [0.05, 0.05, 0.0, 0.9]})
    out = suppress_small_shares(t, "train", 200, derived=["synthetic"], secondary=False)
    assert out["suppressed"].tolist() == [True, False, False, False]
    assert np.isnan(out["train"].iloc[0]) and np.isnan(out["synthetic"].iloc[0])
    assert list(out.columns) == ["cell", "train", "synthetic", "suppressed"]


def test_bad_arguments():
    with pytest.raises(InputError, match="no count column 'n'"):
        suppress_small_cells(_table(), "n")
    with pytest.raises(InputError, match="threshold"):
        suppress_small_cells(_table(), "count", 0)
    with pytest.raises(InputError, match="negative"):
        suppress_small_cells(_table().assign(count=[-1, 2, 3, 4, 5, 6]), "count")
    with pytest.raises(InputError, match="'nope'"):
        suppress_small_cells(_table(), "count", by=["nope"])


def test_utility_report_masks_small_train_cells_in_frechet_tables():
    """The Frechet cells carry the train cross-tabulation: cells of fewer than 10 people must not
    leave the utility report."""
    import numpy as np
    import pandas as pd

    from synthlink.evaluate.utility import utility_report

    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "a": rng.choice(["x", "y"], n), "b": rng.choice(["u", "v"], n)})
    df.loc[:2, ["a", "b"]] = ["rare", "v"]  # a cell of 3 people
    rep = utility_report(df, df.sample(100, random_state=1), df.sample(frac=1, random_state=2),
                         part_columns={"A": ["a"], "B": ["b"]}, common=["sex"], seed=0)
    cells = [c for p in rep["frechet"]["pairs"] for c in p.get("cells", [])]
    assert cells
    for c in cells:
        share = c["train"]
        if share is not None:
            assert share * n >= 10 - 1e-9 or share == 0
    assert any(c.get("suppressed") for c in cells)

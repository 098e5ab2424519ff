"""A declared kind changes what each value-comparing linker does (declared over inferred,
:mod:`synthlink.schema`). The column ``x`` holds integers with 5 distinct values, which the
inference reads as categorical (at most 12 integer values); declared ``numeric`` it is compared by
difference. Every expectation is worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.link import get_linker


def test_distance_declared_numeric_gets_a_range_term() -> None:
    # left x = 1, 4, 3; right x = 2, 5, 3 (5 distinct values pooled: no default block, > 3 levels)
    left = pd.DataFrame({"x": [1, 4, 3]})
    right = pd.DataFrame({"x": [2, 5, 3]})
    # inferred categorical: 3 = 3 pairs in the exact phase (score 1); the rest are all at
    # distance 1 (mismatch), so score 1 - 1 = 0 whichever way they pair
    cat = get_linker("distance", on=["x"]).fit(left, right).link(seed=0)
    assert cat.diagnostics["kinds"] == {"x": "categorical"}
    p = cat.pairs.set_index("left")
    assert p.loc[2, "right"] == 2 and p.loc[2, "score"] == 1.0
    assert sorted(p.loc[[0, 1], "score"]) == [0.0, 0.0]
    # declared numeric: Gower term |x - y| / range, range = 5 - 1 = 4. Residual costs:
    # 1-2: 1/4, 1-5: 4/4, 4-2: 2/4, 4-5: 1/4 -> optimum 1-2 and 4-5 (0.5 against 1.5), score 0.75
    num = get_linker("distance", on=["x"], kinds={"x": "numeric"}).fit(left, right).link(seed=0)
    assert num.diagnostics["kinds"] == {"x": "numeric"}
    got = {(int(a), int(b)): float(s) for a, b, s in num.pairs[["left", "right", "score"]].itertuples(index=False)}
    assert got == {(0, 0): 0.75, (1, 1): 0.75, (2, 2): 1.0}


def test_hotdeck_declared_numeric_gets_a_difference() -> None:
    # recipients x = 1, 5; donors x = 2, 3, 4 (5 values: no default donation class)
    left = pd.DataFrame({"x": [1, 5]})
    right = pd.DataFrame({"x": [2, 3, 4]})
    # inferred categorical: every donor differs from every recipient (distance 1): all tied
    cat = get_linker("hotdeck", on=["x"]).fit(left, right).link(seed=0)
    assert cat.diagnostics["match_vars"] == ["x"] and cat.diagnostics["don_class"] == []
    assert cat.diagnostics["share_ties"] == 1.0
    assert cat.diagnostics["mean_distance"] == 1.0
    # declared numeric, Manhattan |x_rec - x_don|: recipient 1 -> 1, 2, 3 (donor row 0 nearest);
    # recipient 5 -> 3, 2, 1 (donor row 2 nearest); no tie; score 1 / (1 + 1) = 0.5
    num = get_linker("hotdeck", on=["x"], kinds={"x": "numeric"}).fit(left, right).link(seed=0)
    assert num.diagnostics["share_ties"] == 0.0
    got = {(int(a), int(b)): float(s) for a, b, s in num.pairs[["left", "right", "score"]].itertuples(index=False)}
    assert got == {(0, 0): 0.5, (1, 2): 0.5}


def test_propensity_declared_numeric_gets_one_standardized_column() -> None:
    left = pd.DataFrame({"x": [1, 2, 3]})
    right = pd.DataFrame({"x": [4, 5]})
    # inferred categorical: one-hot, one model column per value (5)
    cat = get_linker("propensity", on=["x"]).fit(left, right)
    assert cat.X_.shape == (5, 5) and cat.owner_ == {"x": [0, 1, 2, 3, 4]}
    # declared numeric: one column (x - mean) / sd, mean 3, population sd sqrt((4+1+0+1+4)/5) = sqrt(2)
    num = get_linker("propensity", on=["x"], kinds={"x": "numeric"}).fit(left, right)
    assert num.X_.shape == (5, 1) and num.owner_ == {"x": [0]}
    np.testing.assert_allclose(num.X_[:, 0], np.array([-2, -1, 0, 1, 2]) / np.sqrt(2))


def _five() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    x = np.tile(np.arange(1, 6), 4)  # 20 rows, 5 values
    left = pd.DataFrame({"x": x})
    right = pd.DataFrame({"x": x})
    return left, right, pd.DataFrame({"left": np.arange(20), "right": np.arange(20)})


def test_probabilistic_declared_kind_chooses_the_comparison() -> None:
    left, right, _ = _five()
    assert get_linker("probabilistic", on=["x"]).fit(left, right).kinds_ == {"x": "categorical"}
    assert get_linker("probabilistic", on=["x"], kinds={"x": "numeric"}).fit(left, right).kinds_ == {"x": "numeric"}
    # ordinal has no comparison of its own: exact agreement, as for categories
    assert get_linker("probabilistic", on=["x"], kinds={"x": "ordinal"}).fit(left, right).kinds_ == {"x": "categorical"}
    # a declared kind for a column outside the linking columns is ignored; comparisons= overrides kinds=
    lk = get_linker("probabilistic", on=["x"], kinds={"x": "numeric", "other": "date"},
                    comparisons={"x": "categorical"})
    assert lk.fit(left, right).kinds_ == {"x": "categorical"}


@pytest.mark.parametrize(("kinds", "levels"), [(None, 2), ({"x": "numeric"}, 4)])
def test_probabilistic_declared_numeric_gets_difference_levels(kinds, levels) -> None:
    # categorical: Splink's ExactMatch, levels exact / else (2 besides the null level);
    # numeric: exact / |difference| <= 1 / <= 2 / else (4)
    left, right, truth = _five()
    lk = get_linker("probabilistic", on=["x"], kinds=kinds, m_from="truth", truth=truth)
    links = lk.fit(left, right).link(seed=0)
    assert len(links.diagnostics["match_weights"]["x"]) == levels

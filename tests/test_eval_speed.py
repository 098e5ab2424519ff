"""The evaluation speed-ups keep the numbers: the joint key codes of the disclosure measures, the
two-nearest selection of the brute-force search, and the per-process memo of train-side results."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from synthlink.evaluate.privacy.disclosure import joint_rank
from synthlink.evaluate.privacy.neighbors import two_smallest
from synthlink.evaluate.utility import memo
from synthlink.evaluate.utility.marginal import ks_statistic
from synthlink.evaluate.utility.ml import ml_utility


def test_joint_rank_is_lexicographic_rank_by_hand():
    # rows (1,0), (0,1), (1,0), (0,0): sorted distinct tuples (0,0)=0, (0,1)=1, (1,0)=2
    got = joint_rank([np.array([1, 0, 1, 0]), np.array([0, 1, 0, 0])], 4)
    assert got.tolist() == [2, 1, 2, 0]


def test_joint_rank_without_columns_is_one_group():
    assert joint_rank([], 3).tolist() == [0, 0, 0]


def test_two_smallest_by_hand():
    d = np.array([[3.0, 1.0, 2.0, 5.0], [0.5, 4.0, 0.25, 9.0]], dtype=np.float32)
    got = two_smallest(d.copy())
    assert sorted(got[0].tolist()) == [1, 2]  # values 1 and 2
    assert sorted(got[1].tolist()) == [0, 2]  # values 0.25 and 0.5


def test_two_smallest_leaves_the_matrix_unchanged_and_resolves_ties_as_argpartition():
    d = np.array([[1.0, 1.0, 0.0, 4.0], [2.0, 2.0, 2.0, 2.0], [7.0, 3.0, 3.0, 1.0]], dtype=np.float32)
    work = d.copy()
    got = two_smallest(work)
    assert np.array_equal(work, d)
    assert np.array_equal(got, np.argpartition(d, 1, axis=1)[:, :2])
    # whichever tied index is taken, its value is the second smallest
    assert d[0, got[0]].tolist().count(0.0) == 1 and sorted(d[0, got[0]].tolist()) == [0.0, 1.0]


def test_memo_computes_once_per_content_and_returns_copies():
    memo.clear()
    calls = []

    def compute():
        calls.append(1)
        return {"v": [1, 2]}

    a = pd.DataFrame({"x": [1, 2, 3]})
    first = memo.memoized("t", memo.frame_key(a), compute)
    first["v"].append(3)  # the caller's copy only
    again = memo.memoized("t", memo.frame_key(a.copy()), compute)
    assert again == {"v": [1, 2]} and len(calls) == 1
    memo.memoized("t", memo.frame_key(pd.DataFrame({"x": [1, 2, 4]})), compute)
    assert len(calls) == 2


def test_memo_key_sees_dtype_and_categories():
    a = pd.DataFrame({"x": pd.Categorical(["a", "b"], categories=["a", "b"])})
    b = pd.DataFrame({"x": pd.Categorical(["a", "b"], categories=["b", "a"])})
    c = pd.DataFrame({"x": [1.0, 2.0]})
    d = pd.DataFrame({"x": [1, 2]})
    assert memo.frame_key(a) != memo.frame_key(b)
    assert memo.frame_key(c) != memo.frame_key(d)
    assert memo.array_key(np.array(["1", "2"], dtype=object)) != memo.array_key(np.array([1, 2]))


def test_memo_is_bounded():
    memo.clear()
    for i in range(memo.MAX_ENTRIES + 5):
        memo.memoized("b", i, lambda i=i: i)
    assert len(memo.STORE["b"]) == memo.MAX_ENTRIES
    assert 0 not in memo.STORE["b"] and memo.MAX_ENTRIES + 4 in memo.STORE["b"]


def test_ml_utility_same_with_and_without_the_memo():
    rng = np.random.default_rng(3)

    def table(n):
        x = rng.normal(size=n)
        g = rng.choice(["a", "b", "c"], size=n)
        return pd.DataFrame({"x": x, "g": g, "y": 2 * x + (g == "a") + rng.normal(scale=0.5, size=n)})

    train, control, syn1, syn2 = table(300), table(200), table(250), table(250)
    kinds = {"x": "numeric", "g": "categorical", "y": "numeric"}
    memo.clear()
    cold = [ml_utility(train, s, control, "y", kinds, seed=1, max_rows=200) for s in (syn1, syn2)]
    warm = [ml_utility(train, s, control, "y", kinds, seed=1, max_rows=200) for s in (syn1, syn2)]
    memo.clear()
    fresh2 = ml_utility(train, syn2, control, "y", kinds, seed=1, max_rows=200)
    assert cold == warm
    assert cold[1] == fresh2  # the second J* does not depend on a warm memo
    assert cold[0]["train"] == cold[1]["train"]


def test_ks_statistic_by_hand():
    # a = 1,2,3 and b = 2,3,4: the CDFs differ by 1/3 at 1, 2 and 3, by 0 at 4
    assert ks_statistic(np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 3.0, 4.0])) == 1 / 3
    assert np.isnan(ks_statistic(np.array([np.nan]), np.array([1.0])))


def test_ks_statistic_is_scipys_statistic():
    rng = np.random.default_rng(5)
    for n1, n2, levels in ((7, 13, 3), (200, 150, 0), (12_000, 300, 40), (500, 500, 5)):
        a = rng.integers(0, levels, n1).astype(float) if levels else rng.normal(size=n1)
        b = rng.integers(0, levels, n2).astype(float) if levels else rng.normal(0.1, 1, size=n2)
        assert ks_statistic(a, b) == float(stats.ks_2samp(a, b).statistic)

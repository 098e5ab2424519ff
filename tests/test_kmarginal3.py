"""3-way k-marginal across parts (``k_marginal_cross3``): SDNist's densities and 0-1000 scale on
the 3-way marginals whose columns come from at least two parts; values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlink.evaluate.sdnist import cross_triples, k_marginal_cross3


def test_only_triples_crossing_parts_and_three_part_ones_first():
    owner = {"a": "p", "b": "q", "c": "r", "d": "p"}
    got = cross_triples(["a", "b", "c", "d", "x"], owner, seed=0)
    # a,d are both p: (a, d, x) stays within one part plus a common column -> left out
    assert ("a", "d", "x") not in got
    assert set(got) == {t for t in [("a", "b", "c"), ("a", "b", "d"), ("a", "b", "x"), ("a", "c", "d"), ("a", "c", "x"),
                                    ("b", "c", "d"), ("b", "c", "x"), ("b", "d", "x"), ("c", "d", "x")]}
    few = cross_triples(["a", "b", "c", "d", "x"], owner, seed=0, max_triples=2)
    # the two triples spanning three parts come first: (a, b, c) and (b, c, d)
    assert set(few) == {("a", "b", "c"), ("b", "c", "d")}


def test_broken_cross_part_relation_halves_the_score():
    # train: b = a (two parts), c independent (common). Cells (a, b, c) with a = b hold 1/4 each;
    # the synthetic table with b shuffled spreads 1/8 over all 8 cells: total variation
    # 4 x |1/4 - 1/8| + 4 x 1/8 = 1, score (2 - 1) x 500 = 500 (up to sampling)
    rng = np.random.default_rng(0)
    n = 20000
    a = rng.integers(0, 2, n)
    train = pd.DataFrame({"a": a, "b": a, "c": rng.integers(0, 2, n)})
    syn = train.copy()
    syn["b"] = rng.permutation(syn["b"].to_numpy())
    got = k_marginal_cross3(train, train.copy(), syn, common=["c"], part_columns={"p": ["a"], "q": ["b"]}, seed=0)
    assert got["n_marginals"] == 1 and got["k"] == 3
    assert abs(got["value"] - 500) < 15
    assert got["control"] == 1000.0  # the same rows: every density equal

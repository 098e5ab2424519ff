"""NIST SDNist's k-marginal score and apparent-match distribution (synthlink.evaluate.sdnist),
against tables worked by hand from SDNist's definitions (sdnist/metrics/kmarginal.py,
sdnist/report/dataset/binning.py, sdnist/metrics/apparent_match_dist.py), and directionally on the
demo population."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.demo import DEMO_PLAN, population
from synthlink.evaluate import measures as M
from synthlink.evaluate import sdnist as S

KW = {"common": [], "part_columns": None, "seed": 0}


def test_identical_tables_score_1000_and_disjoint_supports_0() -> None:
    t = pd.DataFrame({"x": ["a", "a", "b"], "y": ["u", "v", "v"], "z": ["k", "k", "m"]})
    disjoint = pd.DataFrame({"x": ["c", "d"], "y": ["w", "w"], "z": ["n", "o"]})
    assert S.k_marginal(t, t, t.iloc[::-1], **KW)["value"] == 1000.0
    got = S.k_marginal(t, t, disjoint, **KW)
    assert got["value"] == 0.0 and got["n_marginals"] == 3 and got["control"] == 1000.0


def test_a_hand_computed_intermediate_score() -> None:
    # pairs (x,y), (x,z), (y,z); z constant. (x,y): target 1/4 each of au, av, bu, bv; other au 1/2,
    # av 1/4, bv 1/4: |.25-.5| + 0 + |.25-0| + 0 = 0.5. (x,z): a .5 vs .75, b .5 vs .25: 0.5.
    # (y,z): u .5 vs .5, v .5 vs .5: 0. Mean 1/3; score (2 - 1/3) * 500.
    t = pd.DataFrame({"x": list("aabb"), "y": list("uvuv"), "z": list("kkkk")})
    o = pd.DataFrame({"x": list("aaab"), "y": list("uuvv"), "z": list("kkkk")})
    assert S.k_marginal(t, t, o, **KW)["value"] == pytest.approx((2 - 1 / 3) * 500)


def test_a_single_column_is_its_own_pair_and_missing_is_a_value() -> None:
    # one column: SDNist's pair (x, x), the 1-way marginal. Target a .5, missing .5; other a 1:
    # |.5 - 1| + |.5 - 0| = 1; score (2 - 1) * 500 = 500
    t = pd.DataFrame({"x": ["a", None]})
    o = pd.DataFrame({"x": ["a", "a"]})
    got = S.kmarginal(t, o)
    assert got["n_marginals"] == 1 and got["score"] == pytest.approx(500.0)


def test_sdnist_pairs_all_below_30_columns_else_200_seeded_draws() -> None:
    assert S.marginal_pairs(["b", "a", "c"], seed=0) == [("a", "b"), ("a", "c"), ("b", "c")]
    cols = [f"c{i:02d}" for i in range(30)]
    draws = S.marginal_pairs(cols, seed=3)
    assert len(draws) == 200 and draws == S.marginal_pairs(cols, seed=3)
    assert all(a in cols and b in cols for a, b in draws)


def test_numeric_columns_are_binned_in_20_quantile_bins() -> None:
    # 0..99: percentiles 0, 5, ..., 95 with 'higher' are 0, 5, ..., 95 (ceil(p * 0.99)), plus the
    # maximum 99; a range of at most 20 is left as it is
    t = pd.Series(np.arange(100))
    assert S.bin_edges(t, t) == [float(v) for v in range(0, 100, 5)] + [99.0]
    assert S.bin_edges(pd.Series(np.arange(21)), pd.Series(np.arange(21))) is None
    # the other table moves 1, 6, ..., 96 up by one: each stays in its bin ([0,5], (5,10], ...,
    # (95,99]), so binned the marginals agree (1000); unbinned, 20 values of density .01 move:
    # 20 * 2 * .01 = 0.4, score (2 - 0.4) * 500 = 800
    o = pd.Series(np.where(np.arange(100) % 5 == 1, np.arange(100) + 1, np.arange(100)))
    tf, of = pd.DataFrame({"v": t}), pd.DataFrame({"v": o})
    assert S.kmarginal(tf, of)["score"] == pytest.approx(1000.0)
    assert S.kmarginal(tf, of, binned=True)["score"] == pytest.approx(800.0)


def test_a_stable_feature_makes_3_way_marginals_and_per_group_scores() -> None:
    # cells (g, x): target pa .25, pb .25, qa .5; other pa .5, qa .5: distance .5, score 750.
    # group p: .5 (at most its share .5) * N / n_p = .5 * 4 / 2 = 1 -> 0; group q: 0 -> 1000
    t = pd.DataFrame({"g": list("ppqq"), "x": list("abaa")})
    o = pd.DataFrame({"g": list("ppqq"), "x": list("aaaa")})
    got = S.kmarginal(t, o, group="g")
    assert got["score"] == pytest.approx(750.0)
    assert got["scores"] == pytest.approx({"p": 0.0, "q": 1000.0})


def _within_part_only() -> tuple[pd.DataFrame, pd.DataFrame]:
    # target: (a1, a2) takes 00, 01, 10, 11, each with b1 = x and y; other: a1 = a2 (00 or 11),
    # each with b1 = x, y, x, y. Every pair but (a1, a2) agrees; (a1, a2): 1/4 each vs 00 .5, 11 .5
    t = pd.DataFrame({"c": ["k"] * 8, "a1": [0, 0, 0, 0, 1, 1, 1, 1], "a2": [0, 0, 1, 1, 0, 0, 1, 1],
                      "b1": list("xyxyxyxy")})
    o = pd.DataFrame({"c": ["k"] * 8, "a1": [0, 0, 0, 0, 1, 1, 1, 1], "a2": [0, 0, 0, 0, 1, 1, 1, 1],
                      "b1": list("xyxyxyxy")})
    return t, o


def test_cross_restriction_ignores_within_part_and_common_pairs() -> None:
    parts = {"A": ["a1", "a2"], "B": ["b1"]}
    owner = S.part_of(parts, ["c"])
    assert S.cross_pairs(["c", "a1", "a2", "b1"], owner, seed=0) == [("a1", "b1"), ("a2", "b1")]
    t, o = _within_part_only()
    kw = {"common": ["c"], "part_columns": parts, "seed": 0}
    cross = S.k_marginal_cross(t, t, o, **kw)
    assert cross["value"] == pytest.approx(1000.0) and cross["n_marginals"] == 2 and cross["control"] == 1000.0
    # all 6 pairs: only (a1, a2) differs, by |.25-.5| * 2 + .25 * 2 = 1: (2 - 1/6) * 500
    assert S.k_marginal(t, t, o, **kw)["value"] == pytest.approx((2 - 1 / 6) * 500)


def test_apparent_matches_by_hand() -> None:
    train = pd.DataFrame({"q1": ["A", "A", "A", "B", "C", "D"], "q2": [1, 2, 2, 1, 3, 4],
                          "r1": ["x", "y", "z", "x", None, "x"], "r2": [10, 20, 30, 10, 5, 10]})
    syn = pd.DataFrame({"q1": ["A", "B", "C", "A", "D", "D"], "q2": [1, 1, 3, 2, 4, 4],
                        "r1": ["x", "x", None, "y", "x", "x"], "r2": [10, 99, 7, 20, 10, 10]})
    # (A,1): unique in both, r1 and r2 agree: 100%. (B,1): r1 agrees, r2 not: 50%. (C,3): r1 both
    # missing (agree), r2 not: 50%. (A,2) is not unique in train, (D,4) not unique in syn.
    n, pct = S.apparent_matches(train, syn, ["q1", "q2"])
    assert n == 3 and sorted(pct) == [50.0, 50.0, 100.0]
    control = train.iloc[[0]]  # (A,1) again: one match
    got = S.apparent_match_share(train, control, syn, common=["q1", "q2"], part_columns=None, seed=0)
    assert got["value"] == pytest.approx(3 / 6) and got["n"] == 3 and got["control"] == pytest.approx(1 / 6)
    # quartiles of [50, 50, 100] (linear): 50, 50, 75
    assert got["agreement_quartiles"] == pytest.approx([50.0, 50.0, 75.0]) and got["agreement_median"] == 50.0
    none = S.apparent_match_share(train, control, syn, common=[], part_columns=None, seed=0)
    assert np.isnan(none["value"])


def test_registered_with_goal_range_and_summary() -> None:
    for name, goal, rng in [("k_marginal", "higher", (0.0, 1000.0)), ("k_marginal_cross", "higher", (0.0, 1000.0)),
                            ("apparent_match_share", "lower", (0.0, 1.0))]:
        m = M.get(name)
        assert m.goal == goal and m.range == rng and "SDNist" in m.summary
    t, o = _within_part_only()
    out = M.run(M.get("k_marginal_cross"), t, t, o, common=["c"], part_columns={"A": ["a1", "a2"], "B": ["b1"]}, seed=0)
    assert out["value"] == pytest.approx(1000.0) and "error" not in out


def test_directions_on_the_demo_population() -> None:
    """A fresh sample of the same population scores near the control; a column-wise shuffle (each
    column's marginal kept, every relation destroyed) scores clearly worse across the parts."""
    parts = {k: list(v["columns"]) for k, v in DEMO_PLAN["parts"].items()}
    cols = [*DEMO_PLAN["common"], *parts["education"], *parts["employment"]]
    df = population(3000, seed=5)[cols]
    train, control = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    fresh = population(1500, seed=6)[cols]
    rng = np.random.default_rng(0)
    shuffled = pd.DataFrame({c: fresh[c].to_numpy()[rng.permutation(len(fresh))] for c in cols})
    kw = {"common": list(DEMO_PLAN["common"]), "part_columns": parts, "seed": 0}
    f = S.k_marginal_cross(train, control, fresh, **kw)
    s = S.k_marginal_cross(train, control, shuffled, **kw)
    assert abs(f["value"] - f["control"]) < 20
    assert s["value"] < f["value"] - 40
    assert S.k_marginal(train, control, shuffled, **kw)["value"] < S.k_marginal(train, control, fresh, **kw)["value"]
    # a copy of train matches every record unique on the common variables: their share of train
    copy = S.apparent_match_share(train, control, train, **kw)
    uniq = int((~train.duplicated(subset=list(DEMO_PLAN["common"]), keep=False)).sum())
    assert copy["n"] == uniq and copy["agreement_median"] == 100.0

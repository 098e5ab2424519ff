"""Distance linkage with optimal assignment: hand-computed distances, a case where greedy is
wrong, random tie-breaking, blocking, max_distance, the sparse path, and ground truth against
the uniqueness bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError, InputError
from synthlink.evaluate.linkage import expected_bound, linkage_quality, uniqueness_bound
from synthlink.link import get_linker
from synthlink.link.base import shuffled_link
from synthlink.link.distance import DistanceLinker, gower_matrix


def people(n: int, seed: int = 0, canton_seed: int = 0) -> pd.DataFrame:
    """Common variables like the ANCHORS benchmark data (sex, skewed canton, birth year,
    nationality 70% in one group, household size)."""
    rng = np.random.default_rng(seed)
    cw = np.random.default_rng(canton_seed).dirichlet(np.ones(12) * 0.7)
    return pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "canton": rng.choice([f"C{i:02d}" for i in range(12)], n, p=cw),
        "birth_year": rng.integers(1940, 2006, n),
        "nationality": rng.choice([f"N{i}" for i in range(8)], n, p=[0.7, 0.1, 0.06, 0.05, 0.04, 0.02, 0.02, 0.01]),
        "household_size": rng.integers(1, 7, n),
    })


def identity_truth(n: int) -> pd.DataFrame:
    return pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})


def test_gower_matrix_hand_computed() -> None:
    edu = pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    left = pd.DataFrame({"age": [20.0, 40.0], "sex": ["F", "M"], "edu": pd.Series(["low", "high"], dtype=edu)})
    right = pd.DataFrame({"age": [30.0, np.nan], "sex": ["F", None], "edu": pd.Series(["mid", "low"], dtype=edu)})
    D = gower_matrix(left, right, ["age", "sex", "edu"], kinds={"age": "numeric"})
    # age range 20 (pooled); missing vs value = 1; edu ranks /2
    expected = np.array([
        [(10 / 20 + 0 + 0.5) / 3, (1 + 1 + 0) / 3],
        [(10 / 20 + 1 + 0.5) / 3, (1 + 1 + 1) / 3],
    ])
    np.testing.assert_allclose(D, expected)


def test_optimal_assignment_beats_greedy() -> None:
    # on a line the closest pair first (3 <-> 2.1) forces 1 <-> 4.5 later: total 5.4 / 6;
    # the optimal assignment pairs in order: total 3.6 / 6
    left = pd.DataFrame({"x": [1.0, 3.0, 6.0]})
    right = pd.DataFrame({"x": [2.1, 4.5, 7.0]})
    D = gower_matrix(left, right, ["x"], kinds={"x": "numeric"})
    np.testing.assert_allclose(D * 6, np.abs(left["x"].to_numpy()[:, None] - right["x"].to_numpy()[None, :]))
    # greedy by smallest remaining distance, computed by hand
    greedy = {(1, 0), (2, 2), (0, 1)}
    greedy_cost = sum(D[i, j] for i, j in greedy)
    links = DistanceLinker(on=["x"], kinds={"x": "numeric"}).fit(left, right).link(seed=0)
    got = set(zip(links.pairs["left"], links.pairs["right"], strict=True))
    assert got == {(0, 0), (1, 1), (2, 2)}
    assert got != greedy
    assert sum(D[i, j] for i, j in got) == pytest.approx(3.6 / 6)
    assert greedy_cost == pytest.approx(5.4 / 6)
    np.testing.assert_allclose(sorted(links.pairs["score"]), sorted(1 - D[[0, 1, 2], [0, 1, 2]]))


def test_exact_ties_broken_at_random_not_by_row_order() -> None:
    df = pd.DataFrame({"a": ["x"] * 60, "b": [1] * 60})
    runs = []
    for seed in (0, 1):
        links = DistanceLinker(on=["a", "b"]).fit(df, df).link(seed=seed)
        assert len(links) == 60
        p = links.pairs.sort_values("left")
        runs.append(p["right"].to_numpy())
        # identity pairing by row order would give 60 correct; random gives about 1
        assert (p["left"].to_numpy() == p["right"].to_numpy()).sum() < 10
        assert links.diagnostics["share_ties"] == 1.0
    assert not np.array_equal(runs[0], runs[1])
    # same seed, same links
    again = DistanceLinker(on=["a", "b"]).fit(df, df).link(seed=0).pairs.sort_values("left")["right"].to_numpy()
    np.testing.assert_array_equal(again, runs[0])


def test_blocking_never_crosses_blocks_and_max_distance_leaves_pairs_unlinked() -> None:
    left = pd.DataFrame({"sex": ["F", "M"], "x": [0.0, 50.0]})
    right = pd.DataFrame({"sex": ["M", "F"], "x": [1.0, 100.0]})
    links = DistanceLinker(on=["sex", "x"]).fit(left, right).link(seed=0)
    assert links.diagnostics["block_on"] == ["sex"]
    got = set(zip(links.pairs["left"], links.pairs["right"], strict=True))
    assert got == {(0, 1), (1, 0)}  # same sex, although F(0) is closer to M(1) on x
    # without blocking the closer pairs win
    nob = DistanceLinker(on=["x"], block_on=[], kinds={"x": "numeric"}).fit(left, right).link(seed=0)
    assert set(zip(nob.pairs["left"], nob.pairs["right"], strict=True)) == {(0, 0), (1, 1)}
    # x range 100: distances 0.01 and 0.5; max_distance 0.1 keeps only the first
    cut = DistanceLinker(on=["x"], block_on=[], kinds={"x": "numeric"}, max_distance=0.1).fit(left, right).link(seed=0)
    assert set(zip(cut.pairs["left"], cut.pairs["right"], strict=True)) == {(0, 0)}


def test_max_distance_maximises_pairs_within_the_limit() -> None:
    # optimal-sum without the limit would pair 0<->1 and 1<->0 (0.3 + 0.3 = 0.6 < 0.0 + 0.9);
    # with max_distance 0.35 both of those are allowed, so two pairs stay
    left = pd.DataFrame({"x": [0.0, 0.6]})
    right = pd.DataFrame({"x": [0.3, 0.9]})
    lk = DistanceLinker(on=["x"], kinds={"x": "numeric"}, block_on=[], max_distance=0.35)
    links = lk.fit(left, right).link(seed=0)
    assert len(links) == 2
    assert (1 - links.pairs["score"] <= 0.35).all()


def test_rectangular_parts_link_the_smaller_side() -> None:
    df = people(50, seed=3)
    links = DistanceLinker().fit(df, df.iloc[:20]).link(seed=0)
    assert len(links) == 20 and links.one_to_one
    assert links.pairs["right"].nunique() == 20


def test_sparse_path_is_near_optimal() -> None:
    left = people(1200, seed=1)
    right = people(1200, seed=2)
    dense = DistanceLinker(max_dense=5000).fit(left, right).link(seed=0)
    sparse = DistanceLinker(max_dense=150).fit(left, right).link(seed=0)
    assert sparse.diagnostics["sparse_blocks"] >= 1
    # blocks by sex: each block links min(left, right) records
    n_pairs = sum(min((left["sex"] == s).sum(), (right["sex"] == s).sum()) for s in ("F", "M"))
    assert len(sparse) == len(dense) == n_pairs
    cost_dense = (1 - dense.pairs["score"]).sum()
    cost_sparse = (1 - sparse.pairs["score"]).sum()
    assert cost_dense <= cost_sparse + 1e-9  # dense is optimal
    assert cost_sparse <= cost_dense * 1.03


def test_ground_truth_reaches_the_uniqueness_bound_and_shuffling_does_not_matter() -> None:
    n = 20000
    df = people(n, seed=11)
    cols = list(df.columns)
    bound = uniqueness_bound(df, cols)
    truth = identity_truth(n)
    q = linkage_quality(shuffled_link(get_linker("distance"), df, df, seed=0), truth)
    assert q["accuracy"] >= 0.98 * bound
    # a shuffled copy of the right part, with the truth remapped
    perm = np.random.default_rng(5).permutation(n)
    right = df.iloc[perm].reset_index(drop=True)
    truth2 = pd.DataFrame({"left": perm, "right": np.arange(n)})
    q2 = linkage_quality(shuffled_link(get_linker("distance"), df, right, seed=0), truth2)
    assert q2["accuracy"] >= 0.98 * bound
    assert abs(q2["accuracy"] - q["accuracy"]) < 0.015


def test_noise_in_one_part_distance_beats_exact() -> None:
    n = 5000
    df = people(n, seed=4)
    noisy = df.copy()
    rng = np.random.default_rng(0)
    hit = rng.random(n) < 0.1
    noisy.loc[hit, "birth_year"] = noisy.loc[hit, "birth_year"] + rng.choice([-1, 1], int(hit.sum()))
    truth = identity_truth(n)
    qd = linkage_quality(shuffled_link(get_linker("distance"), df, noisy, seed=0), truth)
    qe = linkage_quality(shuffled_link(get_linker("exact"), df, noisy, seed=0), truth)
    assert qd["accuracy"] > qe["accuracy"]
    assert qd["accuracy"] >= 0.95 * expected_bound(df, noisy, truth, list(df.columns))


def test_bad_input() -> None:
    df = people(10)
    with pytest.raises(InputError, match="nope"):
        DistanceLinker(on=["nope"]).fit(df, df)
    with pytest.raises(ConfigError, match="max_distance"):
        DistanceLinker(max_distance=-1).fit(df, df)
    with pytest.raises(ConfigError, match="weights"):
        DistanceLinker(weights={"sex": -1.0}).fit(df, df)
    bad = df.assign(birth_year=["x"] * 10)
    with pytest.raises(InputError, match="birth_year"):
        DistanceLinker(kinds={"birth_year": "numeric"}).fit(df, bad)


@pytest.mark.slow
def test_demo_population_reaches_the_bound() -> None:
    from synthlink.demo import DEMO_PLAN, population
    from synthlink.split import SplitPlan, split

    df = population(50_000, seed=0)
    plan = SplitPlan.from_dict(DEMO_PLAN)
    on = list(plan.common)
    # the plan as written: parts cover different people -> compare with the expected bound
    s = split(df, plan, seed=0)
    a, b = plan.part_names[:2]
    L, R, truth = s.parts[a], s.parts[b], s.truth_pairs(a, b)
    q = linkage_quality(shuffled_link(DistanceLinker(on=on), L, R, seed=0), truth)
    assert q["accuracy"] >= 0.98 * expected_bound(L, R, truth, on)
    # the same plan with full coverage: both parts hold the same persons -> the uniqueness bound
    full = dict(DEMO_PLAN)
    full["parts"] = {k: dict(v, coverage=1.0) for k, v in DEMO_PLAN["parts"].items()}
    s = split(df, SplitPlan.from_dict(full), seed=0)
    L, R, truth = s.parts[a], s.parts[b], s.truth_pairs(a, b)
    q = linkage_quality(shuffled_link(DistanceLinker(on=on), L, R, seed=0), truth)
    assert q["accuracy"] >= 0.98 * uniqueness_bound(L, on)

"""StatMatch-style hot deck: StatMatch's NND.hotdeck defaults (Manhattan, unconstrained: nearest
donor, donors reused, ties at random) checked by hand; the constrained variant against a brute-force
optimum over all permutations; donation classes, the random and rank variants."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError, InputError
from synthlink.link import get_linker
from synthlink.link.base import shuffled_link

XY = {"x": "numeric", "y": "numeric"}  # small integer columns would be inferred categorical


def people(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "age": rng.integers(18, 80, n),
        "canton": rng.choice(list("ABCDEFGH"), n),
    })


def test_random_hotdeck_stays_in_donation_class_with_replacement() -> None:
    rec, don = people(400, seed=1), people(50, seed=2)
    links = get_linker("hotdeck", variant="random").fit(rec, don).link(seed=0)
    assert links.one_to_one is False
    d = links.diagnostics
    assert d["with_replacement"] is True and "not one-to-one" in d["note"]
    assert d["don_class"] == ["sex"] and d["match_vars"] == []
    p = links.pairs
    assert len(p) == 400  # every recipient gets a donor
    assert (rec["sex"].to_numpy()[p["left"]] == don["sex"].to_numpy()[p["right"]]).all()
    assert d["max_donor_use"] > 1  # 400 recipients, 50 donors
    # seeded
    again = get_linker("hotdeck", variant="random").fit(rec, don).link(seed=0)
    pd.testing.assert_frame_equal(p, again.pairs)


def test_random_hotdeck_with_match_vars_draws_among_closest() -> None:
    rec = pd.DataFrame({"sex": ["F"] * 3, "age": [20.0, 50.0, 80.0]})
    don = pd.DataFrame({"sex": ["F"] * 9, "age": [19.0, 20.0, 21.0, 49.0, 50.0, 51.0, 79.0, 80.0, 81.0]})
    # rot: ceil(sqrt(9)) = 3 closest donors: those within 1 year
    lk = get_linker("hotdeck", variant="random", match_vars=["age"], kinds={"age": "numeric"})
    for seed in range(5):
        p = lk.fit(rec, don).link(seed=seed).pairs
        got = dict(zip(p["left"], p["right"], strict=True))
        assert got[0] in (0, 1, 2) and got[1] in (3, 4, 5) and got[2] in (6, 7, 8)


def test_missing_donation_class_leaves_recipients_unlinked() -> None:
    rec = pd.DataFrame({"sex": ["F", "M", "M"], "age": [20.0, 30.0, 40.0]})
    don = pd.DataFrame({"sex": ["F", "F"], "age": [21.0, 35.0]})
    links = get_linker("hotdeck", variant="random").fit(rec, don).link(seed=0)
    assert links.pairs["left"].tolist() == [0]
    assert links.diagnostics["recipients_without_donor"] == 2
    assert links.warnings and "no donor" in links.warnings[0]


def test_rank_hotdeck_matches_ecdf_percentage_points() -> None:
    # recipients ranks 1..4 -> F = .25 .5 .75 1; donors on another scale, same ranks
    rec = pd.DataFrame({"x": [3.0, 1.0, 4.0, 2.0]})
    don = pd.DataFrame({"x": [400.0, 100.0, 300.0, 200.0]})
    for constrained in (True, False):
        links = get_linker("hotdeck", variant="rank", rank_var="x", constrained=constrained,
                           kinds={"x": "numeric"}).fit(rec, don).link(seed=0)
        got = dict(zip(links.pairs["left"], links.pairs["right"], strict=True))
        assert got == {0: 2, 1: 1, 2: 0, 3: 3}
        assert links.one_to_one is constrained
    with pytest.raises(ConfigError, match="missing"):
        get_linker("hotdeck", variant="rank", rank_var="x").fit(rec, don.assign(x=[1.0, np.nan, 2.0, 3.0]))


def test_nnd_unconstrained_gives_each_recipient_a_nearest_donor() -> None:
    rec, don = people(120, seed=4), people(80, seed=5)
    links = get_linker("hotdeck", variant="nnd").fit(rec, don).link(seed=0)
    assert links.one_to_one is False and len(links) == 120
    # Manhattan by hand: |age difference| in years + 1 when the cantons differ; sex = donation class
    D = np.abs(rec["age"].to_numpy()[:, None] - don["age"].to_numpy()[None, :]) + (
        rec["canton"].to_numpy()[:, None] != don["canton"].to_numpy()[None, :])
    same = rec["sex"].to_numpy()[:, None] == don["sex"].to_numpy()[None, :]
    best = np.where(same, D, np.inf).min(axis=1)
    p = links.pairs
    np.testing.assert_allclose(D[p["left"], p["right"]], best[p["left"]])


def test_nnd_defaults_are_statmatch_manhattan_unconstrained_by_hand() -> None:
    # NND.hotdeck(dist.fun = "Manhattan", constrained = FALSE): each recipient its nearest donor.
    #   recipients (x, y): r0 (0, 0), r1 (10, 0), r2 (4, 3); donors: d0 (1, 5), d1 (9, 0), d2 (20, 0)
    #   r0: d0 1+5 = 6, d1 9, d2 20 -> d0     r1: d0 9+5 = 14, d1 1, d2 10 -> d1
    #   r2: d0 3+2 = 5, d1 5+3 = 8, d2 19 -> d0 (d0 serves two recipients)
    # Gower (the old default) would give r0 d1: x range 20, y range 5, (9/20 + 0)/2 = 0.225 < (1/20 + 1)/2.
    rec = pd.DataFrame({"x": [0.0, 10.0, 4.0], "y": [0.0, 0.0, 3.0]})
    don = pd.DataFrame({"x": [1.0, 9.0, 20.0], "y": [5.0, 0.0, 0.0]})
    links = get_linker("hotdeck", don_class=[], kinds=XY).fit(rec, don).link(seed=0)
    d = links.diagnostics
    assert d["distance"] == "manhattan" and d["constrained"] is False
    assert links.one_to_one is False and d["with_replacement"] is True
    assert dict(zip(links.pairs["left"], links.pairs["right"], strict=True)) == {0: 0, 1: 1, 2: 0}
    assert d["mean_distance"] == pytest.approx((6 + 1 + 5) / 3)
    assert d["max_donor_use"] == 2
    # score = 1 / (1 + distance)
    np.testing.assert_allclose(links.pairs.sort_values("left")["score"], [1 / 7, 1 / 2, 1 / 6])


def test_nnd_ties_broken_at_random_as_statmatch() -> None:
    # x = 5 lies 1 from both donors (4 and 6): StatMatch draws one with sample(); over 20 seeds both
    # appear (each seed picks one with probability 1/2: P(all 20 the same) = 2 * 2**-20)
    rec = pd.DataFrame({"x": [5.0]})
    don = pd.DataFrame({"x": [4.0, 6.0, 9.0]})
    lk = get_linker("hotdeck", don_class=[], kinds={"x": "numeric"})
    got = {int(lk.fit(rec, don).link(seed=s).pairs["right"].iloc[0]) for s in range(20)}
    assert got == {0, 1}
    assert lk.fit(rec, don).link(seed=0).diagnostics["share_ties"] == 1.0


def test_manhattan_counts_a_categorical_mismatch_as_one() -> None:
    # recipient (x 0, c "a"); donors d0 (0, "b"): 0 + 1 = 1, d1 (1.5, "a"): 1.5 + 0 = 1.5 -> d0 always
    # (one-hot without halving would count 2 and pick d1; Gower, x range 1.5, ties them at 0.5)
    rec = pd.DataFrame({"x": [0.0], "c": ["a"]})
    don = pd.DataFrame({"x": [0.0, 1.5], "c": ["b", "a"]})
    lk = get_linker("hotdeck", don_class=[], kinds={"x": "numeric", "c": "categorical"})
    for seed in range(10):
        links = lk.fit(rec, don).link(seed=seed)
        assert links.pairs["right"].tolist() == [0]
        assert links.diagnostics["mean_distance"] == pytest.approx(1.0)
    # gower remains available: there the two donors tie
    g = get_linker("hotdeck", don_class=[], dist_fun="gower", kinds={"x": "numeric", "c": "categorical"})
    assert {int(g.fit(rec, don).link(seed=s).pairs["right"].iloc[0]) for s in range(20)} == {0, 1}


def test_manhattan_refuses_missing_numeric_matching_values() -> None:
    rec = pd.DataFrame({"x": [0.0, np.nan]})
    don = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InputError, match="'x'.*missing"):
        get_linker("hotdeck", don_class=[], kinds={"x": "numeric"}).fit(rec, don)
    links = get_linker("hotdeck", don_class=[], dist_fun="gower", kinds={"x": "numeric"}).fit(rec, don).link(seed=0)
    assert len(links) == 2


def test_nnd_constrained_equals_brute_force_optimum() -> None:
    # 4 recipients, 5 donors, Manhattan on (x, y). Matrix by hand (rows r0..r3, columns d0..d4):
    #   r0 (26,3): 4 17  7 24  7     r1 (13,1): 15  6 18 13 10
    #   r2 (22,3): 8 13 11 20  3     r3 ( 6,3): 24  3 27  4 19
    # Over all 5*4*3*2 = 120 injective assignments the unique minimum is r0-d0, r1-d1, r2-d4,
    # r3-d3, total 4 + 6 + 3 + 4 = 17. Each recipient's nearest donor would reuse d1 (r1 6, r3 3),
    # and the Gower optimum (r0-d0, r1-d4, r2-d1, r3-d3) costs 31 in Manhattan.
    rx, ry = np.array([26, 13, 22, 6]), np.array([3, 1, 3, 3])
    dx, dy = np.array([28, 9, 30, 2, 22]), np.array([1, 3, 0, 3, 0])
    M = np.abs(rx[:, None] - dx[None, :]) + np.abs(ry[:, None] - dy[None, :])
    cost = {p: int(M[np.arange(4), list(p)].sum()) for p in itertools.permutations(range(5), 4)}
    best = min(cost.values())
    (arg,) = [p for p, c in cost.items() if c == best]
    assert best == 17 and arg == (0, 1, 4, 3)
    rec = pd.DataFrame({"x": rx.astype(float), "y": ry.astype(float)})
    don = pd.DataFrame({"x": dx.astype(float), "y": dy.astype(float)})
    for seed in range(3):
        links = get_linker("hotdeck", don_class=[], constrained=True, kinds=XY).fit(rec, don).link(seed=seed)
        assert links.one_to_one is True and links.diagnostics["max_donor_use"] == 1
        got = dict(zip(links.pairs["left"], links.pairs["right"], strict=True))
        assert tuple(got[i] for i in range(4)) == arg
        assert links.diagnostics["total_distance"] == pytest.approx(best)
    # unconstrained (the default): r3 takes d1 as r1 does
    u = get_linker("hotdeck", don_class=[], kinds=XY).fit(rec, don).link(seed=0)
    assert dict(zip(u.pairs["left"], u.pairs["right"], strict=True)) == {0: 0, 1: 1, 2: 4, 3: 1}


def test_constrained_with_more_recipients_than_donors_leaves_surplus_unlinked() -> None:
    rec = pd.DataFrame({"sex": ["F", "F", "F", "M"], "x": [1.0, 2.0, 10.0, 5.0]})
    don = pd.DataFrame({"sex": ["F", "F", "M"], "x": [1.0, 2.5, 5.0]})
    links = get_linker("hotdeck", constrained=True, kinds={"x": "numeric"}).fit(rec, don).link(seed=0)
    got = dict(zip(links.pairs["left"], links.pairs["right"], strict=True))
    # class F: optimum r0-d0 (0) + r1-d1 (0.5) = 0.5 (with r2: r0-d0 + r2-d1 = 7.5, r1-d0 + r2-d1 = 8.5)
    assert got == {0: 0, 1: 1, 3: 2}
    assert any("more recipients than donors" in w for w in links.warnings)


def test_nnd_constrained_on_a_self_match_is_one_to_one_at_distance_zero() -> None:
    # every record has its identical twin, so the optimal assignment has total distance 0
    n = 3000
    df = people(n, seed=6)
    h = shuffled_link(get_linker("hotdeck", variant="nnd", constrained=True), df, df, seed=0)
    assert h.one_to_one and h.diagnostics["max_donor_use"] == 1 and len(h) == n
    assert h.diagnostics["total_distance"] == 0.0
    # the default (unconstrained) reuses donors: not the distance linker's one-to-one assignment
    u = shuffled_link(get_linker("hotdeck", variant="nnd"), df, df, seed=0)
    assert u.one_to_one is False and u.diagnostics["max_donor_use"] > 1
    assert u.diagnostics["mean_distance"] == 0.0


def test_bad_parameters() -> None:
    df = people(20)
    with pytest.raises(ConfigError, match="variant"):
        get_linker("hotdeck", variant="psm").fit(df, df)
    with pytest.raises(ConfigError, match="rank_var|ranking"):
        get_linker("hotdeck", variant="rank", on=["sex", "canton"]).fit(df, df)
    with pytest.raises(ConfigError, match="needs k"):
        get_linker("hotdeck", variant="random", match_vars=["age"], cut_don="exact").fit(df, df)
    with pytest.raises(ConfigError, match="dist_fun"):
        get_linker("hotdeck", dist_fun="euclid").fit(df, df)

"""StatMatch-style hot deck: donation classes respected, with/without replacement, the rank
variant on hand-computable ECDFs, and the constrained nearest-neighbour variant = optimal
assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.evaluate.linkage import linkage_quality
from synthlink.link import get_linker
from synthlink.link.base import shuffled_link
from synthlink.link.distance import gower_matrix


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
    links = get_linker("hotdeck", variant="nnd", constrained=False).fit(rec, don).link(seed=0)
    assert links.one_to_one is False and len(links) == 120
    D = gower_matrix(rec, don, ["age", "canton"])
    same = rec["sex"].to_numpy()[:, None] == don["sex"].to_numpy()[None, :]
    best = np.where(same, D, np.inf).min(axis=1)
    p = links.pairs
    np.testing.assert_allclose(D[p["left"], p["right"]], best[p["left"]])


def test_nnd_constrained_is_the_optimal_assignment() -> None:
    n = 3000
    df = people(n, seed=6)
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    h = shuffled_link(get_linker("hotdeck", variant="nnd"), df, df, seed=0)
    d = shuffled_link(get_linker("distance"), df, df, seed=0)
    assert h.one_to_one and h.diagnostics["max_donor_use"] == 1
    assert linkage_quality(h, truth)["accuracy"] == pytest.approx(linkage_quality(d, truth)["accuracy"])


def test_bad_parameters() -> None:
    df = people(20)
    with pytest.raises(ConfigError, match="variant"):
        get_linker("hotdeck", variant="psm").fit(df, df)
    with pytest.raises(ConfigError, match="rank_var|ranking"):
        get_linker("hotdeck", variant="rank", on=["sex", "canton"]).fit(df, df)
    with pytest.raises(ConfigError, match="needs k"):
        get_linker("hotdeck", variant="random", match_vars=["age"], cut_don="exact").fit(df, df)

"""The bridge linker (issue 16, section 2): hand-worked cases, a planted population whose
released (isced, wage band) counts carry the association the common variables cannot, and the
Links contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthlink.bridge import BridgeRelease, BridgeSpec
from synthlink.errors import ConfigError, InputError
from synthlink.link import Links, get_linker
from synthlink.link.bridge.rounding import largest_remainder

WAGE_BINS = (0.0, 3000.0, 10000.0)


def hand_parts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One common cell; left isced low, low, high, high; right wages low (rows 0, 2), high (1, 3)."""
    left = pd.DataFrame({"sex": ["F"] * 4, "isced": ["low", "low", "high", "high"]})
    right = pd.DataFrame({"sex": ["F"] * 4, "wage": [1000.0, 5000.0, 1200.0, 6000.0]})
    return left, right


def hand_release(counts: list[int], isced: tuple[str, ...] = ("low", "high")) -> BridgeRelease:
    spec = BridgeSpec((("isced", "wage"),), {"wage": WAGE_BINS}, {"isced": isced})
    table = spec.cells(("isced", "wage"))  # (low, [0,3000)), (low, [3000,10000]), (high, ...), ...
    table["count"] = counts
    return BridgeRelease(spec, {("isced", "wage"): table}, {})


def pair_set(links: Links) -> set[tuple[int, int]]:
    return set(zip(links.pairs["left"].tolist(), links.pairs["right"].tolist(), strict=True))


@pytest.mark.parametrize("method", ["ipf", "lp"])
def test_hand_case_diagonal_release_pairs_like_with_like(method: str) -> None:
    left, right = hand_parts()
    links = get_linker("bridge", release=hand_release([2, 0, 0, 2]), on=["sex"], method=method).fit(left, right).link(0)
    # left low {0, 1} with right low {0, 2}; left high {2, 3} with right high {1, 3}
    pairs = pair_set(links)
    assert len(pairs) == 4
    assert {r for lft, r in pairs if lft in (0, 1)} == {0, 2}
    assert {r for lft, r in pairs if lft in (2, 3)} == {1, 3}
    m = links.diagnostics["marginals"][0]
    # CIA weights are 1 per (p, q); targets 2, 0, 0, 2: L1 = 4 of 4 pairs; calibrated: exact
    assert m["l1_cia"] == pytest.approx(1.0)
    assert m["l1_calibrated"] == pytest.approx(0.0)
    assert links.diagnostics["unmet_target_share"] == 0.0
    assert links.warnings == []


@pytest.mark.parametrize("method", ["ipf", "lp"])
def test_hand_case_cia_release_mixes_half_and_half(method: str) -> None:
    left, right = hand_parts()
    links = get_linker("bridge", release=hand_release([1, 1, 1, 1]), on=["sex"], method=method).fit(left, right).link(0)
    low_l, low_r = {0, 1}, {0, 2}
    counts = {(a, b): 0 for a in ("low", "high") for b in ("low", "high")}
    for lft, r in pair_set(links):
        counts[("low" if lft in low_l else "high", "low" if r in low_r else "high")] += 1
    assert counts == {("low", "low"): 1, ("low", "high"): 1, ("high", "low"): 1, ("high", "high"): 1}
    assert links.diagnostics["marginals"][0]["l1_cia"] == pytest.approx(0.0)


def test_unmet_target_is_reported() -> None:
    # isced 'mid' is declared and released (4 of 8 people) but no left record has it
    left, right = hand_parts()
    rel = hand_release([2, 0, 0, 2, 4, 0], isced=("low", "high", "mid"))
    links = get_linker("bridge", release=rel, on=["sex"]).fit(left, right).link(0)
    assert links.diagnostics["unmet_target_share"] == pytest.approx(0.5)
    m = links.diagnostics["marginals"][0]
    assert m["unmet_target_share"] == pytest.approx(0.5)
    # targets rescaled to 4 pairs: 1, 0, 0, 1, 2, 0; the cell's margins force low-low x2, high-high x2
    assert m["l1_calibrated"] == pytest.approx((1 + 1 + 2) / 4)
    assert {r for lft, r in pair_set(links) if lft in (0, 1)} == {0, 2}


def test_release_as_a_path(tmp_path: Path) -> None:
    left, right = hand_parts()
    path = hand_release([2, 0, 0, 2]).save(tmp_path / "release.json")
    links = get_linker("bridge", release=str(path), on=["sex"]).fit(left, right).link(0)
    assert {r for lft, r in pair_set(links) if lft in (0, 1)} == {0, 2}


def test_release_column_missing_from_both_parts_is_named() -> None:
    left, right = hand_parts()
    with pytest.raises(InputError, match="isced"):
        get_linker("bridge", release=hand_release([2, 0, 0, 2]), on=["sex"]).fit(left.drop(columns="isced"), right).link(0)


def test_no_release_or_bad_method_is_a_config_error() -> None:
    left, right = hand_parts()
    with pytest.raises(ConfigError, match="release"):
        get_linker("bridge", on=["sex"]).fit(left, right).link(0)
    with pytest.raises(ConfigError, match="method"):
        get_linker("bridge", release=hand_release([1, 1, 1, 1]), on=["sex"], method="x").fit(left, right).link(0)


def test_a_marginal_within_one_part_is_warned_and_skipped() -> None:
    left, right = hand_parts()
    spec = BridgeSpec((("isced", "wage"), ("sex", "isced")), {"wage": WAGE_BINS},
                      {"isced": ("low", "high"), "sex": ("F", "M")})
    t1 = spec.cells(("isced", "wage")).assign(count=[2, 0, 0, 2])
    t2 = spec.cells(("sex", "isced")).assign(count=[2, 2, 0, 0])
    rel = BridgeRelease(spec, {("isced", "wage"): t1, ("sex", "isced"): t2}, {})
    links = get_linker("bridge", release=rel, on=["sex"]).fit(left, right).link(0)
    assert any("['sex', 'isced']" in w and "one part" in w for w in links.warnings)
    assert [m["columns"] for m in links.diagnostics["marginals"]] == [["isced", "wage"]]


def test_unequal_cell_sizes_link_the_smaller_side_once() -> None:
    left = pd.DataFrame({"sex": ["F"] * 5, "isced": ["low", "low", "low", "high", "high"]})
    right = pd.DataFrame({"sex": ["F"] * 3, "wage": [1000.0, 5000.0, 6000.0]})
    links = get_linker("bridge", release=hand_release([1, 0, 0, 2]), on=["sex"]).fit(left, right).link(0)
    assert len(links) == 3 and links.pairs["right"].nunique() == 3 and links.pairs["left"].nunique() == 3
    # 3 pairs; left rows expected low 3 * 3/5 = 1.8, high 1.2 -> 2 and 1 (largest remainder); right
    # low 1, high 2; the released (low, low) pulls the one right low to a left low
    lefts = links.pairs["left"].to_numpy()
    assert int(np.isin(lefts, [0, 1, 2]).sum()) == 2 and int(np.isin(lefts, [3, 4]).sum()) == 1
    assert int(links.pairs.loc[links.pairs["right"] == 0, "left"].iloc[0]) in (0, 1, 2)


def test_largest_remainder_by_hand() -> None:
    # group 0: floors 0, 1, 1 (sum 2), one more to the largest remainder (0.5); group 1: 2 + 0 -> 3 + 0
    got = largest_remainder(np.array([0.5, 1.2, 1.3, 2.6, 0.4]), np.array([0, 0, 0, 1, 1]), np.array([3, 3]))
    assert got.tolist() == [1, 1, 1, 3, 0]


# -- planted population -------------------------------------------------------------------------------

BANDS = ("[0, 3000)", "[3000, 6000)", "[6000, 12000]")


def planted(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """Common sex x age band (6 cells); isced 0/1/2 with a distribution that depends on the cell;
    the wage band equals isced for 85% of people, else one of the other two bands at random; the
    wage is uniform within its band."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    band = rng.choice(["young", "mid", "old"], n)
    cell = (sex == "M") * 3 + pd.Index(["young", "mid", "old"]).get_indexer(band)
    probs = np.array([[0.6, 0.3, 0.1], [0.3, 0.4, 0.3], [0.1, 0.3, 0.6],
                      [0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.2, 0.2, 0.6]])
    isced = (rng.random(n)[:, None] > np.cumsum(probs[cell], axis=1)).sum(axis=1)
    shift = np.where(rng.random(n) < 0.85, 0, rng.integers(1, 3, n))
    wband = (isced + shift) % 3
    lo, hi = np.array([0.0, 3000.0, 6000.0]), np.array([3000.0, 6000.0, 12000.0])
    wage = lo[wband] + rng.random(n) * (hi[wband] - lo[wband])
    return pd.DataFrame({"sex": sex, "band": band, "isced": isced, "wband": wband, "wage": wage})


def cramers_v(table: np.ndarray) -> float:
    """Cramer's V of a contingency table: sqrt(chi2 / (n (min(r, c) - 1)))."""
    t = np.asarray(table, dtype=float)
    n = t.sum()
    e = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / n
    chi2 = float(((t - e) ** 2 / np.where(e > 0, e, 1)).sum())
    return float(np.sqrt(chi2 / (n * (min(t.shape) - 1))))


def crosstab(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((3, 3))
    np.add.at(out, (a, b), 1)
    return out


def planted_release(joint: pd.DataFrame, with_band: bool = False) -> BridgeRelease:
    """The TRUE counts of (isced, wage band), or of (band, isced, wage band)."""
    m = ("band", "isced", "wage") if with_band else ("isced", "wage")
    spec = BridgeSpec((m,), {"wage": (0.0, 3000.0, 6000.0, 12000.0)},
                      {"isced": (0, 1, 2), **({"band": ("young", "mid", "old")} if with_band else {})})
    table = spec.cells(m)
    key = joint.assign(wage=np.asarray(BANDS, dtype=object)[joint["wband"]], isced=joint["isced"].astype(str))
    counts = key.groupby(list(m)).size()
    table["count"] = [int(counts.get(tuple(r), 0)) for r in table[list(m)].itertuples(index=False)]
    return BridgeRelease(spec, {m: table}, {})


def planted_parts(joint: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    left = joint[["sex", "band", "isced"]].iloc[rng.permutation(len(joint))].reset_index(drop=True)
    right = joint[["sex", "band", "wage", "wband"]].iloc[rng.permutation(len(joint))].reset_index(drop=True)
    return left, right


def linked_v(links: Links, left: pd.DataFrame, right: pd.DataFrame) -> float:
    li, ri = links.pairs["left"].to_numpy(), links.pairs["right"].to_numpy()
    assert (left["sex"].to_numpy()[li] == right["sex"].to_numpy()[ri]).all()
    assert (left["band"].to_numpy()[li] == right["band"].to_numpy()[ri]).all()
    return cramers_v(crosstab(left["isced"].to_numpy()[li], right["wband"].to_numpy()[ri]))


@pytest.mark.parametrize(("method", "with_band"), [("ipf", False), ("lp", False), ("ipf", True), ("lp", True)])
def test_planted_population_recovers_the_lost_association(method: str, with_band: bool) -> None:
    joint = planted()
    v_true = cramers_v(crosstab(joint["isced"].to_numpy(), joint["wband"].to_numpy()))
    # the CIA table: sum over cells of n_cp n_cq / n_c
    cia = np.zeros((3, 3))
    for _, g in joint.groupby(["sex", "band"]):
        cia += np.outer(np.bincount(g["isced"], minlength=3), np.bincount(g["wband"], minlength=3)) / len(g)
    v_cia_expected = cramers_v(cia)
    assert v_true > 0.7 and v_true - v_cia_expected > 0.4  # a strong association, mostly lost under CIA

    left, right = planted_parts(joint)
    exact = get_linker("exact", on=["sex", "band"]).fit(left, right).link(0)
    v_cia = linked_v(exact, left, right)
    assert abs(v_cia - v_cia_expected) < 0.05

    rel = planted_release(joint, with_band)
    links = get_linker("bridge", release=rel, on=["sex", "band"], method=method).fit(left, right.drop(columns="wband")).link(0)
    assert len(links) == len(joint)
    v_bridge = linked_v(links, left, right)
    assert abs(v_bridge - v_true) < 0.02
    assert (v_bridge - v_cia) / (v_true - v_cia) >= 0.9
    m = links.diagnostics["marginals"][0]
    assert m["l1_calibrated"] < 0.01 < m["l1_cia"]


def test_links_invariants_and_determinism() -> None:
    joint = planted(2000, 3)
    left, right = planted_parts(joint)
    rel = planted_release(joint)
    lk = get_linker("bridge", release=rel, on=["sex", "band"])
    a = lk.fit(left, right.drop(columns="wband")).link(seed=5)
    b = get_linker("bridge", release=rel, on=["sex", "band"]).fit(left, right.drop(columns="wband")).link(seed=5)
    c = get_linker("bridge", release=rel, on=["sex", "band"]).fit(left, right.drop(columns="wband")).link(seed=6)
    p = a.pairs
    assert a.one_to_one and not p["left"].duplicated().any() and not p["right"].duplicated().any()
    assert p["left"].between(0, len(left) - 1).all() and p["right"].between(0, len(right) - 1).all()
    assert np.isfinite(p["score"]).all()
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    assert pair_set(a) != pair_set(c)


def test_lp_too_large_falls_back_to_ipf_with_a_warning() -> None:
    left, right = hand_parts()  # 4 triples (2 left profiles x 2 right profiles in one cell)
    links = get_linker("bridge", release=hand_release([2, 0, 0, 2]), on=["sex"], method="lp",
                       lp_max_triples=3).fit(left, right).link(0)
    assert links.diagnostics["method"] == "ipf"
    assert any("lp_max_triples=3" in w for w in links.warnings)
    assert {r for lft, r in pair_set(links) if lft in (0, 1)} == {0, 2}

"""Property-based tests (hypothesis) over random schemas and values for the invariants of split,
synthesis, linkage and reconstruction: no row lost or duplicated, roles respected, same seed same
result. Frames are small and examples few, so the whole file stays fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthlink import synth
from synthlink.link import get_linker, shuffled_link
from synthlink.link.base import Links
from synthlink.reconstruct import reconstruct
from synthlink.split import SplitPlan, split
from synthlink.synth import get_synthesizer

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LABELS = ["a", "b", "c", "d"]


# -- strategies --------------------------------------------------------------------------------------


@st.composite
def columns(draw, n: int, allow_null: bool = True):
    """One column of length n: text categories, small integers, floats (maybe with NaN), booleans."""
    kind = draw(st.sampled_from(["text", "int", "float", "bool"]))
    if kind == "text":
        vals = draw(st.lists(st.sampled_from(LABELS[: draw(st.integers(1, 4))]), min_size=n, max_size=n))
        s = pd.Series(vals, dtype="str")
        if allow_null and draw(st.booleans()):
            s = s.mask(pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        return s
    if kind == "int":
        return pd.Series(draw(st.lists(st.integers(0, draw(st.integers(0, 60))), min_size=n, max_size=n)), dtype="int64")
    if kind == "float":
        vals = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=n, max_size=n))
        s = pd.Series(vals, dtype="float64")
        if allow_null and draw(st.booleans()):
            s = s.mask(pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        return s
    return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype="bool")


@st.composite
def tables(draw, min_rows: int = 2, max_rows: int = 40, allow_null: bool = True):
    """(joint table, split plan dict): an identifier, 1-3 common columns, 2-3 parts of 0-3 own columns."""
    n = draw(st.integers(min_rows, max_rows))
    n_common = draw(st.integers(1, 3))
    n_parts = draw(st.integers(2, 3))
    own = [draw(st.integers(0, 3)) for _ in range(n_parts)]
    ids = draw(st.permutations(range(10 * n)))[:n]
    data = {"pid": [f"X{i:05d}" for i in ids] if draw(st.booleans()) else np.asarray(ids, dtype="int64")}
    common = [f"c{i}" for i in range(n_common)]
    for c in common:
        data[c] = draw(columns(n, allow_null))
    parts = {}
    for p, k in enumerate(own):
        cols = [f"p{p}_{j}" for j in range(k)]
        for c in cols:
            data[c] = draw(columns(n, allow_null))
        parts[f"part{p}"] = cols
    df = pd.DataFrame(data)
    plan = {"identifier": "pid", "common": common, "parts": parts,
            "control_share": draw(st.sampled_from([0.0, 0.2, 0.5]))}
    return df, plan


def _by_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("pid", kind="stable").reset_index(drop=True)


# -- split -------------------------------------------------------------------------------------------


@SETTINGS
@given(tables(), st.integers(0, 2**16))
def test_split_loses_and_duplicates_no_row_and_respects_roles(table, seed):
    df, plan_d = table
    plan = SplitPlan.from_dict(plan_d)
    res = split(df, plan, seed=seed)
    # holdout: every row in exactly one of train / control, unchanged
    both = pd.concat([res.train, res.control], ignore_index=True)
    assert len(both) == len(df) and both["pid"].is_unique
    pd.testing.assert_frame_equal(_by_id(both), _by_id(df), check_dtype=False)
    assert len(res.control) == int(round(len(df) * plan.control_share))
    assert list(res.truth.columns) == plan.part_names and len(res.truth) == len(res.train)
    for p in plan.parts:
        part = res.parts[p.name]
        # roles: exactly identifier + common + the part's own columns, in that order
        assert list(part.columns) == ["pid", *plan.common, *p.columns]
        # coverage 1: every training row exactly once, values unchanged
        assert len(part) == len(res.train) and part["pid"].is_unique
        pd.testing.assert_frame_equal(_by_id(part), _by_id(res.train[list(part.columns)]), check_dtype=False)
        # the truth points at the same person
        pos = res.truth[p.name].to_numpy(dtype="int64")
        assert sorted(pos) == list(range(len(part)))
        assert (part["pid"].to_numpy()[pos] == res.train["pid"].to_numpy()).all()


@SETTINGS
@given(tables(), st.integers(0, 2**16), st.sampled_from([0.3, 0.5, 0.9]))
def test_split_with_coverage_keeps_truth_consistent(table, seed, share):
    df, plan_d = table
    first = next(iter(plan_d["parts"]))
    plan_d["parts"][first] = {"columns": plan_d["parts"][first], "coverage": share}
    res = split(df, SplitPlan.from_dict(plan_d), seed=seed)
    part = res.parts[first]
    assert len(part) == int(round(len(res.train) * share)) and part["pid"].is_unique
    t = res.truth[first]
    covered = t.notna().to_numpy()
    assert int(covered.sum()) == len(part)
    pos = t[covered].to_numpy(dtype="int64")
    assert (part["pid"].to_numpy()[pos] == res.train["pid"].to_numpy()[covered]).all()


@SETTINGS
@given(tables(), st.integers(0, 2**16))
def test_split_same_seed_same_result(table, seed):
    df, plan_d = table
    plan = SplitPlan.from_dict(plan_d)
    a, b = split(df, plan, seed=seed), split(df, plan, seed=seed)
    pd.testing.assert_frame_equal(a.train, b.train)
    pd.testing.assert_frame_equal(a.control, b.control)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    for name in plan.part_names:
        pd.testing.assert_frame_equal(a.parts[name], b.parts[name])


# -- synthesis ---------------------------------------------------------------------------------------

SYNTHS = [s for s in ("marginals", "cart", "copula") if s in synth.available()]


@pytest.mark.parametrize("name", SYNTHS)
@SETTINGS
@given(table=tables(min_rows=8, max_rows=30), seed=st.integers(0, 2**16), n=st.integers(0, 25))
def test_synthesis_same_seed_same_output_columns_dtypes_rows(name, table, seed, n):
    df, plan_d = table
    part = df[[*plan_d["common"], *next(iter(plan_d["parts"].values()))]]
    s = get_synthesizer(name).fit(part)
    a = s.sample(n, seed=seed)
    b = s.sample(n, seed=seed)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == n
    assert list(a.columns) == list(part.columns)
    for c in part.columns:
        # the documented exception: integers with missing values come back as nullable Int64
        ok = {str(part[c].dtype), "Int64"} if pd.api.types.is_integer_dtype(part[c]) else {str(part[c].dtype)}
        assert str(a[c].dtype) in ok, (c, part[c].dtype, a[c].dtype)


# -- linkage -----------------------------------------------------------------------------------------


def _parts(df: pd.DataFrame, plan_d: dict, seed: int):
    res = split(df, SplitPlan.from_dict({**plan_d, "control_share": 0.0}), seed=seed)
    names = list(plan_d["parts"])
    return res, res.parts[names[0]], res.parts[names[1]], names


def _check_links(links: Links, n_left: int, n_right: int) -> None:
    p = links.pairs
    assert links.n_left == n_left and links.n_right == n_right
    assert p["left"].between(0, n_left - 1).all() and p["right"].between(0, n_right - 1).all()
    assert p["left"].is_unique and p["right"].is_unique  # one-to-one


@SETTINGS
@given(tables(), st.integers(0, 2**16))
def test_exact_links_are_valid_and_agree_on_every_linking_value(table, seed):
    df, plan_d = table
    _, left, right, _ = _parts(df, plan_d, seed)
    on = plan_d["common"]
    links = shuffled_link(get_linker("exact", on=on), left.drop(columns="pid"), right.drop(columns="pid"), seed=seed)
    _check_links(links, len(left), len(right))
    li, ri = links.pairs["left"].to_numpy(), links.pairs["right"].to_numpy()
    lv, rv = left[on].iloc[li].reset_index(drop=True), right[on].iloc[ri].reset_index(drop=True)
    assert lv.notna().all().all()
    pd.testing.assert_frame_equal(lv, rv, check_dtype=False)
    # hand count: within each cell of equal values, min(#left, #right) pairs; both parts hold the
    # same people here (coverage 1, no noise), so every row without a missing linking value links
    assert len(links) == len(left[on].dropna())


@SETTINGS
@given(tables(), st.integers(0, 2**16), st.integers(0, 2**16))
def test_identifier_join_finds_exactly_the_truth_whatever_the_order(table, seed, seed2):
    df, plan_d = table
    res, left, right, names = _parts(df, plan_d, seed)
    links = shuffled_link(get_linker("identifier", key="pid"), left, right, seed=seed2)
    _check_links(links, len(left), len(right))
    truth = res.truth_pairs(names[0], names[1])
    got = set(zip(links.pairs["left"], links.pairs["right"], strict=True))
    assert got == set(zip(truth["left"], truth["right"], strict=True))
    # order invariance: shuffle the left part too; the same people are linked
    perm = np.random.default_rng(seed2).permutation(len(left))
    links2 = shuffled_link(get_linker("identifier", key="pid"), left.iloc[perm].reset_index(drop=True), right, seed=seed2 + 1)
    pairs1 = {(left["pid"].iloc[a], right["pid"].iloc[b]) for a, b in got}
    l2 = left.iloc[perm].reset_index(drop=True)
    pairs2 = {(l2["pid"].iloc[a], right["pid"].iloc[b]) for a, b in zip(links2.pairs["left"], links2.pairs["right"], strict=True)}
    assert pairs1 == pairs2


# -- reconstruction ----------------------------------------------------------------------------------


@st.composite
def link_sets(draw):
    n_left, n_right = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    k = draw(st.integers(0, 40))
    pairs = pd.DataFrame({
        "left": draw(st.lists(st.integers(0, n_left - 1), min_size=k, max_size=k)),
        "right": draw(st.lists(st.integers(0, n_right - 1), min_size=k, max_size=k)),
        "score": draw(st.lists(st.sampled_from([0.1, 0.5, 0.9, 1.0]), min_size=k, max_size=k)),
    }).drop_duplicates(["left", "right"])
    return n_left, n_right, Links(pairs, n_left, n_right, "random", one_to_one=False)


@SETTINGS
@given(link_sets())
def test_reconstruction_accounts_for_every_row_exactly_once(ls):
    n_left, n_right, links = ls
    left = pd.DataFrame({"c": np.arange(n_left) % 3, "lrow": np.arange(n_left)})
    right = pd.DataFrame({"c": np.arange(n_right) % 3, "rrow": np.arange(n_right)})
    rec = reconstruct(left, right, links, ["c"])
    acc, j = rec.accounting, rec.joint
    assert acc["linked"] + acc["left_only"] == n_left
    assert acc["linked"] + acc["right_only"] == n_right
    assert acc["rows"] == len(j) == acc["linked"] + acc["left_only"] + acc["right_only"]
    # every left row and every right row exactly once
    assert sorted(j["lrow"].dropna().astype(int)) == list(range(n_left))
    assert sorted(j["rrow"].dropna().astype(int)) == list(range(n_right))
    # linked rows are pairs that the links proposed, and the pairing is one-to-one
    linked = j[j["_link_status"] == "linked"]
    proposed = set(zip(links.pairs["left"], links.pairs["right"], strict=True))
    assert set(zip(linked["lrow"].astype(int), linked["rrow"].astype(int), strict=True)) <= proposed
    # greedy by score: no unused proposed pair could still be added (maximal matching)
    used_l, used_r = set(linked["lrow"].astype(int)), set(linked["rrow"].astype(int))
    assert not [(a, b) for a, b in proposed if a not in used_l and b not in used_r]

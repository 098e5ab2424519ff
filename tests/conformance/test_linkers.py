"""Conformance of every registered linker (``synthlink.link.available()``), in the manner of
scikit-learn's ``check_estimator``: a new method added to the registry is checked automatically.

Contract checked for each method:

- the :class:`Links` it returns are valid: positions in range, ``n_left``/``n_right`` equal to the
  part sizes, finite scores, and ``one_to_one`` really one-to-one (checked here directly, not only
  by ``Links.__post_init__``);
- the same seed gives the same pairs;
- the pairs do not depend on the row order of the left part (shuffled, then mapped back). Every
  method breaks ties among records with identical linking values at random by position (exact and
  distance draw pairs within cells, hotdeck picks among equally near donors, propensity among equal
  gaps), so this check uses inputs without ties: every combination of the linking variables occurs
  once per part, and the right part also holds 60 people of another population (ages 88 and over,
  profiles no left record has). Without those, the two parts hold the very same profiles, the
  propensity model cannot separate them and every score is the same (coefficients 0), a tie of all
  records that propensity legitimately breaks by position;
- methods that do not use the identifier never see it: the parts carry a ``pid`` column outside
  ``on``, and scrambling it leaves the pairs unchanged;
- degenerate inputs (one row each side, two rows each side (same sex), a constant common column, parts of
  unequal size either way) give valid ``Links`` or a clear ``InputError``/``ConfigError``, never
  another exception.

The identifier join (and any method with ``uses_identifier``) gets ``key="pid"``; the others get
``on=COMMON``. Propensity emits :class:`UnsuitableMethodWarning` on these same-population parts
(its module docstring: a propensity score cannot identify persons); the checks expect it.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError, InputError
from synthlink.link import Links, available, get_linker, linker_class
from synthlink.link.base import UnsuitableMethodWarning

from ..conftest import make_people

COMMON = ["sex", "age", "canton"]
KEY = "pid"
N = 240

#: real bugs the suite found: (method, case) -> reason; the param is a strict xfail that must fail
#: with a plain ValueError (an InputError, also a ValueError, would make the test pass: XPASS)
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params(name: str, left: pd.DataFrame | None = None, right: pd.DataFrame | None = None) -> dict[str, Any]:
    """``key`` or ``on``; a method that needs more (the bridge's release) builds its parameters
    from the parts with its ``conformance_params(left, right, on)`` classmethod."""
    cls = linker_class(name)
    if cls.uses_identifier:
        return {"key": KEY}
    hook = getattr(cls, "conformance_params", None)
    if hook is not None and left is not None and right is not None:
        return dict(hook(left, right, list(COMMON)))
    return {"on": list(COMMON)}


def _uses_identifier(name: str) -> bool:
    return bool(linker_class(name).uses_identifier)


def parts(n: int = N, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Left (common + isced, field) and right (common + wage, status) parts of the same people, each
    with the identifier ``pid``."""
    p = make_people(n, seed)
    left = p[[KEY, *COMMON, "isced", "field"]].reset_index(drop=True)
    right = p[[KEY, *COMMON, "wage", "status"]].reset_index(drop=True)
    return left, right


def untied_parts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parts without ties: people whose combination of the common variables occurs once, in both
    parts, and on the right 60 more people aged 88 and over (make_people draws ages 18-79, so their
    profiles match no left record and the parts' populations differ)."""
    p = make_people(N, 0).drop_duplicates(COMMON, keep=False).reset_index(drop=True)
    extra = make_people(200, 1).drop_duplicates(COMMON, keep=False).head(60)
    extra = extra.assign(age=extra["age"] + 70, pid=[f"Q{i:07d}" for i in range(len(extra))])
    left = p[[KEY, *COMMON, "isced", "field"]].reset_index(drop=True)
    right = pd.concat([p, extra], ignore_index=True)[[KEY, *COMMON, "wage", "status"]]
    return left, right


def run(name: str, left: pd.DataFrame, right: pd.DataFrame, seed: int = 0) -> tuple[Links, list[type]]:
    """Fit and link; returns the links and the categories of the warnings emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        links = get_linker(name, **_params(name, left, right)).fit(left, right).link(seed=seed)
    return links, [w.category for w in caught]


@cache
def base_run(name: str) -> tuple[Links, tuple[type, ...]]:
    """One run per method on the standard parts, shared by the checks that only read it."""
    left, right = parts()
    links, cats = run(name, left, right, seed=0)
    return links, tuple(cats)


def pair_set(links: Links) -> set[tuple[int, int]]:
    return set(zip(links.pairs["left"].tolist(), links.pairs["right"].tolist(), strict=True))


def check_valid(links: Links, n_left: int, n_right: int) -> None:
    """The Links contract, checked from the pairs themselves."""
    assert isinstance(links, Links)
    assert links.n_left == n_left and links.n_right == n_right
    p = links.pairs
    assert {"left", "right", "score"} <= set(p.columns)
    assert len(p) <= n_left * n_right
    if len(p):
        assert p["left"].between(0, n_left - 1).all()
        assert p["right"].between(0, n_right - 1).all()
    assert np.isfinite(p["score"].to_numpy(dtype=float)).all()
    if links.one_to_one:
        assert not p["left"].duplicated().any()
        assert not p["right"].duplicated().any()
        assert len(p) <= min(n_left, n_right)


METHODS = available()


@pytest.mark.parametrize("name", METHODS)
def test_links_invariants(name: str) -> None:
    left, right = parts()
    links, cats = base_run(name)
    check_valid(links, len(left), len(right))
    assert len(links) > 0, f"{name}: no pair at all on parts of the same {N} people"
    if name == "propensity":
        assert UnsuitableMethodWarning in cats
        assert links.warnings, "propensity must say in Links.warnings that it does not link records"


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_pairs(name: str) -> None:
    left, right = parts()
    first, _ = base_run(name)
    again, _ = run(name, left, right, seed=0)
    pd.testing.assert_frame_equal(first.pairs[["left", "right", "score"]], again.pairs[["left", "right", "score"]])


@pytest.mark.parametrize("name", METHODS)
def test_left_row_order_does_not_matter(name: str) -> None:
    left, right = untied_parts()
    assert len(left) >= 100 and not left.duplicated(COMMON).any() and not right.duplicated(COMMON).any()
    perm = np.random.default_rng(7).permutation(len(left))
    ref, _ = run(name, left, right, seed=0)
    shuffled, _ = run(name, left.iloc[perm].reset_index(drop=True), right, seed=0)
    mapped = {(int(perm[a]), b) for a, b in pair_set(shuffled)}
    assert mapped == pair_set(ref)


@pytest.mark.parametrize("name", [m for m in METHODS if not _uses_identifier(m)])
def test_identifier_is_never_seen(name: str) -> None:
    left, right = parts()
    assert KEY in left.columns and KEY in right.columns and KEY not in _params(name)["on"]
    ref, _ = base_run(name)
    rng = np.random.default_rng(3)
    scrambled_l = left.assign(**{KEY: rng.permutation(left[KEY].to_numpy())})
    scrambled_r = right.assign(**{KEY: [f"X{i:05d}" for i in rng.permutation(len(right))]})
    got, _ = run(name, scrambled_l, scrambled_r, seed=0)
    pd.testing.assert_frame_equal(ref.pairs[["left", "right", "score"]], got.pairs[["left", "right", "score"]])


def _degenerate(case: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    left, right = parts()
    if case == "one_row":
        return left.iloc[:1].reset_index(drop=True), right.iloc[:1].reset_index(drop=True)
    if case == "two_rows":  # two people of the same sex, who differ on age and canton
        two = left.index[left["sex"] == "M"][:2]
        return left.loc[two].reset_index(drop=True), right.loc[two].reset_index(drop=True)
    if case == "constant_column":
        return left.assign(sex="F"), right.assign(sex="F")
    if case == "left_larger":
        return left.iloc[:200].reset_index(drop=True), right.iloc[:90].reset_index(drop=True)
    if case == "right_larger":
        return left.iloc[:90].reset_index(drop=True), right.iloc[:200].reset_index(drop=True)
    raise AssertionError(case)


CASES = ["one_row", "two_rows", "constant_column", "left_larger", "right_larger"]


def _degenerate_params() -> list[Any]:
    out = []
    for name in METHODS:
        for case in CASES:
            reason = KNOWN_BUGS.get((name, case))
            marks = [pytest.mark.xfail(reason=reason, strict=True, raises=ValueError)] if reason else []
            out.append(pytest.param(name, case, marks=marks, id=f"{name}-{case}"))
    return out


@pytest.mark.parametrize(("name", "case"), _degenerate_params())
def test_degenerate_inputs(name: str, case: str) -> None:
    left, right = _degenerate(case)
    try:
        links, _ = run(name, left, right, seed=0)
    except (InputError, ConfigError) as e:
        assert str(e), "the error must say what is wrong"
        return
    check_valid(links, len(left), len(right))

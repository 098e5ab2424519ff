"""Record-preserving (partially synthetic) mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError, InputError
from synthlink.pseudonymise import pseudonymise
from synthlink.synth.preserving import RecordPreserving

KEY = "k" * 32


def parts(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two parts of the same people; wage (part B) depends on isced (part A) through the person."""
    rng = np.random.default_rng(seed)
    pid = [f"P{i:06d}" for i in range(n)]
    age = rng.integers(20, 65, n)
    isced = rng.integers(0, 9, n)
    years = 2 * isced + 6 + rng.integers(0, 2, n)  # years of schooling, tied to isced within part A
    a = pd.DataFrame({"pid": pid, "age": age, "isced": isced, "years": years})
    wage = 1000 + 300 * isced + rng.normal(0, 100, n)
    wage[rng.random(n) < 0.1] = np.nan
    grade = np.clip(isced + rng.integers(-1, 2, n), 0, 9)  # pay grade, tied to wage within part B
    b = pd.DataFrame({"pid": pid, "age": age, "wage": wage, "grade": grade})
    ia, ib = rng.permutation(n), rng.permutation(n)
    return a.iloc[ia].reset_index(drop=True), b.iloc[ib].reset_index(drop=True)


def test_keys_are_pseudonyms_and_join_across_parts() -> None:
    a, b = parts()
    sa = RecordPreserving(identifier="pid", key=KEY).fit(a).sample(seed=1)
    sb = RecordPreserving(identifier="pid", key=KEY).fit(b).sample(seed=2)
    assert list(sa.columns) == ["pseudo_key", "age", "isced", "years"]
    assert set(sa["pseudo_key"]) == set(pseudonymise(a["pid"], KEY))
    assert not set(sa["pseudo_key"]) & set(a["pid"])
    joined = sa.merge(sb, on="pseudo_key")
    assert len(joined) == len(a)
    # the cross-part relationship isced -> wage (real corr about 0.99) survives the key join, through
    # each record's other values (years in A, grade in B) that its new values are drawn from
    j = joined.dropna(subset=["wage"])
    assert np.corrcoef(j["isced"], j["wage"])[0, 1] > 0.6


def test_row_aligned_keeps_only_membership() -> None:
    a, b = parts()
    sa = RecordPreserving(inner="marginals", identifier="pid", key=KEY, mode="row_aligned").fit(a).sample(seed=1)
    sb = RecordPreserving(inner="cart", identifier="pid", key=KEY, mode="row_aligned").fit(b).sample(seed=2)
    j = sa.merge(sb, on="pseudo_key").dropna(subset=["wage"])
    assert len(sa.merge(sb, on="pseudo_key")) == len(a)
    assert abs(np.corrcoef(j["isced"], j["wage"])[0, 1]) < 0.15


def test_values_are_synthesized_not_copied() -> None:
    a, _ = parts()
    s = RecordPreserving(identifier="pid", key=KEY).fit(a).sample(seed=3)
    real = a.assign(pseudo_key=pseudonymise(a["pid"], KEY)).set_index("pseudo_key")
    same = (s.set_index("pseudo_key")["age"] == real.loc[s["pseudo_key"], "age"].to_numpy()).mean()
    assert same < 0.2  # age is not predictable from isced/years: replaced on most rows ...
    assert set(s["age"]) <= set(a["age"])  # ... by observed values
    # isced is a function of years within the part: a conditional draw reproduces it (the risk)
    same_isced = (s.set_index("pseudo_key")["isced"] == real.loc[s["pseudo_key"], "isced"].to_numpy()).mean()
    assert same_isced > 0.95


def test_sample_size_must_equal_fitted_size_and_seed_reproduces() -> None:
    a, _ = parts(100)
    rp = RecordPreserving(identifier="pid", key=KEY).fit(a)
    with pytest.raises(InputError, match="100"):
        rp.sample(50)
    pd.testing.assert_frame_equal(rp.sample(seed=4), rp.sample(seed=4))
    assert "k" * 32 not in repr(rp)


def test_bad_configuration() -> None:
    a, _ = parts(50)
    with pytest.raises(ConfigError):
        RecordPreserving(identifier="pid", key=KEY, mode="nope").fit(a)
    with pytest.raises(ConfigError, match="row_aligned"):
        RecordPreserving(inner="copula", identifier="pid", key=KEY).fit(a)
    with pytest.raises(InputError):
        RecordPreserving(identifier="missing", key=KEY).fit(a)

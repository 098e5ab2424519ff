"""Key-holder disclosure (record-preserving synthesis): hand-computed rates, the exact random-row
baseline, not-applicable for rows that belong to nobody, and known ground truth (a copy of train
with its keys discloses everything; rows paired with keys at random disclose nothing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import InputError
from synthlink.evaluate.privacy import key_holder_disclosure, privacy_report
from synthlink.evaluate.privacy.keyholder import random_row_rate_numeric


def test_categorical_rates_by_hand():
    # 4 owned rows repeated 25 times: true a a b b, synthetic a b b c -> 50 of 100 correct;
    # a random synthetic row (a b b c a) matches a or b with probability 2/5
    train = pd.DataFrame({"c": ["a", "a", "b", "b"] * 25})
    syn = pd.DataFrame({"c": ["a", "b", "b", "c"] * 25 + ["a"] * 25})
    source = np.r_[np.arange(100), np.full(25, -1)]
    r = key_holder_disclosure(train, syn, source, ["c"], kinds={"c": "categorical"})
    by = r["by_secret"]["c"]
    assert by["n_persons"] == 100
    assert by["baseline_rate"] == pytest.approx(0.4)
    assert by["attack_rate"] == pytest.approx(0.5)  # the Wilson centre of 50/100 is 0.5
    assert r["risk"] == pytest.approx((0.5 - 0.4) / (1 - 0.4))
    assert r["ci"][0] < r["risk"] < r["ci"][1]


def test_numeric_rates_by_hand_and_baseline_against_brute_force():
    train = pd.DataFrame({"x": [100.0, 200.0, 300.0]})
    syn = pd.DataFrame({"x": [104.0, 215.0, 300.0, 50.0]})
    r = key_holder_disclosure(train, syn, [0, 1, 2, -1], ["x"], kinds={"x": "numeric"})["by_secret"]["x"]
    # |104-100| <= 5.2 yes, |215-200| <= 10.75 no, 300 exact: 2 of 3 correct
    # random row: t=100 -> only 104 qualifies (1/4), t=200 -> none, t=300 -> 300 (1/4)
    assert r["baseline_rate"] == pytest.approx((0.25 + 0 + 0.25) / 3)
    rng = np.random.default_rng(0)
    t = np.r_[rng.normal(0, 50, 300), [0.0, np.nan, -20.0]]
    g = np.r_[rng.normal(0, 50, 400), [0.0, np.nan, -19.5, 21.0]]
    brute = np.mean([np.mean(np.isnan(g)) if np.isnan(x) else
                     np.mean(np.abs(g - x) <= 0.05 * np.abs(g) + 1e-12) for x in t])
    assert random_row_rate_numeric(t, g, 0.05) == pytest.approx(brute)


def test_copy_with_keys_discloses_everything_random_pairing_nothing():
    rng = np.random.default_rng(1)
    n = 2000
    train = pd.DataFrame({"sex": rng.integers(1, 3, n), "age": rng.integers(18, 90, n),
                          "wage": rng.lognormal(8, 0.6, n).round(), "status": rng.choice(list("ABCD"), n)})
    control = train.sample(frac=1.0, random_state=2).reset_index(drop=True)
    kinds = {"sex": "categorical", "age": "numeric", "wage": "numeric", "status": "categorical"}
    order = rng.permutation(n)
    copy = train.iloc[order].reset_index(drop=True)
    full = privacy_report(train, control, copy, common=["sex", "age"], kinds=kinds, n_attacks=100,
                          source=order)["key_holder"]
    assert full["risk"] > 0.95 and full["ci"][0] > 0.9
    # the same rows with keys paired at random (row_aligned mode): a row says nothing about its key's person
    none = key_holder_disclosure(train, copy, rng.permutation(n), ["wage", "status"], kinds=kinds)
    assert none["ci"][0] <= 0.0 + 1e-9 and none["risk"] < 0.05
    # no source: the rows belong to nobody, which is "not applicable", not zero
    na = privacy_report(train, control, copy, common=["sex", "age"], kinds=kinds, n_attacks=50)["key_holder"]
    assert na["risk"] is None and na["applicable"] is False and "tied to a real record" in na["reason"]


def test_bad_source_is_refused():
    train = pd.DataFrame({"c": list("ab")})
    with pytest.raises(InputError, match="source positions"):
        key_holder_disclosure(train, train, [0], ["c"])
    with pytest.raises(InputError, match="outside the train table"):
        key_holder_disclosure(train, train, [0, 5], ["c"])
    with pytest.raises(InputError, match="'z'"):
        key_holder_disclosure(train, train, [0, 1], ["z"])

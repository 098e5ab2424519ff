"""Matricule: check digits (Luhn and Verhoeff over the first eleven digits), generation, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink import matricule as m
from synthlink.errors import ConfigError, InputError


def test_published_example_is_valid():
    # lux-utils' documented example: 18931201057 + Luhn 3 + Verhoeff 2
    assert m.validate("1893120105732") is True
    assert m.validate("1893120105733") is False
    assert m.validate("1893120105722") is False


def test_luhn_by_hand():
    # 79927398713 is the classic Luhn example: payload 7992739871, check digit 3
    assert m.luhn_digit(np.array([[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]]))[0] == 3
    # payload 18931201057: doubled from the right 7,0,0,1,9,1 -> 5,0,0,2,9,2 (sum 18); the others
    # 5,1,2,3,8 (sum 19); total 37 -> check digit 3
    digits = np.array([[1, 8, 9, 3, 1, 2, 0, 1, 0, 5, 7]])
    assert m.luhn_digit(digits)[0] == 3


def test_verhoeff_by_hand():
    # Wikipedia's Verhoeff example: 236 -> check digit 3
    assert m.verhoeff_digit(np.array([[2, 3, 6]]))[0] == 3
    assert m.verhoeff_digit(np.array([[1, 8, 9, 3, 1, 2, 0, 1, 0, 5, 7]]))[0] == 2


def test_generate_unique_valid_and_dated():
    rng = np.random.default_rng(4)
    days = np.datetime64("1939-01-02") + rng.integers(0, 300, 50_000).astype("timedelta64[D]")
    ids = m.generate(days, 0)
    assert len(ids) == 50_000 and ids.is_unique  # ~170 people per birth date, all distinct
    assert ids.str.len().eq(13).all()
    assert m.validate(ids).all()
    assert (m.birth_date(ids).to_numpy() == days.astype("datetime64[ns]")).all()


def test_generate_is_seeded():
    days = pd.Series(pd.to_datetime(["1990-05-04"] * 20 + ["2001-12-31"] * 3))
    assert m.generate(days, 7).equals(m.generate(days, 7))
    assert not m.generate(days, 7).equals(m.generate(days, 8))


def test_validate_rejects_bad_forms():
    good = "1893120105732"
    bad = ["189312010573", "18931201057322", "1893120105a32", "", None, "1893133105732"]
    res = m.validate([good, *bad])
    assert res.tolist() == [True] + [False] * len(bad)
    # a single-digit typo is caught by the check digits
    typo = good[:5] + str((int(good[5]) + 1) % 10) + good[6:]
    assert m.validate(typo) is False


def test_too_many_on_one_day_and_missing_dates():
    with pytest.raises(ConfigError, match="share one birth date"):
        m.generate(np.full(1001, np.datetime64("1980-01-01")), 0)
    with pytest.raises(InputError, match="missing"):
        m.generate(pd.Series(pd.to_datetime(["1980-01-01", None])), 0)


def test_single_digit_errors_and_adjacent_transpositions_are_caught():
    days = np.datetime64("1950-01-01") + np.random.default_rng(2).integers(0, 20_000, 300).astype("timedelta64[D]")
    ids = m.generate(days, 3).tolist()
    rng = np.random.default_rng(5)
    for s in ids:
        i = int(rng.integers(0, 13))
        wrong = s[:i] + str((int(s[i]) + int(rng.integers(1, 10))) % 10) + s[i + 1:]
        assert m.validate(wrong) is False, (s, wrong)
        j = int(rng.integers(0, 12))
        if s[j] != s[j + 1]:
            swapped = s[:j] + s[j + 1] + s[j] + s[j + 2:]
            assert m.validate(swapped) is False, (s, swapped)

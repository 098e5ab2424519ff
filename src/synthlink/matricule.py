"""Luxembourg national identification number (matricule), generated and validated, vectorised.

The 13-digit matricule of a natural person is ``YYYYMMDD`` (birth date), ``XXX`` (a serial number
that keeps people born on the same day apart), then two check digits, both computed over the
first eleven digits ``YYYYMMDDXXX``:

* digit 12: the Luhn (mod 10) check digit of ``YYYYMMDDXXX``;
* digit 13: the Verhoeff check digit of ``YYYYMMDDXXX`` (not of the first twelve digits).

Sources (public): the OECD "Luxembourg - Information on Tax Identification Numbers" sheet
(https://www.oecd.org/tax/automatic-exchange/crs-implementation-and-assistance/tax-identification-numbers/Luxembourg-TIN.pdf:
"a first check on YYYYMMDDXXX using the Luhn10 algorithm, and finally a check on YYYYMMDDXXX
using the Verhoeff algorithm"), and the same rule in open validators (e.g. the ``lux-utils`` JS
library, whose documented example ``1893120105732`` is valid under it; the test-suite checks it).
Some libraries compute the Verhoeff digit over twelve digits instead; that reading fails the
example above, so we follow the OECD sheet.

Generated numbers are synthetic: they are valid in form only and belong to nobody.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synthlink.errors import ConfigError, InputError

__all__ = ["birth_date", "check_digits", "generate", "luhn_digit", "validate", "verhoeff_digit"]

# Verhoeff tables: d = multiplication in the dihedral group D5, p = position permutation, inv.
_VD = np.array([
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
], dtype=np.int8)
_VP = np.zeros((8, 10), dtype=np.int8)
_VP[0] = np.arange(10)
_VP[1] = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]
for _i in range(2, 8):
    _VP[_i] = _VP[1][_VP[_i - 1]]
_VINV = np.array([0, 4, 3, 2, 1, 5, 6, 7, 8, 9], dtype=np.int8)
_LUHN_DOUBLE = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)


def _as_digit_matrix(digits: np.ndarray) -> np.ndarray:
    d = np.asarray(digits)
    if d.ndim == 1:
        d = d[None, :]
    return d.astype(np.int64, copy=False)


def luhn_digit(digits: np.ndarray) -> np.ndarray:
    """Luhn check digit of each row of an (n, k) array of decimal digits (most significant first)."""
    d = _as_digit_matrix(digits)
    k = d.shape[1]
    # Counting from the right of the payload, positions 0, 2, 4, ... are doubled.
    doubled = ((k - 1 - np.arange(k)) % 2) == 0
    contrib = np.where(doubled[None, :], _LUHN_DOUBLE[d], d)
    return (10 - contrib.sum(axis=1) % 10) % 10


def verhoeff_digit(digits: np.ndarray) -> np.ndarray:
    """Verhoeff check digit of each row of an (n, k) array of decimal digits."""
    d = _as_digit_matrix(digits)
    k = d.shape[1]
    c = np.zeros(d.shape[0], dtype=np.int8)
    for i in range(k):  # loop over the k digit positions, vectorised over rows
        pos = i + 1  # position from the right, with the check digit at position 0
        c = _VD[c, _VP[pos % 8][d[:, k - 1 - i]]]
    return _VINV[c].astype(np.int64)


def check_digits(first11: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Luhn, Verhoeff) check digits for each row of an (n, 11) digit array."""
    d = _as_digit_matrix(first11)
    if d.shape[1] != 11:
        raise InputError(f"matricule: check digits need the first 11 digits, got {d.shape[1]}")
    return luhn_digit(d), verhoeff_digit(d)


def _digits_of(values: np.ndarray, width: int) -> np.ndarray:
    """(n,) int64 -> (n, width) digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def generate(birth_dates: pd.Series | np.ndarray | Iterable, rng: np.random.Generator | int | None = 0) -> pd.Series:
    """Unique synthetic matricules for the given birth dates (one per entry, same order).

    People born on the same day get distinct serial numbers: a random starting serial per day
    plus their rank among that day's people (mod 1000), so up to 1000 people per birth date.
    Returns a string Series (default index) of 13-digit matricules.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    days = np.asarray(pd.to_datetime(pd.Series(birth_dates)).to_numpy(dtype="datetime64[D]"))
    if np.isnat(days).any():
        raise InputError("matricule: birth_date has missing values; every person needs a birth date")
    n = len(days)
    if n == 0:
        return pd.Series([], dtype="str")
    di = days.astype(np.int64)
    lo = int(di.min())
    key = di - lo
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
    sizes = np.diff(np.r_[starts, n])
    if sizes.max() > 1000:
        raise ConfigError(f"matricule: {int(sizes.max())} people share one birth date; at most 1000 can get distinct serials")
    rank_sorted = np.arange(n) - np.repeat(starts, sizes)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    offsets = rng.integers(0, 1000, size=int(key.max()) + 1)
    serial = (offsets[key] + rank) % 1000

    ymd = pd.DatetimeIndex(days)
    date_num = ymd.year.to_numpy().astype(np.int64) * 10_000 + ymd.month.to_numpy() * 100 + ymd.day.to_numpy()
    first11 = date_num * 1000 + serial
    digits = _digits_of(first11, 11)
    luhn, verh = check_digits(digits)
    full = first11 * 100 + luhn * 10 + verh  # year >= 1000, so always 13 digits
    if full.min() < 10**12:
        raise InputError("matricule: birth years before 1000 cannot be encoded")
    return pd.Series(pc.cast(pa.array(full), pa.string()), dtype="str")


def _to_str_array(values: pd.Series | np.ndarray | Iterable | str) -> np.ndarray:
    s = pd.Series([values] if isinstance(values, str) else values, dtype="object")
    return s.where(s.notna(), "").astype(str).str.strip().to_numpy(dtype=object)


def validate(values: pd.Series | np.ndarray | Iterable | str) -> np.ndarray | bool:
    """True where a value is a well-formed matricule: 13 digits, a real calendar date in the first
    eight, and both check digits right. A single string gives a single bool."""
    arr = _to_str_array(values)
    s = pd.Series(arr, dtype="str")
    ok = (s.str.len() == 13) & s.str.fullmatch(r"\d{13}").fillna(False).astype(bool)
    ok = ok.to_numpy(dtype=bool)
    result = np.zeros(len(arr), dtype=bool)
    if ok.any():
        good = s[ok]
        nums = good.astype(np.int64).to_numpy()
        digits = _digits_of(nums, 13)
        luhn, verh = check_digits(digits[:, :11])
        dates = pd.to_datetime(good.str.slice(0, 8), format="%Y%m%d", errors="coerce")
        valid = (luhn == digits[:, 11]) & (verh == digits[:, 12]) & dates.notna().to_numpy()
        result[ok] = valid
    if isinstance(values, str):
        return bool(result[0])
    return result


def birth_date(values: pd.Series | np.ndarray | Iterable) -> pd.Series:
    """The birth date encoded in the first eight digits (NaT where it is not a date)."""
    s = pd.Series(_to_str_array(values), dtype="str")
    return pd.to_datetime(s.str.slice(0, 8), format="%Y%m%d", errors="coerce")

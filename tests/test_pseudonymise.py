"""Keyed pseudonymisation: deterministic per key, different across keys, key never in the output."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.pseudonymise import PSEUDONYM_HEX, load_key, pseudonymise

KEY = "correct horse battery staple 42"
IDS = pd.Series(["1893120105732", "1990050447308", "2001123169102", None, "1893120105732"], name="matricule")


def test_matches_standard_hmac_and_is_deterministic():
    p = pseudonymise(IDS, KEY)
    expected = hmac.new(KEY.encode(), b"1893120105732", hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]
    assert p.iloc[0] == expected
    assert p.iloc[0] == p.iloc[4]  # same identifier, same pseudonym
    assert p.isna().tolist() == [False, False, False, True, False]
    assert p.name == "matricule" and p.index.equals(IDS.index)
    assert pseudonymise(IDS, KEY).equals(p)


def test_differs_across_keys_and_from_input():
    a = pseudonymise(IDS, KEY)
    b = pseudonymise(IDS, KEY + "!")
    ok = IDS.notna()
    assert (a[ok] != b[ok]).all()
    assert (a[ok] != IDS[ok]).all()
    assert a[ok].str.fullmatch(r"[0-9a-f]{32}").all()
    assert a[ok].nunique() == IDS[ok].nunique()


def test_key_never_in_output():
    p = pseudonymise(IDS, KEY)
    blob = " ".join(p.dropna()) + repr(p)
    assert KEY not in blob
    assert KEY.encode().hex() not in blob


def test_integer_ids_read_as_float_hash_like_text():
    assert pseudonymise(pd.Series([1234.0, None]), KEY).iloc[0] == pseudonymise(pd.Series(["1234"]), KEY).iloc[0]


def test_load_key_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNTHLINK_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError, match="SYNTHLINK_PSEUDONYM_KEY"):
        load_key()
    monkeypatch.setenv("SYNTHLINK_PSEUDONYM_KEY", KEY)
    assert load_key() == KEY.encode()
    f = tmp_path / "key.txt"
    f.write_bytes(b"from-a-file-0123456789\n")
    assert load_key(file=f) == b"from-a-file-0123456789"  # file beats the environment
    assert load_key(b"explicit-key-0123456789", file=f) == b"explicit-key-0123456789"
    with pytest.raises(ConfigError, match="not found"):
        load_key(file=tmp_path / "missing.txt")


@pytest.mark.parametrize("bad", ["", "short", b"fifteen bytes!!"])
def test_short_keys_refused_without_echoing_them(bad):
    with pytest.raises(ConfigError) as e:
        pseudonymise(IDS, bad)
    if bad:
        assert str(bad) not in str(e.value) and repr(bad) not in str(e.value)

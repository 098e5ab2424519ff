"""Conformance of every registered synthesizer (``synthlink.synth.available()``), in the manner of
scikit-learn's ``check_estimator`` and SDMetrics' integration tests: a new method added to the
registry is checked automatically.

Contract checked for each method (``synthlink.synth.base``: ``fit`` returns self, ``sample(n, seed)``
gives the fitted columns and types, the same fitted synthesizer and seed give the same frame):

- ``fit``/``sample`` give the fitted columns, in order, each in the same dtype family (bool,
  integer (nullable allowed), float, datetime, category, text), and the requested number of rows;
- the same fitted synthesizer and seed give the same sample, and so do two fits on the same data,
  except for differentially private methods (``differentially_private``): PrivBayes draws its noise
  from OpenDP's samplers seeded by system entropy, secret by design (its module docstring), so two
  fits must differ instead (with the same sampling seed);
- a column that looks like an identifier (distinct text on every row) is refused with
  ``PrivacyError`` (``synth.cart.check_identifier_like``) or ``InputError``;
- an empty frame is refused with a clear ``InputError``.

Methods with ``uses_identifier`` (record-preserving synthesis) are handed the part with its
identifier ``pid`` and a pseudonymisation key; they output the key column in its place and one row
per source record. Optional methods whose extra is missing (``MethodUnavailableError``) are skipped
with the reason.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from synthlink.errors import InputError, MethodUnavailableError, PrivacyError
from synthlink.synth import Synthesizer, available, get_synthesizer, synthesizer_class

from ..conftest import make_people

N = 300
KEY = "pid"
SECRET = "k" * 32  # a test pseudonymisation key (>= 16 bytes)

#: real bugs the suite found: (method, check) -> reason; the param is a strict xfail that must fail
#: by not raising (pytest.raises' failure)
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _uses_identifier(name: str) -> bool:
    return bool(synthesizer_class(name).uses_identifier)


def _params(name: str) -> dict[str, Any]:
    return {"identifier": KEY, "key": SECRET} if _uses_identifier(name) else {}


def data_for(name: str, n: int = N) -> pd.DataFrame:
    """The people table; without the identifier unless the method takes it."""
    people = make_people(n, seed=0)
    return people if _uses_identifier(name) else people.drop(columns=[KEY])


def fitted(name: str, data: pd.DataFrame) -> Synthesizer:
    try:
        return get_synthesizer(name, **_params(name)).fit(data)
    except MethodUnavailableError as e:
        pytest.skip(f"{name}: optional extra not installed ({e})")


def is_dp(syn: Synthesizer) -> bool:
    return bool(type(syn).differentially_private)


def family(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "text"


def expected_columns(name: str, data: pd.DataFrame, syn: Synthesizer) -> list[str]:
    if _uses_identifier(name):
        return [syn.get_params()["key_column"], *[c for c in data.columns if c != KEY]]
    return list(data.columns)


def _params_with_bugs(check: str) -> list[Any]:
    out = []
    for name in [n for n in available() if not synthesizer_class(n).handed_over]:
        reason = KNOWN_BUGS.get((name, check))
        marks = [pytest.mark.xfail(reason=reason, strict=True, raises=pytest.fail.Exception)] if reason else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


#: fitted methods (a handed-over synthesizer is loaded per part, never fitted: checked below)
METHODS = [n for n in available() if not synthesizer_class(n).handed_over]
HANDED_OVER = [n for n in available() if synthesizer_class(n).handed_over]


@pytest.mark.parametrize("name", METHODS)
def test_columns_dtypes_and_rows(name: str) -> None:
    data = data_for(name)
    syn = fitted(name, data)
    out = syn.sample(len(data), seed=1)
    assert len(out) == len(data)
    assert list(out.columns) == expected_columns(name, data, syn)
    for c in data.columns:
        if c in out.columns:
            assert family(out[c].dtype) == family(data[c].dtype), f"{name}: column {c!r} {out[c].dtype} vs {data[c].dtype}"
    if not _uses_identifier(name):  # record-preserving synthesis gives one row per source record
        assert len(syn.sample(57, seed=2)) == 57
        assert len(syn.sample(0, seed=2)) == 0


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_sample(name: str) -> None:
    data = data_for(name)
    syn = fitted(name, data)
    pd.testing.assert_frame_equal(syn.sample(len(data), seed=5), syn.sample(len(data), seed=5))
    other = fitted(name, data)
    if is_dp(syn):
        # the DP noise is secret by design: two fits on the same data draw different noise
        assert not syn.sample(len(data), seed=5).equals(other.sample(len(data), seed=5))
    else:
        pd.testing.assert_frame_equal(syn.sample(len(data), seed=5), other.sample(len(data), seed=5))


@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")
@pytest.mark.parametrize("name", _params_with_bugs("identifier_like"))
def test_identifier_like_column_refused(name: str) -> None:
    data = data_for(name)
    data = data.assign(email=[f"person{i:05d}@example.ch" for i in range(len(data))])
    try:
        syn = get_synthesizer(name, **_params(name))
    except MethodUnavailableError as e:
        pytest.skip(f"{name}: optional extra not installed ({e})")
    with pytest.raises((PrivacyError, InputError), match="email"):
        try:
            syn.fit(data)
        except MethodUnavailableError as e:
            pytest.skip(f"{name}: optional extra not installed ({e})")


@pytest.mark.parametrize("name", METHODS)
def test_empty_frame_refused(name: str) -> None:
    data = data_for(name).iloc[:0]
    syn = get_synthesizer(name, **_params(name))
    with pytest.raises(InputError, match=r"empty|no rows"):
        syn.fit(data)


@pytest.mark.parametrize("name", HANDED_OVER)
def test_handed_over_files_are_checked_against_their_part(name: str, tmp_path) -> None:
    """A handed-over synthesizer loads a good file with the part's columns, refuses a file that
    carries the part's record keys, and refuses to be fitted."""
    from synthlink.errors import ConfigError

    part = make_people(200, seed=0)  # with its record key column
    good = make_people(200, seed=1).drop(columns=[KEY])
    good.to_parquet(tmp_path / "good.parquet")
    part.to_parquet(tmp_path / "keys.parquet")  # the real part, keys and all
    syn = get_synthesizer(name, parts={"a": str(tmp_path / "good.parquet"), "b": str(tmp_path / "keys.parquet")})
    got, _ = syn.load("a", part, identifier=KEY, seed=0)
    assert list(got.columns) == [c for c in part.columns if c != KEY] and len(got) == 200
    with pytest.raises(PrivacyError):
        syn.load("b", part, identifier=KEY, seed=0)
    with pytest.raises(ConfigError):
        syn.fit(good)

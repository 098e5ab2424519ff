"""Every registered linker's declared capabilities agree with its constructor, and ``get_params``
reads the constructor's signature (scikit-learn's rule)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import ConfigError
from synthlink.link import available, linker_class
from synthlink.link.base import Linker, Links

NAMES = available()


def _defaults(cls: type[Linker]) -> dict[str, Any]:
    sig = inspect.signature(cls.__init__)
    return {n: sig.parameters[n].default for n in cls.parameters()}


def _instance(name: str, **params: Any) -> Linker:
    cls = linker_class(name)
    if cls.uses_identifier:
        params.setdefault("key", "k")
    return cls(**params)


def test_base_declares_nothing() -> None:
    class Plain(Linker):
        def __init__(self, a: int = 1, b: str = "x") -> None:
            self.a = a
            self.b = b

        def link(self, seed: int = 0) -> Links:  # pragma: no cover - never called
            raise NotImplementedError

    assert (Plain.uses_identifier, Plain.accepts_truth, Plain.accepts_kinds, Plain.baseline_variants) == (
        False, False, False, ())
    assert Plain.parameters() == ("a", "b")
    assert Plain(2).get_params() == {"a": 2, "b": "x"}


@pytest.mark.parametrize("name", NAMES)
def test_accepts_kinds_iff_kinds_parameter(name: str) -> None:
    cls = linker_class(name)
    assert cls.accepts_kinds == ("kinds" in cls.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_uses_identifier_iff_key_parameter(name: str) -> None:
    cls = linker_class(name)
    assert cls.uses_identifier == ("key" in cls.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_accepts_truth_iff_m_from_accepts_truth(name: str) -> None:
    cls = linker_class(name)
    params = cls.parameters()
    assert cls.accepts_truth == ("m_from" in params and "truth" in params)
    if not cls.accepts_truth:
        return
    # a truth column in both parts: fitting with m from the truth is accepted, a bogus m_from is not
    left = pd.DataFrame({"t": [0, 1, 2], "a": [1, 2, 3], "b": [1, 1, 2]})
    right = pd.DataFrame({"t": [2, 0, 1], "a": [3, 1, 2], "b": [2, 1, 1]})
    fitted = cls(on=["a", "b"], m_from="truth", truth="t").fit(left, right)
    assert fitted.get_params()["m_from"] == "truth"
    with pytest.raises(ConfigError, match="m_from"):
        cls(on=["a", "b"], m_from="bogus", truth="t").fit(left, right)


@pytest.mark.parametrize("name", NAMES)
def test_baseline_variants_are_constructor_parameters(name: str) -> None:
    cls = linker_class(name)
    assert isinstance(cls.baseline_variants, tuple)
    suffixes = [s for s, _ in cls.baseline_variants]
    assert len(set(suffixes)) == len(suffixes)
    for suffix, params in cls.baseline_variants:
        assert isinstance(suffix, str) and suffix and ":" not in suffix
        assert set(params) <= set(cls.parameters())
        if params.get("m_from") == "truth":
            assert cls.accepts_truth


def test_probabilistic_declarations() -> None:
    cls = linker_class("probabilistic")
    assert cls.accepts_truth and cls.accepts_kinds
    assert cls.baseline_variants == (("truth", {"m_from": "truth"}),)
    assert [linker_class(n).accepts_truth for n in NAMES].count(True) == 1


@pytest.mark.parametrize("name", NAMES)
def test_get_params_reads_the_signature(name: str) -> None:
    cls = linker_class(name)
    lk = _instance(name)
    got = lk.get_params()
    assert tuple(got) == cls.parameters()
    expected = _defaults(cls)
    if cls.uses_identifier:
        expected["key"] = "k"
    assert got == expected
    assert repr(lk).startswith(f"{cls.__name__}(")


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("identifier", "probabilistic")])
def test_get_params_ignores_fitted_state(name: str) -> None:
    left = pd.DataFrame({"a": np.arange(8) % 3, "b": np.arange(8) % 2, "c": np.arange(8)})
    right = left.iloc[::-1].reset_index(drop=True)
    lk = _instance(name)
    before = lk.get_params()
    lk.fit(left, right)
    lk.extra = "not a parameter"  # type: ignore[attr-defined]
    assert lk.get_params() == before

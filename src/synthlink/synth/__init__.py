"""Synthesizers and their registry. A new synthesizer is one module plus one line in
``_REGISTRY``."""

from __future__ import annotations

from typing import Any

from synthlink.registry import LazyRegistry
from synthlink.synth.base import Synthesizer

#: name -> "module:Class" (imported lazily, so optional extras cost nothing until used)
_REGISTRY: dict[str, str] = {
    "marginals": "synthlink.synth.marginals:MarginalsSynthesizer",
    "preserving": "synthlink.synth.preserving:RecordPreserving",
    "cart": "synthlink.synth.cart:CartSynthesizer",
    "copula": "synthlink.synth.copula:GaussianCopulaSynthesizer",
    "privbayes": "synthlink.synth.privbayes:PrivBayesSynthesizer",
    "sdv_gaussian_copula": "synthlink.synth.sdv:SDVGaussianCopula",
    "sdv_ctgan": "synthlink.synth.sdv:SDVCTGAN",
    "files": "synthlink.synth.files:HandedOverFiles",
}


_METHODS: LazyRegistry[Synthesizer] = LazyRegistry("synthesizer", Synthesizer, _REGISTRY)


def available() -> list[str]:
    return _METHODS.available()


def synthesizer_class(name: str) -> type[Synthesizer]:
    return _METHODS.cls(name)


def get_synthesizer(name: str, **params: Any) -> Synthesizer:
    return _METHODS.get(name, **params)


def register(name: str, target: str | type[Synthesizer], *, replace: bool = False) -> None:
    """Add a synthesizer: ``target`` is a class or ``"module:Class"`` (see
    :meth:`synthlink.registry.LazyRegistry.register`)."""
    _METHODS.register(name, target, replace=replace)


def unregister(name: str) -> None:
    _METHODS.unregister(name)

__all__ = ["Synthesizer", "available", "register", "unregister", "get_synthesizer", "synthesizer_class"]

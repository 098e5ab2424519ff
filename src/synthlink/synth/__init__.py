"""Synthesizers and their registry. A new synthesizer is one module plus one line in
``_REGISTRY``."""

from __future__ import annotations

import importlib
from typing import Any

from synthlink.errors import ConfigError
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
}


def available() -> list[str]:
    return sorted(_REGISTRY)


def synthesizer_class(name: str) -> type[Synthesizer]:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown synthesizer '{name}' (available: {', '.join(available())})")
    mod, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(mod), cls)


def get_synthesizer(name: str, **params: Any) -> Synthesizer:
    cls = synthesizer_class(name)
    try:
        return cls(**params)
    except TypeError as e:
        raise ConfigError(f"synthesizer '{name}': bad parameter ({e})") from None


__all__ = ["Synthesizer", "available", "get_synthesizer", "synthesizer_class"]

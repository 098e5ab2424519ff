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
    "files": "synthlink.synth.files:HandedOverFiles",
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


def register(name: str, target: str | type[Synthesizer], *, replace: bool = False) -> None:
    """Add a synthesizer to the registry: ``target`` is a class or ``"module:Class"`` (imported when
    first used). A name already taken is an error unless ``replace``. In-tree methods are one line
    in ``_REGISTRY``; plug-ins call this (studies, the command line and the report then know them)."""
    if name in _REGISTRY and not replace:
        raise ConfigError(f"a synthesizer named '{name}' is already registered")
    if isinstance(target, str):
        _REGISTRY[name] = target
    else:
        if not (isinstance(target, type) and issubclass(target, Synthesizer)):
            raise ConfigError(f"synthesizer '{name}': {target!r} is not a Synthesizer subclass")
        _REGISTRY[name] = f"{target.__module__}:{target.__qualname__}"


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


__all__ = ["Synthesizer", "available", "register", "unregister", "get_synthesizer", "synthesizer_class"]

"""Linkage methods and their registry. A new method is one module plus one line in ``_REGISTRY``."""

from __future__ import annotations

import importlib
from typing import Any

from synthlink.errors import ConfigError
from synthlink.link.base import Linker, Links, shuffled_link

_REGISTRY: dict[str, str] = {
    "identifier": "synthlink.link.identifier:IdentifierLinker",
    "exact": "synthlink.link.exact:ExactLinker",
    "distance": "synthlink.link.distance:DistanceLinker",
    "propensity": "synthlink.link.propensity:PropensityLinker",
    "hotdeck": "synthlink.link.hotdeck:HotDeckLinker",
    "probabilistic": "synthlink.link.probabilistic:ProbabilisticLinker",
}


def available() -> list[str]:
    return sorted(_REGISTRY)


def linker_class(name: str) -> type[Linker]:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown linker '{name}' (available: {', '.join(available())})")
    mod, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(mod), cls)


def get_linker(name: str, **params: Any) -> Linker:
    cls = linker_class(name)
    try:
        return cls(**params)
    except TypeError as e:
        raise ConfigError(f"linker '{name}': bad parameter ({e})") from None


__all__ = ["Linker", "Links", "available", "get_linker", "linker_class", "shuffled_link"]

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
    "bridge": "synthlink.link.bridge:BridgeLinker",
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


def register(name: str, target: str | type[Linker], *, replace: bool = False) -> None:
    """Add a linker to the registry: ``target`` is a class or ``"module:Class"`` (imported when
    first used). A name already taken is an error unless ``replace``. In-tree methods are one line
    in ``_REGISTRY``; plug-ins call this (studies, the command line and the report then know them)."""
    if name in _REGISTRY and not replace:
        raise ConfigError(f"a linker named '{name}' is already registered")
    if isinstance(target, str):
        _REGISTRY[name] = target
    else:
        if not (isinstance(target, type) and issubclass(target, Linker)):
            raise ConfigError(f"linker '{name}': {target!r} is not a Linker subclass")
        _REGISTRY[name] = f"{target.__module__}:{target.__qualname__}"


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


__all__ = ["Linker", "Links", "available", "register", "unregister", "get_linker", "linker_class", "shuffled_link"]

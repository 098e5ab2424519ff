"""Linkage methods and their registry. A new method is one module plus one line in ``_REGISTRY``."""

from __future__ import annotations

from typing import Any

from synthlink.link.base import Linker, Links, shuffled_link
from synthlink.registry import LazyRegistry

_REGISTRY: dict[str, str] = {
    "identifier": "synthlink.link.identifier:IdentifierLinker",
    "exact": "synthlink.link.exact:ExactLinker",
    "distance": "synthlink.link.distance:DistanceLinker",
    "propensity": "synthlink.link.propensity:PropensityLinker",
    "hotdeck": "synthlink.link.hotdeck:HotDeckLinker",
    "probabilistic": "synthlink.link.probabilistic:ProbabilisticLinker",
    "bridge": "synthlink.link.bridge:BridgeLinker",
}


_METHODS: LazyRegistry[Linker] = LazyRegistry("linker", Linker, _REGISTRY)


def available() -> list[str]:
    return _METHODS.available()


def linker_class(name: str) -> type[Linker]:
    return _METHODS.cls(name)


def get_linker(name: str, **params: Any) -> Linker:
    return _METHODS.get(name, **params)


def register(name: str, target: str | type[Linker], *, replace: bool = False) -> None:
    """Add a linker: ``target`` is a class or ``"module:Class"`` (see
    :meth:`synthlink.registry.LazyRegistry.register`)."""
    _METHODS.register(name, target, replace=replace)


def unregister(name: str) -> None:
    _METHODS.unregister(name)

__all__ = ["Linker", "Links", "available", "register", "unregister", "get_linker", "linker_class", "shuffled_link"]

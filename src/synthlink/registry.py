"""The lazy method registries of linkers and synthesizers: a name maps to ``"module:Class"``,
imported when first used (so optional extras cost nothing until a study names them)."""

from __future__ import annotations

import importlib
from typing import Any, Generic, TypeVar

from synthlink.errors import ConfigError

T = TypeVar("T")


class LazyRegistry(Generic[T]):
    """Methods of one ``kind`` ("linker", "synthesizer"), subclasses of ``base``."""

    def __init__(self, kind: str, base: type, entries: dict[str, str]) -> None:
        self.kind, self.base, self.entries = kind, base, entries

    def available(self) -> list[str]:
        return sorted(self.entries)

    def cls(self, name: str) -> type[T]:
        if name not in self.entries:
            raise ConfigError(f"unknown {self.kind} '{name}' (available: {', '.join(self.available())})")
        mod, cls = self.entries[name].split(":")
        found: type[T] = getattr(importlib.import_module(mod), cls)
        return found

    def get(self, name: str, **params: Any) -> T:
        cls = self.cls(name)
        try:
            return cls(**params)
        except TypeError as e:
            raise ConfigError(f"{self.kind} '{name}': bad parameter ({e})") from None

    def register(self, name: str, target: str | type[T], *, replace: bool = False) -> None:
        """Add a method: ``target`` is a class or ``"module:Class"`` (imported when first used). A
        name already taken is an error unless ``replace``. In-tree methods are one line in the
        registry's entries; plug-ins call this (studies, the command line and the report then
        know them)."""
        if name in self.entries and not replace:
            raise ConfigError(f"a {self.kind} named '{name}' is already registered")
        if isinstance(target, str):
            self.entries[name] = target
        elif isinstance(target, type) and issubclass(target, self.base):
            self.entries[name] = f"{target.__module__}:{target.__qualname__}"
        else:
            raise ConfigError(f"{self.kind} '{name}': {target!r} is not a {self.base.__name__} subclass")

    def unregister(self, name: str) -> None:
        self.entries.pop(name, None)

"""Config keys: an unknown key anywhere is a one-line error that names it and the closest valid one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from synthlink.errors import ConfigError


def closest(key: Any, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(key), sorted(valid), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def check_keys(d: Mapping[Any, Any], valid: Iterable[str], section: str) -> None:
    """Unknown keys of one mapping are a one-line ConfigError that names the key and the section
    and suggests the closest valid key (a typo such as ``secrets`` must not be silently ignored)."""
    valid = set(valid)
    unknown = sorted((k for k in d if k not in valid), key=str)
    if unknown:
        k = unknown[0]
        more = f" (and {', '.join(map(repr, map(str, unknown[1:])))})" if len(unknown) > 1 else ""
        raise ConfigError(f"{section}: unknown key '{k}'{more} ({closest(k, valid)}known: {', '.join(sorted(valid))})")



"""``--param NAME=VALUE`` parsing shared by the verbs that take method parameters."""

from __future__ import annotations

from typing import Any

import yaml

from synthlink.errors import ConfigError


def parse_value(text: str) -> Any:
    """A value read as YAML (so ``5``, ``0.5``, ``true``, ``null``, ``[a, b]``, JSON lists and
    mappings all work); ``none`` is None as well; anything else stays text. A value that starts
    like a list or mapping but does not parse is an error, not silently text."""
    t = text.strip()
    if t == "":
        return ""
    if t.lower() == "none":
        return None
    try:
        return yaml.safe_load(t)
    except yaml.YAMLError as e:
        if t[:1] in "[{":
            raise ConfigError(f"--param value {t!r} looks like a list or mapping but does not parse "
                              f"({str(e).splitlines()[0]})") from None
        return t


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``NAME=VALUE`` strings to a dict of parameters."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        k = k.strip()
        if not k.isidentifier():
            raise ConfigError(f"--param {item!r}: {k!r} is not a parameter name")
        out[k] = parse_value(v)
    return out

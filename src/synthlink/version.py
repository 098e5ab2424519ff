"""The installed package's version, from its metadata (pyproject.toml is the one place it is set)."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """``synthlink``'s version as installed; ``0+unknown`` when run from a source tree that was
    never installed (no metadata)."""
    try:
        return metadata.version("synthlink")
    except metadata.PackageNotFoundError:
        return "0+unknown"

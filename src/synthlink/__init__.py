"""synthlink: can independently synthesized registers be linked back into a useful joint dataset,
and what privacy risk does the linked result carry?

Small public surface; everything else lives in its stage module (io, split, synth, link,
reconstruct, evaluate, report), the stages as functions in :mod:`synthlink.pipeline`, and only
:mod:`synthlink.study` knows the whole order. ``Study`` loads lazily (it pulls in every stage).
"""

from __future__ import annotations

from typing import Any

from synthlink.errors import ConfigError, InputError, SchemaError, SynthlinkError
from synthlink.io import read_table, write_table
from synthlink.link import get_linker
from synthlink.split import SplitPlan, SplitResult, split
from synthlink.synth import get_synthesizer
from synthlink.version import version as _installed_version

__version__ = _installed_version()


def __getattr__(name: str) -> Any:
    if name in ("Study", "StudyResult"):
        from synthlink import study

        return getattr(study, name)
    raise AttributeError(f"module 'synthlink' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "InputError",
    "SchemaError",
    "SplitPlan",
    "SplitResult",
    "Study",
    "StudyResult",
    "SynthlinkError",
    "__version__",
    "get_linker",
    "get_synthesizer",
    "read_table",
    "split",
    "write_table",
]

"""synthlink: can independently synthesized registers be linked back into a useful joint dataset,
and what privacy risk does the linked result carry?

Small public surface; everything else lives in its stage module (io, split, synth, link,
reconstruct, evaluate, report) and only :mod:`synthlink.study` knows the whole order.
"""

from __future__ import annotations

from synthlink.errors import ConfigError, InputError, SchemaError, SynthlinkError
from synthlink.io import read_table, write_table
from synthlink.link import get_linker
from synthlink.split import SplitPlan, SplitResult, split
from synthlink.synth import get_synthesizer

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InputError",
    "SchemaError",
    "SplitPlan",
    "SplitResult",
    "SynthlinkError",
    "__version__",
    "get_linker",
    "get_synthesizer",
    "read_table",
    "split",
    "write_table",
]

"""A metric result: a named score with a direction, a range, a value and, where it is an
estimate, a confidence interval. A metric that fails inside a batch is recorded as an error entry
(``error`` set, ``value`` None), never a crash of the batch."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Goal = Literal["max", "min", "none"]


@dataclass
class Metric:
    name: str
    value: float | None
    goal: Goal = "none"
    low: float | None = None
    high: float | None = None
    ci: tuple[float, float] | None = None
    group: str = ""
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.value is not None and isinstance(self.value, float) and not math.isfinite(self.value):
            d["value"] = None
        return d


def safe_metric(name: str, group: str, fn: Callable[[], Metric | list[Metric]]) -> list[Metric]:
    """Run ``fn``; on failure return one error entry naming the exception."""
    try:
        out = fn()
    except Exception as e:
        last = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
        where = f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}" if last else ""
        return [Metric(name, None, group=group, error=f"{type(e).__name__}: {e}{where}")]
    return out if isinstance(out, list) else [out]

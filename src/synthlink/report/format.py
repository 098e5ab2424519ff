"""Number formatting for the report (the template's ``f`` and ``count`` filters) and the two small
readers every part of the view uses: a tolerant float and a tolerant path into nested dicts."""

from __future__ import annotations

import math
from typing import Any


def fmt(v: Any, digits: int = 3) -> str:
    """A value as the report prints it: None and non-finite numbers as "n/a", booleans as yes/no,
    integers (and whole floats of 100 or more) with thousands separators, other numbers with
    ``digits`` decimals, anything else as its text."""
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return "n/a"
        if isinstance(v, int) or float(v).is_integer() and abs(v) >= 100:
            return f"{int(v):,}"
        return f"{v:.{digits}f}"
    return str(v)


def count(v: Any) -> str:
    """A count or the mean of counts: whole numbers as ``1,359``, others with one decimal
    (``1,361.3``); None and non-finite numbers as "n/a"."""
    x = num(v)
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if x.is_integer() else f"{x:,.1f}"


def num(x: Any) -> float | None:
    """``x`` as a finite float, else None (also for text that is not a number)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def get_path(d: Any, *path: str) -> Any:
    """``d[path[0]][path[1]]...``, or None as soon as a step is not a dict."""
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d

"""A small per-process memo for results that depend only on train and control.

A study evaluates every linked table J* of a seed against the same train and control tables, so a
model fitted on train (the ML utility's reference fit) or train's Frechet bounds come out the same
for every J*. :func:`memoized` keeps the last :data:`MAX_ENTRIES` results per kind, keyed by a
content hash of the inputs (:func:`frame_key`, :func:`array_key`), never by object identity, so
a changed table is a miss. Values are deep-copied on the way in and out (unless the caller says it
only reads them): a caller may change what it gets back without touching the memo.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

#: results kept per kind (least recently used dropped first)
MAX_ENTRIES = 8

T = TypeVar("T")
STORE: dict[str, OrderedDict[Hashable, Any]] = {}


def frame_key(df: pd.DataFrame) -> str:
    """Content hash of a frame: its columns, dtypes (with the categories of categorical ones, in
    order), index and values."""
    h = hashlib.sha1()
    cats = [list(map(repr, t.categories)) if isinstance(t, pd.CategoricalDtype) else None for t in df.dtypes]
    h.update(repr((list(map(str, df.columns)), [str(t) for t in df.dtypes], cats, len(df))).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()


def array_key(a: np.ndarray) -> str:
    """Content hash of an array: dtype, shape and values (object arrays through their string
    values)."""
    h = hashlib.sha1()
    h.update(repr((str(a.dtype), a.shape)).encode())
    if a.dtype == object:
        h.update(pd.util.hash_array(np.asarray(a, dtype=object).astype(str)).tobytes())
    else:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def memoized(kind: str, key: Hashable, compute: Callable[[], T], *, copy_value: bool = True,
             keep: Callable[[T], bool] | None = None) -> T:
    """``compute()``, or a copy of its earlier result for the same ``kind`` and ``key``.
    ``copy_value=False`` shares the stored object itself (for values every caller only reads);
    a result for which ``keep`` is false is returned but not stored (too large, say)."""
    store = STORE.setdefault(kind, OrderedDict())
    if key in store:
        store.move_to_end(key)
        return copy.deepcopy(store[key]) if copy_value else store[key]
    value = compute()
    if keep is not None and not keep(value):
        return value
    store[key] = copy.deepcopy(value) if copy_value else value
    while len(store) > MAX_ENTRIES:
        store.popitem(last=False)
    return value


def clear() -> None:
    """Forget every memoized result."""
    STORE.clear()

"""What a bridge releases: the spec (which cross-register marginals, over which public domain),
and the release itself (noisy counts, its budget and how they were post-processed).

A **marginal** is a tuple of columns of the joint table that spans at least two parts (its cells
cross registers, which is what no single institution can release). Every column of a marginal has
a declared, public domain: ``categories`` for categorical columns, ``bins`` (edges) for numeric
ones. Nothing about the domain is read from the data, so the set of cells is the same for every
table and the counts alone carry the privacy cost (the DP guarantee covers the whole release).

Bins are left-closed, right-open intervals ``[e_i, e_{i+1})`` except the last, which is closed;
a value outside ``[e_0, e_last]`` is not covered (an error when binning, never silently dropped).
Cells are labelled ``"[lo, hi)"`` (numeric) or by the category's string (categorical). A column
listed in ``missing`` has one more level, :data:`MISSING`, for its missing values (a public
choice too: a column not listed there must have none).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError

#: the mechanisms a release may use (OpenDP's discrete Laplace: pure DP; discrete Gaussian: zCDP)
MECHANISMS = ("laplace", "gaussian")

#: the cell label of a missing value, for the columns a spec lists in ``missing``
MISSING = "(missing)"


@dataclass(frozen=True)
class BridgeSpec:
    """The public part of a bridge: marginals, the declared domain of their columns, the budget."""

    marginals: tuple[tuple[str, ...], ...]
    bins: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    categories: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    epsilon: float = 1.0
    mechanism: str = "laplace"
    delta: float | None = None
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.epsilon, (int, float)) or not math.isfinite(self.epsilon) or self.epsilon <= 0:
            raise ConfigError(f"bridge: epsilon must be a positive number, got {self.epsilon!r}")
        if self.mechanism not in MECHANISMS:
            raise ConfigError(f"bridge: mechanism must be one of {', '.join(MECHANISMS)}, got {self.mechanism!r}")
        if self.mechanism == "gaussian" and not (self.delta is not None and 0 < self.delta < 1):
            raise ConfigError("bridge: the gaussian mechanism needs a delta in (0, 1)")
        if not self.marginals:
            raise ConfigError("bridge: list at least one marginal")
        for m in self.marginals:
            if len(m) < 2 or len(set(m)) != len(m):
                raise ConfigError(f"bridge: marginal {list(m)} needs two or more distinct columns")
            for c in m:
                if c in self.bins and c in self.categories:
                    raise ConfigError(f"bridge: column '{c}' has both bins and categories")
                if c not in self.bins and c not in self.categories:
                    raise ConfigError(f"bridge: column '{c}' of marginal {list(m)} needs declared 'bins' "
                                      "(numeric) or 'categories' (categorical): the domain must be public")
        for c, edges in self.bins.items():
            e = [float(x) for x in edges]
            if len(e) < 2 or any(not math.isfinite(x) for x in e) or any(b <= a for a, b in zip(e, e[1:], strict=False)):
                raise ConfigError(f"bridge: bins of '{c}' must be two or more finite, increasing edges, got {list(edges)}")
        for c in self.missing:
            if c not in self.bins and c not in self.categories:
                raise ConfigError(f"bridge: 'missing' names '{c}', which has no declared bins or categories")
        for c, cats in self.categories.items():
            if not cats or len(set(map(str, cats))) != len(cats):
                raise ConfigError(f"bridge: categories of '{c}' must be a non-empty list of distinct values")

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(c for m in self.marginals for c in m))

    def levels(self, column: str) -> list[str]:
        """The cell labels of a column, in order (:data:`MISSING` last where it is declared)."""
        if column in self.bins:
            e = [float(x) for x in self.bins[column]]
            last = len(e) - 2
            out = [f"[{_num(a)}, {_num(b)}{']' if i == last else ')'}" for i, (a, b) in enumerate(zip(e, e[1:], strict=False))]
        else:
            out = [str(c) for c in self.categories[column]]
        return out + [MISSING] if column in self.missing else out

    def cells(self, marginal: Sequence[str]) -> pd.DataFrame:
        """Every cell of a marginal (the full cross product of its columns' levels), in order."""
        grids = np.meshgrid(*[np.arange(len(self.levels(c))) for c in marginal], indexing="ij")
        return pd.DataFrame({c: np.asarray(self.levels(c), dtype=object)[g.ravel()] for c, g in zip(marginal, grids, strict=True)})

    def check_parts(self, parts: Mapping[str, Sequence[str]], common: Sequence[str] = ()) -> None:
        """Every column of the spec is a column of the parts, and every marginal crosses parts
        (it has own columns of at least two parts)."""
        owner = {c: p for p, cols in parts.items() for c in cols}
        known = set(owner) | set(common)
        for m in self.marginals:
            missing = [c for c in m if c not in known]
            if missing:
                raise ConfigError(f"bridge: marginal {list(m)} names {', '.join(map(repr, missing))}, not a column of the "
                                  f"parts ({', '.join(sorted(known))})")
            if len({owner[c] for c in m if c in owner}) < 2:
                raise ConfigError(f"bridge: marginal {list(m)} does not cross registers (its columns must come from "
                                  "at least two parts; one institution can release it alone)")

    def to_dict(self) -> dict[str, Any]:
        return {"marginals": [list(m) for m in self.marginals],
                "bins": {c: [float(x) for x in e] for c, e in self.bins.items()},
                "categories": {c: list(v) for c, v in self.categories.items()},
                "epsilon": float(self.epsilon), "mechanism": self.mechanism, "delta": self.delta,
                "missing": list(self.missing)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "bridge") -> BridgeSpec:
        known = {"marginals", "bins", "categories", "epsilon", "mechanism", "delta", "missing"}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, extra))} (known: {', '.join(sorted(known))})")
        if "epsilon" not in d:
            raise ConfigError(f"{where}: 'epsilon' is required (the total privacy budget of the release)")
        margs = d.get("marginals") or []
        if not isinstance(margs, list) or not all(isinstance(m, list) for m in margs):
            raise ConfigError(f"{where}: 'marginals' must be a list of column lists")
        return cls(tuple(tuple(str(c) for c in m) for m in margs),
                   {str(c): tuple(e) for c, e in (d.get("bins") or {}).items()},
                   {str(c): tuple(v) for c, v in (d.get("categories") or {}).items()},
                   d["epsilon"], str(d.get("mechanism", "laplace")), d.get("delta"),
                   tuple(str(c) for c in d.get("missing") or ()))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def category_key(x: Any) -> str:
    """How a value is matched to a declared category: its string, a whole float as the integer
    (a column of whole numbers with a missing value is read from CSV as floats: 3.0 is category 3)."""
    if isinstance(x, (float, np.floating)) and math.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return str(x)


def binned(frame: pd.DataFrame, spec: BridgeSpec, columns: Sequence[str], where: str = "table") -> pd.DataFrame:
    """``columns`` of ``frame`` as cell labels of the spec's declared domain (numeric by its bins,
    categorical by its categories, both as strings; see :func:`category_key`). A value the domain does not cover (outside
    the bins, an undeclared category, a missing value) is an :class:`InputError` naming the column
    and how many rows."""
    out = {}
    for c in columns:
        if c not in frame.columns:
            raise InputError(f"{where}: column '{c}' of the bridge spec is missing")
        s = frame[c]
        labels = np.asarray(spec.levels(c), dtype=object)
        if c in spec.bins:
            e = np.asarray([float(x) for x in spec.bins[c]])
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            idx = np.searchsorted(e, v, side="right") - 1
            idx = np.where(v == e[-1], len(e) - 2, idx)
            bad = ~np.isfinite(v) | (idx < 0) | (idx > len(e) - 2)
            null = np.isnan(v) & s.isna().to_numpy()
        else:
            pos = {category_key(k): i for i, k in enumerate(spec.categories[c])}
            null = s.isna().to_numpy()
            idx = np.array([pos.get(category_key(x), -1) if not n else -1 for x, n in zip(s, null, strict=True)], dtype=np.int64)
            bad = idx < 0
        if c in spec.missing:  # the declared level of missing values, last
            idx = np.where(null, len(labels) - 1, idx)
            bad = bad & ~null
        if bad.any():
            raise InputError(f"{where}: column '{c}': {int(bad.sum())} row(s) outside the bridge's declared "
                             f"{'bins' if c in spec.bins else 'categories'} (widen them; values are never dropped)")
        out[c] = labels[idx]
    return pd.DataFrame(out, index=frame.index)


@dataclass(frozen=True)
class BridgeRelease:
    """What leaves the secure environment: for each marginal, every cell of its declared domain
    with a non-negative integer ``count``; the spec; the budget as spent (per marginal and in
    all); and the post-processing applied (a list of plain sentences). No record, no identifier."""

    spec: BridgeSpec
    tables: Mapping[tuple[str, ...], pd.DataFrame]
    budget: Mapping[str, Any]
    post_processing: tuple[str, ...] = ()
    n_records: int | None = None  # the noisy total, if released (else None)

    def table(self, marginal: Sequence[str]) -> pd.DataFrame:
        return self.tables[tuple(marginal)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "synthlink bridge release", "version": 1, "spec": self.spec.to_dict(),
                "budget": dict(self.budget), "post_processing": list(self.post_processing),
                "n_records": self.n_records,
                "tables": [{"columns": list(m), "cells": t[list(m)].astype(str).to_numpy().tolist(),
                            "counts": [int(x) for x in t["count"]]} for m, t in self.tables.items()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "release") -> BridgeRelease:
        if d.get("kind") != "synthlink bridge release":
            raise InputError(f"{where}: not a synthlink bridge release")
        spec = BridgeSpec.from_dict(d["spec"], f"{where}: spec")
        tables = {}
        for t in d["tables"]:
            m = tuple(t["columns"])
            if m not in spec.marginals:
                raise InputError(f"{where}: table {list(m)} is not a marginal of its spec")
            frame = pd.DataFrame(t["cells"], columns=list(m), dtype=object)
            frame["count"] = np.asarray(t["counts"], dtype=np.int64)
            if (frame["count"] < 0).any():
                raise InputError(f"{where}: table {list(m)} has negative counts")
            tables[m] = frame
        return cls(spec, tables, dict(d.get("budget") or {}), tuple(d.get("post_processing") or ()), d.get("n_records"))

    def save(self, path: str | Path) -> Path:
        from synthlink.io import write_json

        return write_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> BridgeRelease:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{p}: release file not found")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except ValueError as e:
            raise InputError(f"{p}: not a JSON release file ({e})") from None
        return cls.from_dict(d, str(p))

    def check_parts(self, left: pd.DataFrame, right: pd.DataFrame, where: str = "parts") -> None:
        """Every column of the spec is in one of the two tables to link (the release's spec must
        match the parts)."""
        missing = [c for c in self.spec.columns if c not in left.columns and c not in right.columns]
        if missing:
            raise InputError(f"{where}: the release's spec names {', '.join(map(repr, missing))}, in neither part")

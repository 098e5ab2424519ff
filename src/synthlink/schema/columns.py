"""Column roles and the schema of a joint table, with validation helpers.

Roles
    ``identifier``  the shared (national) identifier; never synthesized, never reported.
    ``common``      variables held by every part (age, sex, region...): the linking variables and,
                    by the same token, quasi-identifiers.
    ``own``         a variable held by one part only (``part`` names which).

Kinds
    ``categorical`` unordered categories; ``ordinal`` ordered categories; ``numeric``; ``date``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from synthlink.errors import SchemaError
from synthlink.schema.kinds import Kind, infer_kind


class Role(StrEnum):
    IDENTIFIER = "identifier"
    COMMON = "common"
    OWN = "own"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    role: Role = Role.OWN
    part: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": str(self.kind), "role": str(self.role), "part": self.part}


@dataclass
class Schema:
    """The columns of a joint table with their roles and kinds."""

    columns: dict[str, Column] = field(default_factory=dict)

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def infer(
        cls,
        df: pd.DataFrame,
        identifier: str | None = None,
        common: Iterable[str] = (),
        parts: Mapping[str, Iterable[str]] | None = None,
        kinds: Mapping[str, str] | None = None,
    ) -> Schema:
        kinds = dict(kinds or {})
        for name, k in kinds.items():
            if name not in df.columns:
                raise SchemaError(f"column '{name}': declared kind '{k}' but the table has no such column")
            try:
                Kind(k)
            except ValueError:
                raise SchemaError(
                    f"column '{name}': unknown kind '{k}' (use one of {', '.join(x.value for x in Kind)})"
                ) from None
        owner: dict[str, str] = {}
        for pname, cols in (parts or {}).items():
            for c in cols:
                owner[c] = pname
        common = list(common)
        out: dict[str, Column] = {}
        for name in df.columns:
            if name == identifier:
                role, part = Role.IDENTIFIER, None
            elif name in common:
                role, part = Role.COMMON, None
            elif name in owner:
                role, part = Role.OWN, owner[name]
            else:
                role, part = Role.OWN, None
            kind = Kind(kinds[name]) if name in kinds else infer_kind(df[name])
            out[str(name)] = Column(str(name), kind, role, part)
        return cls(out)

    # -- queries ------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def identifier(self) -> str | None:
        for c in self.columns.values():
            if c.role is Role.IDENTIFIER:
                return c.name
        return None

    @property
    def common(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.role is Role.COMMON]

    def own(self, part: str) -> list[str]:
        return [c.name for c in self.columns.values() if c.role is Role.OWN and c.part == part]

    def kind(self, name: str) -> Kind:
        return self.columns[name].kind

    def numeric(self, names: Iterable[str] | None = None) -> list[str]:
        names = self.names if names is None else list(names)
        return [n for n in names if n in self.columns and self.columns[n].kind in (Kind.NUMERIC, Kind.DATE)]

    def categorical(self, names: Iterable[str] | None = None) -> list[str]:
        names = self.names if names is None else list(names)
        return [
            n for n in names if n in self.columns and self.columns[n].kind in (Kind.CATEGORICAL, Kind.ORDINAL)
        ]

    def subset(self, names: Iterable[str]) -> Schema:
        return Schema({n: self.columns[n] for n in names if n in self.columns})

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns.values()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Schema:
        cols = {}
        for c in d["columns"]:
            cols[c["name"]] = Column(c["name"], Kind(c["kind"]), Role(c["role"]), c.get("part"))
        return cls(cols)


# -- validation helpers ------------------------------------------------------------------------

def require_columns(df: pd.DataFrame, names: Iterable[str], where: str) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise SchemaError(f"{where}: missing column(s) {', '.join(repr(m) for m in missing)}")


def check_identifier(df: pd.DataFrame, identifier: str, where: str) -> None:
    """The identifier column must exist, be non-null and unique."""
    if identifier not in df.columns:
        raise SchemaError(f"{where}: identifier column '{identifier}' is missing")
    ids = df[identifier]
    n_null = int(ids.isna().sum())
    if n_null:
        raise SchemaError(f"{where}: identifier column '{identifier}' has {n_null} empty value(s)")
    n_dup = int(ids.duplicated().sum())
    if n_dup:
        raise SchemaError(
            f"{where}: identifier column '{identifier}' has {n_dup} duplicated value(s); "
            "each person must appear once"
        )


def check_not_empty(df: pd.DataFrame, where: str) -> None:
    if len(df) == 0:
        raise SchemaError(f"{where}: the table has no rows")
    if len(df.columns) == 0:
        raise SchemaError(f"{where}: the table has no columns")

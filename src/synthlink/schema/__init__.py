"""The schema of a study's tables: column roles, kinds (declared over inferred) and shared
encodings. Every stage resolves kinds here, so a declared kind reaches them all."""

from synthlink.schema.cells import joint_codes
from synthlink.schema.columns import (
    Column,
    Role,
    Schema,
    check_identifier,
    check_not_empty,
    require_columns,
)
from synthlink.schema.kinds import (
    MAX_INT_CATEGORIES,
    Kind,
    coarse_kinds,
    declared_kind,
    infer_kind,
    is_numeric_kind,
    resolve_kind,
    resolve_kinds,
)

__all__ = [
    "MAX_INT_CATEGORIES",
    "Column",
    "Kind",
    "Role",
    "Schema",
    "check_identifier",
    "check_not_empty",
    "coarse_kinds",
    "declared_kind",
    "infer_kind",
    "is_numeric_kind",
    "joint_codes",
    "require_columns",
    "resolve_kind",
    "resolve_kinds",
]

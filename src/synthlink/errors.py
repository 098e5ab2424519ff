"""Exception types. Every error synthlink raises on purpose derives from :class:`SynthlinkError`.

The command line turns an :class:`InputError` (or any ``SynthlinkError``) into one line on stderr and
exit code 2, with no traceback. Messages name the file, the column and the problem.
"""

from __future__ import annotations


class SynthlinkError(Exception):
    """Root of all synthlink errors."""


class InputError(SynthlinkError, ValueError):
    """Bad input data: a missing file, column, duplicate identifier, empty table, ..."""


class SchemaError(InputError):
    """Columns, roles or types that do not agree with the declared schema or split plan."""


class ConfigError(SynthlinkError, ValueError):
    """A configuration (split plan, study config, parameters) that is invalid."""


class PrivacyError(SynthlinkError):
    """An operation would expose real identifiers or records (for example synthetic files that carry
    values of the real identifier column)."""


class MethodUnavailableError(SynthlinkError, ImportError):
    """An optional method whose extra is not installed."""

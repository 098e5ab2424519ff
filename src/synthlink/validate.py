"""Input validation at the boundary: catch messy institutional files before anything is split,
synthesized or linked, with one clear message naming the table, the column and the problem.

:func:`validate_table` checks one table; :func:`check_parts_agree` checks that parts (registers)
handed over separately agree on their common variables.

Errors (raised, :class:`~synthlink.errors.InputError` / :class:`~synthlink.errors.SchemaError`)
    * an empty table (no rows or no columns);
    * the identifier missing, empty or duplicated;
    * **mixed types** in a column: Python numbers and strings in one object column; or a text
      column whose values are mostly numbers with some text (``34``, ``41``, ``unknown``) unless
      the column is declared ``categorical``/``ordinal``; or any text in a column declared
      ``numeric``. The message gives an example of each type (never a value of the identifier);
    * **infinity** in a numeric column (the count is given; ``NaN`` is allowed and means missing);
    * **very large integers**: an integer column with a value beyond the float64 safe integer range
      (:data:`SAFE_INTEGER` = 2**53 - 1). Synthesizers, linkers and metrics compute in float64, where
      such values silently merge with their neighbours (the exact linker would match 2**53 and
      2**53 + 1), so this is an error: declare the column ``categorical`` and store it as text, or
      rescale it. The identifier is exempt (it is only ever joined, never converted).
    * parts whose common variables disagree in type, or whose category labels mostly do not match
      (``F``/``M`` against ``female``/``male``): :func:`check_parts_agree`.

Warnings (returned, and logged when ``log=True``; they never quote data values)
    * a column with no value at all (all null), or a single distinct value: they carry no
      information; synthesizers and linkers accept them (a constant is sampled as that constant, an
      all-null column as nulls, and rows with a missing linking value do not link);
    * **extreme cardinality**: a categorical column other than the identifier with more than
      :data:`HIGH_CARDINALITY` of its (at least :data:`MIN_ROWS_CARDINALITY`) non-null values distinct:
      probably a second identifier (drop it) or a number stored as text (declare it ``numeric``);
    * **very large floats**: a float column with values of magnitude :data:`LARGE_FLOAT` or more
      (probably a code or a wrong unit; float64 already holds them, so nothing changes silently);
    * a text column that is mostly text with a few numeric-looking values (treated as categorical);
    * category labels seen in one part only, on a minority of rows (:func:`check_parts_agree`).

Wrong encodings are refused when the file is read (:func:`synthlink.io.read_table`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import InputError, SchemaError
from synthlink.schema import Kind, Schema, check_identifier, check_not_empty

__all__ = [
    "HIGH_CARDINALITY", "KEY_DIGITS", "LARGE_FLOAT", "MISMATCH_SHARE", "MIN_ROWS_CARDINALITY", "SAFE_INTEGER",
    "check_parts_agree", "identifier_like_columns", "validate_table",
]

_log = logging.getLogger("synthlink")

#: largest integer float64 holds exactly together with all smaller ones (2**53 - 1)
SAFE_INTEGER = 2**53 - 1
#: float magnitude from which a warning is given
LARGE_FLOAT = 1e15
#: share of distinct values above which a categorical column is flagged as identifier-like
HIGH_CARDINALITY = 0.5
#: the cardinality warning needs at least this many non-null values (tiny tables are all distinct)
MIN_ROWS_CARDINALITY = 20
#: share of a part's rows whose label the other part never uses, above which labels "disagree"
MISMATCH_SHARE = 0.2

_CATEGORICAL = (Kind.CATEGORICAL, Kind.ORDINAL)


def _show(v: Any, width: int = 24) -> str:
    """A short, quoted rendering of one example value."""
    t = repr(v.item() if isinstance(v, np.generic) else v)
    return t if len(t) <= width else t[: width - 3] + "..."


def _labels(values: list[Any], k: int = 5) -> str:
    shown = ", ".join(_show(v) for v in values[:k])
    return shown + (f" (+{len(values) - k} more)" if len(values) > k else "")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _declared_kinds(schema: Schema | Mapping[str, str] | None) -> dict[str, Kind]:
    if schema is None:
        return {}
    if isinstance(schema, Schema):
        return {n: schema.kind(n) for n in schema.names}
    out = {}
    for name, k in schema.items():
        try:
            out[str(name)] = Kind(k)
        except ValueError:
            raise SchemaError(f"column '{name}': unknown kind '{k}' (use one of {', '.join(x.value for x in Kind)})") from None
    return out


def validate_table(
    df: pd.DataFrame,
    where: str,
    schema: Schema | Mapping[str, str] | None = None,
    *,
    identifier: str | None = None,
    log: bool = False,
) -> list[str]:
    """Check one table; raise on errors, return warnings (see the module doc for the list).

    ``where`` names the table in messages (usually its file). ``schema`` gives the kinds the user
    declared, as a :class:`~synthlink.schema.Schema` or a ``{column: kind}`` mapping; columns it does
    not name are judged from their values. ``identifier`` (or the schema's identifier) must be
    present, non-null and unique; its values are never quoted. With ``log=True`` the warnings are
    also logged (logger ``synthlink``), only once every check has passed."""
    check_not_empty(df, where)
    kinds = _declared_kinds(schema)
    ident = identifier if identifier is not None else (schema.identifier if isinstance(schema, Schema) else None)
    if ident is not None:
        check_identifier(df, ident, where)
    warnings: list[str] = []
    for name in df.columns:
        if name == ident:
            continue
        warnings += _check_column(df[name], str(name), where, kinds.get(str(name)))
    if log:
        for w in warnings:
            _log.warning("%s", w)
    return warnings


def _check_column(s: pd.Series, name: str, where: str, declared: Kind | None) -> list[str]:
    col = f"{where}: column '{name}'"
    nonnull = s.dropna()
    if len(nonnull) == 0:
        return [f"{col} is empty in every row (all null); it carries no information"]
    warnings: list[str] = []
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        pass
    elif pd.api.types.is_numeric_dtype(dtype):
        warnings += _check_numeric(nonnull, col, declared)
    elif isinstance(dtype, pd.CategoricalDtype):
        pass
    else:
        warnings += _check_text(nonnull, col, declared)
    n_distinct = nonnull.nunique()
    if n_distinct == 1:
        warnings.append(f"{col} holds a single value in every non-null row; it carries no information")
    is_categorical = declared in _CATEGORICAL if declared is not None else (
        not pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_datetime64_any_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype))
    if is_categorical and len(nonnull) >= MIN_ROWS_CARDINALITY and n_distinct > HIGH_CARDINALITY * len(nonnull):
        warnings.append(
            f"{col} is categorical with {n_distinct:,} distinct values in {len(nonnull):,} rows "
            f"({n_distinct / len(nonnull):.0%}); it looks like an identifier (drop it or make it the identifier) "
            "or a number stored as text (declare its kind numeric)")
    return warnings


def _check_numeric(nonnull: pd.Series, col: str, declared: Kind | None) -> list[str]:
    if pd.api.types.is_integer_dtype(nonnull.dtype):
        v = nonnull.to_numpy()
        big = int(((v > SAFE_INTEGER) | (v < -SAFE_INTEGER)).sum()) if v.dtype.kind == "i" else int((v > SAFE_INTEGER).sum())
        if big:
            raise SchemaError(
                f"{col} has {big:,} integer value(s) beyond the float64 safe range (+/-2**53); "
                "methods compute in float64 and would merge distinct values: store it as text and declare "
                "it categorical, or rescale it")
        return []
    v = nonnull.to_numpy(dtype="float64")
    n_inf = int(np.isinf(v).sum())
    if n_inf:
        raise InputError(
            f"{col} has {n_inf:,} infinite value(s); use an empty cell for a missing value")
    n_big = int((np.abs(v) >= LARGE_FLOAT).sum())
    if n_big:
        return [f"{col} has {n_big:,} value(s) of magnitude 1e15 or more; probably a code (declare it categorical) "
                "or a wrong unit"]
    return []


def _check_text(nonnull: pd.Series, col: str, declared: Kind | None) -> list[str]:
    if nonnull.dtype == object:
        inferred = pd.api.types.infer_dtype(nonnull, skipna=True)
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            # Python numbers in an object column (e.g. integers too large for int64 in a CSV)
            num = pd.to_numeric(nonnull, errors="coerce")
            big = int((num.abs() > SAFE_INTEGER).sum())
            if big:
                raise SchemaError(
                    f"{col} has {big:,} numeric value(s) beyond the float64 safe range (+/-2**53); "
                    "store it as text and declare it categorical, or rescale it")
            if np.isinf(num.to_numpy(dtype="float64")).any():
                raise InputError(f"{col} has {int(np.isinf(num.to_numpy(dtype='float64')).sum()):,} infinite value(s); "
                                 "use an empty cell for a missing value")
            return []
        if inferred not in ("string", "empty"):
            uniq = pd.unique(nonnull)
            groups: dict[str, list[Any]] = {}
            for u in uniq:  # distinct values only
                t = "number" if _is_number(u) else "text" if isinstance(u, str) else type(u).__name__
                groups.setdefault(t, []).append(u)
            if len(groups) > 1:
                ex = "; ".join(f"{t} (e.g. {_show(vals[0])})" for t, vals in groups.items())
                raise SchemaError(f"{col} mixes types: {ex}; make every value of one type")
            return []
    # text values: do some look like numbers?
    vc = nonnull.value_counts(sort=False)
    num = pd.to_numeric(pd.Series(vc.index.astype(str), dtype=object).str.strip(), errors="coerce")
    is_num = num.notna().to_numpy()
    if not is_num.any() or is_num.all():
        if is_num.all() and declared is Kind.NUMERIC:
            return [f"{col} is declared numeric but stored as text; it will be converted"]
        return []
    counts = vc.to_numpy()
    n_num, n_text = int(counts[is_num].sum()), int(counts[~is_num].sum())
    ex_num = vc.index[is_num][0]
    ex_text = vc.index[~is_num][0]
    detail = (f"{n_num:,} numeric value(s) (e.g. {_show(ex_num)}) and {n_text:,} text value(s) "
              f"(e.g. {_show(ex_text)})")
    if declared in _CATEGORICAL:
        return []
    if declared is Kind.NUMERIC or (declared is None and n_num >= n_text):
        raise SchemaError(
            f"{col} mixes types: {detail}; if the text marks missing values, read it as missing "
            f"(study config: data: {{na_values: [{_show(str(ex_text))}]}}), "
            "else declare the column categorical in the split plan's kinds")
    return [f"{col} mixes {detail}; it is treated as categorical"]


def _family(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "booleans"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "dates"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "text" if pd.api.types.is_string_dtype(s.dtype.categories.dtype) or s.dtype.categories.dtype == object else "numbers"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "numbers"
    nonnull = s.dropna()
    if s.dtype == object and len(nonnull) and pd.api.types.infer_dtype(nonnull, skipna=True) in ("integer", "floating", "mixed-integer-float"):
        return "numbers"
    return "text"


def _label_key(v: Any) -> Any:
    """Labels compared across parts: 1 and 1.0 agree."""
    if _is_number(v) and float(v).is_integer():
        return int(v)
    return v


def check_parts_agree(parts: Mapping[str, pd.DataFrame], common: list[str] | tuple[str, ...]) -> list[str]:
    """Check that parts agree on their common variables; raise on disagreement, return warnings.

    Errors: a common column missing from a part; a common column holding numbers in one part and
    text (or dates, booleans) in another; category labels that mostly do not match: more than
    :data:`MISMATCH_SHARE` of one part's rows carry labels the other part never uses (``F``/``M``
    against ``female``/``male``, or codes 1/2 against 0/1). Warnings: labels seen in one part only,
    on fewer rows. Labels are compared for text, boolean and categorical columns, and for integer
    columns with at most 12 distinct values (codes). Messages quote at most five labels per side.
    """
    names = list(parts)
    warnings: list[str] = []
    for c in common:
        for p in names:
            if c not in parts[p].columns:
                raise SchemaError(f"part '{p}': common column '{c}' is missing")
        fam = {p: _family(parts[p][c]) for p in names if parts[p][c].notna().any()}
        if len(set(fam.values())) > 1:
            desc = ", ".join(f"part '{p}' holds {f}" for p, f in fam.items())
            raise SchemaError(f"common column '{c}': parts disagree on its type: {desc}")
        for a, b in combinations([p for p in names if p in fam], 2):
            sa, sb = parts[a][c].dropna(), parts[b][c].dropna()
            if fam[a] == "numbers":
                if not (_few_integer_codes(sa) and _few_integer_codes(sb)):
                    continue
            if fam[a] == "dates":
                continue
            va = sa.map(_label_key).value_counts() if fam[a] == "numbers" else sa.astype(str).value_counts()
            vb = sb.map(_label_key).value_counts() if fam[b] == "numbers" else sb.astype(str).value_counts()
            only_a = [v for v in va.index if v not in vb.index]
            only_b = [v for v in vb.index if v not in va.index]
            if not only_a and not only_b:
                continue
            share_a = float(va[only_a].sum()) / max(1, int(va.sum()))
            share_b = float(vb[only_b].sum()) / max(1, int(vb.sum()))
            msg = (f"common column '{c}': category labels differ between parts: only in '{a}': "
                   f"{_labels(only_a) or 'none'}; only in '{b}': {_labels(only_b) or 'none'}")
            if fam[a] == "text":
                norm = lambda idx: {str(x).strip().casefold() for x in idx}  # noqa: E731
                if norm(va.index) == norm(vb.index):
                    msg += " (they differ only in case or spaces)"
            if max(share_a, share_b) > MISMATCH_SHARE:
                raise SchemaError(msg + f" ({share_a:.0%} and {share_b:.0%} of rows); recode one part to the other's labels")
            warnings.append(msg + f" ({share_a:.1%} and {share_b:.1%} of rows; linkage cannot match those rows on '{c}')")
    return warnings


def _few_integer_codes(s: pd.Series, max_codes: int = 12) -> bool:
    if not len(s):
        return False
    v = s.to_numpy(dtype="float64")
    return bool(np.all(np.isfinite(v)) and np.all(np.mod(v, 1) == 0) and s.nunique() <= max_codes)


#: integer columns of at least this many digits, all of one width and distinct, look like codes
KEY_DIGITS = 6


def identifier_like_columns(df: pd.DataFrame, declared: Any = (), min_rows: int = 20) -> list[tuple[str, str]]:
    """Columns that are, or look like, an identifier: ``(column, why)`` pairs.

    A column is identifier-like when it is **declared** (``declared``: the split plan's identifier,
    ``--identifier``) or when, on a table of at least ``min_rows`` rows, it is **unique and
    key-shaped**: a distinct non-null value on every row and either text (not a categorical dtype;
    the rule of :func:`synthlink.synth.cart.check_identifier_like`) or whole numbers that are all
    of one width of at least :data:`KEY_DIGITS` digits (a 13-digit matricule read from CSV as an
    integer) or a run of consecutive numbers (row numbers). Measured values that happen to be
    distinct (wages, hours in float) are not key-shaped. Values are never quoted."""
    names = {str(d) for d in ([declared] if isinstance(declared, str) else declared or ()) if d}
    out: list[tuple[str, str]] = [(str(c), "is the declared identifier") for c in df.columns if str(c) in names]
    if len(df) < min_rows:
        return out
    for c in df.columns:
        if str(c) in names:
            continue
        s = df[c]
        if s.isna().any() or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s.dtype) \
                or pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
            continue
        if s.nunique() != len(s):
            continue
        if pd.api.types.is_integer_dtype(s.dtype):
            v = s.to_numpy(dtype="int64")
            width = np.char.str_len(np.abs(v).astype(str))
            if (width.min() == width.max() and width.min() >= KEY_DIGITS) or int(v.max() - v.min()) == len(v) - 1:
                out.append((str(c), "has a distinct whole number of one width on every row"
                            if width.min() == width.max() and width.min() >= KEY_DIGITS
                            else "numbers every row consecutively"))
        elif pd.api.types.infer_dtype(s, skipna=True) in ("string", "mixed", "bytes"):
            out.append((str(c), "has a distinct text value on every row"))
    return out

"""Statistical disclosure control for tables shown in reports: small-cell suppression.

The usual threshold rule of national statistical offices: a cell of a frequency table (a
cross-tabulation of real records) that counts fewer than ``threshold`` persons (default
:data:`DEFAULT_THRESHOLD` = 10) is not published, because a small cell can single a person out
(a count of 1 in "canton x age x nationality" is one identifiable person) or disclose an attribute
of a small group. Empty cells (count 0) are published by default: they are usually structural and
the rule is about small groups of real people; set ``mask_zero=True`` to suppress them too.

Suppression masks the count and every column derived from it (shares, percentages, rates) on the
same row, and flags the row in a ``suppressed`` column so the report can print a symbol ("<10")
instead of a number.

Secondary suppression: when a table's total is published (the default assumption), a single
suppressed cell in a group can be recovered by subtraction. With ``secondary=True`` (default), a
group (the whole table, or each group of ``by``) with exactly one primary-suppressed cell also
gets its smallest other non-zero cell suppressed. This is the simple rule for one-dimensional
margins; complex multi-way tables need a dedicated tool (tau-argus, sdcTable).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthlink.errors import InputError

__all__ = ["DEFAULT_THRESHOLD", "SUPPRESSED", "suppress_small_cells", "suppress_small_shares"]

#: the usual statistical disclosure control threshold (cells below it are suppressed)
DEFAULT_THRESHOLD = 10
#: name of the flag column added to the output
SUPPRESSED = "suppressed"


def suppress_small_cells(
    table: pd.DataFrame,
    count_col: str,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    derived: Sequence[str] | None = None,
    by: Sequence[str] | None = None,
    secondary: bool = True,
    mask_zero: bool = False,
) -> pd.DataFrame:
    """A copy of ``table`` where cells with ``0 < count < threshold`` are masked (missing).

    ``derived``: columns computed from the count (shares, percentages); masked on the same rows.
    Default: every other numeric column whose name contains ``share``, ``pct``, ``percent``,
    ``prop`` or ``rate``. ``by``: columns defining the groups whose totals are published (for
    secondary suppression); default the whole table. The result has a boolean ``suppressed`` column
    (True where the row was masked, by the primary or the secondary rule); the count column becomes
    a nullable integer (``Int64``) when it held integers."""
    if count_col not in table.columns:
        raise InputError(f"suppress_small_cells: the table has no count column '{count_col}'")
    if int(threshold) != threshold or threshold < 1:
        raise InputError(f"suppress_small_cells: threshold must be a positive whole number, got {threshold!r}")
    if derived is None:
        keys = ("share", "pct", "percent", "prop", "rate")
        derived = [c for c in table.columns if c != count_col and pd.api.types.is_numeric_dtype(table[c])
                   and not pd.api.types.is_bool_dtype(table[c]) and any(k in str(c).lower() for k in keys)]
    missing = [c for c in [*derived, *(by or [])] if c not in table.columns]
    if missing:
        raise InputError(f"suppress_small_cells: the table has no column(s) {', '.join(map(repr, missing))}")
    counts = pd.to_numeric(table[count_col], errors="raise").to_numpy(dtype="float64")
    if np.any(counts[~np.isnan(counts)] < 0):
        raise InputError(f"suppress_small_cells: column '{count_col}' has negative counts")
    low = 0 if mask_zero else 1
    primary = (counts >= low) & (counts < threshold)
    mask = primary.copy()
    if secondary:
        groups = (np.zeros(len(table), dtype=np.int64) if not by
                  else table.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy())
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            if int(primary[rows].sum()) != 1:
                continue
            cand = rows[~primary[rows] & (counts[rows] > 0)]
            if len(cand):
                mask[cand[np.argmin(counts[cand])]] = True  # smallest other cell; first one on ties
    out = table.copy()
    col = out[count_col]
    if pd.api.types.is_integer_dtype(col) and not isinstance(col.dtype, pd.ArrowDtype):
        col = col.astype("Int64")
    elif not pd.api.types.is_float_dtype(col):
        col = col.astype("Float64")
    out[count_col] = col.mask(mask)
    for c in derived:
        d = out[c]
        if pd.api.types.is_integer_dtype(d):
            d = d.astype("Int64")
        out[c] = d.mask(mask)
    out[SUPPRESSED] = mask
    return out


def suppress_small_shares(
    table: pd.DataFrame,
    share_col: str,
    n: int,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    derived: Sequence[str] = (),
    by: Sequence[str] | None = None,
    secondary: bool = True,
    mask_zero: bool = False,
) -> pd.DataFrame:
    """The same rule for tables that hold shares of ``n`` real records instead of counts (for
    example the cell shares of a cross-tabulation of the training data): the implied count is
    ``round(share * n)``. ``share_col`` and ``derived`` are masked; no count column is added."""
    if share_col not in table.columns:
        raise InputError(f"suppress_small_shares: the table has no share column '{share_col}'")
    tmp = "__implied_count__"
    t = table.assign(**{tmp: np.rint(pd.to_numeric(table[share_col]).to_numpy(dtype="float64") * n)})
    out = suppress_small_cells(t, tmp, threshold, derived=[share_col, *derived], by=by,
                               secondary=secondary, mask_zero=mask_zero)
    return out.drop(columns=[tmp])

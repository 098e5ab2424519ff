"""The user's own synthetic files ("bring your own"): the normal case when each institution
synthesizes its register on its own machines with its own tool.

``load_synthetic(path, reference, identifier=..., real_ids=...)`` reads a CSV or Parquet file (or
takes a frame) and checks it against the part it stands for, given either as the real part's
frame (columns, types and category sets) or as a :class:`~synthlink.schema.Schema` (columns and
kinds only). It returns the synthetic frame, cast to the reference types, and a
:class:`SyntheticFileReport`.

Checks
    * every reference column must be present (:class:`SchemaError` naming the missing ones); a
      column the reference does not have is an error too, except the identifier column (below);
    * numeric and date columns must parse as numbers / dates (values that do not parse are an
      error naming the column and how many rows);
    * categorical columns: categories never seen in the reference are **reported** (per column,
      with counts) and kept, never silently dropped;
    * **identifier**: if the file has the identifier column and any of its values is a real
      identifier (``real_ids``), the file is refused with :class:`PrivacyError`; synthetic
      identifiers that match no real one are allowed and the column is dropped (reported). Without
      ``real_ids`` an identifier column is refused outright, since it cannot be checked. Any other
      column is refused when it carries real identifiers: at least 5 of its values and at least
      half of its non-null rows are real identifiers, at least 90% of them distinct (so a small
      integer column such as age that happens to overlap with numeric identifiers is not refused).
      Messages never print identifier values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import InputError, PrivacyError, SchemaError
from synthlink.io import read_table
from synthlink.schema import Kind, Schema, infer_kind
from synthlink.synth.base import Synthesizer


@dataclass
class SyntheticFileReport:
    source: str
    n_rows: int
    unseen_categories: dict[str, dict[str, int]] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)
    cast: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_rows": self.n_rows,
            "unseen_categories": self.unseen_categories,
            "dropped_columns": self.dropped_columns,
            "cast": self.cast,
            "warnings": self.warnings,
        }


def as_key(s: pd.Series) -> pd.Series:
    """Identifier-like values as comparable strings (1, 1.0 and "1" compare equal)."""
    if pd.api.types.is_float_dtype(s):
        nonnull = s.dropna()
        if len(nonnull) and np.all(np.mod(nonnull.to_numpy(), 1) == 0):
            return s.astype("Int64").astype(str).where(s.notna(), None)
    return s.astype(str).where(s.notna(), None).str.strip()


def carries_ids(s: pd.Series, ids: set[str]) -> bool:
    keys = as_key(s).dropna()
    if len(keys) == 0:
        return False
    hit = keys[keys.isin(ids)]
    return len(hit) >= 5 and len(hit) >= 0.5 * len(keys) and hit.nunique() >= 0.9 * len(hit)


def load_synthetic(
    path: str | Path | pd.DataFrame,
    reference: Schema | pd.DataFrame,
    identifier: str | None = None,
    real_ids: Iterable[Any] | pd.Series | None = None,
) -> tuple[pd.DataFrame, SyntheticFileReport]:
    """Read and validate a user's synthetic file against its part. See the module doc."""
    if isinstance(path, pd.DataFrame):
        df, source = path.copy(), "synthetic frame"
    else:
        df, source = read_table(path), str(path)
    if len(df) == 0:
        raise InputError(f"{source}: the synthetic file has no rows")
    df.columns = [str(c) for c in df.columns]
    report = SyntheticFileReport(source, len(df))
    if isinstance(reference, Schema):
        ref_frame = None
        kinds = {n: reference.kind(n) for n in reference.names}
        if identifier is None:
            identifier = reference.identifier
    else:
        ref_frame = reference.rename(columns=str)
        kinds = {c: infer_kind(ref_frame[c]) for c in ref_frame.columns}
    expected = [c for c in kinds if c != identifier]
    ids = None if real_ids is None else set(as_key(pd.Series(list(real_ids))).dropna())

    # -- identifiers first: nothing else is looked at in a file that carries real ones --------------
    if identifier is not None and identifier in df.columns:
        if ids is None:
            raise PrivacyError(
                f"{source}: the synthetic file has the identifier column '{identifier}' and no list of "
                "real identifiers was given to check it; drop the column from the file"
            )
        n_real = int(as_key(df[identifier]).isin(ids).sum())
        if n_real:
            raise PrivacyError(
                f"{source}: column '{identifier}' carries {n_real} real identifier value(s); "
                "synthetic files must not contain real identifiers"
            )
        df = df.drop(columns=[identifier])
        report.dropped_columns.append(identifier)
        report.warnings.append(f"identifier column '{identifier}' (no real values) dropped")
    if ids:
        for c in df.columns:
            if carries_ids(df[c], ids):
                raise PrivacyError(
                    f"{source}: column '{c}' carries real identifier values; "
                    "synthetic files must not contain real identifiers"
                )

    # -- columns ----------------------------------------------------------------------------------
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise SchemaError(f"{source}: missing column(s) {', '.join(map(repr, missing))} of the part")
    extra = [c for c in df.columns if c not in expected]
    if extra:
        raise SchemaError(
            f"{source}: column(s) {', '.join(map(repr, extra))} are not in the part; "
            "remove them or synthesize the part they belong to"
        )
    df = df[expected]

    # -- types and categories -----------------------------------------------------------------------
    out = {}
    for c in expected:
        s = df[c]
        kind = kinds[c]
        ref = ref_frame[c] if ref_frame is not None else None
        if kind == Kind.NUMERIC or (ref is not None and pd.api.types.is_numeric_dtype(ref)
                                    and not pd.api.types.is_bool_dtype(ref)):
            num = pd.to_numeric(s, errors="coerce")
            bad = int((num.isna() & s.notna()).sum())
            if bad:
                raise SchemaError(f"{source}: column '{c}' should be numeric but {bad} value(s) are not numbers")
            s = num
        elif kind == Kind.DATE:
            dt = pd.to_datetime(s, errors="coerce")
            bad = int((dt.isna() & s.notna()).sum())
            if bad:
                raise SchemaError(f"{source}: column '{c}' should be dates but {bad} value(s) are not dates")
            s = dt
        if ref is not None:
            if kind in (Kind.CATEGORICAL, Kind.ORDINAL):
                seen = set(as_key(ref).dropna())
                sk = as_key(s).dropna()
                unseen = sk[~sk.isin(seen)]
                if len(unseen):
                    report.unseen_categories[c] = {str(k): int(v) for k, v in unseen.value_counts().items()}
            try:
                if isinstance(ref.dtype, pd.CategoricalDtype):
                    cats = list(ref.dtype.categories)
                    extra_cats = [v for v in pd.unique(s.dropna()) if v not in cats]
                    s = pd.Series(pd.Categorical(s, categories=cats + extra_cats, ordered=ref.dtype.ordered))
                elif pd.api.types.is_integer_dtype(ref) and pd.api.types.is_numeric_dtype(s):
                    whole = s.dropna()
                    if np.all(np.mod(whole.to_numpy(dtype=float), 1) == 0):
                        s = s.astype("Int64") if s.isna().any() else s.astype(ref.dtype)
                elif pd.api.types.is_bool_dtype(ref) and not pd.api.types.is_bool_dtype(s):
                    m = {"true": True, "false": False, "1": True, "0": False}
                    s = s.astype(str).str.lower().map(m).where(s.notna(), None)
                elif not pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_datetime64_any_dtype(ref):
                    s = s.astype(ref.dtype).where(s.notna(), None) if s.isna().any() else s.astype(ref.dtype)
            except (TypeError, ValueError) as e:
                report.warnings.append(f"column '{c}': kept as {s.dtype} ({type(e).__name__})")
            if str(s.dtype) != str(df[c].dtype):
                report.cast[c] = f"{df[c].dtype} -> {s.dtype}"
        out[c] = s.reset_index(drop=True)
    return pd.DataFrame(out), report


class HandedOverFiles(Synthesizer):
    """The institutions' own synthetic files, handed over to the study: one file per part, made by
    each institution with its own tool from the part ``synthlink split`` gave it (same data, plan
    and seed as the study, so the study's split is the one the institution received).

    ``parts`` maps a part's name to its file (CSV or Parquet; relative to the study config; a
    ``{seed}`` in the path is replaced by the study's seed). Each file is checked against its part
    with :func:`load_synthetic` (every column present, types, unseen categories reported; a file
    that carries the split's record keys is refused). It is not fitted: ``fit`` is an error."""

    name = "files"
    summary = "the institutions' own synthetic files (one per part), checked against their parts"
    handed_over = True

    def __init__(self, parts: dict[str, str] | None = None) -> None:
        self.parts = parts

    def path(self, part: str, seed: int, base_dir: Path | None = None) -> Path:
        if not self.parts or part not in self.parts:
            from synthlink.errors import ConfigError

            raise ConfigError(f"files: no file for part '{part}' (give params.parts: {{{part}: FILE}})")
        p = Path(str(self.parts[part]).replace("{seed}", str(seed)))
        return p if p.is_absolute() or base_dir is None else Path(base_dir) / p

    def load(self, part: str, reference: pd.DataFrame, *, identifier: str, seed: int,
             base_dir: Path | None = None) -> tuple[pd.DataFrame, SyntheticFileReport]:
        """The handed-over file of ``part``, validated against the real part (``reference``, with
        its record key column ``identifier``, whose values the file must not carry)."""
        p = self.path(part, seed, base_dir)
        if not p.exists():
            raise InputError(f"{p}: the handed-over synthetic file of part '{part}' is not there")
        return load_synthetic(p, reference, identifier=identifier, real_ids=reference[identifier])

    def _fit(self, data: pd.DataFrame) -> None:
        from synthlink.errors import ConfigError

        raise ConfigError("files: handed-over synthetic files are loaded, not fitted (a study reads them per part)")

    def _sample(self, n: int, seed: int) -> pd.DataFrame:  # pragma: no cover - never fitted
        raise NotImplementedError

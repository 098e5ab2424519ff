"""Writing the demo population: the joint table as one file, or one file per register."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from synthlink.demo.plan import registers
from synthlink.errors import InputError


def write_population(df: pd.DataFrame, out: str | Path, per_register: bool = False, fmt: str | None = None,
                     overwrite: bool = True) -> list[Path]:
    """Write the joint table to ``out`` (.parquet or .csv by extension), or with ``per_register``
    one file per register (population, education, employment, social) into the folder ``out``
    (format ``fmt``: "parquet" (default) or "csv"). Writes are atomic: a folder appears complete or
    not at all. With ``overwrite=False`` an existing output is an error. Returns the paths written."""
    from synthlink.io import atomic_dir, check_can_write, write_table

    out = Path(out)
    if not per_register:
        if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise InputError(f"{out}: unknown output format '{out.suffix}' (use .csv or .parquet)")
        if out.is_dir():
            raise InputError(f"{out}: is a folder; give a file name ending in .csv or .parquet")
        check_can_write(out, overwrite)
        return [write_table(df, out)]
    fmt = (fmt or "parquet").lower().lstrip(".")
    if fmt not in ("parquet", "csv"):
        raise InputError(f"{out}: unknown register format '{fmt}' (use parquet or csv)")
    if out.suffix.lower() in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: with one file per register the output is a folder; give a folder name without a file extension")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    regs = registers(df)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for name, t in regs.items():
            write_table(t, tmp / f"{name}.{fmt}")
    return [out / f"{name}.{fmt}" for name in regs]

"""Tables in and out: CSV, Parquet, and DuckDB tables. Every write is atomic (a temporary file in
the same folder, then a rename), so an interrupted run never leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from synthlink.errors import InputError

TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".duckdb", ".db")


def _split_duckdb(path: str | Path) -> tuple[Path, str | None]:
    """``file.duckdb::table`` -> (file.duckdb, table)."""
    s = str(path)
    if "::" in s:
        f, t = s.split("::", 1)
        return Path(f), t
    return Path(s), None


def read_table(path: str | Path, *, table: str | None = None, na_values: list[str] | None = None,
               sep: str | None = None) -> pd.DataFrame:
    """Read a CSV, Parquet or DuckDB table (``file.duckdb::table``), chosen by the file suffix.
    ``na_values``: extra CSV markers of a missing value (for example ``N`` in the ACS excerpts);
    ``sep``: the CSV field separator (default ``,``)."""
    p, t = _split_duckdb(path)
    table = table or t
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, expected a table file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            if p.stat().st_size == 0:
                raise InputError(f"{p}: the file is empty")
            try:
                df = pd.read_csv(p, low_memory=False, na_values=na_values, sep=sep if sep else ",")
            except UnicodeDecodeError as e:
                raise InputError(f"{p}: not valid UTF-8 text ({e.reason} at byte {e.start}); "
                                 "re-encode the file as UTF-8") from None
        elif suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        elif suffix in (".duckdb", ".db"):
            import duckdb

            with duckdb.connect(str(p), read_only=True) as con:
                if table is None:
                    names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
                    if len(names) != 1:
                        raise InputError(f"{p}: name the table as {p}::TABLE (tables: {', '.join(names) or 'none'})")
                    table = names[0]
                df = con.execute(f'SELECT * FROM "{table.replace(chr(34), "")}"').df()
        else:
            raise InputError(f"{p}: unknown table format '{suffix}' (use .csv, .parquet or .duckdb)")
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: the file is empty") from None
    except Exception as e:
        raise InputError(f"{p}: cannot read table ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if len(df.columns) == 0:
        raise InputError(f"{p}: the table has no columns")
    return df


def read_yaml(path: str | Path, what: str) -> Any:
    """Read a YAML file; a missing file or bad YAML is a ConfigError that names the file and
    ``what`` it should hold (for example "split plan")."""
    from synthlink.errors import ConfigError

    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: {what} not found")
    try:
        import yaml

        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write CSV or Parquet (by suffix) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{path}: unknown output format '{suffix}' (use .csv or .parquet)")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    return path


def write_json(obj: Any, path: str | Path) -> Path:
    """``obj`` as JSON (the one serialisation, :func:`synthlink.results.dumps`: NaN as null, numpy
    and dataclass values as plain JSON), written atomically."""
    from synthlink.results import dumps

    path = Path(path)
    text = dumps(obj, indent=2)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def write_text(text: str, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def atomic_dir(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` only if the block succeeds.

    An existing non-empty ``path`` is an error unless ``overwrite``."""
    import shutil

    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not overwrite:
        raise InputError(f"{path}: already exists; choose another output or pass --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def separator_hint(df: pd.DataFrame, where: str) -> None:
    """Refuse a CSV read with the wrong separator: a header that is one column holding ``;``, a tab
    or ``|`` (the whole line), with a message that names the option to pass."""
    if len(df.columns) != 1:
        return
    name = str(df.columns[0])
    for sep, shown in ((";", "';'"), ("\t", "$'\\t'"), ("|", "'|'")):
        if sep in name:
            raise InputError(f"{where}: the header is one column holding {sep!r}; the file looks "
                             f"separated by {sep!r}: pass --sep {shown}")


def check_can_write(path: str | Path, overwrite: bool) -> None:
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path}: already exists; choose another output or pass --overwrite")

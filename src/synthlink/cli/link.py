"""``synthlink link LEFT RIGHT --method NAME --on COL[,COL...] --out LINKS [--key COL] [--truth FILE]``

Links two tables with any registered method. Records are named by their **row position** in
LEFT and RIGHT (0-based), so synthetic parts, which carry no key, link as they are. ``--key`` names
a record-key column present in both tables (the surrogate key ``synthlink split`` writes): the
``identifier`` join matches on it; for the other methods it is only carried into the links file
and never shown to the method. The right table is shuffled (seeded) before linking, as in
``synthlink run``; the method sees every column but the key and the declared identifier.

Writes LINKS (CSV or Parquet by extension; columns ``left_row``, ``right_row``, ``score``, and
``left_key``, ``right_key`` with ``--key``) and, beside it, ``LINKS.json`` with the method's
diagnostics and warnings and, with ``--truth``, precision / recall / F1 / one-to-one accuracy and
the uniqueness bound of the linking columns. The truth file is either the ``truth.parquet`` that
``synthlink split`` writes (one column per part, named after the part files, holding row
positions) or a table of key pairs ``left_key``, ``right_key`` (with ``--key``).

A linking column that looks like an identifier (declared in the split plan, or unique and
key-shaped) is refused: link on it only with ``--method identifier --key COL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer

from synthlink.cli._guard import (
    check_output,
    declared_identifier,
    declared_kinds,
    refuse_identifiers,
)
from synthlink.cli._params import parse_params
from synthlink.errors import ConfigError, InputError


def _key_positions(df: pd.DataFrame, key: str, where: str) -> pd.Series:
    if key not in df.columns:
        raise InputError(f"{where}: key column '{key}' not found")
    k = df[key]
    if k.isna().any():
        raise InputError(f"{where}: key column '{key}' has {int(k.isna().sum())} empty value(s)")
    if k.duplicated().any():
        raise InputError(f"{where}: key column '{key}' repeats {int(k.duplicated().sum())} value(s); keys must be unique")
    return pd.Series(np.arange(len(df)), index=k.astype(str).to_numpy())


def read_truth(path: Path, left_path: Path, right_path: Path, n_left: int, n_right: int,
               lpos: pd.Series | None, rpos: pd.Series | None) -> pd.DataFrame:
    """True pairs as row positions (``left``, ``right``), from the truth file ``synthlink split``
    writes (a column per part, named after the part files, of row positions) or from key pairs
    (``left_key``, ``right_key``, which need ``--key``)."""
    from synthlink.io import read_table

    t = read_table(path)
    lname, rname = Path(str(left_path)).stem, Path(str(right_path)).stem
    if lname in t.columns and rname in t.columns and lname != rname:
        both = t[[lname, rname]].dropna()
        li = both[lname].astype("int64").to_numpy()
        ri = both[rname].astype("int64").to_numpy()
        if (li < 0).any() or (li >= n_left).any() or (ri < 0).any() or (ri >= n_right).any():
            raise InputError(f"{path}: row positions beyond the linked tables ({n_left} x {n_right} rows); "
                             "is it the truth of another split?")
        return pd.DataFrame({"left": li, "right": ri})
    if "left_key" in t.columns and "right_key" in t.columns:
        if lpos is None or rpos is None:
            raise InputError(f"{path}: a truth file of key pairs (left_key, right_key) needs --key")
        t = t.dropna(subset=["left_key", "right_key"])
        lk = t["left_key"].astype(str)
        rk = t["right_key"].astype(str)
        bad_l = int((~lk.isin(lpos.index)).sum())
        bad_r = int((~rk.isin(rpos.index)).sum())
        if bad_l or bad_r:
            raise InputError(f"{path}: {bad_l} left_key and {bad_r} right_key value(s) are not keys of the linked tables")
        return pd.DataFrame({"left": lpos.loc[lk].to_numpy(), "right": rpos.loc[rk].to_numpy()})
    raise InputError(f"{path}: truth file needs the columns '{lname}' and '{rname}' (row positions, as synthlink "
                     f"split writes) or left_key and right_key (with --key); it has {', '.join(map(str, t.columns))}")


def run_link(left_path: Path, right_path: Path, method: str, on: list[str], key: str | None, out: Path,
             truth_path: Path | None = None, params: dict[str, Any] | None = None, seed: int = 0,
             overwrite: bool = True) -> dict[str, Any]:
    from synthlink.config import MethodSpec
    from synthlink.evaluate.linkage import linkage_quality, uniqueness_bound
    from synthlink.io import read_table, write_json, write_table
    from synthlink.link import linker_class
    from synthlink.pipeline import link_parts

    params = dict(params or {})
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: LINKS must end in .csv or .parquet")
    check_output(out, overwrite)
    cls = linker_class(method)
    left = read_table(left_path)
    right = read_table(right_path)
    if cls.uses_identifier and key is None:
        raise ConfigError(f"--method {method} joins on a record key: give --key COL")
    lpos = _key_positions(left, key, str(left_path)) if key is not None else None
    rpos = _key_positions(right, key, str(right_path)) if key is not None else None
    if key is not None and key in on:
        raise ConfigError(f"--key column '{key}' cannot also be a linking column (--on)")
    for c in on:
        for where, df in ((left_path, left), (right_path, right)):
            if c not in df.columns:
                raise InputError(f"{where}: linking column '{c}' not found")
    declared = {d for d in (declared_identifier(left_path), declared_identifier(right_path)) if d}
    for where, df in ((left_path, left), (right_path, right)):
        refuse_identifiers(df[on], str(where), declared=declared, how="leave it out of --on (a join on it is --method identifier --key {col})")

    # the method sees what synthlink run shows it: every column but the key and the identifier
    truth = read_truth(truth_path, left_path, right_path, len(left), len(right), lpos, rpos) if truth_path is not None else None
    kinds = {**declared_kinds(left_path), **declared_kinds(right_path)}
    links = link_parts(MethodSpec(method, params, method), left, right, on=list(on), seed=seed,
                       hidden=(key, *sorted(declared)), key=key, truth=truth, kinds=kinds or None)
    assert links is not None  # the identifier join has its key (checked above)
    p = links.pairs
    table = pd.DataFrame({"left_row": p["left"].to_numpy(dtype="int64"), "right_row": p["right"].to_numpy(dtype="int64"),
                          "score": p["score"].to_numpy()})
    if key is not None:
        table["left_key"] = left[key].to_numpy()[table["left_row"].to_numpy()]
        table["right_key"] = right[key].to_numpy()[table["right_row"].to_numpy()]
    write_table(table, out)

    report: dict[str, Any] = {
        "method": method,
        "linking_columns": list(on),
        "params": {k: (Path(str(v)).name if k == "release" else v) for k, v in params.items()},
        "seed": seed,
        "left": Path(str(left_path)).name,
        "right": Path(str(right_path)).name,
        "n_left": links.n_left,
        "n_right": links.n_right,
        "links": len(links),
        "one_to_one": links.one_to_one,
        "diagnostics": links.diagnostics,
        "warnings": links.warnings,
    }
    if truth is not None:
        report["quality"] = linkage_quality(links, truth)
        report["uniqueness_bound"] = {
            "left": uniqueness_bound(left, on),
            "right": uniqueness_bound(right, on),
            "note": "distinct combinations of the linking columns / records; numeric columns not "
                    "discretised (each distinct value is a cell)",
        }
    write_json(report, Path(str(out) + ".json"))
    return report


def register(app: typer.Typer) -> None:
    @app.command("link")
    def link_cmd(
        left: Path = typer.Argument(..., help="left table (.csv, .parquet, file.duckdb::table)"),
        right: Path = typer.Argument(..., help="right table"),
        method: str = typer.Option(..., "--method", help="identifier, exact, probabilistic, distance, propensity, hotdeck"),
        on: str = typer.Option(..., "--on", help="linking columns, comma-separated"),
        out: Path = typer.Option(..., "--out", help="links file: .csv or .parquet (diagnostics in LINKS.json)"),
        key: str | None = typer.Option(None, "--key", help="record-key column in both tables (the identifier join matches on it; otherwise carried through, never matched on)"),
        truth: Path | None = typer.Option(None, "--truth", help="true pairs: split's truth.parquet, or a table of left_key, right_key (with --key)"),
        param: list[str] | None = typer.Option(None, "--param", help="method parameter NAME=VALUE (repeatable)"),
        seed: int = typer.Option(0, "--seed", help="seed (shuffling of the right table, sampling); the study's seed"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing links file"),
        release: Path | None = typer.Option(None, "--release", help="with --method bridge: the bridge release file (synthlink bridge release)"),
    ) -> None:
        """Link two tables with one method; write the links (row positions) and a JSON of diagnostics beside them."""
        cols = [c.strip() for c in on.split(",") if c.strip()]
        if not cols:
            raise ConfigError("--on needs at least one column")
        params = parse_params(param)
        if release is not None:
            if method != "bridge":
                raise ConfigError("--release is for --method bridge (the linker that reads a bridge release)")
            if not release.exists():
                raise InputError(f"{release}: release file not found")
            params["release"] = str(release)
        elif method == "bridge" and "release" not in params:
            raise ConfigError("--method bridge needs --release FILE (written by synthlink bridge release)")
        rep = run_link(left, right, method, cols, key, out, truth, params, seed, overwrite=overwrite)
        typer.echo(f"{method}: {rep['links']:,} links between {rep['n_left']:,} and {rep['n_right']:,} rows -> {out}")
        if "quality" in rep:
            q = rep["quality"]
            typer.echo(f"precision {q['precision']:.3f}  recall {q['recall']:.3f}  F1 {q['f1']:.3f}  "
                       f"accuracy {q['accuracy']:.3f}  (uniqueness bound {rep['uniqueness_bound']['left']:.3f})")
        for w in rep["warnings"]:
            typer.echo(f"synthlink: warning: {w}", err=True)

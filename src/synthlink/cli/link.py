"""``synthlink link LEFT RIGHT --method NAME --on COL[,COL...] --key COL --out LINKS [--truth FILE]``

Links two tables with any registered method. The ``--key`` column identifies records in the output
and in the truth file; it is never shown to the linking method (except the ``identifier`` join,
whose whole point is that key). The right table is shuffled (seeded) before linking.

Writes LINKS (CSV or Parquet by extension; columns ``left_key``, ``right_key``, ``score``) and,
beside it, ``LINKS.json`` with the method's diagnostics and warnings and, with ``--truth`` (a
table of true pairs with columns ``left_key``, ``right_key``), precision / recall / F1 / one-to-one
accuracy and the uniqueness bound of the linking columns.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer

from synthlink.cli._params import parse_params
from synthlink.errors import ConfigError, InputError

TRUTH_COLUMN = "_sl_truth_position"


def _key_positions(df: pd.DataFrame, key: str, where: str) -> pd.Series:
    if key not in df.columns:
        raise InputError(f"{where}: key column '{key}' not found")
    k = df[key]
    if k.isna().any():
        raise InputError(f"{where}: key column '{key}' has {int(k.isna().sum())} empty value(s)")
    if k.duplicated().any():
        raise InputError(f"{where}: key column '{key}' repeats {int(k.duplicated().sum())} value(s); keys must be unique")
    return pd.Series(np.arange(len(df)), index=k.astype(str).to_numpy())


def read_truth(path: Path, lpos: pd.Series, rpos: pd.Series) -> pd.DataFrame:
    """True pairs as row positions (``left``, ``right``) from a table of ``left_key``, ``right_key``."""
    from synthlink.io import read_table

    t = read_table(path)
    missing = [c for c in ("left_key", "right_key") if c not in t.columns]
    if missing:
        raise InputError(f"{path}: truth file needs columns left_key and right_key (missing: {', '.join(missing)})")
    t = t.dropna(subset=["left_key", "right_key"])
    lk = t["left_key"].astype(str)
    rk = t["right_key"].astype(str)
    bad_l = int((~lk.isin(lpos.index)).sum())
    bad_r = int((~rk.isin(rpos.index)).sum())
    if bad_l or bad_r:
        raise InputError(f"{path}: {bad_l} left_key and {bad_r} right_key value(s) are not keys of the linked tables")
    return pd.DataFrame({"left": lpos.loc[lk].to_numpy(), "right": rpos.loc[rk].to_numpy()})


def run_link(left_path: Path, right_path: Path, method: str, on: list[str], key: str, out: Path,
             truth_path: Path | None = None, params: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    from synthlink.evaluate.linkage import linkage_quality, uniqueness_bound
    from synthlink.io import read_table, write_json, write_table
    from synthlink.link import get_linker, linker_class, shuffled_link

    params = dict(params or {})
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: LINKS must end in .csv or .parquet")
    left = read_table(left_path)
    right = read_table(right_path)
    lpos = _key_positions(left, key, str(left_path))
    rpos = _key_positions(right, key, str(right_path))
    if key in on:
        raise ConfigError(f"--key column '{key}' cannot also be a linking column (--on)")
    for c in on:
        for where, df in ((left_path, left), (right_path, right)):
            if c not in df.columns:
                raise InputError(f"{where}: linking column '{c}' not found")

    cls = linker_class(method)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    cols = list(on)
    if "on" in accepted and "on" not in params:
        params["on"] = list(on)
    if cls.uses_identifier:
        params.setdefault("key", key)
        cols = [*cols, key] if key not in cols else cols
    truth = read_truth(truth_path, lpos, rpos) if truth_path is not None else None
    lf = left[cols].reset_index(drop=True)
    rf = right[cols].reset_index(drop=True)
    if truth is not None and "truth" in accepted and "truth" not in params:
        # true pairs travel as a hidden column: right rows carry their true left row's position
        lf[TRUTH_COLUMN] = np.arange(len(lf), dtype="float64")
        rcol = np.full(len(rf), np.nan)
        rcol[truth["right"].to_numpy()] = truth["left"].to_numpy()
        rf[TRUTH_COLUMN] = rcol
        params["truth"] = TRUTH_COLUMN
    linker = get_linker(method, **params)
    links = shuffled_link(linker, lf, rf, seed=seed)

    lkeys = left[key].to_numpy()
    rkeys = right[key].to_numpy()
    p = links.pairs
    table = pd.DataFrame({
        "left_key": lkeys[p["left"].to_numpy()],
        "right_key": rkeys[p["right"].to_numpy()],
        "score": p["score"].to_numpy(),
    })
    write_table(table, out)

    report: dict[str, Any] = {
        "method": method,
        "linking_columns": list(on),
        "params": {k: v for k, v in params.items() if k != "truth"},
        "seed": seed,
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
        key: str = typer.Option(..., "--key", help="record-key column in both tables (carried through, never matched on)"),
        out: Path = typer.Option(..., "--out", help="links file: .csv or .parquet (diagnostics in LINKS.json)"),
        truth: Path | None = typer.Option(None, "--truth", help="true pairs (left_key, right_key) for accuracy figures"),
        param: list[str] | None = typer.Option(None, "--param", help="method parameter NAME=VALUE (repeatable)"),
        seed: int = typer.Option(0, "--seed", help="seed (shuffling of the right table, sampling)"),
    ) -> None:
        """Link two tables with one method; write the links and a JSON of diagnostics beside them."""
        cols = [c.strip() for c in on.split(",") if c.strip()]
        if not cols:
            raise ConfigError("--on needs at least one column")
        rep = run_link(left, right, method, cols, key, out, truth, parse_params(param), seed)
        typer.echo(f"{method}: {rep['links']:,} links between {rep['n_left']:,} and {rep['n_right']:,} rows -> {out}")
        if "quality" in rep:
            q = rep["quality"]
            typer.echo(f"precision {q['precision']:.3f}  recall {q['recall']:.3f}  F1 {q['f1']:.3f}  "
                       f"accuracy {q['accuracy']:.3f}  (uniqueness bound {rep['uniqueness_bound']['left']:.3f})")
        for w in rep["warnings"]:
            typer.echo(f"synthlink: warning: {w}", err=True)

"""``synthlink reconstruct LEFT RIGHT --links LINKS --out JOINT [--common COL,...] [--all]
[--drop-column COL] [--overwrite]``

The joint table from two parts and the links ``synthlink link`` wrote for them
(:func:`synthlink.reconstruct.reconstruct`): links that are not one-to-one are resolved greedily
by score, so nobody appears twice; common variables take the left part's values, then come the
left part's own columns and the right part's. By default only the linked rows are written, which
is the table ``synthlink run`` evaluates (J*); ``--all`` keeps every input row, marked in
``_link_status`` (linked, left_only, right_only) with ``_link_score``.

The common variables default to the columns both parts share. A part holding an identifier-like
column is refused until ``--drop-column`` leaves it out, so no identifier reaches the joint table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer

from synthlink.cli._guard import check_output, declared_identifier, refuse_identifiers
from synthlink.errors import InputError


def read_links(path: Path, n_left: int, n_right: int) -> Any:
    """A links file of ``synthlink link`` as :class:`~synthlink.link.base.Links`."""
    from synthlink.io import read_table
    from synthlink.link.base import Links

    t = read_table(path)
    missing = [c for c in ("left_row", "right_row") if c not in t.columns]
    if missing:
        raise InputError(f"{path}: a links file needs columns left_row and right_row (row positions, as "
                         f"synthlink link writes); missing: {', '.join(missing)}")
    li = pd.to_numeric(t["left_row"], errors="coerce")
    ri = pd.to_numeric(t["right_row"], errors="coerce")
    if li.isna().any() or ri.isna().any() or (li < 0).any() or (ri < 0).any() \
            or (li >= n_left).any() or (ri >= n_right).any():
        raise InputError(f"{path}: row positions outside the parts ({n_left} x {n_right} rows); "
                         "were these links made for these two files?")
    score = pd.to_numeric(t["score"], errors="coerce").fillna(0.0) if "score" in t.columns else pd.Series(np.ones(len(t)))
    pairs = pd.DataFrame({"left": li.astype("int64").to_numpy(), "right": ri.astype("int64").to_numpy(),
                          "score": score.to_numpy(dtype="float64")})
    one_to_one = not (pairs["left"].duplicated().any() or pairs["right"].duplicated().any())
    meta = Path(str(path) + ".json")  # the method's own flag, as synthlink run keeps it
    if meta.exists():
        import json

        try:
            one_to_one = one_to_one and bool(json.loads(meta.read_text(encoding="utf-8")).get("one_to_one", True))
        except ValueError:
            pass
    return Links(pairs, n_left, n_right, "file", one_to_one)


def run_reconstruct(left_path: Path, right_path: Path, links_path: Path, out: Path, *,
                    common: list[str] | None = None, drop: list[str] | None = None, keep_all: bool = False,
                    overwrite: bool = False) -> dict[str, Any]:
    from synthlink.io import read_table, write_table
    from synthlink.reconstruct import linked_only, reconstruct

    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: JOINT must end in .csv or .parquet")
    check_output(out, overwrite)
    left, right = read_table(left_path), read_table(right_path)
    drop = list(drop or [])
    for c in drop:
        if c not in left.columns and c not in right.columns:
            raise InputError(f"--drop-column '{c}': in neither {left_path} nor {right_path}")
    left = left.drop(columns=[c for c in drop if c in left.columns])
    right = right.drop(columns=[c for c in drop if c in right.columns])
    for where, df in ((left_path, left), (right_path, right)):
        refuse_identifiers(df, str(where), declared=[declared_identifier(where)])
    if common is None:
        common = [c for c in left.columns if c in right.columns]
    for c in common:
        for where, df in ((left_path, left), (right_path, right)):
            if c not in df.columns:
                raise InputError(f"{where}: common column '{c}' not found")
    links = read_links(links_path, len(left), len(right))
    rec = reconstruct(left, right, links, common)
    joint = rec.joint if keep_all else linked_only(rec)
    write_table(joint, out)
    return {"accounting": rec.accounting, "rows": len(joint), "common": common}


def register(app: typer.Typer) -> None:
    @app.command("reconstruct")
    def reconstruct_cmd(
        left: Path = typer.Argument(..., help="left part (the LEFT given to synthlink link)"),
        right: Path = typer.Argument(..., help="right part"),
        links: Path = typer.Option(..., "--links", help="links file written by synthlink link"),
        out: Path = typer.Option(..., "--out", help="joint table: .csv or .parquet"),
        common: str | None = typer.Option(None, "--common", help="common variables, comma-separated (default: the columns both parts share)"),
        drop_column: list[str] | None = typer.Option(None, "--drop-column", help="column(s) to leave out, such as the identifier (repeatable)"),
        keep_all: bool = typer.Option(False, "--all", help="keep unlinked rows too, marked in _link_status"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output file"),
    ) -> None:
        """Build the joint table from two parts and their links; every input row is accounted for."""
        cols = [c.strip() for c in common.split(",") if c.strip()] if common else None
        rep = run_reconstruct(left, right, links, out, common=cols, drop=drop_column, keep_all=keep_all, overwrite=overwrite)
        a = rep["accounting"]
        typer.echo(f"joint table: {a['linked']:,} linked, {a['left_only']:,} left only, {a['right_only']:,} right only; "
                   f"wrote {rep['rows']:,} rows to {out}")

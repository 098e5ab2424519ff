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

``synthlink reconstruct P1 P2 P3 ... --links FOLDER --out JOINT [--all] [--truth truth.parquet]``
joins three or more parts along the links folder ``synthlink link`` wrote for them
(:func:`synthlink.reconstruct.reconstruct_tuples`): the parts must be the plan's (by file stem)
with the rows the links were made for. JOINT holds the complete tuples (a record of every part),
or with ``--all`` every tuple, marked in ``_link_status`` (complete, partial, alone) and
``_tuple_size``. ``JOINT.json`` holds the row accounting and, with ``--truth``, the tuple accuracy
(:func:`synthlink.evaluate.tuples.tuple_quality`) and its expected bound over the plan's edges on
their recorded linking columns (for all pairs, the chain in plan order). The common variables
default to the columns every part holds.
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


# ---------------------------------------------------------------------------------------------
# K parts

def read_plan_folder(folder: Path) -> dict[str, Any]:
    """``plan.json`` of a links folder written by ``synthlink link`` over K parts."""
    import json

    from synthlink.cli.link import PLAN_FILE

    f = folder / PLAN_FILE
    if not f.exists():
        raise InputError(f"{folder}: no {PLAN_FILE}; a links folder is what synthlink link writes for three or more parts")
    try:
        rec = json.loads(f.read_text(encoding="utf-8"))
    except ValueError as e:
        raise InputError(f"{f}: not valid JSON ({e})") from None
    if not isinstance(rec, dict) or not all(k in rec for k in ("plan", "parts", "edges")):
        raise InputError(f"{f}: needs plan, parts and edges (as synthlink link writes)")
    return rec


def run_reconstruct_parts(paths: list[Path], folder: Path, out: Path, *, common: list[str] | None = None,
                          drop: list[str] | None = None, keep_all: bool = False, truth_path: Path | None = None,
                          overwrite: bool = False) -> dict[str, Any]:
    """J* of K parts from the links folder of ``synthlink link``
    (:func:`synthlink.reconstruct.reconstruct_tuples`): the complete tuples, or with ``keep_all``
    every tuple (``_link_status``, ``_tuple_size``); ``JOINT.json`` holds the row accounting and,
    with ``truth_path``, the tuple accuracy and its expected bound."""
    from synthlink.cli.link import part_names, split_truth
    from synthlink.evaluate.tuples import expected_tuple_bound, tuple_quality
    from synthlink.io import read_table, write_json, write_table
    from synthlink.link.plan import LinkPlan, edge_name
    from synthlink.reconstruct import complete_only, reconstruct_tuples

    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: JOINT must end in .csv or .parquet")
    check_output(out, overwrite)
    rec = read_plan_folder(folder)
    names = part_names(paths)
    try:
        plan_parts = [str(p["name"]) for p in rec["parts"]]
        rows = {str(p["name"]): int(p["rows"]) for p in rec["parts"]}
        cols_of = {str(e["edge"]): [str(c) for c in e["linking_columns"]] for e in rec["edges"]}
    except (TypeError, KeyError, ValueError):
        raise InputError(f"{folder / 'plan.json'}: parts need name and rows, edges need edge and linking_columns") from None
    if sorted(plan_parts) != sorted(names):
        raise InputError(f"{folder}: the links were made for parts {', '.join(plan_parts)}; got {', '.join(names)}")
    plan = LinkPlan.from_dict(rec["plan"], plan_parts, where=f"{folder / 'plan.json'}")
    path_of = dict(zip(names, paths, strict=True))
    tables = {n: read_table(path_of[n]) for n in plan.parts}
    for n in plan.parts:
        if len(tables[n]) != rows[n]:
            raise InputError(f"{path_of[n]}: {len(tables[n]):,} rows, the links of part '{n}' were made for {rows[n]:,}")
    drop = list(drop or [])
    for c in drop:
        if not any(c in t.columns for t in tables.values()):
            raise InputError(f"--drop-column '{c}': in none of the parts")
    tables = {n: t.drop(columns=[c for c in drop if c in t.columns]) for n, t in tables.items()}
    for n in plan.parts:
        refuse_identifiers(tables[n], str(path_of[n]), declared=[declared_identifier(path_of[n])])
    if common is None:
        common = [c for c in tables[plan.parts[0]].columns if all(c in t.columns for t in tables.values())]
    for c in common:
        for n in plan.parts:
            if c not in tables[n].columns:
                raise InputError(f"{path_of[n]}: common column '{c}' not found")
    truth = split_truth(truth_path, list(plan.parts), rows) if truth_path is not None else None
    links = {}
    for a, b in plan.edges:
        name = edge_name(a, b)
        f = folder / f"{name}.parquet"
        if not f.exists():
            raise InputError(f"{folder}: no links file {f.name} for edge {name}")
        links[(a, b)] = read_links(f, rows[a], rows[b])
    res = reconstruct_tuples(tables, links, common)
    joint = res.joint if keep_all else complete_only(res)
    report: dict[str, Any] = {"plan": plan.describe(), "common": list(common), "rows": len(joint),
                              "written": "every tuple" if keep_all else "complete tuples",
                              "accounting": res.accounting}
    if truth is not None:
        tree = list(plan.edges) if plan.is_tree else list(zip(plan.parts[:-1], plan.parts[1:], strict=True))
        missing = [edge_name(a, b) for a, b in tree if edge_name(a, b) not in cols_of]
        if missing:
            raise InputError(f"{folder / 'plan.json'}: no linking columns recorded for edge {missing[0]}")
        expected, sd = expected_tuple_bound(tables, truth, tree, {edge_name(a, b): cols_of[edge_name(a, b)] for a, b in tree})
        report["quality"] = tuple_quality(res.positions, truth)
        report["tuple_bound"] = {"expected": expected, "expected_sd": sd, "edges": [edge_name(a, b) for a, b in tree],
                                 "note": "the best use of exact agreement on each edge's linking columns "
                                         "(synthlink.evaluate.tuples); for all pairs, over the chain in plan order"}
    write_table(joint, out)
    write_json(report, Path(str(out) + ".json"))
    return report


def register(app: typer.Typer) -> None:
    @app.command("reconstruct")
    def reconstruct_cmd(
        parts: list[Path] = typer.Argument(..., metavar="PART", help="the parts: LEFT RIGHT as given to synthlink link, or the three or more parts"),
        links: Path = typer.Option(..., "--links", help="links file written by synthlink link (a folder with three or more parts)"),
        out: Path = typer.Option(..., "--out", help="joint table: .csv or .parquet"),
        common: str | None = typer.Option(None, "--common", help="common variables, comma-separated (default: the columns every part holds)"),
        drop_column: list[str] | None = typer.Option(None, "--drop-column", help="column(s) to leave out, such as the identifier (repeatable)"),
        keep_all: bool = typer.Option(False, "--all", help="keep unlinked rows too, marked in _link_status"),
        truth: Path | None = typer.Option(None, "--truth", help="with a links folder: split's truth.parquet; JOINT.json then holds tuple accuracy and its bound"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output file"),
    ) -> None:
        """Build the joint table from two parts and their links, or from three or more parts and a links folder; every input row is accounted for."""
        cols = [c.strip() for c in common.split(",") if c.strip()] if common else None
        if len(parts) < 2:
            raise InputError("give at least two parts")
        if links.is_dir():
            rep = run_reconstruct_parts(list(parts), links, out, common=cols, drop=drop_column, keep_all=keep_all,
                                        truth_path=truth, overwrite=overwrite)
            a = rep["accounting"]
            line = f"joint table: {a['complete']:,} complete tuples of {len(rep['plan']['parts'])} parts, {a['rows']:,} in all; " \
                   f"wrote {rep['rows']:,} rows to {out}"
            typer.echo(line)
            if "quality" in rep:
                typer.echo(f"tuple accuracy {rep['quality']['accuracy']:.3f}  (expected bound {rep['tuple_bound']['expected']:.3f})")
            return
        if len(parts) > 2:
            raise InputError(f"{links}: with {len(parts)} parts --links is the folder synthlink link wrote for them")
        if truth is not None:
            raise InputError("--truth is for three or more parts and a links folder (two parts: synthlink link --truth)")
        left, right = parts
        rep = run_reconstruct(left, right, links, out, common=cols, drop=drop_column, keep_all=keep_all, overwrite=overwrite)
        a = rep["accounting"]
        typer.echo(f"joint table: {a['linked']:,} linked, {a['left_only']:,} left only, {a['right_only']:,} right only; "
                   f"wrote {rep['rows']:,} rows to {out}")

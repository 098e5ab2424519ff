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

``synthlink link P1 P2 P3 ... --out FOLDER [--plan chain|star|all_pairs] [--hub PART]
[--edge-method a-b=METHOD ...]`` links three or more parts, named by their file stems, along a
:class:`~synthlink.link.plan.LinkPlan` (default: the chain in the order given; a star needs
``--hub``). Each edge is linked as two tables are, on the ``--on`` columns both its parts hold,
with ``--method`` or its ``--edge-method`` (``--param`` goes to the edges linked by ``--method``),
into ``FOLDER/<a>-<b>.parquet`` and its ``.json`` (with ``--truth``, the split's truth.parquet,
the edge's quality). ``FOLDER/plan.json`` records the plan, the parts (file names and rows), the
edges with their methods and linking columns, and the seed. Every check (plan, edges, columns,
identifiers, truth) runs before the first edge is linked, and the folder appears only complete.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class EdgeJob:
    """One pair of tables to link, checked and read (:func:`prepare_edge`), not yet linked."""

    left_path: Path
    right_path: Path
    left: pd.DataFrame
    right: pd.DataFrame
    method: str
    on: list[str]
    key: str | None
    out: Path
    params: dict[str, Any]
    declared: set[str]
    truth: pd.DataFrame | None


def prepare_edge(left_path: Path, right_path: Path, method: str, on: list[str], key: str | None, out: Path,
                 truth_path: Path | None = None, params: dict[str, Any] | None = None, *, overwrite: bool = True,
                 left: pd.DataFrame | None = None, right: pd.DataFrame | None = None,
                 truth: pd.DataFrame | None = None) -> EdgeJob:
    """Every check of one edge before anything is linked or written: the output name, the method,
    the key, the linking columns and the identifier refusal; the truth pairs read. ``left`` /
    ``right`` (already read) and ``truth`` (true pairs, already read) spare reading them again."""
    from synthlink.io import read_table
    from synthlink.link import linker_class

    params = dict(params or {})
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: LINKS must end in .csv or .parquet")
    check_output(out, overwrite)
    cls = linker_class(method)
    left = read_table(left_path) if left is None else left
    right = read_table(right_path) if right is None else right
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
    if truth is None and truth_path is not None:
        truth = read_truth(truth_path, left_path, right_path, len(left), len(right), lpos, rpos)
    return EdgeJob(left_path, right_path, left, right, method, list(on), key, out, params, declared, truth)


def link_edge(job: EdgeJob, seed: int = 0) -> dict[str, Any]:
    """Link one prepared edge; write its links file and ``LINKS.json`` beside it; return the report."""
    from synthlink.config import MethodSpec
    from synthlink.evaluate.linkage import linkage_quality, uniqueness_bound
    from synthlink.io import write_json, write_table
    from synthlink.pipeline import link_parts

    left, right, key, on, params, truth = job.left, job.right, job.key, job.on, job.params, job.truth
    # the method sees what synthlink run shows it: every column but the key and the identifier
    kinds = {**declared_kinds(job.left_path), **declared_kinds(job.right_path)}
    links = link_parts(MethodSpec(job.method, params, job.method), left, right, on=list(on), seed=seed,
                       hidden=(key, *sorted(job.declared)), key=key, truth=truth, kinds=kinds or None)
    assert links is not None  # the identifier join has its key (checked above)
    p = links.pairs
    table = pd.DataFrame({"left_row": p["left"].to_numpy(dtype="int64"), "right_row": p["right"].to_numpy(dtype="int64"),
                          "score": p["score"].to_numpy()})
    if key is not None:
        table["left_key"] = left[key].to_numpy()[table["left_row"].to_numpy()]
        table["right_key"] = right[key].to_numpy()[table["right_row"].to_numpy()]
    write_table(table, job.out)

    report: dict[str, Any] = {
        "method": job.method,
        "linking_columns": list(on),
        "params": {k: (Path(str(v)).name if k == "release" else v) for k, v in params.items()},
        "seed": seed,
        "left": Path(str(job.left_path)).name,
        "right": Path(str(job.right_path)).name,
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
    write_json(report, Path(str(job.out) + ".json"))
    return report


def run_link(left_path: Path, right_path: Path, method: str, on: list[str], key: str | None, out: Path,
             truth_path: Path | None = None, params: dict[str, Any] | None = None, seed: int = 0,
             overwrite: bool = True) -> dict[str, Any]:
    return link_edge(prepare_edge(left_path, right_path, method, on, key, out, truth_path, params, overwrite=overwrite), seed)


# ---------------------------------------------------------------------------------------------
# K >= 3 parts

#: written in the links folder of K parts: the plan, the parts (file names, rows) and the edges
PLAN_FILE = "plan.json"


def part_names(paths: list[Path]) -> list[str]:
    """The parts' names: the file stems, which must differ."""
    seen: dict[str, Path] = {}
    for p in paths:
        name = Path(str(p)).stem
        if name in seen:
            raise InputError(f"parts {seen[name]} and {p} have the same name '{name}' (a part is named by its file stem); "
                             "rename one")
        seen[name] = p
    return list(seen)


def build_plan(names: list[str], shape: str, hub: str | None) -> Any:
    """The :class:`~synthlink.link.plan.LinkPlan` over the parts, from ``--plan`` and ``--hub``."""
    from synthlink.link.plan import SHAPES, LinkPlan

    if shape not in SHAPES:
        raise ConfigError(f"--plan '{shape}': use one of {', '.join(SHAPES)}")
    if shape == "star":
        if hub is None:
            raise ConfigError("--plan star needs --hub PART (the part linked to every other)")
        if hub not in names:
            raise ConfigError(f"--hub: unknown part '{hub}' (parts: {', '.join(names)})")
        d: dict[str, Any] = {"star": {"hub": hub, "parts": [n for n in names if n != hub]}}
    else:
        if hub is not None:
            raise ConfigError(f"--hub is for --plan star (got --plan {shape})")
        d = {shape: list(names)}
    return LinkPlan.from_dict(d, names, where="--plan")


def parse_edge_methods(items: list[str] | None, plan: Any) -> dict[tuple[str, str], str]:
    """``--edge-method a-b=METHOD`` (either order of the edge) to the plan's edges."""
    from synthlink.link.plan import check_edge_names

    raw: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--edge-method {item!r}: expected EDGE=METHOD, e.g. employment-social=distance")
        k, v = (s.strip() for s in item.split("=", 1))
        if not v:
            raise ConfigError(f"--edge-method {item!r}: no method named")
        raw[k] = v
    edges = check_edge_names(raw, plan, where="--edge-method")
    return {edges[k]: v for k, v in raw.items()}


def split_truth(path: Path, names: list[str], sizes: dict[str, int]) -> pd.DataFrame:
    """The truth table ``synthlink split`` writes (a column of row positions per part), checked
    against the parts: every part has its column, every position is a row of its part."""
    from synthlink.io import read_table

    t = read_table(path)
    missing = [n for n in names if n not in t.columns]
    if missing:
        raise InputError(f"{path}: the truth of K parts is the truth.parquet synthlink split writes, with a column of "
                         f"row positions per part; no column for part(s) {', '.join(missing)}")
    for n in names:
        v = pd.to_numeric(t[n], errors="coerce").dropna()
        if len(v) and (v.min() < 0 or v.max() >= sizes[n]):
            raise InputError(f"{path}: row positions of part '{n}' beyond its {sizes[n]:,} rows; is it the truth of another split?")
    return t


def edge_truth(t: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    both = t[[a, b]].dropna()
    return pd.DataFrame({"left": both[a].astype("int64").to_numpy(), "right": both[b].astype("int64").to_numpy()})


def run_link_plan(paths: list[Path], method: str, on: list[str], key: str | None, out: Path, *,
                  shape: str = "chain", hub: str | None = None, edge_methods: list[str] | None = None,
                  truth_path: Path | None = None, params: dict[str, Any] | None = None, seed: int = 0,
                  overwrite: bool = False) -> dict[str, Any]:
    """Link K parts along a plan: each edge as :func:`run_link` links a pair, into the folder
    ``out`` (``<a>-<b>.parquet`` and its ``.json`` per edge, and ``plan.json``). Everything is
    checked before the first edge is linked; the folder appears only when every edge is done."""
    from synthlink.io import atomic_dir, read_table, write_json
    from synthlink.link.plan import edge_name

    if out.suffix.lower() in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: with {len(paths)} parts --out is a folder (one links file per edge), not a table file")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise InputError(f"{out}: already exists; choose another output or pass --overwrite")
    names = part_names(paths)
    plan = build_plan(names, shape, hub)
    methods = parse_edge_methods(edge_methods, plan)
    path_of = dict(zip(names, paths, strict=True))
    tables = {n: read_table(path_of[n]) for n in plan.parts}
    missing = [c for c in on if not any(c in tables[n].columns for n in plan.parts)]
    if missing:
        raise InputError(f"linking column '{missing[0]}' is in none of the parts ({', '.join(plan.parts)})")
    # each edge links on the --on columns both of its parts hold; none at all is an error naming the edge
    on_edge: dict[str, list[str]] = {}
    for a, b in plan.edges:
        shared = [c for c in on if c in tables[a].columns and c in tables[b].columns]
        on_edge[edge_name(a, b)] = shared or list(on)
    plan.check_columns({n: [str(c) for c in tables[n].columns] for n in plan.parts}, on_edge, where="--on")
    truth = split_truth(truth_path, list(plan.parts), {n: len(tables[n]) for n in plan.parts}) if truth_path is not None else None
    with atomic_dir(out, overwrite=overwrite) as tmp:
        jobs = []
        for a, b in plan.edges:  # every check of every edge first
            m = methods.get((a, b), method)
            jobs.append(prepare_edge(path_of[a], path_of[b], m, on_edge[edge_name(a, b)], key,
                                     tmp / f"{edge_name(a, b)}.parquet", params=params if m == method else {},
                                     overwrite=True, left=tables[a], right=tables[b],
                                     truth=edge_truth(truth, a, b) if truth is not None else None))
        reports = {edge_name(a, b): link_edge(job, seed) for (a, b), job in zip(plan.edges, jobs, strict=True)}
        record: dict[str, Any] = {
            "plan": plan.to_dict(),
            "shape": plan.shape,
            "parts": [{"name": n, "file": Path(str(path_of[n])).name, "rows": len(tables[n])} for n in plan.parts],
            "edges": [{"edge": edge_name(a, b), "left": a, "right": b, "method": methods.get((a, b), method),
                       "linking_columns": on_edge[edge_name(a, b)], "links": f"{edge_name(a, b)}.parquet"}
                      for a, b in plan.edges],
            "methods": sorted({methods.get(e, method) for e in plan.edges}),
            "linking_columns": list(on),
            "key": key,
            "seed": seed,
        }
        write_json(record, tmp / PLAN_FILE)
    return {**record, "reports": reports}


def register(app: typer.Typer) -> None:
    @app.command("link")
    def link_cmd(
        parts: list[Path] = typer.Argument(..., metavar="TABLE", help="the tables to link: LEFT RIGHT, or three or more parts (named by their file stems)"),
        method: str = typer.Option(..., "--method", help="identifier, exact, probabilistic, distance, propensity, hotdeck"),
        on: str = typer.Option(..., "--on", help="linking columns, comma-separated (with K parts: each edge uses those both its parts hold)"),
        out: Path = typer.Option(..., "--out", help="links file: .csv or .parquet (diagnostics in LINKS.json); with three or more parts a folder"),
        key: str | None = typer.Option(None, "--key", help="record-key column in both tables (the identifier join matches on it; otherwise carried through, never matched on)"),
        truth: Path | None = typer.Option(None, "--truth", help="true pairs: split's truth.parquet, or a table of left_key, right_key (with --key; two tables only)"),
        param: list[str] | None = typer.Option(None, "--param", help="method parameter NAME=VALUE (repeatable; with K parts, for the edges linked by --method)"),
        seed: int = typer.Option(0, "--seed", help="seed (shuffling of the right table, sampling); the study's seed"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing links file or folder"),
        release: Path | None = typer.Option(None, "--release", help="with --method bridge: the bridge release file (synthlink bridge release)"),
        plan: str = typer.Option("chain", "--plan", help="three or more parts: chain (in the order given), star (needs --hub) or all_pairs"),
        hub: str | None = typer.Option(None, "--hub", help="with --plan star: the part linked to every other"),
        edge_method: list[str] | None = typer.Option(None, "--edge-method", help="three or more parts: EDGE=METHOD, e.g. employment-social=distance (repeatable)"),
    ) -> None:
        """Link two tables with one method, or three or more parts along a plan (chain, star, all pairs); write the links (row positions) and a JSON of diagnostics beside them."""
        cols = [c.strip() for c in on.split(",") if c.strip()]
        if not cols:
            raise ConfigError("--on needs at least one column")
        if len(parts) < 2:
            raise ConfigError("give at least two tables to link")
        params = parse_params(param)
        if release is not None:
            if method != "bridge":
                raise ConfigError("--release is for --method bridge (the linker that reads a bridge release)")
            if not release.exists():
                raise InputError(f"{release}: release file not found")
            params["release"] = str(release)
        elif method == "bridge" and "release" not in params:
            raise ConfigError("--method bridge needs --release FILE (written by synthlink bridge release)")
        if len(parts) == 2:
            if plan != "chain" or hub is not None or edge_method:
                raise ConfigError("--plan, --hub and --edge-method are for three or more parts (two tables are one edge)")
            left, right = parts
            rep = run_link(left, right, method, cols, key, out, truth, params, seed, overwrite=overwrite)
            typer.echo(f"{method}: {rep['links']:,} links between {rep['n_left']:,} and {rep['n_right']:,} rows -> {out}")
            if "quality" in rep:
                q = rep["quality"]
                typer.echo(f"precision {q['precision']:.3f}  recall {q['recall']:.3f}  F1 {q['f1']:.3f}  "
                           f"accuracy {q['accuracy']:.3f}  (uniqueness bound {rep['uniqueness_bound']['left']:.3f})")
            for w in rep["warnings"]:
                typer.echo(f"synthlink: warning: {w}", err=True)
            return
        rec = run_link_plan(list(parts), method, cols, key, out, shape=plan, hub=hub, edge_methods=edge_method,
                            truth_path=truth, params=params, seed=seed, overwrite=overwrite)
        for e in rec["edges"]:
            r = rec["reports"][e["edge"]]
            line = f"{e['edge']} ({e['method']}): {r['links']:,} links between {r['n_left']:,} and {r['n_right']:,} rows"
            if "quality" in r:
                line += f"; accuracy {r['quality']['accuracy']:.3f}"
            typer.echo(line)
            for w in r["warnings"]:
                typer.echo(f"synthlink: warning: {e['edge']}: {w}", err=True)
        typer.echo(f"{rec['shape']} of {len(rec['parts'])} parts, {len(rec['edges'])} edges -> {out}")

"""``synthlink synthesize PART --method NAME [--param k=v ...] [--seed S] --out OUT [--drop-column ID]
[--overwrite]``

A part that holds an identifier-like column (the split plan's identifier, or a column with a
distinct text value or key-shaped number on every row) is refused until ``--drop-column`` leaves
it out: a synthesizer would otherwise copy real identifiers into its output. A record-preserving
method (``preserving``) takes the identifier it names in ``--param identifier=COL`` and writes a
pseudonymised key instead.

Without ``--seed``, a part of a folder written by ``synthlink split`` is sampled with the seed
``synthlink run`` uses for it (split seed + 7919 x the part's 1-based position in the plan), so the
stage-by-stage path gives the study's synthetic parts; elsewhere the seed is 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthlink.cli._guard import (
    PART_SEED_STEP,
    check_output,
    declared_identifier,
    declared_kinds,
    refuse_identifiers,
    split_folder_of,
    split_info,
)
from synthlink.cli._params import parse_params
from synthlink.errors import ConfigError, InputError
from synthlink.io import read_table, write_table


def _methods_help() -> str:
    from synthlink.synth import available, synthesizer_class

    lines = []
    for name in available():
        try:
            summary = synthesizer_class(name).summary
        except ImportError:
            summary = "(module not importable)"
        lines.append(f"{name}: {summary}")
    return "\n\n".join(lines)


def study_seed(part: Path) -> tuple[int, str] | None:
    """The seed ``synthlink run`` samples this part with, and why, when the part sits in a folder
    written by ``synthlink split`` (which records its seed and the part order in split.json)."""
    info = split_info(split_folder_of(part))
    parts = info.get("parts") or []
    name = Path(part).stem
    if "seed" not in info or name not in parts:
        return None
    k = 1 + parts.index(name)
    return int(info["seed"]) + PART_SEED_STEP * k, f"the study's seed for part '{name}' of a split with seed {info['seed']}"


def register(app: typer.Typer) -> None:
    @app.command("synthesize", help="Fit a synthesizer on one part and write a synthetic part. "
                 "Methods:\n\n" + _methods_help())
    def synthesize_cmd(
        part: Annotated[Path, typer.Argument(help="the part to synthesize (.csv, .parquet, file.duckdb::table)")],
        out: Annotated[Path, typer.Option("--out", help="output table (.csv or .parquet)")],
        method: Annotated[str, typer.Option("--method", help="synthesizer name (see the list above)")] = "cart",
        param: Annotated[list[str] | None, typer.Option("--param", help="method parameter key=value (repeatable)")] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="seed for sampling (default: the study's seed for a part written by synthlink split, else 0)")] = None,
        rows: Annotated[int | None, typer.Option("--rows", help="number of rows (default: as many as the part)")] = None,
        drop_column: Annotated[list[str] | None, typer.Option(
            "--drop-column", help="column(s) to leave out, such as the identifier (repeatable)")] = None,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing output file")] = False,
    ) -> None:
        from synthlink.config import MethodSpec
        from synthlink.pipeline import synthesize_part
        from synthlink.synth import synthesizer_class

        check_output(out, overwrite)
        params = parse_params(param)
        cls = synthesizer_class(method)
        df = read_table(part)
        for c in drop_column or []:
            if c not in df.columns:
                raise InputError(f"{part}: --drop-column '{c}': no such column")
        if drop_column:
            df = df.drop(columns=list(drop_column))
        if rows is not None and rows < 0:
            raise ConfigError(f"--rows must be zero or more, got {rows}")
        # the one identifier a record-preserving method may take (it writes a pseudonym instead)
        own = [str(params["identifier"])] if cls.uses_identifier and params.get("identifier") else []
        refuse_identifiers(df, str(part), declared=[declared_identifier(part)], allowed=own)
        how = ""
        if seed is None:
            got = study_seed(part)
            seed, how = got if got is not None else (0, "")
        fake = synthesize_part(MethodSpec(method, params, method), df, identifier=own[0] if own else None,
                               seed=seed, n=rows, kinds=declared_kinds(part) or None)
        write_table(fake, out)
        seed_note = f" (seed {seed}: {how})" if how else f" (seed {seed})"
        typer.echo(f"{method}: fitted on {len(df):,} rows x {len(df.columns)} columns, wrote {len(fake):,} rows to {out}{seed_note}")

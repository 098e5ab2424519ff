"""``synthlink synthesize PART --method NAME [--param k=v ...] --seed S --out OUT [--drop-column ID]``"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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


def register(app: typer.Typer) -> None:
    @app.command("synthesize", help="Fit a synthesizer on one part and write a synthetic part. "
                 "Methods:\n\n" + _methods_help())
    def synthesize_cmd(
        part: Annotated[Path, typer.Argument(help="the part to synthesize (.csv, .parquet, file.duckdb::table)")],
        out: Annotated[Path, typer.Option("--out", help="output table (.csv or .parquet)")],
        method: Annotated[str, typer.Option("--method", help="synthesizer name (see the list above)")] = "cart",
        param: Annotated[list[str] | None, typer.Option("--param", help="method parameter key=value (repeatable)")] = None,
        seed: Annotated[int, typer.Option("--seed", help="seed for sampling")] = 0,
        rows: Annotated[int | None, typer.Option("--rows", help="number of rows (default: as many as the part)")] = None,
        drop_column: Annotated[list[str] | None, typer.Option(
            "--drop-column", help="column(s) to leave out, such as the identifier (repeatable)")] = None,
    ) -> None:
        from synthlink.synth import get_synthesizer

        df = read_table(part)
        for c in drop_column or []:
            if c not in df.columns:
                raise InputError(f"{part}: --drop-column '{c}': no such column")
        if drop_column:
            df = df.drop(columns=list(drop_column))
        if rows is not None and rows < 0:
            raise ConfigError(f"--rows must be zero or more, got {rows}")
        syn = get_synthesizer(method, **parse_params(param))
        syn.fit(df)
        fake = syn.sample(len(df) if rows is None else rows, seed=seed)
        write_table(fake, out)
        typer.echo(f"{method}: fitted on {len(df):,} rows x {len(df.columns)} columns, wrote {len(fake):,} rows to {out}")

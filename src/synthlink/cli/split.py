"""``synthlink split DATA --plan PLAN --out DIR``"""

from __future__ import annotations

from pathlib import Path

import typer

from synthlink.io import atomic_dir, read_table
from synthlink.split import SplitPlan, split


def register(app: typer.Typer) -> None:
    @app.command("split")
    def split_cmd(
        data: Path = typer.Argument(..., help="joint table: .csv, .parquet or file.duckdb::table"),
        plan: Path = typer.Option(..., "--plan", help="split plan (YAML): identifier, common, parts"),
        out: Path = typer.Option(..., "--out", help="output folder (must not exist unless --overwrite)"),
        seed: int = typer.Option(0, "--seed", help="seed for the holdout, coverage, noise and shuffling"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output folder"),
    ) -> None:
        """Hold out a control set and split the rest into institution parts, with a truth file: train/control tables, parts/NAME.parquet (each shuffled on its own), truth.parquet (row positions only), schema.json and plan.yaml."""
        the_plan = SplitPlan.from_yaml(plan)
        with atomic_dir(out, overwrite=overwrite) as tmp:
            df = read_table(data)
            result = split(df, the_plan, seed=seed, where=str(data))
            result.save(tmp)
        sizes = ", ".join(f"{k}: {len(v):,} rows" for k, v in result.parts.items())
        typer.echo(f"split {len(df):,} rows -> train {len(result.train):,}, control {len(result.control):,}; {sizes}")
        typer.echo(f"wrote {out}")

"""``synthlink split DATA --plan PLAN --out DIR [--seed S] [--add-identifier COL] [--na-values V]
[--sep ;] [--keep-identifier]``

Does what ``synthlink run`` does first, with the same seed: the real identifier is replaced by a
random surrogate key (:func:`synthlink.study.surrogate_identifier`, seeded by ``--seed``), then a
control set is held out and the rest cut into parts. The surrogate is the same for one person in
every part and table, so the identifier join and the truth still work, while no real identifier
reaches the folder (``--keep-identifier`` keeps the real one, for a secure environment that needs
it). The parts still carry that key: ``synthesize``, ``reconstruct`` and ``evaluate`` refuse it
until it is dropped (``--drop-column``, ``--identifier``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from synthlink.io import atomic_dir, read_table, separator_hint, write_json
from synthlink.split import SplitPlan, split


def load_plan(plan: str) -> SplitPlan:
    """A plan file, or ``demo`` for the demo population's plan (as ``split: {plan: demo}``)."""
    if plan == "demo" and not Path(plan).exists():
        from synthlink.demo import DEMO_PLAN

        return SplitPlan.from_dict(DEMO_PLAN)
    return SplitPlan.from_yaml(plan)


def register(app: typer.Typer) -> None:
    @app.command("split")
    def split_cmd(
        data: Path = typer.Argument(..., help="joint table: .csv, .parquet or file.duckdb::table"),
        plan: str = typer.Option(..., "--plan", help="split plan (YAML): identifier, common, parts; or 'demo'"),
        out: Path = typer.Option(..., "--out", help="output folder (must not exist unless --overwrite)"),
        seed: int = typer.Option(0, "--seed", help="seed for the surrogate key, the holdout, coverage, noise and shuffling (the study's seed)"),
        add_identifier: str | None = typer.Option(None, "--add-identifier", help="number the rows into a new identifier column COL (data without one)"),
        na_values: list[str] | None = typer.Option(None, "--na-values", help="CSV marker of a missing value (repeatable), e.g. N"),
        sep: str | None = typer.Option(None, "--sep", help="CSV field separator (default ',')"),
        keep_identifier: bool = typer.Option(False, "--keep-identifier", help="keep the real identifier instead of a surrogate key"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output folder"),
    ) -> None:
        """Hold out a control set and split the rest into institution parts, with a truth file: train/control tables, parts/NAME.parquet (each shuffled on its own), truth.parquet (row positions only), schema.json, plan.yaml and split.json. The identifier is replaced by a surrogate key, as synthlink run does."""
        from synthlink.cli._guard import SPLIT_INFO
        from synthlink.errors import ConfigError
        from synthlink.study import surrogate_identifier

        the_plan = load_plan(plan)
        with atomic_dir(out, overwrite=overwrite) as tmp:
            df = read_table(data, na_values=list(na_values) if na_values else None, sep=sep)
            separator_hint(df, str(data))
            if add_identifier:
                if add_identifier in df.columns:
                    raise ConfigError(f"--add-identifier: column '{add_identifier}' already exists in {data}")
                df.insert(0, add_identifier, [f"R{i:08d}" for i in range(len(df))])  # as data.add_identifier
            the_plan.validate(df, str(data))
            if not keep_identifier:
                df = surrogate_identifier(df, the_plan.identifier, seed=seed)
            result = split(df, the_plan, seed=seed, where=str(data))
            result.save(tmp)
            write_json({"seed": seed, "parts": the_plan.part_names, "identifier": the_plan.identifier,
                        "surrogate_identifier": not keep_identifier}, tmp / SPLIT_INFO)
        sizes = ", ".join(f"{k}: {len(v):,} rows" for k, v in result.parts.items())
        typer.echo(f"split {len(df):,} rows -> train {len(result.train):,}, control {len(result.control):,}; {sizes}")
        if keep_identifier:
            typer.echo(f"the real identifier '{the_plan.identifier}' is kept: this folder stays in the secure environment")
        else:
            typer.echo(f"'{the_plan.identifier}' holds a random surrogate key (seed {seed}), not the real identifier")
        typer.echo(f"wrote {out}")

"""``synthlink generate --n N --seed S --out FILE [--per-register]``"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate_cmd(
        out: Annotated[Path, typer.Option("--out", help="output file (.parquet or .csv), or a folder with --per-register")],
        n: Annotated[int, typer.Option("--n", min=1, help="number of persons (adults aged 16-85)")] = 20_000,
        seed: Annotated[int, typer.Option("--seed", help="random seed; the same seed gives the same population")] = 0,
        per_register: Annotated[bool, typer.Option(
            "--per-register", help="one file per register (population, education, employment, social) in the folder OUT")] = False,
        fmt: Annotated[str, typer.Option("--format", help="file format with --per-register: parquet or csv")] = "parquet",
        pseudonymise: Annotated[bool, typer.Option(
            "--pseudonymise", help="replace the matricule by a keyed HMAC-SHA256 pseudonym "
            "(key from --key-file or the environment variable SYNTHLINK_PSEUDONYM_KEY)")] = False,
        key_file: Annotated[Path | None, typer.Option(
            "--key-file", help="file holding the pseudonymisation key (implies --pseudonymise)")] = None,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing output file or folder")] = False,
    ) -> None:
        """Generate the synthetic Luxembourg-like demo population with its linked registers.

        One row per person: population register (matricule, sex, birth date, age, nationality,
        canton, commune, household size), education, employment and social registers; a register's
        columns are empty for persons it does not cover. See docs/demo-population.md."""
        from synthlink.demo import population, write_population
        from synthlink.errors import InputError
        from synthlink.io import check_can_write

        if not per_register and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise InputError(f"{out}: unknown output format '{out.suffix}' (use .csv or .parquet)")
        if not per_register or (out.exists() and not out.is_dir()):
            check_can_write(out, overwrite)  # fail before generating anything
        elif out.is_dir() and any(out.iterdir()) and not overwrite:
            check_can_write(out, overwrite)
        key = None
        pseudo = pseudonymise or key_file is not None
        if pseudo:
            from synthlink.pseudonymise import load_key

            key = load_key(file=key_file)  # fail before generating anything
        df = population(n, seed=seed)
        if key is not None:
            from synthlink.pseudonymise import pseudonymise as _pseudonymise

            df["matricule"] = _pseudonymise(df["matricule"], key)
            key = None
        paths = write_population(df, out, per_register=per_register, fmt=fmt, overwrite=overwrite)
        what = "pseudonymised" if pseudo else "synthetic"
        typer.echo(f"generated {len(df):,} persons (seed {seed}; {what} identifiers in column 'matricule')")
        for p in paths:
            typer.echo(f"wrote {p}")

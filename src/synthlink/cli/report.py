"""``synthlink report DIR``: (re)write report.html from a study folder's metrics.json."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(folder: Path = typer.Argument(..., help="a study output folder (holds metrics.json)")) -> None:
        """Write FOLDER/report.html, one self-contained file, from FOLDER/metrics.json."""
        from synthlink.report import write_report_from_folder

        p = write_report_from_folder(folder)
        typer.echo(f"report: {p}")

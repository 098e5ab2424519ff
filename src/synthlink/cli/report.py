"""``synthlink report DIR``: (re)write report.html from a study folder's metrics.json.

The report is drawn from a study's record (``synthlink run`` / ``synthlink demo``: one entry per
seed with its baseline and synthetic runs). The metrics file ``synthlink evaluate`` writes measures
one table and has no such record: it is refused with one line (exit 2) rather than rendered as an
empty report.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from synthlink.errors import InputError


def check_study_metrics(path: Path) -> None:
    """Refuse a metrics file that is not a study's (exit 2, one line saying what is needed)."""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable metrics file ({type(e).__name__})") from None
    if isinstance(m, dict) and isinstance(m.get("seeds"), list) and m["seeds"]:
        from synthlink.results import StudyRecord

        try:  # the report reads these typed records: a damaged file is one line, not a traceback
            StudyRecord.from_metrics(m)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise InputError(f"{path}: a damaged study metrics file ({type(e).__name__}: {e}); rerun the study") from None
        return
    if isinstance(m, dict) and {"utility", "privacy", "inputs"} <= set(m):
        raise InputError(f"{path}: written by synthlink evaluate (one table's utility and privacy); synthlink report "
                         "needs a study folder from synthlink run or synthlink demo: read the JSON itself, or run the study")
    raise InputError(f"{path}: holds no study runs (no 'seeds'); synthlink report needs the folder of synthlink run or demo")


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(folder: Path = typer.Argument(..., help="a study output folder (holds metrics.json)")) -> None:
        """Write FOLDER/report.html, one self-contained file, from FOLDER/metrics.json."""
        from synthlink.report import write_report_from_folder

        if folder.is_file() and folder.suffix == ".json":
            check_study_metrics(folder)  # evaluate's file is refused with what is needed
            if folder.name != "metrics.json":
                raise InputError(f"{folder}: give the study folder that holds metrics.json")
            folder = folder.parent
        if (folder / "metrics.json").exists():
            check_study_metrics(folder / "metrics.json")
        p = write_report_from_folder(folder)
        typer.echo(f"report: {p}")

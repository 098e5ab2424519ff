"""The report's HTML: the Jinja2 environment (autoescape on for every template and string), and
the functions that render a metrics dict and write report.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from synthlink.io import write_text
from synthlink.report.format import count, fmt
from synthlink.report.view import build_view

ENV = Environment(
    loader=PackageLoader("synthlink", "report/templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["f"] = fmt
ENV.filters["count"] = count


def render(metrics: dict[str, Any]) -> str:
    """The report of a study's metrics as one self-contained HTML page."""
    return ENV.get_template("report.html.j2").render(**build_view(metrics))


def write_report(metrics: dict[str, Any], path: str | Path) -> Path:
    """Render ``metrics`` and write the page to ``path``."""
    return write_text(render(metrics), path)


def write_report_from_folder(folder: str | Path) -> Path:
    """(Re)write ``folder/report.html`` from ``folder/metrics.json``."""
    folder = Path(folder)
    p = folder / "metrics.json"
    if not p.exists():
        from synthlink.errors import InputError

        raise InputError(f"{folder}: no metrics.json (run a study first)")
    return write_report(json.loads(p.read_text(encoding="utf-8")), folder / "report.html")

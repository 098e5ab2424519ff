"""One self-contained HTML report from a study's metrics.

No scripts from elsewhere, no fonts or styles from the network: the file opens offline in any
browser. Every string that comes from data or configuration is escaped (Jinja2 autoescape, and
:mod:`synthlink.report.charts` escapes its own labels). The report shows aggregates only, never
records.

Modules: :mod:`~synthlink.report.view` builds the view model from the typed records of
:mod:`synthlink.results`; :mod:`~synthlink.report.seeds` averages over seeds;
:mod:`~synthlink.report.figures` reads a run's headline figures; :mod:`~synthlink.report.verdict`
writes the summary's sentences; :mod:`~synthlink.report.measures` the registered measures;
:mod:`~synthlink.report.format` formats numbers; :mod:`~synthlink.report.charts` draws the SVG;
:mod:`~synthlink.report.render` renders and writes the page.
"""

from __future__ import annotations

from synthlink.report.render import render, write_report, write_report_from_folder
from synthlink.report.view import build_view

__all__ = ["build_view", "render", "write_report", "write_report_from_folder"]

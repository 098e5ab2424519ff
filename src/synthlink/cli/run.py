"""``synthlink run STUDY.yaml``: run a study config end to end (resumes from its cache)."""

from __future__ import annotations

from pathlib import Path

import typer

from synthlink.config import StudyConfig


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        config: Path = typer.Argument(..., help="study config (YAML)"),
        out: Path | None = typer.Option(None, "--out", help="output folder (default: the config's 'out')"),
        work_dir: Path | None = typer.Option(None, "--work-dir", help="working area for the stage cache, which holds training records (default: .synthlink-work/<OUT name> beside OUT; never inside OUT)"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    ) -> None:
        """Run a study config end to end: the original-split baseline first, then every synthesizer x linker; finished stages are cached in the working area (--work-dir), so a rerun after a crash resumes. OUT receives only report.html, metrics.json and results.parquet. Exit codes: 0 everything measured; 2 bad config or data (nothing run); 3 the study ran but a stage, section or measure failed (listed on stderr and at the top of the report); 143 stopped by SIGTERM, 130 by Ctrl-C (evaluation workers end with the study; a rerun resumes)."""
        from synthlink.cli.demo import run_study
        from synthlink.study import Study

        cfg = StudyConfig.from_yaml(config)
        run_study(Study(cfg), out, work_dir, quiet)

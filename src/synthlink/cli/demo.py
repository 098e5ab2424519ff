"""``synthlink demo``: the whole chain on the built-in demo population."""

from __future__ import annotations

from pathlib import Path

import typer

from synthlink.config import StudyConfig, demo_study_dict
from synthlink.io import check_can_write


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        n: int = typer.Option(20_000, "--n", min=500, help="number of persons in the demo population"),
        seed: int = typer.Option(0, "--seed", help="seed for every random step"),
        out: Path = typer.Option(Path("synthlink-demo"), "--out", help="output folder"),
        overwrite: bool = typer.Option(False, "--overwrite", help="reuse an existing output folder"),
        work_dir: Path | None = typer.Option(None, "--work-dir", help="working area for the stage cache (default: .synthlink-work/<OUT name> beside OUT)"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
        registers: str | None = typer.Option(None, "--registers", help="the registers to link as a chain, comma-separated, e.g. education,employment,social (default: education,employment)"),
    ) -> None:
        """Run the whole chain on the built-in demo population: split into education and employment registers (or the chain --registers names), synthesize each on its own, link with every method (original-split baseline first), evaluate, and write report.html and metrics.json."""
        from synthlink.study import Study

        if out.exists() and any(out.iterdir()) and not (out / "metrics.json").exists():
            check_can_write(out, overwrite)
        if (out / "metrics.json").exists() and not overwrite:
            check_can_write(out / "metrics.json", overwrite)
        names = [r.strip() for r in registers.split(",") if r.strip()] if registers is not None else None
        cfg = StudyConfig.from_dict(demo_study_dict(n, seed, names))
        run_study(Study(cfg), out, work_dir, quiet)


def run_study(study, out: Path | None, work_dir: Path | None, quiet: bool) -> None:
    """Run a study for ``synthlink run`` and ``demo``: SIGTERM and Ctrl-C stop it cleanly (its
    evaluation workers end, finished stages stay cached; exit 128 + signal); a study in which a
    stage, section or measure failed prints what failed and exits 3 after writing its report."""
    from synthlink.study import EXIT_FAILED, StudyStopped, stop_on_signals

    try:
        with stop_on_signals():
            result = study.run(out, work_dir=work_dir, progress=not quiet)
    except StudyStopped as e:
        typer.echo(f"synthlink: {e}: the evaluation workers were ended; finished stages stay in the "
                   "working area and a rerun resumes from them", err=True)
        raise typer.Exit(128 + e.signum) from None
    _print_summary(result)
    fails = result.failures
    if fails:
        typer.echo(f"synthlink: the study ran, but {len(fails)} evaluation(s) failed (exit code {EXIT_FAILED}; "
                   "the report opens with them):", err=True)
        for f in fails:
            typer.echo(f"  {f['where']}: {f['error']}", err=True)
        raise typer.Exit(EXIT_FAILED)


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    b = result.baseline()
    if not b.empty and "accuracy" in b.columns:
        t = Table(title="Linkage on the original split (truth known)")
        for c in ("linker", "accuracy", "f1", "expected_bound", "uniqueness_bound"):
            t.add_column(c, overflow="fold", min_width=12 if c == "linker" else None)
        for _, r in b.iterrows():
            t.add_row(str(r["linker"]), *(f"{r[c]:.3f}" if c in r and r[c] == r[c] else "n/a" for c in ("accuracy", "f1", "expected_bound", "uniqueness_bound")))
        console.print(t)
        sd = b["expected_bound_sd"].iloc[0] if "expected_bound_sd" in b.columns else float("nan")
        if sd == sd:
            console.print(f"which of several identical records a link takes is random: one seed's accuracy "
                          f"varies by about {sd:.3f} (sd) around the expected bound")
    console.print(f"report:  {result.report_path}")
    if result.work_dir is not None:
        console.print(f"working area: {result.work_dir.resolve()} holds training records (the stage cache): it "
                      "stays in the secure environment; delete it when done, never share it")
    console.print(f"metrics: {result.out / 'metrics.json'}")

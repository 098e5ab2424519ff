"""Thin command line over the public API.

Every verb lives in its own module under ``synthlink.cli`` and exposes ``register(app)``. Errors
that synthlink raises on purpose (:class:`~synthlink.errors.SynthlinkError`) end the program with
one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperGroup

from synthlink.errors import SynthlinkError


class _Group(TyperGroup):
    """Turns a SynthlinkError from any verb into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SynthlinkError as e:
            typer.echo(f"synthlink: error: {e}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    name="synthlink",
    help="Split, synthesize, link, reconstruct and evaluate: can independently synthesized "
    "registers be linked back usefully, and at what privacy risk?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: verb modules, in the order they appear in --help
VERBS = ["demo", "run", "report", "generate", "split", "synthesize", "link", "reconstruct", "evaluate", "bridge"]


def _register_all() -> None:
    for verb in VERBS:
        try:
            mod = importlib.import_module(f"synthlink.cli.{verb}")
        except ModuleNotFoundError as e:
            if e.name == f"synthlink.cli.{verb}":
                continue  # verb not built yet
            raise
        mod.register(app)


_register_all()


def fail(message: str) -> None:
    """Print one line to stderr and exit 2."""
    typer.echo(f"synthlink: error: {message}", err=True)
    raise typer.Exit(2)


def _setup_logging(verbose: bool = False) -> None:
    import logging

    log = logging.getLogger("synthlink")
    if not log.handlers:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("synthlink: %(levelname)s: %(message)s"))
        log.addHandler(h)
        log.propagate = False
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    # Splink's own log lines ("[EM sampling] Probe returned zero blocked pairs ...") are internal
    # detail: out of the console unless --verbose. A handler of ours on the "splink" logger also
    # keeps Splink from adding its own (it adds one only where the logger has none).
    sp = logging.getLogger("splink")
    for old in [h for h in sp.handlers if getattr(h, "_synthlink", False)]:
        sp.removeHandler(old)
    h = logging.StreamHandler()
    h.setFormatter(logging.Formatter("splink: %(levelname)s: %(message)s"))
    h.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
    h._synthlink = True  # type: ignore[attr-defined]
    sp.addHandler(h)
    sp.propagate = False


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="also show log lines of synthlink and of the libraries it drives (Splink)")) -> None:
    """Split, synthesize, link, reconstruct and evaluate."""
    _setup_logging(verbose)


def main(argv: list[str] | None = None) -> None:
    _setup_logging()
    app(args=argv)

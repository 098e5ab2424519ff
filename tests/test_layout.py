"""The layout tells the architecture (issue 13): no source module over 500 lines, no underscore
name imported across modules, evaluation never imports the report nor a concrete linker, and the
CLI verbs reach the stages through the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "synthlink"
MODULES = sorted(SRC.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_no_module_over_500_lines():
    long = {str(p.relative_to(SRC)): n for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, long


def test_no_underscore_name_imported_across_modules():
    bad = [(str(p.relative_to(SRC)), mod, name) for p in MODULES for mod, names in _imports(p)
           if mod.startswith("synthlink") for name in names if name.startswith("_") and name != "__version__"]
    assert not bad, bad


def test_evaluation_imports_neither_the_report_nor_a_concrete_linker():
    allowed = {"synthlink.link", "synthlink.link.base"}  # the registry and Links
    bad = []
    for p in (SRC / "evaluate").rglob("*.py"):
        for mod, _ in _imports(p):
            if mod.startswith("synthlink.report") or (mod.startswith("synthlink.link") and mod not in allowed):
                bad.append((str(p.relative_to(SRC)), mod))
    assert not bad, bad


def test_cli_verbs_reach_the_stages_through_the_pipeline():
    """No verb imports the study's internals or another module's private helpers; the stages come
    from synthlink.pipeline (the registries' listings aside)."""
    bad = []
    for p in (SRC / "cli").glob("*.py"):
        for mod, names in _imports(p):
            if mod == "synthlink.study" and any(n not in ("Study", "EXIT_FAILED", "StudyStopped", "stop_on_signals",
                                                        "surrogate_identifier") for n in names):
                bad.append((p.name, mod, names))
    assert not bad, bad

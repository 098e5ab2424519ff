"""``synthlink bridge release JOINT --spec SPEC.yaml --out RELEASE.json [--overwrite]``

Inside the secure environment: the differentially private release of the spec's cross-register
marginals of the real joint table JOINT (CSV or Parquet), written as counts only
(:func:`synthlink.bridge.release.release`, :class:`synthlink.bridge.spec.BridgeRelease`). The
spec is a YAML mapping with the keys of :meth:`synthlink.bridge.spec.BridgeSpec.from_dict`
(``marginals``, ``bins``, ``categories``, ``missing``, ``epsilon``, ``mechanism``, ``delta``).

Refused with exit code 2 and one line, before anything is written (the file is written
atomically, so there is never a partial release): an epsilon that is missing or not positive,
unknown spec keys, a marginal naming a column JOINT lacks, values the declared bins or categories
do not cover, an identifier-like column among the spec's columns, an existing output without
``--overwrite``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from synthlink.cli._guard import check_output, declared_identifier, refuse_identifiers
from synthlink.errors import ConfigError, InputError


def run_release(joint_path: Path, spec_path: Path, out: Path, *, overwrite: bool = False) -> Any:
    """Read, check, release and write; returns the :class:`BridgeRelease`."""
    from synthlink.bridge.release import release
    from synthlink.bridge.spec import BridgeSpec
    from synthlink.io import read_table, read_yaml

    if out.suffix.lower() != ".json":
        raise InputError(f"{out}: RELEASE must end in .json")
    check_output(out, overwrite)
    raw = read_yaml(spec_path, "bridge spec")
    if not isinstance(raw, dict):
        raise ConfigError(f"{spec_path}: a bridge spec must be a mapping (marginals, bins, categories, epsilon, ...)")
    spec = BridgeSpec.from_dict(raw, str(spec_path))
    joint = read_table(joint_path)
    for m in spec.marginals:
        missing = [c for c in m if c not in joint.columns]
        if missing:
            raise InputError(f"{joint_path}: marginal {list(m)} names {', '.join(map(repr, missing))}, "
                             "not a column of the joint table")
    refuse_identifiers(joint[spec.columns], str(joint_path), declared=[declared_identifier(joint_path)],
                       how="leave it out of the bridge spec")
    rel = release(joint, spec, where=str(joint_path))
    rel.save(out)
    return rel


def register(app: typer.Typer) -> None:
    bridge_app = typer.Typer(help="The bridge: a differentially private release of cross-register counts.",
                             no_args_is_help=True)

    @bridge_app.command("release")
    def release_cmd(
        joint: Path = typer.Argument(..., help="the real joint table (inside the secure environment): .csv or .parquet"),
        spec: Path = typer.Option(..., "--spec", help="bridge spec (YAML): marginals, bins, categories, epsilon, ..."),
        out: Path = typer.Option(..., "--out", help="release file (.json): counts only"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output file"),
    ) -> None:
        """Release noisy, consistent counts of the spec's marginals (OpenDP; counts only)."""
        rel = run_release(joint, spec, out, overwrite=overwrite)
        b = rel.budget
        budget = f"epsilon={b['epsilon']:g}" + (f", delta={b['delta']:g}" if b["mechanism"] == "gaussian" else "")
        typer.echo(f"bridge release: {len(rel.tables)} marginal(s), {sum(len(t) for t in rel.tables.values()):,} cells, "
                   f"{b['mechanism']} noise of scale {b['scale']:.4g}, {budget}; wrote {out}")

    app.add_typer(bridge_app, name="bridge")

"""Checks shared by the stage verbs: no identifier reaches an output, outputs are replaced only with
``--overwrite``, and the folder written by ``synthlink split`` is recognised beside its files.

Each refusal is a :class:`~synthlink.errors.SynthlinkError`, so the command ends with exit code 2
and one line (see :mod:`synthlink.cli`). Messages name columns, never values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from synthlink.errors import InputError, PrivacyError

#: written by ``synthlink split`` beside plan.yaml: the seed and the part order the study uses
SPLIT_INFO = "split.json"

#: the study samples part k (1-based, in plan order) with ``seed + PART_SEED_STEP * k``
#: (:meth:`synthlink.study.Study._run_seed`)
PART_SEED_STEP = 7919


def split_folder_of(path: Path) -> Path | None:
    """The folder written by ``synthlink split`` that holds ``path`` (a part under ``parts/``, or
    train/control/truth at its top), or None."""
    p = Path(path).absolute()
    for cand in (p.parent, p.parent.parent):
        if (cand / "plan.yaml").exists() and (cand / "schema.json").exists():
            return cand
    return None


def split_info(folder: Path | None) -> dict[str, Any]:
    """``split.json`` of a split folder (seed, parts, identifier), or ``{}``."""
    if folder is None or not (folder / SPLIT_INFO).exists():
        return {}
    try:
        info = json.loads((folder / SPLIT_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def declared_identifier(path: Path) -> str | None:
    """The identifier named by the split plan of the folder that holds ``path``, if any."""
    folder = split_folder_of(path)
    if folder is None:
        return None
    from synthlink.split import SplitPlan

    try:
        return SplitPlan.from_yaml(folder / "plan.yaml").identifier
    except Exception:  # a damaged plan declares nothing; the shape test still runs
        return None


def declared_kinds(path: Path) -> dict[str, str]:
    """The column kinds declared by the split plan of the folder that holds ``path`` (``{}`` when
    none): the stage-by-stage path gives methods the kinds ``synthlink run`` gives them."""
    folder = split_folder_of(path)
    if folder is None:
        return {}
    from synthlink.split import SplitPlan

    try:
        return dict(SplitPlan.from_yaml(folder / "plan.yaml").kinds)
    except Exception:  # a damaged plan declares nothing
        return {}


def refuse_identifiers(df: pd.DataFrame, where: str, *, declared: Iterable[str | None] = (),
                       allowed: Iterable[str] = (), how: str = "pass --drop-column {col}") -> None:
    """Raise :class:`PrivacyError` when ``df`` holds an identifier-like column
    (:func:`synthlink.validate.identifier_like_columns`) other than ``allowed``; ``how`` says how
    to leave a column out (``{col}`` is its name; repeated for each column found)."""
    from synthlink.validate import identifier_like_columns

    ok = set(allowed)
    found = [(c, why) for c, why in identifier_like_columns(df, [d for d in declared if d]) if c not in ok]
    if not found:
        return
    c, why = found[0]
    more = f" (and {', '.join(repr(x) for x, _ in found[1:])})" if len(found) > 1 else ""
    fix = " ".join(how.format(col=x) for x, _ in found) if "{col}" in how else how
    raise PrivacyError(f"{where}: column '{c}'{more} {why}: an identifier must not reach an output; {fix}")


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse to replace an existing output unless ``--overwrite`` (one line, exit 2)."""
    if Path(path).exists() and not overwrite:
        raise InputError(f"{path}: already exists; choose another output or pass --overwrite")

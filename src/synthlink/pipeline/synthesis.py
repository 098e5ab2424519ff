"""The synthesis stage: one synthesizer on one part, on its own; what a DP synthesizer's epsilon
covers; and, for record-preserving synthesizers, which real record each synthetic row came from."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import PrivacyError
from synthlink.synth import get_synthesizer, synthesizer_class


def _with_kinds(cls: Any, params: dict[str, Any], columns: Any, kinds: dict[str, str] | None) -> dict[str, Any]:
    """``params`` with the declared kinds of ``columns`` for a synthesizer that models columns by
    kind, unless its own parameters declare them."""
    declared = {c: k for c, k in (kinds or {}).items() if c in set(columns)}
    if declared and cls.accepts_kinds and "kinds" not in params:
        params = {**params, "kinds": declared}
    return params


def guarantee(sy: Any, data: pd.DataFrame, kinds: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The privacy statement of a synthesizer that makes one (``guarantee(data)``: a DP
    synthesizer's epsilon and what it does and does not cover), else None. It reads the
    declarations and the columns' dtypes, not the rows, so a cached part can be labelled too."""
    cls = synthesizer_class(sy.name)
    if not cls.differentially_private:
        return None
    params = _with_kinds(cls, dict(sy.params), data.columns, kinds)
    statement = get_synthesizer(sy.name, **params).guarantee(data)
    return dict(statement) if statement is not None else None


def key_positions(sy: Any, ident: str, ids: pd.Series) -> pd.Series | None:
    """For a record-preserving synthesizer: the position in ``ids`` of each real record, indexed by
    the pseudonymised key the synthesizer writes for it (recomputed with the synthesizer's own key,
    once per synthesizer). None for synthesizers whose rows belong to nobody."""
    if not synthesizer_class(sy.name).uses_identifier:
        return None
    params = dict(sy.params)
    params.setdefault("identifier", ident)
    pseudonyms = getattr(get_synthesizer(sy.name, **params), "pseudonyms", None)
    if pseudonyms is None:
        return None
    return pd.Series(np.arange(len(ids), dtype=np.int64), index=pseudonyms(ids))


def source_positions(key_pos: pd.Series | None, keys: pd.Series | None) -> np.ndarray | None:
    """The position of the real record each synthetic row was derived from (-1: none), from the
    row's key; None when the rows carry no key or belong to nobody."""
    if key_pos is None or keys is None:
        return None
    return keys.reset_index(drop=True).map(key_pos).fillna(-1).astype("int64").to_numpy()


def synthesize_part(spec: Any, part: pd.DataFrame, *, identifier: str | None, seed: int, n: int | None = None,
                    kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """Fit the synthesizer ``spec`` names on one part and draw ``n`` rows (default: as many as the
    part has) with ``seed``. The identifier is dropped before fitting, except for a
    record-preserving synthesizer, which replaces it by a pseudonymised key; a synthesizer that
    returns the real identifier column is an error. ``kinds`` (declared column kinds) reach a
    synthesizer that models columns by kind, unless its own parameters declare them."""
    cls = synthesizer_class(spec.name)
    params = dict(spec.params)
    if cls.uses_identifier and identifier is not None:
        params.setdefault("identifier", identifier)  # record-preserving: keeps a pseudonymised key
    params = _with_kinds(cls, params, [c for c in part.columns if c != identifier], kinds)
    s = get_synthesizer(spec.name, **params)
    data = part if cls.uses_identifier or identifier is None else part.drop(columns=[identifier], errors="ignore")
    s.fit(data)
    out = s.sample(len(part) if n is None else int(n), seed=seed)
    if identifier is not None and identifier in out.columns:
        raise PrivacyError(f"synthesizer '{spec.name}' returned the real identifier column '{identifier}'; nothing written")
    return out


def handed_over_path(spec: Any, part_name: str, seed: int, base_dir: Any = None) -> Any:
    """Where a handed-over synthesizer (``files``) finds the file of ``part_name``."""
    from synthlink.synth.files import HandedOverFiles

    files = get_synthesizer(spec.name, **dict(spec.params))
    assert isinstance(files, HandedOverFiles)
    return files.path(part_name, seed, base_dir)


def load_handed_over(spec: Any, part_name: str, part: pd.DataFrame, *, identifier: str, seed: int,
                     base_dir: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The institution's own synthetic file of ``part_name``, checked against the real part (which
    carries the record key ``identifier``: a file with its values is refused), and what the check
    found (unseen categories, casts, dropped columns; the file's path left out)."""
    from synthlink.synth.files import HandedOverFiles

    files = get_synthesizer(spec.name, **dict(spec.params))
    assert isinstance(files, HandedOverFiles)
    got, rep = files.load(part_name, part, identifier=identifier, seed=seed, base_dir=base_dir)
    return got, {k: v for k, v in rep.to_dict().items() if k != "source"}

"""The linking stage: one linker on two parts, with the identifier and record keys hidden from
every method but the identifier join, the right part shuffled, and warnings kept with the links.
The study (original split and synthetic parts) and ``synthlink link`` both call :func:`link_parts`."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from synthlink.config import MethodSpec
from synthlink.link import get_linker, linker_class
from synthlink.link.base import Links, shuffled_link

log = logging.getLogger("synthlink")

#: name of the hidden column that carries the true pairs to a linker that learns from them
TRUTH_COLUMN = "_sl_truth_position"


def links_to_frame(links: Links) -> pd.DataFrame:
    return links.pairs[["left", "right", "score"]]


def links_meta(links: Links) -> dict[str, Any]:
    return {
        "method": links.method, "n_left": links.n_left, "n_right": links.n_right,
        "one_to_one": links.one_to_one, "diagnostics": links.diagnostics, "warnings": links.warnings,
    }


def links_from_cache(pairs: pd.DataFrame, meta: dict[str, Any]) -> Links:
    return Links(pairs, int(meta["n_left"]), int(meta["n_right"]), str(meta["method"]),
                 bool(meta["one_to_one"]), dict(meta.get("diagnostics") or {}), list(meta.get("warnings") or []))


def baseline_specs(linkers: list[MethodSpec]) -> list[MethodSpec]:
    """The baseline runs every configured linker and the extra variants a method declares
    (``Linker.baseline_variants``), labelled ``label:suffix``: the probabilistic linker with m
    trained from the true pairs beside m by EM, since EM can fail silently on weak linking
    variables and only the original split can show it. A variant the configured parameters
    already are is not repeated."""
    import inspect

    out: list[MethodSpec] = []
    for spec in linkers:
        out.append(spec)
        cls = linker_class(spec.name)
        defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
        for suffix, params in cls.baseline_variants:
            if all(spec.params.get(k, defaults.get(k)) == v for k, v in params.items()):
                continue
            out.append(MethodSpec(spec.name, {**spec.params, **params}, f"{spec.label}:{suffix}"))
    return out


#: columns that carry a (pseudonymised) record key in synthetic parts: used to join, never evaluated
KEY_COLUMNS = ("pseudo_key",)


def pseudo_key(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    for c in KEY_COLUMNS:
        if c in a.columns and c in b.columns:
            return c
    return None


def accepts(cls: type, parameter: str) -> bool:
    """Whether a linker class declares it takes ``parameter``: ``truth`` (learns from the true
    pairs) or ``kinds`` (compares values by declared kind), from its ``accepts_*`` capability."""
    return bool(getattr(cls, f"accepts_{parameter}"))


def link_parts(spec: MethodSpec, left: pd.DataFrame, right: pd.DataFrame, *, on: list[str], seed: int,
               hidden: tuple[str | None, ...] = (), key: str | None = None, truth: pd.DataFrame | None = None,
               kinds: dict[str, str] | None = None) -> Links | None:
    """Link ``left`` and ``right`` with the method ``spec`` names; the positions in the returned
    :class:`Links` index the rows of ``left`` and ``right`` as given.

    ``on``: the linking variables, unless the method's parameters choose (``on`` or ``passes``).
    ``hidden``: columns no method but the identifier join sees (the identifier, record keys).
    ``key``: the record key the identifier join matches on; where the join has none (synthetic
    parts without a shared key) it does not apply and None is returned.
    ``truth``: the true pairs (``left``, ``right`` row positions). A method that learns from them
    (the probabilistic linker's m from true pairs) receives them as a hidden column: left rows
    carry their own position, right rows their true partner's (NaN: none); it never matches on it.
    ``kinds``: declared column kinds, for methods that compare values by kind.
    The right part is shuffled with ``seed`` before linking, so row order never helps a method;
    method warnings stay in ``Links.warnings`` and go to the log once."""
    cls = linker_class(spec.name)
    params = dict(spec.params)
    hide = {c for c in hidden if c}
    if cls.uses_identifier:
        if key is None or key not in left.columns or key not in right.columns:
            return None
        params.setdefault("key", key)
        hide.discard(key)
    else:
        if "on" not in params and "passes" not in params:
            params["on"] = list(on)
        if kinds and accepts(cls, "kinds") and "kinds" not in params:
            params["kinds"] = {c: k for c, k in kinds.items() if c in left.columns and c in right.columns}
    lx = left.drop(columns=[c for c in hide if c in left.columns]).reset_index(drop=True)
    rx = right.drop(columns=[c for c in hide if c in right.columns]).reset_index(drop=True)
    if truth is not None and not cls.uses_identifier and accepts(cls, "truth") and "truth" not in params:
        lx[TRUTH_COLUMN] = np.arange(len(lx), dtype="float64")
        rcol = np.full(len(rx), np.nan)
        rcol[truth["right"].to_numpy(dtype="int64")] = truth["left"].to_numpy(dtype="float64")
        rx[TRUTH_COLUMN] = rcol
        params["truth"] = TRUTH_COLUMN
    linker = get_linker(spec.name, **params)
    with warnings.catch_warnings(record=True) as caught:
        # method warnings (e.g. propensity matching unsuitable) are kept in Links.warnings and
        # shown in the report; here they only go to the log, once
        warnings.simplefilter("always")
        links = shuffled_link(linker, lx, rx, seed=seed)
    for w in {str(w.message) for w in caught}:
        log.info("%s: %s", spec.label, w)
    return links


def cached_link(cache: Any, stage: str, key_parts: tuple[Any, ...], spec: MethodSpec, left: pd.DataFrame,
                right: pd.DataFrame, *, seed: int, on: list[str], identifier: str, key: str | None,
                truth: pd.DataFrame | None = None, kinds: dict[str, str] | None = None) -> Links | None:
    """:func:`link_parts` through the study's cache (``stage``-links, keyed by ``key_parts``, the
    method and the seed): the identifier and the record key are hidden from every method but the
    identifier join, which matches on ``key`` (None where it does not apply)."""
    import json

    from synthlink.cache import stage_key
    from synthlink.io import read_table, write_json, write_table

    k = stage_key(stage, *key_parts, spec.to_dict(), seed)
    pairs_p = cache.path(f"{stage}-links", k, ".parquet")
    meta_p = cache.path(f"{stage}-links", k, ".json")
    if linker_class(spec.name).uses_identifier and (key is None or key not in left.columns or key not in right.columns):
        return None
    if pairs_p.exists() and meta_p.exists():
        cache.hits += 1
        return links_from_cache(read_table(pairs_p), json.loads(meta_p.read_text(encoding="utf-8")))
    links = link_parts(spec, left, right, on=on, seed=seed, hidden=(identifier, key), key=key, truth=truth, kinds=kinds)
    if links is None:
        return None
    cache.misses += 1
    cache.computed.append(f"{stage}-links-{k}")
    write_table(links_to_frame(links), pairs_p)
    write_json(links_meta(links), meta_p)
    return links_from_cache(links.pairs, json.loads(meta_p.read_text(encoding="utf-8")))  # JSON-clean, as on a rerun

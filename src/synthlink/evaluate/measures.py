"""The registry of plug-in measures: a measure registered here is computed on every linked
synthetic table (J*) of a study and shown in its metrics and report, with no other file touched.

A measure is a function ``fn(train, control, synthetic, *, common, part_columns, seed)`` returning
a number, or a mapping with ``value`` (and optionally ``ci``, ``control``, ``n``), plus its
``goal`` (``lower`` or ``higher`` is better), ``range`` and a one-line ``summary``. Functions must
be importable by name (module level), since studies evaluate in worker processes::

    from synthlink.evaluate import measures
    measures.register(measures.Measure("my_measure", my_fn, goal="lower", range=(0, 1), summary="..."))

Built in: ``unique_exact_matches`` (NIST SDNist's measure).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from synthlink.errors import ConfigError


@dataclass(frozen=True)
class Measure:
    """A plug-in measure: its name, function, goal, range and a one-line definition."""

    name: str
    fn: Callable[..., Any]
    goal: Literal["lower", "higher"]
    range: tuple[float, float]
    summary: str

    def __post_init__(self) -> None:
        if self.goal not in ("lower", "higher"):
            raise ConfigError(f"measure '{self.name}': goal must be 'lower' or 'higher', got {self.goal!r}")
        if not self.range[0] <= self.range[1]:
            raise ConfigError(f"measure '{self.name}': range {self.range} is empty")


_REGISTRY: dict[str, Measure] = {}


def register(measure: Measure, *, replace: bool = False) -> Measure:
    """Add a measure to the registry (a name already taken is an error unless ``replace``)."""
    if measure.name in _REGISTRY and not replace:
        raise ConfigError(f"a measure named '{measure.name}' is already registered")
    _REGISTRY[measure.name] = measure
    return measure


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def available() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> Measure:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown measure '{name}' (available: {', '.join(available()) or 'none'})")
    return _REGISTRY[name]


def registered() -> list[Measure]:
    """Every registered measure, in name order (what a study computes on each J*)."""
    return [_REGISTRY[n] for n in available()]


def run(measure: Measure, train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *,
        common: Sequence[str], part_columns: Mapping[str, Sequence[str]] | None, seed: int) -> dict[str, Any]:
    """One measure on one table, as the metrics record it: value (None when not finite), goal,
    range, summary, and the measure's own extras; a failure becomes ``error``, never a crash."""
    out: dict[str, Any] = {"goal": measure.goal, "range": list(measure.range), "summary": measure.summary}
    try:
        got = measure.fn(train, control, synthetic, common=list(common),
                         part_columns={k: list(v) for k, v in (part_columns or {}).items()}, seed=seed)
    except Exception as e:
        return {**out, "value": None, "error": f"{type(e).__name__}: {e}"}
    res = dict(got) if isinstance(got, Mapping) else {"value": got}
    v = res.get("value")
    value = float(v) if isinstance(v, (int, float)) and math.isfinite(float(v)) else None
    lo, hi = measure.range
    if value is not None and not lo <= value <= hi:
        return {**out, "value": None, "error": f"ValueError: {measure.name} = {value} is outside its range [{lo}, {hi}]"}
    return {**out, **{k: x for k, x in res.items() if k != "value"}, "value": value}


# -- built-in --------------------------------------------------------------------------------------


def unique_records(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """The rows of ``frame`` whose combination of ``cols`` occurs exactly once, a missing value
    counting as a value of its own (as in SDNist, whose tables code it as the string 'N')."""
    cols = list(cols)
    counts = frame.groupby(cols, observed=True, dropna=False)[cols[0]].transform("size")
    return frame.loc[counts == 1, cols]


def share_of_uniques_reproduced(target: pd.DataFrame, other: pd.DataFrame, cols: Sequence[str]) -> tuple[float, int]:
    """(share, n): of the ``n`` records unique in ``target`` on ``cols``, the share that ``other``
    contains exactly (each distinct row of ``other`` counted once). NaN when ``target`` has none."""
    uniq = unique_records(target, cols)
    if not len(uniq):
        return float("nan"), 0
    dedup = other[list(cols)].drop_duplicates()
    matched = len(uniq.merge(dedup, how="inner", on=list(cols)))
    return matched / len(uniq), len(uniq)


def unique_exact_matches(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *,
                         common: Sequence[str], part_columns: Mapping[str, Sequence[str]] | None,
                         seed: int) -> dict[str, Any]:
    """NIST SDNist's unique exact matches (``sdnist/metrics/unique_exact_matches.py``, 2.3): the
    share of the records unique in the real data (on every column the synthetic table has) that
    the synthetic table reproduces exactly. ``control`` is the same share for fresh real records
    (people the synthesizer never saw) against the same train: what chance reproduces."""
    cols = [c for c in synthetic.columns if c in train.columns]
    share, n = share_of_uniques_reproduced(train, synthetic, cols)
    ref, _ = share_of_uniques_reproduced(train, control[[c for c in cols if c in control.columns]], cols) \
        if all(c in control.columns for c in cols) else (float("nan"), 0)
    return {"value": share, "n": n, "control": ref if math.isfinite(ref) else None}


register(Measure(
    "unique_exact_matches", unique_exact_matches, goal="lower", range=(0.0, 1.0),
    summary="share of the real records unique on all columns that the table reproduces exactly "
            "(NIST SDNist); 'control': the share fresh real records reproduce by chance"))

from synthlink.evaluate.sdnist import (  # noqa: E402
    apparent_match_share,
    k_marginal,
    k_marginal_cross,
    k_marginal_cross3,
)

register(Measure(
    "k_marginal", k_marginal, goal="higher", range=(0.0, 1000.0),
    summary="NIST SDNist's k-marginal score: 1000 x (1 - mean total variation distance) over SDNist's "
            "pairs of columns (numeric binned in 20 quantile bins); 'control': fresh real records"))
register(Measure(
    "k_marginal_cross", k_marginal_cross, goal="higher", range=(0.0, 1000.0),
    summary="the k-marginal score (NIST SDNist) on the pairs whose two columns come from different "
            "parts (common columns: no part), what only the linkage carries; 'control': fresh real records"))
register(Measure(
    "k_marginal_cross3", k_marginal_cross3, goal="higher", range=(0.0, 1000.0),
    summary="the k-marginal score (NIST SDNist's densities and scale) on 3-way marginals whose columns "
            "come from at least two parts (at most 200, those spanning three parts first); 'control': "
            "fresh real records"))
register(Measure(
    "apparent_match_share", apparent_match_share, goal="lower", range=(0.0, 1.0),
    summary="NIST SDNist's apparent matches: records unique on the common variables in both the table "
            "and train that match on them, over train's rows; extras: their agreement on the other "
            "columns (quartiles, %); 'control': fresh real records"))

"""Typed results and the one JSON serialisation of metrics.json.

A study writes its results as one nested dict (``metrics.json``, described field by field in
docs/metrics.md and by the JSON Schema ``synthlink/schemas/metrics.schema.json``). The frozen
dataclasses here are thin, documented views over that dict, in the manner of statsmodels' result
holders and Anonymeter's ``PrivacyRisk`` / ``EvaluationResults`` (Giomi et al., PETS 2023):

:class:`Estimate`
    a value with its interval, direction, range and sample size;
:class:`Failure`
    the one failure shape: where it happened, the error text, the exception type;
:class:`Risk`
    a privacy measure as the privacy measures write it (risk, attack / baseline / control rates);
:class:`LinkageQuality`
    linkage against the truth (accuracy with its Wilson interval, precision, recall, F1);
:class:`RunRecord`, :class:`SeedRecord`, :class:`StudyRecord`
    one linker run, one seed, one study; ``StudyRecord.from_metrics(d)`` reads a metrics dict.

Each has ``to_dict()`` / ``from_dict()`` with ``from_dict(x.to_dict()) == x``. :func:`capture`
runs a step and turns an exception into a :class:`Failure`; :func:`dumps` / :func:`loads` are the
JSON serialisation (numpy scalars and arrays, NaN and infinities as null, dataclasses, tuples,
paths); :func:`stamp` adds :data:`SCHEMA_VERSION` to a metrics dict.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal, TypeVar

import numpy as np

log = logging.getLogger(__name__)

#: version of the metrics.json layout described by schemas/metrics.schema.json
SCHEMA_VERSION = "1"

Goal = Literal["lower", "higher"]
T = TypeVar("T")


def _pair(x: Any) -> tuple[float, float] | None:
    """A two-number interval read from JSON (a list) or given as a tuple; None stays None."""
    if x is None:
        return None
    lo, hi = x
    return (_num(lo), _num(hi))  # type: ignore[return-value]


def _num(x: Any) -> float | None:
    """A JSON number as float (None, NaN and infinities as None)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _int(x: Any) -> int | None:
    return None if x is None else int(x)


@dataclass(frozen=True)
class Estimate:
    """A value with what is needed to read it.

    ``ci``: the (low, high) confidence interval, None when the value is not an estimate;
    ``goal``: "lower" or "higher" is better, None when neither; ``range``: the (low, high) values
    the quantity can take; ``n``: the sample size it rests on."""

    value: float | None
    ci: tuple[float, float] | None = None
    goal: Goal | None = None
    range: tuple[float, float] | None = None
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci": _list(self.ci), "goal": self.goal, "range": _list(self.range), "n": self.n}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Estimate:
        return cls(_num(d.get("value")), _pair(d.get("ci")), d.get("goal"), _pair(d.get("range")), _int(d.get("n")))


def _list(t: tuple[Any, ...] | None) -> list[Any] | None:
    return None if t is None else list(t)


@dataclass(frozen=True)
class Failure:
    """A step that failed: ``where`` (what was being done), ``error`` (``"Type: message"``, the
    text metrics.json has always held) and ``kind`` (the exception type's name). A study's
    ``failures[]`` entries also say the ``seed``, ``table`` and ``section``."""

    where: str
    error: str
    kind: str = ""
    seed: str | None = None
    table: str | None = None
    section: str | None = None

    @classmethod
    def from_exception(cls, where: str, exc: BaseException) -> Failure:
        kind = type(exc).__name__
        return cls(where=where, error=f"{kind}: {exc}", kind=kind)

    def to_dict(self) -> dict[str, Any]:
        d = {"seed": self.seed, "table": self.table, "section": self.section, "where": self.where,
             "error": self.error, "kind": self.kind or None}
        return {k: v for k, v in d.items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Failure:
        err = str(d["error"])
        kind = d.get("kind")
        if kind is None:  # failures[] entries carry the type as the error's prefix
            head, sep, _ = err.partition(": ")
            kind = head if sep and head.isidentifier() else ""
        return cls(where=str(d["where"]), error=err, kind=str(kind), seed=_str(d.get("seed")),
                   table=_str(d.get("table")), section=_str(d.get("section")))


def _str(x: Any) -> str | None:
    return None if x is None else str(x)


def capture(where: str, fn: Callable[..., T], *args: Any) -> T | Failure:
    """``fn(*args)``, or the :class:`Failure` it raised (logged), so a study records the failure
    and goes on. Only :class:`Exception` is caught: Ctrl-C and signals still stop the study."""
    try:
        return fn(*args)
    except Exception as e:
        log.warning("%s failed: %s: %s", where, type(e).__name__, e)
        return Failure.from_exception(where, e)


#: the keys of a privacy measure that :class:`Risk` reads into typed fields
_RISK_KEYS = ("risk", "ci", "risk_unclipped", "attack", "baseline", "control", "n_attacks", "definition",
              "direction", "range", "error", "reason")


def _rate(d: Any, n: int | None) -> tuple[Estimate | None, float | None]:
    if not isinstance(d, Mapping):
        return None, None
    n = _int(d.get("n_attacks", n))
    return Estimate(_num(d.get("rate")), _pair(d.get("ci")), None, (0.0, 1.0), n), _num(d.get("n_success"))


def _rate_dict(e: Estimate | None, k: float | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"rate": e.value, "ci": _list(e.ci), "n_success": k, "n_attacks": e.n}


@dataclass(frozen=True)
class Risk:
    """A privacy measure as :mod:`synthlink.evaluate.privacy` writes it.

    ``risk``: the risk (goal "lower", range [0, 1], n the attacks) with its interval; for the
    Anonymeter attacks the residual success of the attack over the control attack,
    ``(attack - control) / (1 - control)`` (:func:`synthlink.evaluate.privacy.stats.residual_risk`).
    ``attack_rate`` / ``baseline_rate`` / ``control_rate``: the Wilson success rates of the attack on
    the training records, of random guessing and of the attack on the control records, with their
    ``*_successes``. ``error`` is set (and ``risk.value`` None) when the measure failed, ``reason``
    when it does not apply; ``details`` keeps the method-specific rest as written."""

    risk: Estimate
    attack_rate: Estimate | None = None
    control_rate: Estimate | None = None
    n_attacks: int | None = None
    baseline_rate: Estimate | None = None
    attack_successes: float | None = None
    baseline_successes: float | None = None
    control_successes: float | None = None
    risk_unclipped: float | None = None
    definition: str | None = None
    direction: str | None = None
    range_text: str | None = None
    error: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.risk.value is not None

    def to_dict(self) -> dict[str, Any]:
        """The measure's dict as the privacy measures write it (absent parts left out)."""
        d: dict[str, Any] = {"risk": self.risk.value, "ci": _list(self.risk.ci), "risk_unclipped": self.risk_unclipped,
                             "attack": _rate_dict(self.attack_rate, self.attack_successes),
                             "baseline": _rate_dict(self.baseline_rate, self.baseline_successes),
                             "control": _rate_dict(self.control_rate, self.control_successes),
                             "n_attacks": self.n_attacks, "definition": self.definition, "direction": self.direction,
                             "range": self.range_text, "error": self.error, "reason": self.reason}
        keep = {"risk", "ci"}
        out = {k: v for k, v in d.items() if v is not None or k in keep}
        out.update(self.details)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Risk:
        n = _int(d.get("n_attacks"))
        attack, ka = _rate(d.get("attack"), n)
        base, kb = _rate(d.get("baseline"), n)
        ctrl, kc = _rate(d.get("control"), n)
        return cls(
            risk=Estimate(_num(d.get("risk")), _pair(d.get("ci")), "lower", (0.0, 1.0), n),
            attack_rate=attack, control_rate=ctrl, n_attacks=n, baseline_rate=base,
            attack_successes=ka, baseline_successes=kb, control_successes=kc,
            risk_unclipped=_num(d.get("risk_unclipped")), definition=_str(d.get("definition")),
            direction=_str(d.get("direction")), range_text=_str(d.get("range")), error=_str(d.get("error")),
            reason=_str(d.get("reason")), details={k: v for k, v in d.items() if k not in _RISK_KEYS},
        )


#: the keys of the ``quality`` dict written by :func:`synthlink.evaluate.linkage.linkage_quality`
QUALITY_KEYS = ("precision", "recall", "f1", "accuracy", "true_positives", "pairs", "true_pairs", "share_unlinked_left")


@dataclass(frozen=True)
class LinkageQuality:
    """Linkage against the true pairs (:func:`synthlink.evaluate.linkage.linkage_quality`).

    ``precision``, ``recall``, ``f1``: of the pairs; ``accuracy``: correct links after the
    one-to-one step over the true pairs; ``true_positives`` counts correct pairs before that step;
    ``share_unlinked_left``: left rows left without a link."""

    precision: float | None
    recall: float | None
    f1: float | None
    accuracy: float | None
    true_positives: float | None = None
    pairs: float | None = None
    true_pairs: float | None = None
    share_unlinked_left: float | None = None

    @property
    def n_true_pairs(self) -> int | None:
        return _int(self.true_pairs)

    @property
    def accuracy_estimate(self) -> Estimate:
        """Accuracy with its 95% Wilson interval, as the report shows it: accuracy x true pairs
        successes out of the true pairs (Anonymeter's Wilson centre and half-width,
        :func:`synthlink.evaluate.privacy.stats.wilson`); no interval without true pairs."""
        n = self.n_true_pairs
        if self.accuracy is None or not n:
            return Estimate(self.accuracy, None, "higher", (0.0, 1.0), n)
        from synthlink.evaluate.privacy.stats import wilson  # lazy: reading results needs no scipy

        lo, hi = wilson(round(self.accuracy * n), n).ci()
        return Estimate(self.accuracy, (lo, hi), "higher", (0.0, 1.0), n)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in QUALITY_KEYS if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinkageQuality:
        return cls(**{k: _num(d.get(k)) for k in QUALITY_KEYS})


#: the keys of a baseline / synthetic entry that :class:`RunRecord` reads into typed fields
_RUN_KEYS = ("synthesizer", "linker", "method", "status", "reason", "quality", "accounting", "diagnostics",
             "warnings", "utility", "privacy")


@dataclass(frozen=True)
class RunRecord:
    """One linker run: on the original split (``synthesizer`` None, ``quality`` against the truth)
    or on one synthesizer's parts. ``status`` is "ok" or "not applicable" (with ``reason``);
    ``utility`` and ``privacy`` are the evaluation sections as written (a section that failed is
    ``{"error": ...}``); :meth:`risks` reads the privacy measures that carry a risk."""

    linker: str
    status: str
    synthesizer: str | None = None
    method: str | None = None
    reason: str | None = None
    quality: LinkageQuality | None = None
    accounting: dict[str, Any] | None = None
    diagnostics: dict[str, Any] | None = None
    warnings: tuple[Any, ...] | None = None
    utility: dict[str, Any] | None = None
    privacy: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def risks(self) -> dict[str, Risk]:
        """The privacy measures with a ``risk`` key (the attacks, DCR, membership, key holder)."""
        p = self.privacy if isinstance(self.privacy, Mapping) else {}
        return {k: Risk.from_dict(v) for k, v in p.items() if isinstance(v, Mapping) and "risk" in v}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"synthesizer": self.synthesizer, "linker": self.linker, "method": self.method,
                             "status": self.status, "reason": self.reason,
                             "quality": self.quality.to_dict() if self.quality is not None else None,
                             "accounting": self.accounting, "diagnostics": self.diagnostics,
                             "warnings": _list(self.warnings), "utility": self.utility, "privacy": self.privacy}
        out = {k: v for k, v in d.items() if v is not None}
        out.update(self.details)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunRecord:
        q, w = d.get("quality"), d.get("warnings")
        return cls(linker=str(d["linker"]), status=str(d["status"]), synthesizer=_str(d.get("synthesizer")),
                   method=_str(d.get("method")), reason=_str(d.get("reason")),
                   quality=LinkageQuality.from_dict(q) if isinstance(q, Mapping) else None,
                   accounting=d.get("accounting"), diagnostics=d.get("diagnostics"),
                   warnings=tuple(w) if w is not None else None, utility=d.get("utility"), privacy=d.get("privacy"),
                   details={k: v for k, v in d.items() if k not in _RUN_KEYS})


_SEED_KEYS = ("seed", "true_pairs", "train_rows", "control_rows", "uniqueness_bound", "baseline", "synthetic",
              "parts_privacy")


@dataclass(frozen=True)
class SeedRecord:
    """One seed of a study: the split's sizes, the uniqueness bound, the baseline runs on the
    original split, the runs on the synthetic parts and the privacy of each synthetic part
    (``parts_privacy[synthesizer][part]``); ``details`` keeps the rest (parts, influence, ...)."""

    seed: int
    baseline: tuple[RunRecord, ...] = ()
    synthetic: tuple[RunRecord, ...] = ()
    true_pairs: int | None = None
    train_rows: int | None = None
    control_rows: int | None = None
    uniqueness_bound: dict[str, Any] | None = None
    parts_privacy: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def accuracy(self) -> dict[str, float | None]:
        """Baseline one-to-one accuracy by linker (runs with a quality)."""
        return {r.linker: r.quality.accuracy for r in self.baseline if r.quality is not None}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"seed": self.seed, "true_pairs": self.true_pairs, "train_rows": self.train_rows,
                             "control_rows": self.control_rows, "uniqueness_bound": self.uniqueness_bound,
                             "baseline": [r.to_dict() for r in self.baseline],
                             "synthetic": [r.to_dict() for r in self.synthetic], "parts_privacy": self.parts_privacy}
        out = {k: v for k, v in d.items() if v is not None}
        out.update(self.details)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SeedRecord:
        return cls(seed=int(d["seed"]), baseline=tuple(RunRecord.from_dict(r) for r in d.get("baseline") or []),
                   synthetic=tuple(RunRecord.from_dict(r) for r in d.get("synthetic") or []),
                   true_pairs=_int(d.get("true_pairs")), train_rows=_int(d.get("train_rows")),
                   control_rows=_int(d.get("control_rows")), uniqueness_bound=d.get("uniqueness_bound"),
                   parts_privacy=d.get("parts_privacy"), details={k: v for k, v in d.items() if k not in _SEED_KEYS})


_STUDY_KEYS = ("name", "synthlink_version", "schema_version", "config", "seeds", "failures", "summary",
               "timings_seconds", "total_seconds", "cache")


@dataclass(frozen=True)
class StudyRecord:
    """A whole study's metrics.json: its seeds, what failed, the summary over seeds (``summary``),
    stage timings and the config it ran. Read one with :meth:`from_metrics`."""

    name: str | None = None
    seeds: tuple[SeedRecord, ...] = ()
    failures: tuple[Failure, ...] = ()
    schema_version: str | None = None
    synthlink_version: str | None = None
    config: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    timings_seconds: dict[str, float] | None = None
    total_seconds: float | None = None
    cache: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    @classmethod
    def from_metrics(cls, d: Mapping[str, Any]) -> StudyRecord:
        """Read a metrics dict (as loaded from metrics.json); optional sections may be absent."""
        return cls.from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "synthlink_version": self.synthlink_version,
                             "schema_version": self.schema_version, "config": self.config,
                             "seeds": [s.to_dict() for s in self.seeds], "timings_seconds": self.timings_seconds,
                             "total_seconds": self.total_seconds, "cache": self.cache, "summary": self.summary,
                             "failures": [f.to_dict() for f in self.failures]}
        out = {k: v for k, v in d.items() if v is not None}
        out.update(self.details)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StudyRecord:
        return cls(name=_str(d.get("name")), seeds=tuple(SeedRecord.from_dict(s) for s in d.get("seeds") or []),
                   failures=tuple(Failure.from_dict(f) for f in d.get("failures") or []),
                   schema_version=_str(d.get("schema_version")), synthlink_version=_str(d.get("synthlink_version")),
                   config=d.get("config"), summary=d.get("summary"), timings_seconds=d.get("timings_seconds"),
                   total_seconds=_num(d.get("total_seconds")), cache=d.get("cache"),
                   details={k: v for k, v in d.items() if k not in _STUDY_KEYS})


# ---------------------------------------------------------------------------------------------
# the one JSON serialisation


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: numpy scalars and arrays as numbers and lists, NaN and
    infinities as None, dataclasses through their ``to_dict()`` (else their fields), tuples and
    sets as lists, paths as strings, mapping keys as strings."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return jsonable(float(obj))
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        to_dict = getattr(obj, "to_dict", None)
        return jsonable(to_dict() if callable(to_dict) else dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [jsonable(v) for v in sorted(obj, key=repr)]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, (datetime.date, datetime.time)):  # pandas' Timestamp is a datetime
        return obj.isoformat()
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as JSON text (see :func:`jsonable`); never writes NaN or Infinity."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def loads(s: str | bytes) -> Any:
    """JSON text back as Python values (null as None, arrays as lists)."""
    return json.loads(s)


def stamp(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``metrics`` with ``"schema_version"`` set to :data:`SCHEMA_VERSION`."""
    return {**metrics, "schema_version": SCHEMA_VERSION}


def schema_path() -> Path:
    """The JSON Schema (draft 2020-12) of metrics.json shipped with the package."""
    return Path(__file__).with_name("schemas") / "metrics.schema.json"


def validate(metrics: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``metrics`` (as loaded from metrics.json) fits
    the schema. Needs the ``jsonschema`` package (in the ``test`` extra)."""
    import jsonschema

    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(jsonable(metrics))


__all__ = [
    "QUALITY_KEYS", "SCHEMA_VERSION", "Estimate", "Failure", "LinkageQuality", "Risk", "RunRecord", "SeedRecord",
    "StudyRecord", "capture", "dumps", "jsonable", "loads", "schema_path", "stamp", "validate",
]

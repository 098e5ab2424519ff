"""Typed results and the metrics.json schema: round trips, the one JSON serialisation, capture,
and a real small study's metrics.json against schemas/metrics.schema.json."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

jsonschema = pytest.importorskip("jsonschema")

from synthlink.results import (  # noqa: E402
    SCHEMA_VERSION,
    Estimate,
    Failure,
    LinkageQuality,
    Risk,
    RunRecord,
    SeedRecord,
    StudyRecord,
    capture,
    dumps,
    loads,
    schema_path,
    stamp,
    validate,
)
from synthlink.study import Study  # noqa: E402

from .conftest import make_people  # noqa: E402

# -- round trips ---------------------------------------------------------------------------------

RATE = {"rate": 0.2, "ci": [0.1, 0.3], "n_success": 20, "n_attacks": 100}
RISK = {"risk": 0.125, "ci": [0.0, 0.25], "risk_unclipped": 0.125, "attack": RATE,
        "baseline": {"rate": 0.05, "ci": [0.01, 0.09], "n_success": 5, "n_attacks": 100},
        "control": {"rate": 0.0857, "ci": [0.03, 0.14], "n_success": 8.0, "n_attacks": 100},
        "n_attacks": 100, "definition": "d", "direction": "lower is safer", "range": "[0, 1]", "mode": "multivariate"}
QUALITY = {"precision": 0.5, "recall": 0.25, "f1": 1 / 3, "accuracy": 0.5, "true_positives": 25.0, "pairs": 50.0,
           "true_pairs": 100.0, "share_unlinked_left": 0.1}


@pytest.mark.parametrize("x", [
    Estimate(0.3, (0.2, 0.4), "lower", (0.0, 1.0), 50),
    Estimate(None),
    Failure("seed 1, J*: privacy", "ValueError: bad", "ValueError", seed="1", table="J*", section="privacy"),
    Failure("here", "RuntimeError: x", "RuntimeError"),
    Risk.from_dict(RISK),
    Risk.from_dict({"risk": None, "ci": None, "error": "KeyError: 'a'"}),
    LinkageQuality.from_dict(QUALITY),
    RunRecord(linker="exact", status="ok", method="exact", quality=LinkageQuality.from_dict(QUALITY),
              accounting={"n_left": 3}, warnings=("w",), privacy={"singling_out": RISK}),
    RunRecord(linker="identifier", status="not applicable", synthesizer="cart", reason="no key"),
    SeedRecord(seed=2, baseline=(RunRecord("exact", "ok"),), true_pairs=10, details={"parts": {"a": 3}}),
    StudyRecord(name="s", seeds=(SeedRecord(seed=1),), failures=(Failure("w", "E: m", "E"),),
                schema_version="1", total_seconds=1.5, details={"extra": [1]}),
])
def test_from_dict_of_to_dict_is_the_same(x):
    assert type(x).from_dict(x.to_dict()) == x
    assert type(x).from_dict(loads(dumps(x))) == x


def test_risk_reads_and_writes_the_privacy_measures_shape():
    r = Risk.from_dict(RISK)
    assert r.to_dict() == RISK
    assert r.risk == Estimate(0.125, (0.0, 0.25), "lower", (0.0, 1.0), 100)
    assert r.attack_rate == Estimate(0.2, (0.1, 0.3), None, (0.0, 1.0), 100)
    assert r.control_successes == 8.0 and r.attack_successes == 20.0
    assert r.details == {"mode": "multivariate"} and r.ok
    failed = Risk.from_dict({"risk": None, "ci": None, "error": "KeyError: 'a'"})
    assert not failed.ok and failed.error == "KeyError: 'a'"


def test_linkage_quality_accuracy_has_the_wilson_interval():
    # 50 correct of 100 true pairs, z = 1.959964 (z^2 = 3.841459): centre (50 + 1.920729) / 103.841459 = 0.5,
    # half-width z / 103.841459 * sqrt(50 * 50 / 100 + z^2 / 4) = 0.0188746 * 5.0951315 = 0.0961685
    e = LinkageQuality.from_dict(QUALITY).accuracy_estimate
    assert e.value == 0.5 and e.goal == "higher" and e.n == 100
    assert e.ci == pytest.approx((0.5 - 0.0961685, 0.5 + 0.0961685), abs=1e-6)
    assert LinkageQuality(1.0, 1.0, 1.0, 1.0, true_pairs=0.0).accuracy_estimate.ci is None


def test_failure_from_a_failures_entry_reads_the_type_from_the_error():
    f = Failure.from_dict({"seed": "0", "table": "t", "section": "s", "where": "seed 0, t: s",
                           "error": "ZeroDivisionError: division by zero"})
    assert f.kind == "ZeroDivisionError" and f.seed == "0"
    assert Failure.from_dict({"where": "w", "error": "no type here"}).kind == ""


# -- JSON ----------------------------------------------------------------------------------------


def test_dumps_writes_nan_and_infinities_as_null():
    text = dumps({"a": float("nan"), "b": float("inf"), "c": np.float32("-inf"), "d": 1.5}, indent=None)
    assert text == '{"a": null, "b": null, "c": null, "d": 1.5}'
    assert "NaN" not in dumps([np.array([1.0, np.nan])])


def test_dumps_handles_numpy_paths_tuples_and_dataclasses():
    obj = {"i": np.int64(3), "f": np.float64(0.25), "b": np.bool_(True), "arr": np.array([[1, 2], [3, 4]]),
           "farr": np.array([0.5, np.nan]), "p": Path("a") / "b.json", "t": (1, (2, 3)),
           "e": Estimate(0.5, (0.25, 0.75)), 7: "int key"}
    back = loads(dumps(obj))
    assert back == {"i": 3, "f": 0.25, "b": True, "arr": [[1, 2], [3, 4]], "farr": [0.5, None], "p": str(Path("a") / "b.json"),
                    "t": [1, [2, 3]], "e": {"value": 0.5, "ci": [0.25, 0.75], "goal": None, "range": None, "n": None},
                    "7": "int key"}
    assert type(back["i"]) is int and type(back["b"]) is bool
    with pytest.raises(TypeError):
        dumps({"x": object()})


# -- capture -------------------------------------------------------------------------------------


def test_capture_returns_the_value_or_the_failure():
    assert capture("adding", lambda a, b: a + b, 2, 3) == 5

    def boom() -> None:
        raise ValueError("bad value")

    f = capture("seed 1, J*: utility", boom)
    assert f == Failure("seed 1, J*: utility", "ValueError: bad value", "ValueError")
    with pytest.raises(KeyboardInterrupt):  # a stop is not a failure
        capture("x", lambda: (_ for _ in ()).throw(KeyboardInterrupt()))


def test_stamp_adds_the_schema_version_without_changing_the_input():
    m = {"name": "x"}
    assert stamp(m) == {"name": "x", "schema_version": SCHEMA_VERSION} and m == {"name": "x"}


# -- a real study against the schema -------------------------------------------------------------


@pytest.fixture(scope="module")
def metrics(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("h3")
    make_people(600, seed=2).to_csv(tmp / "data.csv", index=False)
    d = {
        "name": "tiny",
        "data": {"path": "data.csv"},
        "split": {"identifier": "pid", "common": ["sex", "age", "canton"],
                  "parts": {"edu": ["isced", "field"], "emp": ["wage", "status"]}},
        "synthesizers": ["marginals"],
        "linkers": ["identifier", "exact"],
        "seeds": [1],
        "privacy": {"n_attacks": 60},
        # utility sections are open in the schema; privacy (strict risk objects) is what is checked here
        "evaluate": {"n_jobs": 2, "utility": False},
    }
    Study.from_dict(d, base_dir=tmp).run(tmp / "out", work_dir=tmp / "work", progress=False, report=False)
    return json.loads((tmp / "out" / "metrics.json").read_text(encoding="utf-8"))


def _errors(m: dict) -> list[str]:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(m)]


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_study_metrics_validate_as_written(metrics):
    """The study stamps its metrics (schema_version) and they validate; without the stamp they do not."""
    assert metrics["schema_version"] == SCHEMA_VERSION
    assert _errors(metrics) == []
    validate(metrics)
    unstamped = {k: v for k, v in metrics.items() if k != "schema_version"}
    assert "schema_version" in " ".join(_errors(unstamped))
    assert _errors(stamp(unstamped)) == []


def test_broken_metrics_do_not_validate(metrics):
    good = stamp(metrics)
    failure = {"seed": "1", "table": "J* (marginals × exact)", "section": "privacy · dcr",
               "where": "seed 1, J* (marginals × exact): privacy · dcr", "error": "ValueError: boom"}
    with_failure = {**good, "failures": [failure]}
    assert _errors(with_failure) == []

    no_error = copy.deepcopy(with_failure)
    del no_error["failures"][0]["error"]
    assert _errors(no_error)

    string_risk = copy.deepcopy(good)
    entry = next(s for s in string_risk["seeds"][0]["synthetic"] if s["status"] == "ok")
    entry["privacy"]["singling_out"]["risk"] = "0.1"
    assert _errors(string_risk)

    bad_quality = copy.deepcopy(good)
    bad_quality["seeds"][0]["baseline"][0]["quality"]["accuracy"] = "high"
    assert _errors(bad_quality)


def test_study_record_reads_the_study_metrics(metrics):
    rec = StudyRecord.from_metrics(metrics)
    assert rec.to_dict() == metrics and rec.ok
    seed, raw = rec.seeds[0], metrics["seeds"][0]
    assert seed.seed == raw["seed"] == 1
    want = {b["linker"]: b["quality"]["accuracy"] for b in raw["baseline"] if "quality" in b}
    assert seed.accuracy() == want and want["identifier"] == 1.0
    exact = next(r for r in seed.baseline if r.linker == "exact")
    q = exact.quality
    assert q is not None and q.true_pairs == raw["true_pairs"]
    lo, hi = q.accuracy_estimate.ci
    assert lo <= q.accuracy <= hi
    syn = next(r for r in seed.synthetic if r.status == "ok")
    risks = syn.risks()
    assert set(risks) >= {"singling_out", "linkability", "inference", "dcr", "membership"}
    raw_so = next(s for s in raw["synthetic"] if s["status"] == "ok")["privacy"]["singling_out"]
    assert risks["singling_out"].risk.value == raw_so["risk"]
    assert all(r.risk.value is None or not math.isnan(r.risk.value) for r in risks.values())


def test_a_failed_evaluation_is_the_one_failure_shape():
    """The pipeline's guard turns an evaluation's exception into Failure.to_dict(); the study's
    failure list finds it, and Failure.from_dict reads it back."""
    from synthlink.pipeline import guard
    from synthlink.pipeline.tables import study_failures
    from synthlink.results import Failure

    def boom():  # type: ignore[no-untyped-def]
        raise KeyError("wage")

    got = guard(boom, "evaluate_privacy")
    assert got == {"where": "evaluate_privacy", "error": "KeyError: 'wage'", "kind": "KeyError"}
    assert Failure.from_dict(got).kind == "KeyError"
    seeds = [{"seed": 1, "baseline": [], "synthetic": [{"synthesizer": "cart", "linker": "exact", "privacy": got}]}]
    (f,) = study_failures(seeds)
    assert f["table"] == "J* (cart × exact)" and f["error"] == "KeyError: 'wage'"
    assert guard(lambda: {"ok": 1}) == {"ok": 1}

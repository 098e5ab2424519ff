"""A method and a measure added through the registries alone appear in a study's metrics and
report, with no other file touched (issue 13): the study, the pipeline and the report learn about
them from the registries and the methods' declared capabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthlink import link, synth
from synthlink.evaluate import measures
from synthlink.link.base import Linker, Links
from synthlink.study import Study

from .conftest import make_people


class ReversedLinker(Linker):
    """A toy: pairs left row i with right row n - 1 - i (a fixed, meaningless rule)."""

    name = "toy_reversed"
    summary = "toy linker for the registry test"

    def __init__(self, on: list[str] | None = None) -> None:
        self.on = on

    def link(self, seed: int = 0) -> Links:
        n = min(len(self.left_), len(self.right_))
        pairs = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)[::-1] + (len(self.right_) - n),
                              "score": np.ones(n)})
        return Links(pairs, len(self.left_), len(self.right_), self.name, one_to_one=True)


def toy_rows(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, *, common: list[str],
             part_columns: Any, seed: int) -> dict[str, Any]:
    """A toy measure: the share of J* rows over train rows (capped at 1)."""
    return {"value": min(1.0, len(synthetic) / max(1, len(train))), "n": len(synthetic)}


@pytest.fixture
def registered():
    link.register("toy_reversed", ReversedLinker)
    measures.register(measures.Measure("toy_rows", toy_rows, goal="higher", range=(0.0, 1.0),
                                       summary="share of J* rows over train rows"))
    yield
    link.unregister("toy_reversed")
    measures.unregister("toy_rows")


def test_a_registered_linker_and_measure_reach_metrics_and_report(tmp_path, registered) -> None:
    make_people(500, seed=4).to_csv(tmp_path / "d.csv", index=False)
    cfg = {"name": "plug-ins", "data": {"path": "d.csv"},
           "split": {"identifier": "pid", "common": ["sex", "age", "canton"],
                     "parts": {"edu": ["isced", "field"], "emp": ["wage", "status"]}},
           "synthesizers": ["marginals"], "linkers": ["exact", "toy_reversed"], "seeds": [1],
           # two workers: the measure is found in the spawned evaluation processes too
           "privacy": {"n_attacks": 30}, "evaluate": {"n_jobs": 2, "baseline_utility": False}}
    res = Study.from_dict(cfg, base_dir=tmp_path).run(tmp_path / "out", progress=False)
    seed = res.metrics["seeds"][0]
    base = {b["linker"]: b for b in seed["baseline"]}
    assert base["toy_reversed"]["status"] == "ok" and 0 <= base["toy_reversed"]["quality"]["accuracy"] <= 1
    syn = {s["linker"]: s for s in seed["synthetic"]}
    assert syn["toy_reversed"]["status"] == "ok"
    for s in syn.values():
        got = s["measures"]["toy_rows"]
        # J* holds one row per link: min(n_left, n_right) of 400 train rows in both parts
        assert got["value"] == pytest.approx(min(1.0, s["accounting"]["linked"] / seed["reference_rows"]["train"]))
        assert got["goal"] == "higher" and "error" not in got
        assert "unique_exact_matches" in s["measures"]
    assert not res.failures
    html = res.report_path.read_text(encoding="utf-8")
    assert "toy_reversed" in html and "toy_rows" in html


def test_registering_a_non_linker_is_refused() -> None:
    from synthlink.errors import ConfigError

    with pytest.raises(ConfigError, match="not a Linker"):
        link.register("nope", dict)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="already registered"):
        synth.register("cart", "synthlink.synth.cart:CartSynthesizer")

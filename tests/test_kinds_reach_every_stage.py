"""A kind declared in the plan (``kinds:``) reaches every stage of a study (issue 11): the
synthesizers, the linkers and the evaluation, not only validation and the split.

Here ``age`` (62 distinct integers, inferred numeric) is declared ordinal and ``isced`` (9 integer
codes, inferred categorical) numeric; each stage is watched to see the declaration arrive."""

from __future__ import annotations

from typing import Any

import pytest

from synthlink.study import Study

from .conftest import make_people


@pytest.fixture
def seen(monkeypatch) -> dict[str, list[Any]]:
    import synthlink.evaluate.privacy as privacy
    import synthlink.evaluate.utility as utility
    import synthlink.pipeline.linking as linking
    from synthlink.synth.cart import CartSynthesizer

    got: dict[str, list[Any]] = {"cart": [], "linker": [], "utility": [], "privacy": []}
    fit = CartSynthesizer._fit

    def cart_fit(self, data):  # type: ignore[no-untyped-def]
        got["cart"].append((sorted(data.columns), dict(self.kinds or {})))
        fit(self, data)
        got["cart"].append({c: e.kind for c, e in self.encoded_.items()})

    make = linking.get_linker

    def get_linker(name, **params):  # type: ignore[no-untyped-def]
        got["linker"].append((name, params.get("kinds")))
        return make(name, **params)

    ur, pr = utility.utility_report, privacy.privacy_report
    monkeypatch.setattr(CartSynthesizer, "_fit", cart_fit)
    monkeypatch.setattr(linking, "get_linker", get_linker)
    monkeypatch.setattr(utility, "utility_report", lambda *a, **k: got["utility"].append(k.get("kinds")) or ur(*a, **k))
    monkeypatch.setattr(privacy, "privacy_report", lambda *a, **k: got["privacy"].append(k.get("kinds")) or pr(*a, **k))
    return got


def test_declared_kinds_reach_synthesis_linkage_and_evaluation(tmp_path, seen) -> None:
    make_people(600, seed=5).to_csv(tmp_path / "d.csv", index=False)
    cfg = {"name": "kinds", "data": {"path": "d.csv"},
           "split": {"identifier": "pid", "common": ["sex", "age", "canton"],
                     "parts": {"edu": ["isced", "field"], "emp": ["wage", "status"]},
                     "kinds": {"age": "ordinal", "isced": "numeric"}},
           "synthesizers": ["cart"], "linkers": ["distance"], "seeds": [2],
           "privacy": {"n_attacks": 50}, "evaluate": {"n_jobs": 1, "baseline_utility": False}}
    Study.from_dict(cfg, base_dir=tmp_path).run(tmp_path / "out", progress=False, report=False)
    # synthesis: each part's CART gets the declarations of its columns and models by them
    # (age: ordinal -> a categorical tree target; isced: numeric -> a regression target)
    declared = [k for k in seen["cart"] if isinstance(k, tuple)]
    encoded = [k for k in seen["cart"] if isinstance(k, dict)]
    # three fits: each part on its own, and the joint train for central synthesis (it has both)
    assert len(declared) == 3
    assert sorted((d[1].get("isced") for d in declared), key=str) == [None, "numeric", "numeric"]
    assert all(d[1]["age"] == "ordinal" for d in declared)
    assert all(e["age"] == "categorical" for e in encoded)
    assert [e["isced"] for e in encoded if "isced" in e] == ["numeric", "numeric"]
    # linkage: the distance linker (original split and synthetic parts) compares age as ordinal
    dist = [k for name, k in seen["linker"] if name == "distance"]
    assert len(dist) == 2 and all(k == {"age": "ordinal"} for k in dist)
    # evaluation: utility and privacy of every table read the declarations
    assert seen["utility"] and all(k == {"age": "ordinal", "isced": "numeric"} for k in seen["utility"])
    assert seen["privacy"] and all(k is not None and k["age"] == "ordinal" for k in seen["privacy"])

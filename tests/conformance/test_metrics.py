"""Conformance of the privacy and utility measures, in the manner of SDMetrics' integration tests:
every measure stays in its declared range, and orders planted cases the right way.

No metric is registered through :class:`synthlink.evaluate.metric.Metric` alone, so the measures
checked are the privacy families of :func:`synthlink.evaluate.privacy.privacy_report` (read from
``privacy.MEASURES``, so a new family is checked automatically) and every :class:`Metric` the
utility report emits.

Planted cases (expectations worked out from the definitions, directional):

- privacy: a **copy** of train is riskier than a **fresh** sample of the same population (drawn
  with another seed, so it shares no record with train). For the copy, every synthetic row is a
  train record: DCR 0 to train for all rows, so the share closer to train is 1 and the DCR risk
  ``max(0, 2 * (1 - 0.5))`` is 1; members are at distance 0 from the synthetic data and
  non-members (with a continuous wage) never are, so the membership AUC is 1 and its risk
  ``2 * 1 - 1`` is 1; a fresh sample has no identical match (continuous wage).
- utility: train compared with itself has no difference at all (KS, TVD, association differences
  and pMSE 0, cross-part association retained 1); a table with a **broken relationship** (wage and
  status permuted across rows: same marginals, no link to education) keeps KS and TVD at 0 but
  scores worse on every association measure and on pMSE.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthlink.evaluate.privacy import MEASURES, headline, privacy_metrics, privacy_report
from synthlink.evaluate.utility import utility_report

from ..conftest import make_people

COMMON = ["sex", "age", "canton"]
PARTS = {"edu": ["isced", "field"], "emp": ["wage", "status"]}
N = 400
EPS = 1e-9


@cache
def tables() -> dict[str, pd.DataFrame]:
    people = make_people(2 * N, seed=0).drop(columns=["pid"])
    train = people.iloc[:N].reset_index(drop=True)
    control = people.iloc[N:].reset_index(drop=True)
    fresh = make_people(N, seed=9).drop(columns=["pid"])
    rng = np.random.default_rng(1)
    broken = train.assign(wage=rng.permutation(train["wage"].to_numpy()),
                          status=rng.permutation(train["status"].to_numpy()))
    return {"train": train, "control": control, "copy": train.copy(), "fresh": fresh, "broken": broken}


@cache
def privacy(which: str) -> dict[str, Any]:
    t = tables()
    # key-holder: the copy's row i is train record i; the fresh rows are tied to random persons
    source = np.arange(N) if which == "copy" else np.random.default_rng(2).permutation(N)
    return privacy_report(t["train"], t["control"], t[which], common=COMMON, part_columns=PARTS,
                          n_attacks=200, seed=0, source=source)


@cache
def utility(which: str) -> dict[str, Any]:
    t = tables()
    return utility_report(t["train"], t["control"], t[which], part_columns=PARTS, common=COMMON, seed=0)


def _in_unit(x: float) -> bool:
    return -EPS <= x <= 1 + EPS


# -- privacy -----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["copy", "fresh"])
@pytest.mark.parametrize("measure", MEASURES)
def test_privacy_measure_in_range(measure: str, which: str) -> None:
    r = privacy(which)[measure]
    assert r.get("error") is None, r.get("error")
    if measure == "disclosure":
        for k in ("repU", "UiO", "UiS", "UiOiS", "repU_control", "DiSCO_max", "DiSDiO_max"):
            assert _in_unit(r[k]), (k, r[k])
        return
    risk, ci = r["risk"], r["ci"]
    assert _in_unit(risk)
    assert ci is not None and _in_unit(ci[0]) and _in_unit(ci[1]) and ci[0] <= ci[1] + EPS
    assert ci[0] - EPS <= risk <= ci[1] + EPS


def _headline_keys(measure: str) -> list[str]:
    keys = [k for k in headline(privacy("copy")) if k == measure or k.startswith(f"{measure}_")]
    assert keys, f"no headline figure for {measure}"
    return keys


@pytest.mark.parametrize("measure", MEASURES)
def test_copy_riskier_than_fresh(measure: str) -> None:
    copy, fresh = headline(privacy("copy")), headline(privacy("fresh"))
    for k in _headline_keys(measure):
        assert copy[k]["risk"] > fresh[k]["risk"], (k, copy[k]["risk"], fresh[k]["risk"])


def test_copy_risks_worked_out_by_hand() -> None:
    copy, fresh = privacy("copy"), privacy("fresh")
    assert copy["dcr"]["identical_match_share"] == 1.0
    assert copy["dcr"]["share_closer_to_train"] == 1.0
    assert copy["dcr"]["risk"] == pytest.approx(1.0)
    assert copy["membership"]["auc"] == pytest.approx(1.0)
    assert copy["membership"]["risk"] == pytest.approx(1.0)
    assert fresh["dcr"]["identical_match_share"] == 0.0


@pytest.mark.parametrize("which", ["copy", "fresh"])
def test_privacy_metrics_declare_their_range(which: str) -> None:
    ms = privacy_metrics(privacy(which))
    assert ms
    for m in ms:
        assert m.goal == "min" and m.low == 0.0 and m.high == 1.0 and m.error is None, m
        if m.value is not None:
            assert m.low - EPS <= m.value <= m.high + EPS, m


# -- utility -----------------------------------------------------------------------------------

def _metrics(which: str) -> dict[str, dict[str, Any]]:
    r = utility(which)
    assert not r["errors"], r["errors"]
    return {m["name"]: m for m in r["metrics"]}


@pytest.mark.parametrize("which", ["train", "broken"])
def test_utility_metrics_in_declared_range(which: str) -> None:
    ms = _metrics(which)
    assert ms
    for name, m in ms.items():
        if m["value"] is None:
            continue
        assert np.isfinite(m["value"]), name
        if m["low"] is not None:
            assert m["value"] >= m["low"] - EPS, (name, m["value"])
        if m["high"] is not None:
            assert m["value"] <= m["high"] + EPS, (name, m["value"])


def test_train_against_itself_by_hand() -> None:
    ms = _metrics("train")
    for name in ("ks_mean", "tvd_mean", "assoc_diff_mean", "cross_assoc_diff_mean", "pmse"):
        assert ms[name]["value"] == pytest.approx(0.0, abs=1e-12), name
    assert ms["cross_retained_mean"]["value"] == pytest.approx(1.0)


def test_broken_relationship_scores_worse() -> None:
    good, bad = _metrics("train"), _metrics("broken")
    for name, m in good.items():
        if m["goal"] not in ("min", "max") or m["value"] is None or bad[name]["value"] is None:
            continue
        if m["goal"] == "min":
            assert m["value"] <= bad[name]["value"] + EPS, (name, m["value"], bad[name]["value"])
        else:
            assert m["value"] >= bad[name]["value"] - EPS, (name, m["value"], bad[name]["value"])
    # the permutation keeps every marginal and breaks the relationships
    assert bad["ks_mean"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert bad["tvd_mean"]["value"] == pytest.approx(0.0, abs=1e-12)
    for name in ("assoc_diff_mean", "cross_assoc_diff_mean", "pmse"):
        assert bad[name]["value"] > good[name]["value"], name
    assert bad["cross_retained_mean"]["value"] < good["cross_retained_mean"]["value"]

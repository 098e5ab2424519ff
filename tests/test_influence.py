"""Variable influence and singling-out combinations on hand-computable tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import InputError
from synthlink.evaluate.influence import (
    singling_out_by_size,
    singling_out_combinations,
    variable_influence,
)
from synthlink.link.distance import DistanceLinker
from synthlink.link.exact import ExactLinker


def test_singling_out_hand_computed() -> None:
    df = pd.DataFrame({"a": [1, 1, 2, 2, 3], "b": ["x", "y", "x", "x", "y"]})
    t = singling_out_combinations(df, ["a", "b"]).set_index("combination")
    # a: cells {1: 2, 2: 2, 3: 1} -> one unique record of five, one unique cell of three
    assert t.loc["a", "unique_records"] == 1 and t.loc["a", "cells"] == 3
    assert t.loc["a", "share_unique_records"] == pytest.approx(0.2)
    assert t.loc["a", "share_unique_cells"] == pytest.approx(1 / 3)
    assert t.loc["b", "unique_records"] == 0
    # a + b: (1,x) (1,y) (2,x)x2 (3,y): three unique records, four cells
    assert t.loc["a + b", "k"] == 2
    assert t.loc["a + b", "share_unique_records"] == pytest.approx(0.6)
    assert t.loc["a + b", "share_unique_cells"] == pytest.approx(0.75)
    s = singling_out_by_size(singling_out_combinations(df, ["a", "b"]))
    assert s["k"].tolist() == [1, 2]
    assert s["max_share_unique_records"].tolist() == pytest.approx([0.2, 0.6])
    assert s["worst_combination"].tolist() == ["a", "a + b"]


def test_singling_out_caps_combinations_and_checks_columns() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"v{i}": rng.integers(0, 3, 100) for i in range(8)})
    t = singling_out_combinations(df, list(df.columns), max_k=3, max_combos=10, seed=1)
    counts = t.groupby("k").size().to_dict()
    assert counts == {1: 8, 2: 10, 3: 10}  # C(8,2)=28 and C(8,3)=56 capped at 10
    assert t.loc[t["k"] == 1, "sampled"].eq(False).all() and t.loc[t["k"] == 3, "sampled"].all()
    again = singling_out_combinations(df, list(df.columns), max_k=3, max_combos=10, seed=1)
    pd.testing.assert_frame_equal(t, again)
    # more variables never single out fewer people (on average over sizes)
    by = singling_out_by_size(t)
    assert by["mean_share_unique_records"].is_monotonic_increasing
    with pytest.raises(InputError, match="nope"):
        singling_out_combinations(df, ["v0", "nope"])


def test_variable_influence_identifying_and_useless_variables() -> None:
    n = 200
    rng = np.random.default_rng(3)
    df = pd.DataFrame({
        "id_like": [f"k{i}" for i in range(n)],  # unique: identifies everyone
        "const": ["same"] * n,                  # carries nothing
        "half": rng.choice(["u", "v"], n),
    })
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    per_var, steps = variable_influence(df, df, truth, list(df.columns), lambda c: ExactLinker(on=c), seed=0)
    v = per_var.set_index("variable")
    assert v.loc["id_like", "accuracy_all"] == 1.0
    assert v.loc["id_like", "accuracy_alone"] == 1.0
    assert v.loc["id_like", "loss_when_dropped"] > 0.9  # without it: random within 'half'
    assert v.loc["const", "loss_when_dropped"] == 0.0
    assert v.loc["const", "bound_loss_when_dropped"] == 0.0
    assert v.loc["const", "bound_alone"] == pytest.approx(1 / n)
    assert v.loc["id_like", "bound_alone"] == 1.0
    # forward selection takes the identifying variable first and gains nothing afterwards
    assert steps["variable"].iloc[0] == "id_like" and steps["accuracy"].iloc[0] == 1.0
    assert steps["gain"].iloc[1:].abs().max() == 0.0
    assert v.loc["id_like", "forward_step"] == 1
    assert list(steps.columns) == ["step", "variable", "accuracy", "gain", "bound"]


def test_variable_influence_with_distance_linker_tracks_the_bound() -> None:
    n = 3000
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "age": rng.integers(18, 80, n),
                       "canton": rng.choice(list("ABCDEFGH"), n)})
    truth = pd.DataFrame({"left": np.arange(n), "right": np.arange(n)})
    per_var, _ = variable_influence(df, df, truth, list(df.columns), lambda c: DistanceLinker(on=c), forward=False)
    v = per_var.set_index("variable")
    # with the same persons and no noise, accuracy follows the bound for every column set
    np.testing.assert_allclose(v["accuracy_without"], v["bound_without"], atol=0.03)
    np.testing.assert_allclose(v["accuracy_all"], v["bound_all"], atol=0.03)
    assert v["loss_when_dropped"].idxmax() == "age"  # the variable with most values matters most

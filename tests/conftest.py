"""Shared fixtures: small populations made with numpy whose true structure is known."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("SYNTHLINK_NO_PROGRESS", "1")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def make_people(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A joint table: identifier, common (sex, age, canton), part A (isced, field), part B (wage, status).
    wage depends on isced beyond the common variables (coefficient 0.07 per level)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    isced = rng.integers(0, 9, n)
    return pd.DataFrame({
        "pid": [f"P{i:07d}" for i in range(n)],
        "sex": rng.choice(["F", "M"], n),
        "age": age,
        "canton": rng.choice(list("ABCDEFGHIJKL"), n, p=np.r_[0.3, np.full(11, 0.7 / 11)]),
        "isced": isced,
        "field": rng.choice(["arts", "ict", "health"], n),
        "wage": np.exp(7.5 + 0.07 * isced + 0.01 * age + rng.normal(0, 0.3, n)),
        "status": rng.choice(["employee", "self-employed"], n, p=[0.9, 0.1]),
    })


PLAN = {
    "identifier": "pid",
    "common": ["sex", "age", "canton"],
    "parts": {"edu": ["isced", "field"], "emp": ["wage", "status"]},
    "control_share": 0.2,
}


@pytest.fixture
def people() -> pd.DataFrame:
    return make_people()


@pytest.fixture
def plan_dict() -> dict:
    import copy

    return copy.deepcopy(PLAN)

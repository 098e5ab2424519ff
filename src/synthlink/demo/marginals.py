"""Shares the demo generator targets by construction, for tests to compare samples with."""

from __future__ import annotations

from synthlink.demo.draws import normalise
from synthlink.demo.structure import STRUCTURE
from synthlink.demo.tables import (
    AGE_PROFILE,
    CANTON_NAMES,
    CANTONS,
    NATIONALITIES,
    NATIONALITY_SHARES,
    SHARE_FEMALE,
)


def expected_marginals() -> dict[str, dict[str, float]]:
    """Shares the generator targets by construction (sex, nationality, canton, education coverage),
    computed from the tables above; tests compare samples to these."""
    nat = normalise(NATIONALITY_SHARES)
    cov = STRUCTURE["coverage"]["education"]
    old_share = {g: AGE_PROFILE[g][-1] for g in AGE_PROFILE}
    edu = 0.0
    for i, share in enumerate(nat):
        g = "Luxembourgish" if i == 0 else "foreign"
        base = cov["Luxembourgish"] if i == 0 else cov["foreign"]
        edu += share * (base - cov["old_age_drop"] * old_share[g])
    return {
        "sex": {"F": SHARE_FEMALE, "M": 1 - SHARE_FEMALE},
        "nationality": dict(zip(NATIONALITIES, nat.tolist(), strict=True)),
        "canton": dict(zip(CANTON_NAMES, normalise([v[0] for v in CANTONS.values()]).tolist(), strict=True)),
        "coverage": {"education": float(edu)},
    }

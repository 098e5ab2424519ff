"""A Luxembourg-like demo population with linked registers, fully synthetic and seeded.

``population(n, seed)`` returns the joint table (one row per person aged 16-85 on
:data:`REFERENCE_DATE`): a population register (matricule, sex, birth date, age, nationality group,
canton, commune, household size), an education register, an employment register and a social
register. Columns of a register are null for the persons it does not cover. ``registers(df)`` cuts
the joint table into one table per register; ``DEMO_PLAN`` is a split plan for it.

Every number that drives the generator lives in :data:`STRUCTURE` (true causal coefficients) or in
the marginal tables, and ``docs/demo-population.md`` states the public figures (STATEC,
Eurostat, IGSS, ADEM) they approximate. The structure holds relationships across registers that the
common variables (sex, age, nationality, canton) do NOT explain: within the same age, sex,
nationality and canton, higher ISCED means a higher log wage (``STRUCTURE["wage"]["isced"]`` per
level), a higher ISCO skill level, less unemployment and less minimum-income take-up; the field of
study drives the NACE section. A latent per-person factor ``u`` (never output) raises education and
lowers unemployment and minimum-income take-up; it does not enter the wage equation, so an OLS of
log(wage) on isced, age and the common categorical variables recovers the wage coefficient.

Everything is vectorised numpy; the same ``seed`` gives an identical frame.

Modules
    :mod:`~synthlink.demo.tables` (marginal tables, reference date), :mod:`~synthlink.demo.structure`
    (:data:`STRUCTURE`), :mod:`~synthlink.demo.draws` (drawing helpers),
    :mod:`~synthlink.demo.generator` (:func:`population`), :mod:`~synthlink.demo.plan`
    (:data:`REGISTERS`, :data:`DEMO_PLAN`, :func:`registers`), :mod:`~synthlink.demo.marginals`
    (:func:`expected_marginals`), :mod:`~synthlink.demo.output` (:func:`write_population`).
"""

from __future__ import annotations

from synthlink.demo.generator import population
from synthlink.demo.marginals import expected_marginals
from synthlink.demo.output import write_population
from synthlink.demo.plan import DEMO_PLAN, REGISTERS, registers
from synthlink.demo.structure import STRUCTURE
from synthlink.demo.tables import (
    AGE_BANDS,
    AGE_PROFILE,
    CANTON_NAMES,
    CANTONS,
    CONTRACTS,
    EMPLOYMENT_STATUSES,
    FIELD_FEMALE_TILT,
    FIELD_WEIGHTS,
    FIELDS,
    HOUSEHOLD_SIZE_PROBS,
    ISCO_SKILL2,
    MAX_AGE,
    MIN_AGE,
    NACE,
    NACE_BASE,
    NACE_BY_FIELD,
    NATIONALITIES,
    NATIONALITY_SHARES,
    REFERENCE_DATE,
    SEXES,
    SHARE_FEMALE,
)

__all__ = [
    "AGE_BANDS", "AGE_PROFILE", "CANTONS", "CANTON_NAMES", "CONTRACTS", "DEMO_PLAN", "EMPLOYMENT_STATUSES",
    "FIELDS", "FIELD_FEMALE_TILT", "FIELD_WEIGHTS", "HOUSEHOLD_SIZE_PROBS", "ISCO_SKILL2", "MAX_AGE",
    "MIN_AGE", "NACE", "NACE_BASE", "NACE_BY_FIELD", "NATIONALITIES", "NATIONALITY_SHARES",
    "REFERENCE_DATE", "REGISTERS", "SEXES", "SHARE_FEMALE", "STRUCTURE", "expected_marginals",
    "population", "registers", "write_population",
]

"""A Luxembourg-like demo population with linked registers, fully synthetic and seeded.

``population(n, seed)`` returns the joint table (one row per person aged 16-85 on
:data:`REFERENCE_DATE`): a population register (matricule, sex, birth date, age, nationality group,
canton, commune, household size), an education register, an employment register and a social
register. Columns of a register are null for the persons it does not cover. ``registers(df)`` cuts
the joint table into one table per register; ``DEMO_PLAN`` is a split plan for it.

Every number that drives the generator lives in :data:`STRUCTURE` (true causal coefficients) or in
the marginal tables below, and ``docs/demo-population.md`` states the public figures (STATEC,
Eurostat, IGSS, ADEM) they approximate. The structure holds relationships across registers that the
common variables (sex, age, nationality, canton) do NOT explain: within the same age, sex,
nationality and canton, higher ISCED means a higher log wage (``STRUCTURE["wage"]["isced"]`` per
level), a higher ISCO skill level, less unemployment and less minimum-income take-up; the field of
study drives the NACE section. A latent per-person factor ``u`` (never output) raises education and
lowers unemployment and minimum-income take-up; it does not enter the wage equation, so an OLS of
log(wage) on isced, age and the common categorical variables recovers the wage coefficient.

Everything is vectorised numpy; the same ``seed`` gives an identical frame.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synthlink import matricule as _matricule
from synthlink.errors import ConfigError, InputError

__all__ = [
    "DEMO_PLAN", "REFERENCE_DATE", "REGISTERS", "STRUCTURE", "expected_marginals", "population",
    "registers", "write_population",
]

#: ages are counted on this date (a person born on 2009-01-01 is 16)
REFERENCE_DATE = pd.Timestamp("2025-01-01")
MIN_AGE, MAX_AGE = 16, 85

# --- marginal tables (approximations; sources in docs/demo-population.md) -----------------------
SEXES = ["F", "M"]
SHARE_FEMALE = 0.497

NATIONALITIES = ["Luxembourgish", "Portuguese", "French", "Italian", "Belgian", "German", "Other EU", "Non-EU"]
NATIONALITY_SHARES = [0.527, 0.140, 0.077, 0.038, 0.029, 0.019, 0.085, 0.085]

AGE_BANDS = [(16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 85)]
#: share of each age band among adults 16-85, for Luxembourgers and for foreigners
AGE_PROFILE = {
    "Luxembourgish": [0.14, 0.13, 0.14, 0.17, 0.18, 0.14, 0.10],
    "foreign": [0.11, 0.22, 0.24, 0.19, 0.13, 0.07, 0.04],
}

#: canton -> (population share, {commune: relative weight}); communes are real, a few per canton
CANTONS: dict[str, tuple[float, dict[str, float]]] = {
    "Capellen": (0.081, {"Käerjeng": 11.2, "Mamer": 11.1, "Kehlen": 6.9, "Steinfort": 6.0, "Habscht": 5.1,
                         "Dippach": 4.6, "Kopstal": 4.5, "Koerich": 2.7, "Garnich": 2.3}),
    "Clervaux": (0.032, {"Clervaux": 6.1, "Wincrange": 4.5, "Parc Hosingen": 4.1, "Troisvierges": 3.6,
                         "Weiswampach": 2.5}),
    "Diekirch": (0.055, {"Ettelbruck": 9.5, "Diekirch": 7.5, "Bettendorf": 2.9, "Vallée de l'Ernz": 2.9,
                         "Erpeldange-sur-Sûre": 2.6, "Schieren": 2.0}),
    "Echternach": (0.030, {"Echternach": 5.8, "Rosport-Mompach": 3.9, "Beaufort": 3.1, "Consdorf": 2.1,
                           "Berdorf": 2.1, "Waldbillig": 1.9, "Bech": 1.4}),
    "Esch-sur-Alzette": (0.290, {"Esch-sur-Alzette": 37.0, "Differdange": 29.0, "Dudelange": 22.0,
                                 "Pétange": 21.0, "Sanem": 18.0, "Schifflange": 11.5, "Bettembourg": 11.0,
                                 "Kayl": 9.5, "Mondercange": 7.5, "Rumelange": 5.5}),
    "Grevenmacher": (0.049, {"Junglinster": 8.0, "Grevenmacher": 5.0, "Mertert": 5.0, "Betzdorf": 4.3,
                             "Wormeldange": 3.0, "Flaxweiler": 2.4, "Manternach": 2.3, "Biwer": 2.0}),
    "Luxembourg": (0.300, {"Luxembourg": 134.0, "Hesperange": 17.0, "Strassen": 10.0, "Bertrange": 9.0,
                           "Walferdange": 9.0, "Niederanven": 6.5, "Steinsel": 5.5, "Schuttrange": 4.5,
                           "Sandweiler": 4.0, "Contern": 4.0}),
    "Mersch": (0.054, {"Mersch": 10.0, "Helperknapp": 4.8, "Lorentzweiler": 4.0, "Lintgen": 3.0,
                       "Larochette": 2.3, "Fischbach": 1.2}),
    "Redange": (0.031, {"Rambrouch": 4.6, "Redange": 3.2, "Beckerich": 2.8, "Préizerdall": 2.1,
                        "Useldange": 2.1, "Ell": 1.5, "Vichten": 1.5, "Grosbous": 1.2, "Wahl": 1.0}),
    "Remich": (0.037, {"Mondorf-les-Bains": 5.5, "Schengen": 5.0, "Remich": 3.8, "Bous-Waldbredimus": 3.0,
                       "Dalheim": 2.5, "Stadtbredimus": 2.3, "Lenningen": 2.0}),
    "Vianden": (0.009, {"Tandel": 2.3, "Vianden": 2.2, "Putscheid": 1.2}),
    "Wiltz": (0.033, {"Wiltz": 7.5, "Esch-sur-Sûre": 2.8, "Lac de la Haute-Sûre": 2.3, "Goesdorf": 1.6,
                      "Winseler": 1.3, "Kiischpelt": 1.3, "Boulaide": 1.0}),
}
CANTON_NAMES = list(CANTONS)

#: household size 1..6 by age band (rows follow AGE_BANDS)
HOUSEHOLD_SIZE_PROBS = np.array([
    [0.08, 0.12, 0.25, 0.30, 0.18, 0.07],
    [0.30, 0.30, 0.18, 0.15, 0.05, 0.02],
    [0.20, 0.18, 0.20, 0.28, 0.11, 0.03],
    [0.18, 0.22, 0.22, 0.25, 0.10, 0.03],
    [0.25, 0.42, 0.18, 0.10, 0.04, 0.01],
    [0.30, 0.55, 0.10, 0.03, 0.015, 0.005],
    [0.45, 0.45, 0.06, 0.02, 0.015, 0.005],
])

FIELDS = ["Education", "Arts and humanities", "Social sciences", "Business and law", "Natural sciences",
          "ICT", "Engineering", "Agriculture", "Health and welfare", "Services", "General"]
#: field weights by education group (rows: ISCED 0-2, 3-4, 5-8), before the sex tilt
FIELD_WEIGHTS = {
    "ISCED 0-2": [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.04, 0.02, 0.00, 0.04, 0.90],
    "ISCED 3-4": [0.02, 0.03, 0.00, 0.15, 0.00, 0.04, 0.18, 0.03, 0.08, 0.12, 0.35],
    "ISCED 5-8": [0.08, 0.10, 0.12, 0.26, 0.08, 0.07, 0.10, 0.01, 0.10, 0.03, 0.05],
}
#: multiplier on field weights for women (men get the reciprocal)
FIELD_FEMALE_TILT = {"Education": 2.0, "Health and welfare": 2.0, "Arts and humanities": 1.4,
                     "Engineering": 0.35, "ICT": 0.4}

NACE = ["A", "C", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S"]
#: NACE section shares of employment, economy-wide (approximation)
NACE_BASE = [0.01, 0.05, 0.09, 0.11, 0.06, 0.05, 0.05, 0.11, 0.01, 0.09, 0.07, 0.08, 0.07, 0.11, 0.01, 0.03]
#: field-specific NACE sections (mixed with NACE_BASE by STRUCTURE["nace"]["field_weight"])
NACE_BY_FIELD = {
    "Education": {"P": 0.8, "O": 0.1, "Q": 0.1},
    "Arts and humanities": {"R": 0.3, "P": 0.25, "J": 0.2, "O": 0.15, "S": 0.1},
    "Social sciences": {"O": 0.35, "M": 0.25, "Q": 0.15, "K": 0.15, "P": 0.1},
    "Business and law": {"K": 0.45, "M": 0.3, "N": 0.1, "G": 0.1, "L": 0.05},
    "Natural sciences": {"M": 0.35, "C": 0.2, "Q": 0.2, "P": 0.15, "J": 0.1},
    "ICT": {"J": 0.7, "K": 0.2, "M": 0.1},
    "Engineering": {"F": 0.4, "C": 0.35, "M": 0.2, "H": 0.05},
    "Agriculture": {"A": 0.7, "C": 0.15, "G": 0.15},
    "Health and welfare": {"Q": 0.9, "O": 0.1},
    "Services": {"I": 0.4, "H": 0.2, "G": 0.2, "N": 0.1, "S": 0.1},
    "General": {"G": 0.25, "F": 0.15, "N": 0.15, "H": 0.15, "I": 0.15, "C": 0.15},
}

EMPLOYMENT_STATUSES = ["employee", "self-employed", "unemployed"]
CONTRACTS = ["permanent", "fixed-term"]

#: ISCO major groups of skill level 2, by sex (groups 4, 5, 6, 7, 8)
ISCO_SKILL2 = {"F": [0.30, 0.45, 0.01, 0.12, 0.05], "M": [0.15, 0.20, 0.03, 0.42, 0.20]}

# --- the true causal structure ------------------------------------------------------------------
STRUCTURE: dict[str, Any] = {
    "reference_date": "2025-01-01",
    "latent": "u ~ N(0, 1) per person, never output; raises isced, skill, employment; lowers unemployment, minimum income and disability",
    "isced": {
        # latent score z = u*u + age_per_year*(age-40) + [F]*(female + female_age*(age-40))
        #   + nationality[nat] + N(0, noise_sd)
        "u": 0.8,
        "age_per_year": -0.030,
        "female": 0.10,
        "female_age": -0.010,
        "nationality": {"Luxembourgish": 0.0, "Portuguese": -1.1, "French": 0.4, "Italian": 0.0,
                        "Belgian": 0.5, "German": 0.4, "Other EU": 0.5, "Non-EU": 0.0},
        "noise_sd": 1.0,
        # isced = number of cutpoints below z, then capped by age (people still in education)
        "cutpoints": [-3.50, -2.38, -1.35, -0.29, -0.18, -0.08, 0.60, 2.32],
        "max_by_age": {16: 2, 18: 3, 20: 4, 21: 6, 23: 7, 26: 8},
    },
    "wage": {
        # log(full-time monthly gross EUR) = log_base + isced*(isced-3) + age*(age-40) + female*[F]
        #   + nationality[nat] + canton[canton] + N(0, noise_sd)
        # employees: wage = exp(log) * hours / 40 (part-time share depends on sex and nationality only)
        # self-employed: wage = exp(log + N(0, self_employed_extra_sd)), no hours scaling
        "log_base": math.log(4300.0),
        "isced": 0.08,
        "age": 0.008,
        "female": -0.05,
        "nationality": {"Luxembourgish": 0.05, "Portuguese": -0.12, "French": 0.0, "Italian": 0.0,
                        "Belgian": 0.05, "German": 0.03, "Other EU": 0.02, "Non-EU": -0.06},
        "canton": {"Capellen": 0.05, "Clervaux": -0.06, "Diekirch": -0.04, "Echternach": -0.04,
                   "Esch-sur-Alzette": -0.04, "Grevenmacher": 0.0, "Luxembourg": 0.06, "Mersch": 0.02,
                   "Redange": -0.03, "Remich": 0.0, "Vianden": -0.07, "Wiltz": -0.06},
        "noise_sd": 0.35,
        "self_employed_extra_sd": 0.25,
    },
    "employment": {
        # P(in the employment register = employed or registered unemployed), logit scale:
        # logit(age_profile(age)) + female*[F] + nationality + isced*(isced-3) + u*u + disability*[dis]
        "age_profile": {"ages": [16, 19, 22, 25, 30, 50, 55, 58, 61, 64, 67, 70, 85],
                        "p": [0.10, 0.25, 0.55, 0.85, 0.90, 0.90, 0.84, 0.70, 0.45, 0.24, 0.07, 0.03, 0.01]},
        "female": -0.30,
        "nationality": {"Luxembourgish": 0.0, "Portuguese": 0.35, "French": 0.2, "Italian": 0.0,
                        "Belgian": 0.1, "German": 0.0, "Other EU": 0.2, "Non-EU": -0.4},
        "isced": 0.15,
        "u": 0.30,
        "disability": -1.5,
    },
    "unemployment": {
        # among the active: logit P(unemployed) = intercept + isced*(isced-3) + u*u + under25*[age<25]
        #   + nationality
        "intercept": -2.9,
        "isced": -0.20,
        "u": -0.40,
        "under25": 0.8,
        "nationality": {"Luxembourgish": 0.0, "Portuguese": 0.2, "French": 0.1, "Italian": 0.1,
                        "Belgian": 0.0, "German": 0.0, "Other EU": 0.1, "Non-EU": 0.8},
    },
    "self_employment": {
        # among the employed: logit P(self-employed) = intercept + age*(age-40) + female*[F];
        # common variables only, so it does not bias the wage coefficient
        "intercept": -2.5, "age": 0.03, "female": -0.4,
    },
    "isco": {
        # skill score s = isced*isced + u*u + N(0, 1); skill level 1..4 by cutpoints;
        # level 4 -> ISCO 2 (or 1 with p_manager), level 3 -> ISCO 3 (or 1), level 2 -> 4-8, level 1 -> 9
        "isced": 0.55, "u": 0.30, "cutpoints": [0.35, 2.53, 3.50], "p_manager": 0.15,
    },
    "nace": {"field_weight": 0.65, "main_section": {f: max(d, key=d.__getitem__) for f, d in NACE_BY_FIELD.items()}},
    "contract": {
        # employees: logit P(fixed-term) = intercept + under25*[age<25] + under30*[age<30] + u*u
        "intercept": -2.7, "under25": 1.7, "under30": 0.6, "u": -0.2,
    },
    "hours": {"part_time_female": 0.30, "part_time_male": 0.06, "part_time_hours": [20, 24, 30, 32],
              "full_time_hours": 40, "self_employed_mean": 45, "self_employed_sd": 8},
    "minimum_income": {
        # logit P(REVIS) = intercept + isced*(isced-3) + u*u + unemployed*[unemployed]
        #   + inactive_under65*[not in employment register and age < 65] + nationality
        "intercept": -4.0, "isced": -0.30, "u": -0.40, "unemployed": 2.0, "inactive_under65": 1.0,
        "nationality": {"Luxembourgish": 0.0, "Portuguese": 0.3, "French": 0.2, "Italian": 0.2,
                        "Belgian": 0.0, "German": 0.0, "Other EU": 0.2, "Non-EU": 0.9},
    },
    "disability": {
        # logit P(disability) = intercept + age*(age-50) + isced*(isced-3) + u*u
        "intercept": -3.2, "age": 0.045, "isced": -0.12, "u": -0.3,
    },
    "family_allowance": {
        # P = parent_hh3 if household_size >= 3 and 25 <= age <= 59; parent_hh2 if size 2 and
        # 25..59; otherwise other
        "parent_hh3": 0.55, "parent_hh2": 0.06, "other": 0.01,
    },
    "coverage": {
        # education register: P(covered) by nationality group, minus old_age_drop for age >= 75
        "education": {"Luxembourgish": 0.98, "foreign": 0.84, "old_age_drop": 0.10},
        "employment": "employed (employee or self-employed) or registered unemployed",
        "social": "all adults (benefit indicators 0/1 for everyone)",
    },
}

REGISTERS = {
    "population": ["matricule", "sex", "birth_date", "age", "nationality", "canton", "commune", "household_size"],
    "education": ["isced", "field", "graduation_year", "studied_abroad", "student_aid"],
    "employment": ["employment_status", "nace", "isco", "wage", "contract", "hours"],
    "social": ["minimum_income", "family_allowance", "disability"],
}

DEMO_PLAN: dict[str, Any] = {
    "identifier": "matricule",
    "common": ["sex", "age", "nationality", "canton"],
    "parts": {
        "education": {"columns": list(REGISTERS["education"]), "coverage": "observed"},
        "employment": {"columns": list(REGISTERS["employment"]), "coverage": "observed"},
    },
    "control_share": 0.2,
    "kinds": {"isced": "ordinal", "isco": "categorical", "age": "numeric"},
}


# --- helpers -------------------------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


def _norm(p: Any) -> np.ndarray:
    a = np.asarray(p, dtype=float)
    return a / a.sum(axis=-1, keepdims=True)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per element of ``rows``, from the probability row ``probs[rows[i]]``."""
    cum = np.cumsum(_norm(probs), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    for r in np.unique(rows):  # loop over the few distinct rows, vectorised within
        m = rows == r
        out[m] = np.searchsorted(cum[r], u[m], side="right")
    return out


def _strings(codes: np.ndarray, names: list[str], mask: np.ndarray | None = None) -> pd.Series:
    """codes -> a pandas "str" Series; NaN where ``mask`` is False."""
    idx = np.asarray(codes, dtype=np.int64)
    valid = np.ones(len(idx), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    taken = pc.take(pa.array(names, type=pa.string()), pa.array(np.where(valid, idx, 0), mask=~valid))
    return pd.Series(taken, dtype="str")


def _ints(values: np.ndarray, mask: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    v = np.asarray(values, dtype=np.int64)
    m = np.zeros(len(v), dtype=bool) if mask is None else ~np.asarray(mask, dtype=bool)
    return pd.arrays.IntegerArray(v, m)


def _lookup(table: dict[str, float], names: list[str], codes: np.ndarray) -> np.ndarray:
    return np.array([table[k] for k in names], dtype=float)[codes]


def _age_band(age: np.ndarray) -> np.ndarray:
    edges = np.array([b[0] for b in AGE_BANDS[1:]])
    return np.searchsorted(edges, age, side="right")


# --- the generator ---------------------------------------------------------------------------------
def population(n: int, seed: int = 0) -> pd.DataFrame:
    """The joint table of ``n`` synthetic adults (16-85 on :data:`REFERENCE_DATE`), one row each.

    Same ``seed`` -> identical frame. See the module docstring and :data:`STRUCTURE`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"demo population: n must be a positive whole number, got {n!r}")
    n = int(n)
    rng = np.random.default_rng(seed)
    S = STRUCTURE

    # -- population register ------------------------------------------------------------------
    female = rng.random(n) < SHARE_FEMALE
    nat = rng.choice(len(NATIONALITIES), size=n, p=_norm(NATIONALITY_SHARES))
    foreign = nat != 0
    band = _choice_rows(rng, np.array([AGE_PROFILE["Luxembourgish"], AGE_PROFILE["foreign"]]), foreign.astype(np.int64))
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    age = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    # birth date: uniform over the days that give this age on the reference date
    ref_year = REFERENCE_DATE.year
    y = ref_year - 1 - age  # born between y-01-02 and (y+1)-01-01 inclusive
    start = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(1, "D")
    ndays = ((y + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - (y - 1970).astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    birth = start + np.floor(rng.random(n) * ndays).astype(np.int64).astype("timedelta64[D]")
    canton = rng.choice(len(CANTONS), size=n, p=_norm([v[0] for v in CANTONS.values()]))
    commune_lists = [list(v[1]) for v in CANTONS.values()]
    width = max(len(c) for c in commune_lists)
    cw = np.zeros((len(CANTONS), width))
    for i, v in enumerate(CANTONS.values()):
        cw[i, : len(v[1])] = list(v[1].values())
    commune_local = _choice_rows(rng, cw, canton)
    commune_names = [c for lst in commune_lists for c in lst]
    offsets = np.cumsum([0] + [len(c) for c in commune_lists[:-1]])
    commune = offsets[canton] + commune_local
    hh = _choice_rows(rng, HOUSEHOLD_SIZE_PROBS, _age_band(age)) + 1
    mat = _matricule.generate(birth, rng)

    # -- latent factor and education -----------------------------------------------------------
    u = rng.standard_normal(n)
    E = S["isced"]
    z = (E["u"] * u + E["age_per_year"] * (age - 40) + female * (E["female"] + E["female_age"] * (age - 40))
         + _lookup(E["nationality"], NATIONALITIES, nat) + E["noise_sd"] * rng.standard_normal(n))
    isced = np.searchsorted(np.array(E["cutpoints"]), z, side="right").astype(np.int64)
    cap_ages = np.array(sorted(E["max_by_age"]))
    cap_vals = np.array([E["max_by_age"][a] for a in cap_ages])
    cap = cap_vals[np.searchsorted(cap_ages, age, side="right") - 1]
    isced = np.minimum(isced, cap)
    igroup = np.where(isced <= 2, 0, np.where(isced <= 4, 1, 2))
    fw = np.array(list(FIELD_WEIGHTS.values()))
    tilt = np.array([FIELD_FEMALE_TILT.get(f, 1.0) for f in FIELDS])
    field_probs = np.vstack([fw * (1 / tilt), fw * tilt])  # rows 0-2 men, 3-5 women
    field = _choice_rows(rng, field_probs, igroup + 3 * female)
    grad_age = np.array([0, 12, 15, 18, 20, 21, 22, 24, 29])[isced]
    delay = np.floor(rng.exponential(1.5, n)).astype(np.int64)
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    grad_year = np.minimum(birth_year + grad_age + delay, ref_year - 1)
    tertiary = isced >= 5
    p_abroad = np.where(tertiary, np.where(foreign, 0.80, np.where(grad_year < 2008, 0.85, 0.65)),
                        np.where(foreign, 0.55, 0.04))
    abroad = rng.random(n) < p_abroad
    p_aid = np.where(tertiary, np.where(grad_year >= 2000, 0.6, 0.3) * np.where(foreign, 0.6, 1.0), 0.0)
    aid = rng.random(n) < p_aid
    cov = S["coverage"]["education"]
    p_edu = np.where(foreign, cov["foreign"], cov["Luxembourgish"]) - np.where(age >= 75, cov["old_age_drop"], 0.0)
    in_edu = rng.random(n) < p_edu

    # -- disability (social register, used by employment) ---------------------------------------
    D = S["disability"]
    disability = rng.random(n) < _sigmoid(D["intercept"] + D["age"] * (age - 50) + D["isced"] * (isced - 3) + D["u"] * u)

    # -- employment register ---------------------------------------------------------------------
    M = S["employment"]
    prof = M["age_profile"]
    base = np.interp(age, prof["ages"], _logit(prof["p"]))
    active = rng.random(n) < _sigmoid(base + M["female"] * female + _lookup(M["nationality"], NATIONALITIES, nat)
                                      + M["isced"] * (isced - 3) + M["u"] * u + M["disability"] * disability)
    U = S["unemployment"]
    unemployed = active & (rng.random(n) < _sigmoid(U["intercept"] + U["isced"] * (isced - 3) + U["u"] * u
                                                    + U["under25"] * (age < 25)
                                                    + _lookup(U["nationality"], NATIONALITIES, nat)))
    employed = active & ~unemployed
    SE = S["self_employment"]
    self_emp = employed & (rng.random(n) < _sigmoid(SE["intercept"] + SE["age"] * (age - 40) + SE["female"] * female))
    employee = employed & ~self_emp
    status = np.where(self_emp, 1, np.where(unemployed, 2, 0))

    Ic = S["isco"]
    skill_score = Ic["isced"] * isced + Ic["u"] * u + rng.standard_normal(n)
    skill = np.searchsorted(np.array(Ic["cutpoints"]), skill_score, side="right") + 1  # 1..4
    manager = rng.random(n) < Ic["p_manager"]
    sk2 = _choice_rows(rng, np.array([ISCO_SKILL2["M"], ISCO_SKILL2["F"]]), female.astype(np.int64)) + 4
    isco = np.select([skill == 4, skill == 3, skill == 2], [np.where(manager, 1, 2), np.where(manager, 1, 3), sk2], 9)

    Nc = S["nace"]
    base_nace = _norm(NACE_BASE)
    spec = np.zeros((len(FIELDS), len(NACE)))
    for i, f in enumerate(FIELDS):
        for sec, w in NACE_BY_FIELD[f].items():
            spec[i, NACE.index(sec)] = w
    nace_probs = Nc["field_weight"] * _norm(spec) + (1 - Nc["field_weight"]) * base_nace[None, :]
    nace = _choice_rows(rng, nace_probs, field)

    C = S["contract"]
    fixed = rng.random(n) < _sigmoid(C["intercept"] + C["under25"] * (age < 25) + C["under30"] * (age < 30) + C["u"] * u)
    H = S["hours"]
    part_time = rng.random(n) < np.where(female, H["part_time_female"], H["part_time_male"])
    pt_hours = np.array(H["part_time_hours"], dtype=float)[rng.integers(0, len(H["part_time_hours"]), n)]
    se_hours = np.clip(np.round(H["self_employed_mean"] + H["self_employed_sd"] * rng.standard_normal(n)), 10, 70)
    hours = np.where(self_emp, se_hours, np.where(part_time, pt_hours, float(H["full_time_hours"])))

    W = S["wage"]
    log_fte = (W["log_base"] + W["isced"] * (isced - 3) + W["age"] * (age - 40) + W["female"] * female
               + _lookup(W["nationality"], NATIONALITIES, nat) + _lookup(W["canton"], CANTON_NAMES, canton)
               + W["noise_sd"] * rng.standard_normal(n))
    se_noise = W["self_employed_extra_sd"] * rng.standard_normal(n)
    wage = np.where(self_emp, np.exp(log_fte + se_noise), np.exp(log_fte) * hours / H["full_time_hours"])
    wage = np.round(wage, 2)

    # -- social register ---------------------------------------------------------------------------
    R = S["minimum_income"]
    revis = rng.random(n) < _sigmoid(R["intercept"] + R["isced"] * (isced - 3) + R["u"] * u
                                     + R["unemployed"] * unemployed
                                     + R["inactive_under65"] * (~active & (age < 65))
                                     + _lookup(R["nationality"], NATIONALITIES, nat))
    F = S["family_allowance"]
    parent_age = (age >= 25) & (age <= 59)
    p_fam = np.where(parent_age & (hh >= 3), F["parent_hh3"], np.where(parent_age & (hh == 2), F["parent_hh2"], F["other"]))
    family = rng.random(n) < p_fam

    # -- assemble -----------------------------------------------------------------------------------
    nan = np.nan
    df = pd.DataFrame({
        "matricule": mat,
        "sex": _strings(female.astype(np.int64), ["M", "F"]),
        "birth_date": pd.Series(birth.astype("datetime64[ns]")),
        "age": age.astype(np.int64),
        "nationality": _strings(nat, NATIONALITIES),
        "canton": _strings(canton, CANTON_NAMES),
        "commune": _strings(commune, commune_names),
        "household_size": hh.astype(np.int64),
        "isced": _ints(isced, in_edu),
        "field": _strings(field, FIELDS, in_edu),
        "graduation_year": _ints(grad_year, in_edu & (isced > 0)),
        "studied_abroad": _ints(abroad, in_edu),
        "student_aid": _ints(aid, in_edu),
        "employment_status": _strings(status, EMPLOYMENT_STATUSES, active),
        "nace": _strings(nace, NACE, employed),
        "isco": _ints(isco, employed),
        "wage": np.where(employed, wage, nan),
        "contract": _strings(fixed.astype(np.int64), CONTRACTS, employee),
        "hours": np.where(employed, hours, nan),
        "minimum_income": _ints(revis),
        "family_allowance": _ints(family),
        "disability": _ints(disability),
    })
    return df


# --- registers, marginals, output ---------------------------------------------------------------
def _coverage_column(name: str) -> str | None:
    return {"education": "field", "employment": "employment_status"}.get(name)


def registers(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Cut the joint table into the four registers, each with the matricule and only the persons
    it covers (education: rows with a field; employment: rows with a status; population and
    social: everyone)."""
    missing = [c for cols in REGISTERS.values() for c in cols if c not in df.columns]
    if "matricule" not in df.columns:
        missing.insert(0, "matricule")
    if missing:
        raise InputError(f"demo registers: the table lacks column(s) {', '.join(missing)}")
    out: dict[str, pd.DataFrame] = {}
    for name, cols in REGISTERS.items():
        keep = cols if name == "population" else ["matricule", *cols]
        cov = _coverage_column(name)
        part = df[keep] if cov is None else df.loc[df[cov].notna(), keep]
        out[name] = part.reset_index(drop=True)
    return out


def expected_marginals() -> dict[str, dict[str, float]]:
    """Shares the generator targets by construction (sex, nationality, canton, education coverage),
    computed from the tables above; tests compare samples to these."""
    nat = _norm(NATIONALITY_SHARES)
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
        "canton": dict(zip(CANTON_NAMES, _norm([v[0] for v in CANTONS.values()]).tolist(), strict=True)),
        "coverage": {"education": float(edu)},
    }


def write_population(df: pd.DataFrame, out: str | Path, per_register: bool = False, fmt: str | None = None,
                     overwrite: bool = True) -> list[Path]:
    """Write the joint table to ``out`` (.parquet or .csv by extension), or with ``per_register``
    one file per register (population, education, employment, social) into the folder ``out``
    (format ``fmt``: "parquet" (default) or "csv"). Writes are atomic: a folder appears complete or
    not at all. With ``overwrite=False`` an existing output is an error. Returns the paths written."""
    from synthlink.io import atomic_dir, check_can_write, write_table

    out = Path(out)
    if not per_register:
        if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise InputError(f"{out}: unknown output format '{out.suffix}' (use .csv or .parquet)")
        if out.is_dir():
            raise InputError(f"{out}: is a folder; give a file name ending in .csv or .parquet")
        check_can_write(out, overwrite)
        return [write_table(df, out)]
    fmt = (fmt or "parquet").lower().lstrip(".")
    if fmt not in ("parquet", "csv"):
        raise InputError(f"{out}: unknown register format '{fmt}' (use parquet or csv)")
    if out.suffix.lower() in (".csv", ".parquet", ".pq"):
        raise InputError(f"{out}: with one file per register the output is a folder; give a folder name without a file extension")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    regs = registers(df)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for name, t in regs.items():
            write_table(t, tmp / f"{name}.{fmt}")
    return [out / f"{name}.{fmt}" for name in regs]

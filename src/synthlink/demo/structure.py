"""The demo population's true causal structure: every coefficient of the generator's equations.

:data:`STRUCTURE` holds the ground truth the validation tests recover (for instance the wage
return to one ISCED level, ``STRUCTURE["wage"]["isced"]``); each entry's comment gives the
equation it enters. ``docs/demo-population.md`` explains the numbers and their sources.
"""

from __future__ import annotations

import math
from typing import Any

from synthlink.demo.tables import NACE_BY_FIELD

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

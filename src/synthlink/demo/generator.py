"""The demo population generator: one seeded, vectorised draw of the joint table.

The population register first (sex, nationality, age band and age, birth date, canton and
commune, household size, matricule), then a latent per-person factor ``u`` (never output), the
education register, disability, the employment register (activity, unemployment,
self-employment, ISCO, NACE, contract, hours, wage) and the social register, each from the
equations of :data:`synthlink.demo.structure.STRUCTURE` and the marginal tables of
:mod:`synthlink.demo.tables`. The same ``seed`` gives an identical frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlink import matricule
from synthlink.demo.draws import (
    age_band,
    choice_rows,
    ints,
    logit,
    lookup,
    normalise,
    sigmoid,
    strings,
)
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
    NACE,
    NACE_BASE,
    NACE_BY_FIELD,
    NATIONALITIES,
    NATIONALITY_SHARES,
    REFERENCE_DATE,
    SHARE_FEMALE,
)
from synthlink.errors import ConfigError


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
    nat = rng.choice(len(NATIONALITIES), size=n, p=normalise(NATIONALITY_SHARES))
    foreign = nat != 0
    band = choice_rows(rng, np.array([AGE_PROFILE["Luxembourgish"], AGE_PROFILE["foreign"]]), foreign.astype(np.int64))
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    age = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    # birth date: uniform over the days that give this age on the reference date
    ref_year = REFERENCE_DATE.year
    y = ref_year - 1 - age  # born between y-01-02 and (y+1)-01-01 inclusive
    start = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(1, "D")
    ndays = ((y + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - (y - 1970).astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    birth = start + np.floor(rng.random(n) * ndays).astype(np.int64).astype("timedelta64[D]")
    canton = rng.choice(len(CANTONS), size=n, p=normalise([v[0] for v in CANTONS.values()]))
    commune_lists = [list(v[1]) for v in CANTONS.values()]
    width = max(len(c) for c in commune_lists)
    cw = np.zeros((len(CANTONS), width))
    for i, v in enumerate(CANTONS.values()):
        cw[i, : len(v[1])] = list(v[1].values())
    commune_local = choice_rows(rng, cw, canton)
    commune_names = [c for lst in commune_lists for c in lst]
    offsets = np.cumsum([0] + [len(c) for c in commune_lists[:-1]])
    commune = offsets[canton] + commune_local
    hh = choice_rows(rng, HOUSEHOLD_SIZE_PROBS, age_band(age)) + 1
    mat = matricule.generate(birth, rng)

    # -- latent factor and education -----------------------------------------------------------
    u = rng.standard_normal(n)
    E = S["isced"]
    z = (E["u"] * u + E["age_per_year"] * (age - 40) + female * (E["female"] + E["female_age"] * (age - 40))
         + lookup(E["nationality"], NATIONALITIES, nat) + E["noise_sd"] * rng.standard_normal(n))
    isced = np.searchsorted(np.array(E["cutpoints"]), z, side="right").astype(np.int64)
    cap_ages = np.array(sorted(E["max_by_age"]))
    cap_vals = np.array([E["max_by_age"][a] for a in cap_ages])
    cap = cap_vals[np.searchsorted(cap_ages, age, side="right") - 1]
    isced = np.minimum(isced, cap)
    igroup = np.where(isced <= 2, 0, np.where(isced <= 4, 1, 2))
    fw = np.array(list(FIELD_WEIGHTS.values()))
    tilt = np.array([FIELD_FEMALE_TILT.get(f, 1.0) for f in FIELDS])
    field_probs = np.vstack([fw * (1 / tilt), fw * tilt])  # rows 0-2 men, 3-5 women
    field = choice_rows(rng, field_probs, igroup + 3 * female)
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
    disability = rng.random(n) < sigmoid(D["intercept"] + D["age"] * (age - 50) + D["isced"] * (isced - 3) + D["u"] * u)

    # -- employment register ---------------------------------------------------------------------
    M = S["employment"]
    prof = M["age_profile"]
    base = np.interp(age, prof["ages"], logit(prof["p"]))
    active = rng.random(n) < sigmoid(base + M["female"] * female + lookup(M["nationality"], NATIONALITIES, nat)
                                      + M["isced"] * (isced - 3) + M["u"] * u + M["disability"] * disability)
    U = S["unemployment"]
    unemployed = active & (rng.random(n) < sigmoid(U["intercept"] + U["isced"] * (isced - 3) + U["u"] * u
                                                    + U["under25"] * (age < 25)
                                                    + lookup(U["nationality"], NATIONALITIES, nat)))
    employed = active & ~unemployed
    SE = S["self_employment"]
    self_emp = employed & (rng.random(n) < sigmoid(SE["intercept"] + SE["age"] * (age - 40) + SE["female"] * female))
    employee = employed & ~self_emp
    status = np.where(self_emp, 1, np.where(unemployed, 2, 0))

    Ic = S["isco"]
    skill_score = Ic["isced"] * isced + Ic["u"] * u + rng.standard_normal(n)
    skill = np.searchsorted(np.array(Ic["cutpoints"]), skill_score, side="right") + 1  # 1..4
    manager = rng.random(n) < Ic["p_manager"]
    sk2 = choice_rows(rng, np.array([ISCO_SKILL2["M"], ISCO_SKILL2["F"]]), female.astype(np.int64)) + 4
    isco = np.select([skill == 4, skill == 3, skill == 2], [np.where(manager, 1, 2), np.where(manager, 1, 3), sk2], 9)

    Nc = S["nace"]
    base_nace = normalise(NACE_BASE)
    spec = np.zeros((len(FIELDS), len(NACE)))
    for i, f in enumerate(FIELDS):
        for sec, w in NACE_BY_FIELD[f].items():
            spec[i, NACE.index(sec)] = w
    nace_probs = Nc["field_weight"] * normalise(spec) + (1 - Nc["field_weight"]) * base_nace[None, :]
    nace = choice_rows(rng, nace_probs, field)

    C = S["contract"]
    fixed = rng.random(n) < sigmoid(C["intercept"] + C["under25"] * (age < 25) + C["under30"] * (age < 30) + C["u"] * u)
    H = S["hours"]
    part_time = rng.random(n) < np.where(female, H["part_time_female"], H["part_time_male"])
    pt_hours = np.array(H["part_time_hours"], dtype=float)[rng.integers(0, len(H["part_time_hours"]), n)]
    se_hours = np.clip(np.round(H["self_employed_mean"] + H["self_employed_sd"] * rng.standard_normal(n)), 10, 70)
    hours = np.where(self_emp, se_hours, np.where(part_time, pt_hours, float(H["full_time_hours"])))

    W = S["wage"]
    log_fte = (W["log_base"] + W["isced"] * (isced - 3) + W["age"] * (age - 40) + W["female"] * female
               + lookup(W["nationality"], NATIONALITIES, nat) + lookup(W["canton"], CANTON_NAMES, canton)
               + W["noise_sd"] * rng.standard_normal(n))
    se_noise = W["self_employed_extra_sd"] * rng.standard_normal(n)
    wage = np.where(self_emp, np.exp(log_fte + se_noise), np.exp(log_fte) * hours / H["full_time_hours"])
    wage = np.round(wage, 2)

    # -- social register ---------------------------------------------------------------------------
    R = S["minimum_income"]
    revis = rng.random(n) < sigmoid(R["intercept"] + R["isced"] * (isced - 3) + R["u"] * u
                                     + R["unemployed"] * unemployed
                                     + R["inactive_under65"] * (~active & (age < 65))
                                     + lookup(R["nationality"], NATIONALITIES, nat))
    F = S["family_allowance"]
    parent_age = (age >= 25) & (age <= 59)
    p_fam = np.where(parent_age & (hh >= 3), F["parent_hh3"], np.where(parent_age & (hh == 2), F["parent_hh2"], F["other"]))
    family = rng.random(n) < p_fam

    # -- assemble -----------------------------------------------------------------------------------
    nan = np.nan
    df = pd.DataFrame({
        "matricule": mat,
        "sex": strings(female.astype(np.int64), ["M", "F"]),
        "birth_date": pd.Series(birth.astype("datetime64[ns]")),
        "age": age.astype(np.int64),
        "nationality": strings(nat, NATIONALITIES),
        "canton": strings(canton, CANTON_NAMES),
        "commune": strings(commune, commune_names),
        "household_size": hh.astype(np.int64),
        "isced": ints(isced, in_edu),
        "field": strings(field, FIELDS, in_edu),
        "graduation_year": ints(grad_year, in_edu & (isced > 0)),
        "studied_abroad": ints(abroad, in_edu),
        "student_aid": ints(aid, in_edu),
        "employment_status": strings(status, EMPLOYMENT_STATUSES, active),
        "nace": strings(nace, NACE, employed),
        "isco": ints(isco, employed),
        "wage": np.where(employed, wage, nan),
        "contract": strings(fixed.astype(np.int64), CONTRACTS, employee),
        "hours": np.where(employed, hours, nan),
        "minimum_income": ints(revis),
        "family_allowance": ints(family),
        "disability": ints(disability),
    })
    return df

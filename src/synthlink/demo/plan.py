"""The demo population's registers and split plan: which columns belong to which register,
who each register covers, and :data:`DEMO_PLAN` (the education and employment parts, linked on
the common variables sex, age, nationality and canton)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthlink.errors import InputError

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


#: the registers a demo study can link (the population register holds the common variables)
LINKABLE = ("education", "employment", "social")


def demo_plan(names: list[str] | tuple[str, ...] = ("education", "employment")) -> dict[str, Any]:
    """The demo's split plan over the registers ``names`` (two or more of :data:`LINKABLE`):
    education and employment hold the persons they observe, social holds every adult."""
    names = list(names)
    bad = [n for n in names if n not in LINKABLE]
    if bad:
        raise InputError(f"demo registers: unknown register '{bad[0]}' (registers: {', '.join(LINKABLE)})")
    if len(set(names)) != len(names) or len(names) < 2:
        raise InputError(f"demo registers: name two or more different registers (got {', '.join(names) or 'none'})")
    parts = {n: {"columns": list(REGISTERS[n]), "coverage": "observed" if n != "social" else 1.0} for n in names}
    return {**DEMO_PLAN, "parts": parts}


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

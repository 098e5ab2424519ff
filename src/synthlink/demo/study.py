"""The built-in demo study's config: the demo population, education x employment (or a chain
of three registers), CART with the floor beside it, and every linkage method available."""

from __future__ import annotations

from typing import Any

#: the research question of the demo: education drives wage within age and sex (a cross-part
#: relationship that the common variables do not explain)
DEMO_QUESTIONS = ["np.log(wage) ~ isced + age + C(sex)"]
#: the three-register question: education -> unemployment -> minimum income (the generator's
#: REVIS equation, demo/structure.py), across the education, employment and social registers
DEMO_THREE_REGISTERS = "minimum_income ~ isced + C(employment_status) + age + C(sex)"


def demo_study_dict(n: int = 20_000, seed: int = 0, registers: list[str] | None = None) -> dict[str, Any]:
    """The built-in demo study: the demo population, education x employment (or the chain of
    ``registers``, e.g. education, employment, social), CART with the floor beside it, and every
    linkage method that is available."""
    from synthlink import link, synth

    synths = [s for s in ("cart", "marginals") if s in synth.available()]
    linkers: list[Any] = [m for m in ("identifier", "exact", "probabilistic", "distance", "propensity") if m in link.available()]
    if "hotdeck" in link.available():
        linkers.append({"name": "hotdeck", "params": {"variant": "nnd"}})
    d: dict[str, Any] = {
        "name": f"demo population, {n:,} persons",
        "data": {"demo": {"n": n, "seed": seed}},
        "split": {"plan": "demo"},
        "link_parts": ["education", "employment"],
        "synthesizers": synths,
        "linkers": linkers,
        "questions": DEMO_QUESTIONS,
        "target": "wage",
        "privacy": {"secret": "wage", "n_attacks": 300},
        "seeds": [seed],
    }
    if registers is not None and list(registers) != ["education", "employment"]:
        from synthlink.demo.plan import demo_plan

        d["split"] = demo_plan(registers)
        d.pop("link_parts")
        d["link_plan"] = {"chain": list(registers)}
        d["name"] = f"demo population, {n:,} persons, {' - '.join(registers)}"
        if "social" in registers and {"education", "employment"} <= set(registers):
            d["questions"] = [*DEMO_QUESTIONS, DEMO_THREE_REGISTERS]
        cols = {c for r in registers for c in demo_plan(registers)["parts"][r]["columns"]}
        if "wage" not in cols:
            d.pop("target")
            d["privacy"] = {"n_attacks": 300}
            d["questions"] = [q for q in d["questions"] if "wage" not in q]
    return d

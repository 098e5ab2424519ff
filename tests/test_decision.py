"""The decision table (pipeline.decision): which options answer a research question under the
rule, and the lowest-risk one; worked out by hand on a small record."""

from __future__ import annotations

import pytest

from synthlink.config import OptionsConfig
from synthlink.pipeline.decision import Z95, decide, key_terms

PARTS = {"education": ["isced"], "employment": ["wage"]}
F = "np.log(wage) ~ isced + age"


def _entry(linker, option, coef, se, overlap, risk):
    fits = {"train": {"coefficients": [{"term": "Intercept", "coef": 7.6, "se": 0.02},
                                       {"term": "isced", "coef": 0.084, "se": 0.002},
                                       {"term": "age", "coef": 0.008, "se": 0.0004}]},
            "control": {"coefficients": [{"term": "isced", "coef": 0.086, "se": 0.004, "ci_overlap": 0.8}]},
            "synthetic": {"coefficients": [{"term": "isced", "coef": coef, "se": se, "ci_overlap": overlap},
                                           {"term": "age", "coef": 0.008, "se": 0.0004, "ci_overlap": 0.9}]}}
    return {"synthesizer": "cart", "linker": linker, "option": option, "status": "ok",
            "utility": {"questions": [{"formula": F, "fits": fits}]},
            "privacy": {"singling_out": {"risk": risk, "ci": [0, risk + 0.01]}, "linkability": {"risk": risk / 2, "ci": [0, 1]}}}


def test_key_terms_are_the_ones_that_cross_parts():
    assert key_terms(F, ["Intercept", "isced", "age"], PARTS) == ["isced"]  # age is common
    assert key_terms("age ~ C(sex)", ["Intercept", "C(sex)[T.M]"], PARTS) == ["C(sex)[T.M]"]  # none crosses: all


def test_the_rule_marks_the_answering_options_and_picks_the_lowest_risk():
    record = {"synthetic": [
        _entry("central", "central synthesis", 0.083, 0.003, 0.89, 0.06),           # answers
        _entry("exact", "independent synthesis + linkage", 0.018, 0.003, -6.2, 0.05),  # overlap < 0.5
        _entry("bridge eps=1", "independent synthesis + bridge", 0.080, 0.003, 0.55, 0.03),  # answers, lower risk
        _entry("flip", "independent synthesis + linkage", -0.08, 0.003, 0.6, 0.01),  # sign lost
        _entry("bridge (true counts)", "independent synthesis + bridge", 0.084, 0.002, 1.0, 0.0)],  # not released
        "bridge": {"releases": {"bridge eps=1": {"budget": {"private": True}},
                                "bridge (true counts)": {"budget": {"private": False}}}}}
    (q,) = decide(record, PARTS, OptionsConfig())["questions"]
    ans = {o["linker"]: o["answers"] for o in q["options"]}
    assert ans == {"central": True, "exact": False, "bridge eps=1": True, "flip": False}
    assert q["selected"] == "cart × bridge eps=1"  # max risk 0.03 < 0.06
    (t,) = next(o for o in q["options"] if o["linker"] == "central")["terms"]
    assert t["ci"] == pytest.approx([0.083 - Z95 * 0.003, 0.083 + Z95 * 0.003])
    assert "2 of 4 synthetic options keep 'isced'" in q["verdict"] and "cart × bridge eps=1" in q["verdict"]
    # a stricter rule: nothing but secure access answers
    strict = decide(record, PARTS, OptionsConfig(min_ci_overlap=0.95))["questions"][0]
    assert strict["selected"] is None and "only secure access" in strict["verdict"]
    assert strict["secure_access"]["answers"] and strict["secure_access"]["max_risk"] == 1.0


@pytest.mark.slow
def test_on_the_demo_central_cart_keeps_the_effect_and_independent_cart_loses_it(tmp_path):
    """Issue 15's finding, pinned: on the 20,000-person demo, central CART keeps the education ->
    wage coefficient (CI overlap >= 0.5) and independent CART + a CIA linker (exact, distance)
    loses it; the verdict says so."""
    import yaml

    from synthlink.study import Study

    cfg = {"name": "d", "data": {"demo": {"n": 20000, "seed": 1}}, "split": {"plan": "demo"},
           "link_parts": ["education", "employment"], "synthesizers": ["cart"], "linkers": ["exact", "distance"],
           "questions": ["np.log(wage) ~ isced + age + C(sex)"], "privacy": {"secret": "wage", "n_attacks": 200},
           "seeds": [1]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(cfg))
    res = Study.from_yaml(tmp_path / "s.yaml").run(tmp_path / "out", progress=False, report=False)
    (q,) = res.metrics["seeds"][0]["decision"]["questions"]
    by = {o["linker"]: o for o in q["options"]}
    assert by["central"]["answers"] and by["central"]["terms"][0]["ci_overlap"] >= 0.5
    assert not by["exact"]["answers"] and not by["distance"]["answers"]
    assert q["selected"] == "cart × central" and "central synthesis" in q["verdict"]


def test_the_report_leads_with_the_decision():
    """The decision's verdict opens the summary; the decision section (its table and maps) comes
    before the linkage details; the selected option is marked; the formula is escaped."""
    from synthlink.report import build_view, render

    record = {"synthetic": [
        _entry("central", "central synthesis", 0.083, 0.003, 0.89, 0.06),
        _entry("exact", "independent synthesis + linkage", 0.018, 0.003, -6.2, 0.05)]}
    for e in record["synthetic"]:
        e["utility"]["questions"][0]["formula"] = "np.log(wage) ~ isced + age <b>"
    dec = decide(record, PARTS, OptionsConfig())
    metrics = {"name": "d", "seeds": [{"seed": 1, "baseline": [], **record, "decision": dec}]}
    view = build_view(metrics)
    assert view["verdict"][0].startswith("For 'np.log(wage) ~ isced + age <b>', 1 of 2 synthetic options keep 'isced'")
    html = render(metrics)
    assert html.index('id="decision"') < html.index('id="linkage"')
    sec = html[html.index('id="decision"'):html.index('id="linkage"')]
    assert "&lt;b&gt;" in sec and "<b>'" not in sec
    assert sec.count("&larr; selected") == 1 and 'class="sel"' in sec


def test_one_forest_plot_per_question_across_all_options():
    """Issue 15: one forest per question (not one chart per option): a panel per key coefficient
    with train, control and every option as its rows."""
    from synthlink.report import build_view

    record = {"synthetic": [_entry("central", "central synthesis", 0.083, 0.003, 0.89, 0.06),
                            _entry("exact", "independent synthesis + linkage", 0.018, 0.003, -6.2, 0.05)]}
    (forest,) = build_view({"name": "d", "seeds": [{"seed": 1, "baseline": [], **record}]})["forests"]
    svg = str(forest["svg"])
    assert forest["formula"] == F and svg.count("<svg") == 2  # isced and age panels; no intercept
    for label in ("train (real data)", "control (fresh real)", "cart × central", "cart × exact"):
        assert svg.count(label) >= 2, label  # a row in each panel


def test_results_table_has_one_row_per_option_and_seed():
    from synthlink.pipeline.tables import runs_table

    record = {"seed": 1, "baseline": [], "uniqueness_bound": {"linked_population": 0.3},
              "synthetic": [{**_entry("central", "central synthesis", 0.083, 0.003, 0.89, 0.06),
                             "measures": {"k_marginal": {"value": 968.4}}},
                            _entry("exact", "independent synthesis + linkage", 0.018, 0.003, -6.2, 0.05)]}
    t = runs_table([record, {**record, "seed": 2}])
    assert list(zip(t["seed"], t["option"], strict=True)) == [
        (1, "central synthesis"), (1, "independent synthesis + linkage"),
        (2, "central synthesis"), (2, "independent synthesis + linkage")]
    assert t["measure_k_marginal"].iloc[0] == 968.4

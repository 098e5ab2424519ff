"""The report leads with the mean over seeds: the key figures and the linkage table of a two-seed
study show the mean with its sample standard deviation, worked out by hand below."""

from __future__ import annotations

import math

import pytest

from synthlink.report import build_view, render
from synthlink.report.seeds import spread


def _run(linker, acc, prec, f1, share, tp, linked, n_left, n_right, status="ok"):
    return {"linker": linker, "method": linker, "status": status,
            "quality": {"accuracy": acc, "precision": prec, "recall": acc, "f1": f1, "share_unlinked_left": share,
                        "true_pairs": float(tp)},
            "accounting": {"linked": linked, "n_left": n_left, "n_right": n_right}}


def two_seeds() -> dict:
    """Seed 0: 1,000 people in both parts, expected bound 0.40 (uniqueness bound 0.45), exact links
    400 of them (accuracy 0.40); distance runs too. Seed 1: 1,010 people, bound 0.42 (0.47), exact
    accuracy 0.424; distance not applicable."""
    seed0 = {"seed": 0, "true_pairs": 1000,
             "uniqueness_bound": {"expected": 0.40, "expected_sd": 0.01, "linked_population": 0.45, "columns": ["age"]},
             "baseline": [_run("exact", 0.40, 0.50, 0.44, 0.20, 1000, 800, 1200, 1100),
                          _run("distance", 0.30, 0.30, 0.30, 0.10, 1000, 900, 1200, 1100)],
             "synthetic": []}
    seed1 = {"seed": 1, "true_pairs": 1010,
             "uniqueness_bound": {"expected": 0.42, "expected_sd": 0.01, "linked_population": 0.47, "columns": ["age"]},
             "baseline": [_run("exact", 0.424, 0.52, 0.46, 0.22, 1010, 810, 1210, 1104),
                          {"linker": "distance", "method": "distance", "status": "not applicable", "reason": "x"}],
             "synthetic": []}
    return {"name": "two seeds", "seeds": [seed0, seed1]}


def test_spread_is_the_mean_and_the_sample_sd():
    # 0.40 and 0.424: mean 0.412; sd sqrt(((-0.012)^2 + 0.012^2) / (2 - 1)) = 0.012 * sqrt(2) = 0.016971
    s = spread([0.40, None, 0.424, float("nan")])
    assert s.mean == pytest.approx(0.412) and s.sd == pytest.approx(0.012 * math.sqrt(2)) and s.n == 2
    # one value: no spread; none: no mean
    assert spread([0.3]) == spread([0.3, None]) and spread([0.3]).sd is None
    assert spread([None]).mean is None and spread([]).n == 0


def test_key_figures_are_means_over_seeds():
    k = build_view(two_seeds())["kpis"]
    # people in both parts: (1000 + 1010) / 2 = 1005, sd 10 / sqrt(2) = 7.071
    assert k["true_pairs"].mean == 1005 and k["true_pairs"].sd == pytest.approx(10 / math.sqrt(2))
    # expected bound (0.40 + 0.42) / 2 = 0.41, uniqueness bound (0.45 + 0.47) / 2 = 0.46; sd 0.02 / sqrt(2) = 0.01414
    assert k["bound"].mean == pytest.approx(0.41) and k["bound"].sd == pytest.approx(0.02 / math.sqrt(2))
    assert k["bound_linked"].mean == pytest.approx(0.46) and k["bound_linked"].sd == pytest.approx(0.02 / math.sqrt(2))
    html = render(two_seeds())
    kpis = html[html.index('class="kpis"'):html.index('id="linkage"')]
    assert '1,005 <span class="sd">± 7.1 (2 seeds)</span>' in kpis
    assert '0.410 <span class="sd">± 0.014 (2 seeds)</span>' in kpis
    assert "uniqueness bound 0.460 ± 0.014" in kpis


def test_linkage_table_shows_the_mean_and_sd_over_seeds():
    rows = {r["linker"]: r for r in build_view(two_seeds())["link_rows"]}
    exact = rows["exact"]
    # accuracy 0.40, 0.424: 0.412 +/- 0.016971; precision 0.50, 0.52: 0.51 +/- 0.014142
    assert exact["accuracy"].mean == pytest.approx(0.412) and exact["accuracy"].sd == pytest.approx(0.016971, abs=1e-6)
    assert exact["precision"].mean == pytest.approx(0.51) and exact["precision"].sd == pytest.approx(0.014142, abs=1e-6)
    # accuracy over each seed's own bound: 0.40 / 0.40 = 1, 0.424 / 0.42 = 1.009524; mean 1.004762, sd 0.006734
    assert exact["ratio"].mean == pytest.approx(1.004762, abs=1e-6) and exact["ratio"].sd == pytest.approx(0.006734, abs=1e-6)
    # mean counts: linked (800 + 810) / 2 = 805, left 1,205, right (1100 + 1104) / 2 = 1,102
    assert (exact["linked"], exact["n_left"], exact["n_right"]) == (805, 1205, 1102)
    # distance ran in seed 0 only: its value, no spread
    assert rows["distance"]["n_seeds"] == 1 and rows["distance"]["accuracy"].sd is None
    html = render(two_seeds())
    table = html[html.index('id="linkage"'):html.index("<h3>Which variables")]
    row = next(r for r in table.split("<tr>") if r.startswith("<td>exact</td>"))
    assert '<span class="nw">0.412 <span class="muted">± 0.017</span></span>' in row
    # Wilson 95% of seed 0's 400 of 1,000 (z = 1.959964, z^2 = 3.841459): centre 401.92073 / 1003.841459
    # = 0.400383, half-width 1.959964 / 1003.841459 * sqrt(400 * 600 / 1000 + 0.960365) = 0.030308
    assert "[0.370, 0.431]" in row
    assert '1.00 <span class="muted">± 0.01</span>' in row and '0.510 <span class="muted">± 0.014</span>' in row
    assert '0.450 <span class="muted">± 0.014</span>' in row and '0.210 <span class="muted">± 0.014</span>' in row
    assert "805 / 1,205 / 1,102" in row
    dist = next(r for r in table.split("<tr>") if r.startswith("<td>distance"))
    assert "(1 of 2 seeds)" in dist and "<td>0.300<br>" in dist
    assert "interval of seed 0]" in table and "Mean ± standard deviation over the 2 seeds" in table


def test_one_seed_shows_the_seed_values_without_spread():
    m = two_seeds()
    m["seeds"] = m["seeds"][:1]
    html = render(m)
    assert "± " not in html[html.index('class="kpis"'):html.index("<h3>Which variables")]
    assert "<td>exact</td><td>0.400 <span class=\"muted\">[0.370, 0.431]</span></td><td>1.00</td>" in html

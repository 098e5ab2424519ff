"""The "Other registered measures" section: one row per J*, one column per measure, the header with
goal and range, failed cells say so with the error in their title, every string escaped."""

from __future__ import annotations

from synthlink.report import build_view, render

EVIL = "<script>alert(1)</script>"


def _entry(syn, measures):
    return {"synthesizer": syn, "linker": "exact", "method": "exact", "status": "ok",
            "accounting": {"linked": 10, "n_left": 10, "n_right": 10}, "measures": measures}


def _uem(value, ci=None):
    return {"value": value, "ci": ci, "goal": "lower", "range": [0, 1],
            "summary": "share of synthetic rows that copy a unique real row"}


def _evil(value=None, error=None):
    d = {"value": value, "ci": None, "goal": "higher", "range": [0, None], "summary": f"summary {EVIL}"}
    return {**d, "error": error} if error is not None else d


def one_seed() -> dict:
    """cart × exact: unique exact matches 0.12 [0.10, 0.14] (0.01 on the control set) and the
    script-named measure 2.5;
    marginals × exact: 0.0 and the script-named measure failed."""
    syn = [_entry("cart", {"unique_exact_matches": {**_uem(0.12, [0.10, 0.14]), "control": 0.01},
                           f"m{EVIL}": _evil(2.5)}),
           _entry("marginals", {"unique_exact_matches": _uem(0.0, [0.0, 0.02]),
                                f"m{EVIL}": _evil(error=f"ValueError: {EVIL} \"quoted\"")})]
    return {"name": "m", "seeds": [{"seed": 0, "uniqueness_bound": {"expected": 0.3}, "baseline": [], "synthetic": syn}]}


def _section(html: str) -> str:
    return html[html.index('id="measures"'):html.index('id="seeds"')]


def test_registered_measures_table_by_hand():
    view = build_view(one_seed())
    cols = view["measure_cols"]
    assert [c["name"] for c in cols] == ["unique_exact_matches", f"m{EVIL}"]
    assert (cols[0]["goal"], cols[0]["range"]) == ("lower is better", "[0, 1]")
    assert (cols[1]["goal"], cols[1]["range"]) == ("higher is better", "[0, ∞]")
    rows = view["measure_rows"]
    assert [r["label"] for r in rows] == ["cart × exact", "marginals × exact"]
    cart, marg = rows[0]["cells"], rows[1]["cells"]
    assert (cart[0]["value"], cart[0]["ci"], cart[1]["value"]) == (0.12, (0.10, 0.14), 2.5)
    assert marg[1]["value"] is None and marg[1]["failed"] == 1 and EVIL in marg[1]["error"]

    part = _section(render(one_seed()))
    assert "Other registered measures" in part
    assert "lower is better; range [0, 1]" in part and "higher is better; range [0, ∞]" in part
    assert '0.120 <span class="muted">[0.100, 0.140]</span> <span class="muted">(control 0.010)</span>' in part
    assert "<td>2.500</td>" in part and "<td>0.000 <span class=\"muted\">[0.000, 0.020]</span></td>" in part
    # the failed cell: "failed", the error (escaped, quotes too) in its title
    assert ('<span class="bad" title="ValueError: &lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34;">failed</span>'
            in part)
    assert "<script" not in part.lower() and "m&lt;script&gt;alert(1)&lt;/script&gt;" in part
    assert 'title="summary &lt;script&gt;' in part


def test_no_section_without_measures():
    m = one_seed()
    for e in m["seeds"][0]["synthetic"]:
        del e["measures"]
    html = render(m)
    assert 'id="measures"' not in html and "Other registered measures" not in html


def test_two_seeds_show_the_mean_and_sd_of_each_measure():
    """cart: 0.12 and 0.22 over the two seeds, mean 0.17, sd 0.1 / sqrt(2) = 0.0707; the script-named
    measure 2.5 in seed 0 and failed in seed 1: 2.5 from one seed, 'failed in 1 seed(s)'."""
    m = one_seed()
    s1 = {"seed": 1, "uniqueness_bound": {"expected": 0.3}, "baseline": [], "synthetic": [
        _entry("cart", {"unique_exact_matches": _uem(0.22, [0.2, 0.24]), f"m{EVIL}": _evil(error="boom")})]}
    m["seeds"].append(s1)
    cart = build_view(m)["measure_rows"][0]["cells"]
    assert abs(cart[0]["value"] - 0.17) < 1e-12 and abs(cart[0]["sd"] - 0.1 / 2 ** 0.5) < 1e-12 and cart[0]["ci"] is None
    assert (cart[1]["value"], cart[1]["sd"], cart[1]["n"], cart[1]["failed"]) == (2.5, None, 1, 1)
    html = render(m)
    part = _section(html)
    assert '0.170 <span class="muted">± 0.071</span>' in part
    assert '<td>2.500 <span class="bad" title="boom">failed in 1 seed(s)</span></td>' in part
    assert 'and the <a href="#measures">other registered measures</a> show the mean' in " ".join(html.split())

"""The report's charts as drawn (SVG text, no browser): marks on their own label's row, axis titles
and round ticks, one axis per coefficient. Moved from test_report.py unchanged."""

from __future__ import annotations

from .test_report import sample_metrics


def test_privacy_chart_marks_sit_on_their_own_label():
    """Each table gets one band and its three risks sit inside it. The old chart gave every label
    one band but offset each measure by its index among all measures, so the inference mark of a
    row sat beside the next row's label."""
    import re

    from synthlink.report import build_view

    svg = str(build_view(sample_metrics())["priv_chart"])
    labels = {m[0]: float(m[1]) for m in (re.findall(r'<text[^>]*y="([\d.]+)"[^>]*data-row="(\d+)"', svg))
              for m in [(m[1], m[0])]}
    marks = [(r, float(cy)) for cy, r in re.findall(r'<circle class="mark" data-row="(\d+)"[^>]*cy="([\d.]+)"', svg)
             for r, cy in [(cy, r)]]
    assert len(labels) == 2 and len(marks) == 6  # cart: employment*, cart × exact: J*; three risks each
    for row, cy in marks:
        nearest = min(labels, key=lambda r: abs(labels[r] - cy))
        assert nearest == row and abs(labels[row] - cy) < 20, (row, cy, labels)


def _ticks(svg: str) -> list[list[float]]:
    import re

    out = []
    for part in svg.split("<svg")[1:]:
        for cls in ("tick", "ytick"):
            vals = [float(t.replace(",", "")) for t in re.findall(rf'class="cv {cls}">([^<]+)<', part)]
            if vals:
                out.append(vals)
    return out


def test_every_chart_has_axis_titles_and_round_ticks():
    import math as m_

    from synthlink.report import render

    html = render(sample_metrics())
    svgs = html.split('<svg class="chart"')[1:]
    assert len(svgs) >= 8  # linkage, influence, singling out, privacy-utility, privacy, cross-part, 2 coefficients
    for svg in svgs:
        assert 'class="cl axis-title"' in svg
    for ticks in _ticks(html):
        assert len(ticks) >= 3
        steps = {round(b - a, 10) for a, b in zip(ticks, ticks[1:], strict=False)}
        assert len(steps) == 1, ticks
        for st in steps:
            mant = st / 10 ** m_.floor(m_.log10(st))
            assert round(mant, 6) in (1.0, 2.0, 2.5, 5.0), (st, ticks)
        assert all(abs(t / min(steps) - round(t / min(steps))) < 1e-6 for t in ticks)


def test_nice_ticks_by_hand():
    from synthlink.report.charts import nice_ticks

    # -0.031..0.648 in at most 8 steps: 0.1 gives -0.1..0.7 (8 intervals)
    assert nice_ticks(-0.031, 0.648) == [-0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    # 0..1: 0.1 needs 10 intervals, 0.2 needs 5
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    # 0.0079..0.0095: 0.0002 needs floor(39.5) = 39 .. ceil(47.5) = 48, 9 intervals; 0.00025 needs
    # floor(31.6) = 31 .. 38, 7 intervals: 0.00775 .. 0.0095
    assert nice_ticks(0.0079, 0.0095) == [0.00775, 0.008, 0.00825, 0.0085, 0.00875, 0.009, 0.00925, 0.0095]


def test_each_coefficient_gets_its_own_axis():
    """age (0.0083, se 0.00094) beside C(sex) (0.159): on one shared axis from about -0.01 to 0.21
    age's interval (width 2 x 1.96 x 0.00094 = 0.0037) was 0.0037 / 0.22 = 2% of the axis. In its own
    panel (200 px; the four fits span 0.0021 - 1.96 x 0.0011 = -0.00006 to 0.0080 + 1.96 x 0.0019 =
    0.0117; at most 4 tick intervals of 50 px: step 0.005, axis -0.005 to 0.015) it is 0.0037 / 0.02
    = 18%, 37 px."""
    import re

    from synthlink.report import build_view

    q = build_view(sample_metrics())["q_charts"][0]
    svg = str(q["svg"])
    panels = svg.split("<svg")[1:]
    assert len(panels) == 2  # C(sex)[T.M] and age; the intercept is left out
    age = next(p for p in panels if ">age</text>" in p)
    lines = [(float(a), float(b)) for a, b in re.findall(r'<line class="mark" data-row="0" x1="([\d.]+)" x2="([\d.]+)"', age)]
    assert lines and 0.15 * 200 < lines[0][1] - lines[0][0] < 0.25 * 200

"""The report's charts as a browser lays them out: every mark on its own label's row, no label cut,
an axis title on every chart (headless Chromium; skipped without it unless SYNTHLINK_REQUIRE_BROWSER)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from synthlink.report import render

from .test_report import sample_metrics

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

#: run in a copy of the report only (the report itself allows no script): writes the position of
#: every chart's labels and marks into the page, which --dump-dom then prints
_PROBE = """<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (svg, k) {
    var box = svg.getBoundingClientRect();
    var item = {chart: k, label: svg.getAttribute('aria-label'), svg: [box.left, box.right, box.top, box.bottom],
                labels: [], marks: [], texts: [], axis_titles: svg.querySelectorAll('.axis-title').length};
    svg.querySelectorAll('text').forEach(function (t) {
      var r = t.getBoundingClientRect();
      item.texts.push([t.textContent, r.left, r.right]);
      if (t.hasAttribute('data-row')) item.labels.push([t.getAttribute('data-row'), (r.top + r.bottom) / 2, t.textContent]);
    });
    svg.querySelectorAll('.mark').forEach(function (m) {
      var r = m.getBoundingClientRect();
      item.marks.push([m.getAttribute('data-row'), (r.top + r.bottom) / 2]);
    });
    item.bands = [];
    svg.querySelectorAll('.band').forEach(function (b) {
      var r = b.getBoundingClientRect();
      item.bands.push([b.getAttribute('data-row'), r.top, r.bottom]);
    });
    out.push(item);
  });
  var pre = document.createElement('pre');
  pre.id = 'geometry';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _geometry(html: str, tmp_path) -> list[dict]:
    assert CHROMIUM is not None, "SYNTHLINK_REQUIRE_BROWSER is set but chromium is not installed"
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace("</body>", _PROBE + "</body>")
    page = tmp_path / "probe.html"
    page.write_text(probe, encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
           "--window-size=1300,3000", "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    m = re.search(r'<pre id="geometry">(.*?)</pre>', run.stdout, re.S)
    assert m, run.stdout[-2000:]
    import html as html_mod

    return json.loads(html_mod.unescape(m.group(1)))


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("SYNTHLINK_REQUIRE_BROWSER"),
                    reason="chromium is not installed (CI installs it)")
def test_chart_marks_line_up_with_their_labels_and_nothing_is_cut(tmp_path):
    charts = _geometry(render(sample_metrics()), tmp_path)
    assert len(charts) >= 8
    checked = 0
    for c in charts:
        left, right = c["svg"][0], c["svg"][1]
        # no text is cut at either edge of its chart
        for text, tl, tr in c["texts"]:
            assert tl >= left - 1 and tr <= right + 1, (c["label"], text, tl, tr, left, right)
        assert c["axis_titles"] >= 1, c["label"]
        if not c["labels"]:
            continue  # the scatter: points, no rows
        centres = {row: y for row, y, _ in c["labels"]}
        bands = {row: (top, bottom) for row, top, bottom in c["bands"]}
        assert set(bands) == set(centres), c["label"]
        for row, y in c["marks"]:
            # the mark lies in its own label's band, and is nearer that label than any other
            top, bottom = bands[row]
            assert top - 0.5 <= y <= bottom + 0.5, (c["label"], row, y, bands[row])
            assert min(centres, key=lambda r: abs(centres[r] - y)) == row, (c["label"], row, y, centres)
            checked += 1
        for row, y in centres.items():
            # the label is centred on its marks (the old chart put a label at the top of its row and
            # pushed the last measure's mark half a row down, beside the next label)
            ys = [my for r, my in c["marks"] if r == row]
            if ys:
                assert abs((min(ys) + max(ys)) / 2 - y) <= 2, (c["label"], row, y, ys)
            top, bottom = bands[row]
            assert abs((top + bottom) / 2 - y) <= 2, (c["label"], row, y, bands[row])
    assert checked >= 30

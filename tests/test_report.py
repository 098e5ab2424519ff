"""The HTML report: self-contained, escaped, and rendered by a real browser offline."""

from __future__ import annotations

import http.server
import math
import os
import shutil
import subprocess
import threading
import zlib
from pathlib import Path

import pytest

from synthlink.report import render
from synthlink.study import Study

from .conftest import make_people

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def evil_study(tmp_path_factory):
    """A study whose data has a column named like a script tag, in a common variable and a part."""
    tmp = tmp_path_factory.mktemp("evil")
    people = make_people(1200, seed=3).rename(columns={"canton": EVIL, "field": f"{EVIL}field"})
    people.to_csv(tmp / "data.csv", index=False)
    cfg = {
        "name": f"study {EVIL}",
        "data": {"path": str(tmp / "data.csv")},
        "split": {"identifier": "pid", "common": ["sex", "age", EVIL],
                  "parts": {"edu": ["isced", f"{EVIL}field"], "emp": ["wage", "status"]}},
        "synthesizers": ["marginals"],
        "linkers": ["identifier", "exact"],
        "seeds": [0],
    }
    res = Study.from_dict(cfg, base_dir=tmp).run(tmp / "out", progress=False)
    return res


def test_report_escapes_data_strings(evil_study):
    html = evil_study.report_path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # no resource from elsewhere: no http(s) references, no external stylesheet or script
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html.lower()


def test_report_has_no_identifiers_or_records(evil_study):
    html = evil_study.report_path.read_text(encoding="utf-8")
    import pandas as pd

    real = pd.read_csv(evil_study.out.parent / "data.csv")
    leaked = [pid for pid in real["pid"] if pid in html]
    assert not leaked
    # the real identifiers do not even reach the working cache: a surrogate key replaces them
    train = pd.read_parquet(next((evil_study.work_dir / "cache").glob("split-*")) / "train.parquet")
    assert not set(train["pid"]) & set(real["pid"])


def test_report_shows_linkage_against_the_bound(evil_study):
    html = evil_study.report_path.read_text(encoding="utf-8")
    assert "uniqueness bound" in html
    b = evil_study.metrics["seeds"][0]["uniqueness_bound"]["linked_population"]
    assert f"{b:.3f}" in html
    assert "One-to-one accuracy on the original split" in html


def test_render_survives_failed_sections():
    metrics = {"name": "x", "seeds": [{"seed": 0, "baseline": [], "synthetic": [
        {"synthesizer": "s", "linker": "l", "status": "ok", "accounting": {"linked": 1},
         "utility": {"error": f"ValueError: {EVIL}"}, "privacy": {"error": "boom"}}]}]}
    html = render(metrics)
    assert "utility evaluation failed" in html
    assert "<script" not in html.lower()


# ---------------------------------------------------------------------------------------------
# a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class _Trap(http.server.BaseHTTPRequestHandler):
    """A proxy that refuses and counts every request: the browser's only way out."""

    requests: list[str] = []

    def _refuse(self) -> None:
        _Trap.requests.append(f"{self.command} {self.path}")
        self.send_response(403)
        self.end_headers()

    do_GET = do_POST = do_CONNECT = do_HEAD = _refuse

    def log_message(self, *args):  # silence
        pass


#: Chromium's own background services (not the page): time, component updates, and the
#: www.google.com probe that Debian's Chromium 150 makes at start (seen loading about:blank alone)
_SERVICE_HOSTS = ("clients2.google.com", "update.googleapis.com", "clientservices.googleapis.com",
                  "accounts.google.com", "redirector.gvt1.com", "edgedl.me.gvt1.com", "www.google.com")


def _browser_service(request_line: str) -> bool:
    target = request_line.split(" ", 1)[1]
    host = target.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host in _SERVICE_HOSTS


def _png_not_blank(path: Path) -> bool:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    idat = b""
    i = 8
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if kind == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    # a blank page decompresses to one repeated value; a rendered report has many
    return len(set(raw[:: max(1, len(raw) // 200_000)])) > 20


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("SYNTHLINK_REQUIRE_BROWSER"),
                    reason="chromium is not installed (CI installs it)")
def test_report_renders_offline_in_chromium(evil_study, tmp_path):
    assert CHROMIUM is not None, "SYNTHLINK_REQUIRE_BROWSER is set but chromium is not installed"
    _Trap.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    shot = tmp_path / "shot.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--disable-extensions", "--no-pings", "--disable-domain-reliability",
              "--disable-client-side-phishing-detection", "--disable-breakpad",
              "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater", f"--user-data-dir={tmp_path / 'profile'}",
              f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>",
              "--enable-logging=stderr", "--v=0", "--window-size=1280,2400"]
    url = evil_study.report_path.resolve().as_uri()
    try:
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        shot_run = subprocess.run([*common, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "synthlink report" in dom.stdout
    # the script-like column name is text in the DOM, never an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert "<script" not in dom.stdout.lower()
    # the page logged no console errors and asked nothing of the network
    console = [ln for ln in (dom.stderr + shot_run.stderr).splitlines() if "CONSOLE" in ln and "report.html" in ln]
    assert not console, console
    page_requests = [r for r in _Trap.requests if not _browser_service(r)]
    assert page_requests == [], page_requests
    assert shot.exists() and _png_not_blank(shot)
    os.environ.get("SYNTHLINK_KEEP_SCREENSHOT") and shutil.copy(shot, os.environ["SYNTHLINK_KEEP_SCREENSHOT"])


def test_verdict_says_when_em_failed_against_the_truth():
    from synthlink.report import build_view

    def entry(label, acc):
        return {"linker": label, "method": "probabilistic", "status": "ok", "quality": {"accuracy": acc, "f1": acc},
                "accounting": {"linked": 10, "n_left": 10, "n_right": 10}}

    metrics = {"name": "x", "seeds": [{"seed": 0, "uniqueness_bound": {"expected": 0.25, "linked_population": 0.25},
               "baseline": [entry("probabilistic", 0.018), entry("probabilistic:truth", 0.240)], "synthetic": []}]}
    verdict = " ".join(build_view(metrics)["verdict"])
    assert "EM failed" in verdict and "1.8%" in verdict and "24.0%" in verdict
    metrics["seeds"][0]["baseline"][0]["quality"]["accuracy"] = 0.238  # EM as good as the truth: no alarm
    assert "EM failed" not in " ".join(build_view(metrics)["verdict"])


def test_report_names_the_columns_that_single_people_out_and_the_key_holder_risk():
    from synthlink.report import build_view, render

    by_col = {"wage": {"queries": 200, "train_successes": 190, "control_successes": 2},
              "age": {"queries": 10, "train_successes": 1, "control_successes": 1}}
    part_priv = {"singling_out": {"risk": 0.5, "ci": [0.4, 0.6], "univariate": {"by_column": by_col}}}
    syn = {"synthesizer": "preserving", "linker": "identifier", "method": "identifier", "status": "ok",
           "accounting": {"linked": 10, "n_left": 10, "n_right": 10},
           "privacy": {"key_holder": {"risk": 0.31, "ci": [0.2, 0.4], "secret": "wage", "applicable": True}}}
    metrics = {"name": "x", "seeds": [{"seed": 0, "uniqueness_bound": {"expected": 0.3}, "baseline": [],
                                       "synthetic": [syn], "parts_privacy": {"cart": {"emp": part_priv}}}]}
    view = build_view(metrics)
    # wage isolates real people far more often than control people; age does not (1 vs 1)
    assert [(r["column"], r["train"], r["control"]) for r in view["so_columns"]] == [("wage", 0.95, 0.01)]
    assert any("holds the key" in v and "0.31" in v for v in view["verdict"])
    html = render(metrics)
    assert "Columns that single people out" in html and "key holder" in html


def test_verdict_names_the_methods_within_tie_breaking_noise_of_the_bound():
    from synthlink.report import build_view, render

    def entry(label, method, acc):
        return {"linker": label, "method": method, "status": "ok", "quality": {"accuracy": acc, "f1": acc},
                "accounting": {"linked": 10, "n_left": 10, "n_right": 10}}

    metrics = {"name": "x", "seeds": [{"seed": 0, "uniqueness_bound": {"expected": 0.30, "expected_sd": 0.005},
               "baseline": [entry("exact", "exact", 0.305), entry("probabilistic", "probabilistic", 0.28)],
               "synthetic": []}]}
    line = next(v for v in build_view(metrics)["verdict"] if "random choice" in v)
    assert "0.5%" in line and "Within two of them: exact;" in line and "probabilistic" not in line
    assert "varies by about 0.005" in render(metrics)


def test_report_shows_splink_weights_em_beside_truth_escaped():
    from synthlink.report import build_view, render

    def levels(m_agree):
        return [{"level": f"Exact match on {EVIL}", "m": m_agree, "u": 0.2, "weight": math.log2(m_agree / 0.2)},
                {"level": "All other comparisons", "m": 1 - m_agree, "u": 0.8, "weight": math.log2((1 - m_agree) / 0.8)}]

    diag = {"m_from": "em", "linking_columns": [EVIL], "match_weights": {EVIL: levels(0.6)},
            "match_weights_em": {EVIL: levels(0.6)}, "match_weights_truth": {EVIL: levels(0.99)}}
    b = {"linker": "probabilistic", "method": "probabilistic", "status": "ok", "quality": {"accuracy": 0.2},
         "accounting": {"linked": 10, "n_left": 10, "n_right": 10}, "diagnostics": diag}
    metrics = {"name": "x", "seeds": [{"seed": 0, "uniqueness_bound": {"expected": 0.3}, "baseline": [b], "synthetic": []}]}
    rows = build_view(metrics)["weight_rows"]
    assert [(r["level"].split(" on ")[0], round(r["weight_em"], 3), round(r["weight_truth"], 3)) for r in rows] == [
        ("Exact match", round(math.log2(3), 3), round(math.log2(4.95), 3)),
        ("All other comparisons", round(math.log2(0.5), 3), round(math.log2(0.0125), 3))]
    html = render(metrics)
    assert "Match weights per variable" in html and EVIL not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------------------------------------
# the report says what was measured (issue 12, part 5; issue 11, 8d)


def _coef(term, b, se):
    return {"term": term, "coef": b, "se": se}


def sample_metrics(evil: str = EVIL) -> dict:
    """A two-seed study's metrics, small and hand-made: two baseline linkers, one linked synthetic
    table with risks, utility, one research question and cross-part pairs; a synthetic part whose
    'wage' column singles people out; 74% of people unique on the two common variables."""
    fits = {
        "train": {"nobs": 1289, "rows": 1359, "coefficients": [
            _coef("Intercept", 7.55, 0.052), _coef("C(sex)[T.M]", 0.159, 0.022), _coef("age", 0.0083, 0.00094)]},
        "baseline": {"nobs": 1298, "rows": 1367, "ci_overlap_mean": 0.506, "coefficients": [
            _coef("Intercept", 7.69, 0.055), _coef("C(sex)[T.M]", 0.156, 0.023), _coef("age", 0.0079, 0.0010)]},
        "synthetic": {"nobs": 618, "rows": 644, "ci_overlap_mean": -2.7, "coefficients": [
            _coef("Intercept", 7.97, 0.082), _coef("C(sex)[T.M]", 0.125, 0.035), _coef("age", 0.0021, 0.0011)]},
        "control": {"nobs": 319, "rows": 332, "ci_overlap_mean": 0.525, "coefficients": [
            _coef("Intercept", 7.50, 0.10), _coef("C(sex)[T.M]", 0.094, 0.045), _coef("age", 0.0080, 0.0019)]},
    }
    summary = {"assoc_diff_mean_synthetic": 0.059, "assoc_diff_mean_control": 0.056,
               "cross_assoc_diff_mean_synthetic": 0.108, "cross_assoc_diff_mean_control": 0.048,
               "cross_retained_mean_synthetic": -2.2, "cross_retained_mean_control": 1.016,
               "ci_overlap_mean_synthetic": -2.7, "ci_overlap_mean_control": 0.525,
               "s_pmse_synthetic": 3.47, "s_pmse_control": 1.26,
               "utility_score_synthetic": 0.960, "cross_utility_score_synthetic": 0.896}

    def risk(r, lo, hi):
        return {"risk": r, "ci": [lo, hi]}

    syn = {"synthesizer": "cart", "linker": f"exact{evil}", "method": "exact", "status": "ok",
           "accounting": {"linked": 644, "n_left": 1359, "n_right": 1359},
           "privacy": {"singling_out": risk(0.17, 0.12, 0.22), "linkability": risk(0.031, 0.0, 0.06),
                       "inference": risk(0.034, 0.0, 0.10)},
           "utility": {"summary": summary,
                       "questions": [{"name": "q", "formula": f"np.log(wage) ~ age + C(sex) {evil}", "fits": fits}],
                       "cross_part": {"pairs": [{"a": "isced", "b": f"wage{evil}", "train": 0.39, "ci": 0.13, "synthetic": 0.11}]}}}

    def base(label, method, tp):
        return {"linker": label, "method": method, "status": "ok",
                "quality": {"accuracy": tp / 1359, "f1": tp / 1359, "precision": tp / 1359, "recall": tp / 1359,
                            "true_positives": float(tp), "true_pairs": 1359.0, "share_unlinked_left": 0.3},
                "accounting": {"linked": 1359, "n_left": 2187, "n_right": 1498}}

    part = {"singling_out": {"risk": 0.25, "ci": [0.19, 0.31], "univariate": {"by_column": {
        f"wage{evil}": {"queries": 297, "train_successes": 295, "control_successes": 1},
        "hours": {"queries": 6, "train_successes": 4, "control_successes": 1}}}},
        "linkability": risk(0.017, 0.0, 0.036), "inference": risk(0.143, 0.045, 0.241)}
    seed0 = {"seed": 0, "true_pairs": 1359,
             "uniqueness_bound": {"expected": 0.674, "expected_sd": 0.011, "linked_population": 0.722,
                                  "common_all_train": 0.694, "columns": ["sex", "age"]},
             "baseline": [base("identifier", "identifier", 1359), base("exact", "exact", 927)],
             "synthetic": [syn], "parts_privacy": {"cart": {"employment": part}},
             "influence": {"linker": "exact", "variables": [
                 {"variable": "sex", "loss_when_dropped": 0.15, "accuracy_alone": 0.0, "bound_loss_when_dropped": 0.12},
                 {"variable": "age", "loss_when_dropped": 0.60, "accuracy_alone": 0.02, "bound_loss_when_dropped": 0.62}],
                 "singling_out": [{"k": 1, "combination": "age", "share_unique_records": 0.003},
                                  {"k": 2, "combination": "sex + age", "share_unique_records": 0.74}]}}
    seed1 = {**seed0, "seed": 1}
    runs = [{"stage": "baseline", "synthesizer": "original", "linker": "exact",
             "mean": {"accuracy": 0.6800, "f1": 0.6750}, "sd": {"accuracy": 0.0125, "f1": 0.0110}},
            {"stage": "synthetic", "synthesizer": "cart", "linker": f"exact{evil}",
             "mean": {"risk_singling_out": 0.1650, "utility_cross_retained_mean_synthetic": -2.1},
             "sd": {"risk_singling_out": 0.0071, "utility_cross_retained_mean_synthetic": 0.14}}]
    return {"name": f"sample {evil}", "config": {"name": evil}, "seeds": [seed0, seed1], "summary": {"runs": runs}}


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(f'id="{start}"'):html.index(f'id="{end}"')]


def test_summary_raises_the_red_flags():
    from synthlink.report import build_view

    view = build_view(sample_metrics())
    verdict = view["flags"]
    # 295/297 = 0.9933 -> 0.993; 1/297 = 0.0034 -> 0.003; hours (4/6 against 1/6): Wilson intervals
    # [0.30, 0.90] and [0.03, 0.56] overlap, so six queries raise no flag
    wage = [v for v in verdict if "wage" in v]
    assert len(wage) == 1 and "0.993 of 297 queries" in wage[0] and "0.003" in wage[0]
    assert not any("'hours'" in v for v in verdict)
    # the full combination of the two common variables (k = 2): 74% unique
    assert any("74% of the people are unique on the common variables (sex + age)" in v for v in verdict)
    assert all(v.startswith("Red flag") for v in verdict) and len(verdict) == 2
    # the summary leads with the verdict; the red flags follow it, before anything else
    html = render(sample_metrics())
    summary = html[html.index('id="summary"'):]
    assert summary.index('class="verdict"') < summary.index('class="flags"') < summary.index("<h2", 10)
    assert not any(v.startswith("Red flag") for v in view["verdict"])


def test_report_opens_with_what_failed():
    """A study whose evaluation failed in a section: the page opens with it (before the summary),
    names where and why, and says the exit code; a study without failure shows no such box."""
    from synthlink.report import render

    m = sample_metrics()
    m["failures"] = [{"seed": "1", "table": "J* (cart × exact)", "section": "privacy · dcr",
                      "where": "seed 1, J* (cart × exact): privacy · dcr", "error": f"InputError: {EVIL} no rows"}]
    html = render(m)
    assert 'id="failures"' in html and html.index('id="failures"') < html.index('id="summary"')
    box = html[html.index('id="failures"'):html.index('id="summary"')]
    assert "1 evaluation(s) failed" in box and "privacy · dcr" in box and "code 3" in box
    assert "&lt;script&gt;" in box and "<script" not in box
    assert 'id="failures"' not in render(sample_metrics())


def test_epsilon_label_says_what_it_does_not_cover():
    """A DP synthesizer's epsilon appears beside what it does not cover (values read from the data
    instead of declared), and 'covers the whole release' only when nothing is left out."""
    from synthlink.report import build_view, render

    m = sample_metrics()
    m["seeds"][0]["guarantees"] = {"privbayes": {
        "education": {"epsilon": 1.0, "delta": 0.0, "not_covered": ["bounds of 'age' (read from the data)"]},
        "employment": {"epsilon": 1.0, "delta": 0.0, "not_covered": []}}}
    rows = build_view(m)["guarantees"]
    assert [(r["part"], r["not_covered"]) for r in rows] == [
        ("education*", ["bounds of 'age' (read from the data)"]), ("employment*", [])]
    html = render(m)
    dp = html[html.index('class="dp"'):]
    dp = dp[:dp.index("</div>")]
    edu, emp = dp.split("<li>")[1:3]
    assert "&epsilon; = 1.00" in edu and "does not cover: bounds of &#39;age&#39; (read from the data)" in edu
    assert "covers the whole release" in emp and "does not cover" not in emp


def test_no_composite_utility_score_but_the_defined_measures():
    """0.896 in the summary and 0.960 in the table were two different scores under one name; the
    report now leads with retained beyond the design (-2.2 here) and shows no 'utility score'."""
    from synthlink.report import build_view, render

    m = sample_metrics()
    html = render(m)
    assert "utility score" not in html.lower()
    assert "0.896" not in html and "0.960" not in html
    line = next(v for v in build_view(m)["verdict"] if "beyond the design" in v)
    assert "-2.200" in line and "1.016" in line


def test_s_pmse_retained_and_ci_overlap_are_defined_where_they_appear():
    from synthlink.report import render

    html = render(sample_metrics())
    for start, end in (("synthetic", "utility"), ("utility", "privacy")):
        part = _section(html, start, end)
        assert "S_pMSE</b>" in part or "<dt>S_pMSE</dt>" in part
        assert "divided by its expectation when both come from one distribution" in part
        assert "(assoc(J*) - assoc(CI join)) / (assoc(train) - assoc(CI join))" in part
        assert "-2.2: the gap to train is 3.2 times the gap the design leaves" in part
    util = _section(html, "utility", "privacy")
    assert "below 0 = apart (e.g. -2.7: the gap is 2.7 times the harmonic mean of the two lengths)" in util


def test_every_fit_shows_its_number_of_observations():
    from synthlink.report import render

    util = _section(render(sample_metrics()), "utility", "privacy")
    for text in ("train 1,289 of 1,359 rows", "original split, linked 1,298 of 1,367 rows",
                 "J* (synthetic, linked) 618 of 644 rows", "control (fresh real) 319 of 332 rows",
                 "train, n = 1,289", "J* (synthetic, linked), n = 618", "control (fresh real), n = 319"):
        assert text in util, text


def test_linkage_accuracy_has_a_wilson_interval():
    """927 of 1,359 true pairs: Wilson 95% (z = 1.95996, z^2 = 3.84146): centre (927 + 1.92073) /
    1362.84146 = 0.68161; half-width 1.95996 / 1362.84146 * sqrt(927 * 432 / 1359 + 0.96036)
    = 0.0014381 * 17.1941 = 0.02473; so [0.657, 0.706]. 1,359 of 1,359: [0.997, 1.000]."""
    from synthlink.report import build_view, render

    m = sample_metrics()
    one = {**m, "seeds": m["seeds"][:1]}  # one seed: the accuracy with its interval, as before
    html = render(one)
    assert "0.682 <span class=\"muted\">[0.657, 0.706]</span>" in html
    assert "1.000 <span class=\"muted\">[0.997, 1.000]</span>" in html
    # two (identical) seeds: the mean with its sd, then the first seed's interval on its own line
    html = render(m)
    assert "0.682 <span class=\"muted\">± 0.000</span></span><br> <span class=\"muted nw\">[0.657, 0.706]</span>" in html
    line = next(v for v in build_view(m)["verdict"] if "best method without the identifier" in v)
    assert "68.2% [95% interval 65.7%, 70.6%; n = 1,359 true pairs]" in line


def test_report_says_which_seed_and_shows_the_spread_over_seeds():
    from synthlink.report import render

    html = render(sample_metrics())
    text = " ".join(html.split())
    # two seeds: the note says which parts are means over seeds and which are the first seed's
    assert ("the key figures below and the table of <a href=\"#linkage\">linkage on the original split</a> show the "
            "mean ± standard deviation over the 2 seeds 0, 1") in text
    assert "every chart and the other tables are from seed 0" in text and "the first of the 2 seeds" in text
    one = " ".join(render({**sample_metrics(), "seeds": sample_metrics()["seeds"][:1]}).split())
    assert "every figure, chart and table below is from seed 0, the only seed of this study" in one
    seeds = html[html.index('id="seeds"'):html.index('id="definitions"')]
    # accuracy 0.680 +/- 0.0125 over the two seeds; singling out 0.165 +/- 0.0071
    assert "0.680 <span class=\"muted\">± 0.013</span>" in seeds  # 0.0125 (binary 0.012500000000000000694) rounds up
    assert "0.165 <span class=\"muted\">± 0.007</span>" in seeds
    assert "Every number above comes from this configuration and these seeds" not in html


def test_new_sections_escape_what_the_report_did_not_write():
    from synthlink.report import render

    html = render(sample_metrics())
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;") >= 6  # name, linker, formula, column, pair, seeds table


def test_splink_log_lines_stay_out_of_the_console_unless_verbose(tmp_path):
    """What SplinkLinker(log_level=WARNING) does (splink_logging.enable), then the warning Splink's EM
    sampling logs; through the CLI's logging setup, with and without --verbose."""
    import sys

    script = (
        "import logging, sys\n"
        "from synthlink import cli\n"
        "try:\n    cli.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "from splink.internals.splink_logging import enable\n"
        "enable(logging.WARNING)\n"
        "logging.getLogger('splink.internals.em_sampling').warning("
        "'[EM sampling] Probe returned zero blocked pairs; skipping sampling')\n"
    )
    quiet = subprocess.run([sys.executable, "-c", script, "link", "--help"], capture_output=True, text=True, timeout=120)
    loud = subprocess.run([sys.executable, "-c", script, "--verbose", "link", "--help"], capture_output=True, text=True, timeout=120)
    assert "Usage" in quiet.stdout
    assert "Probe returned zero blocked pairs" not in quiet.stderr + quiet.stdout
    assert "Probe returned zero blocked pairs" in loud.stderr


def test_accuracy_interval_is_of_the_accuracy_not_of_recall() -> None:
    # a many-to-one hot deck: 357 of 1000 true pairs among its links (recall) but 280 correct after
    # the one-to-one step (accuracy 0.28). Wilson(280, 1000): centre (280 + 1.92) / 1003.84 = 0.2808,
    # half-width 1.96/1003.84 * sqrt(280*720/1000 + 0.96) = 0.0279 -> [0.253, 0.309]
    from synthlink.report.figures import accuracy_ci
    from synthlink.results import LinkageQuality

    lo, hi, n = accuracy_ci(LinkageQuality.from_dict({"accuracy": 0.28, "true_pairs": 1000, "true_positives": 357}))
    assert n == 1000
    assert lo == pytest.approx(0.253, abs=1e-3) and hi == pytest.approx(0.309, abs=1e-3)

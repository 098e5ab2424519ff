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


#: Chromium's own background services (not the page): time, component updates
_SERVICE_HOSTS = ("clients2.google.com", "update.googleapis.com", "clientservices.googleapis.com",
                  "accounts.google.com", "redirector.gvt1.com", "edgedl.me.gvt1.com")


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

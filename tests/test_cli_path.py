"""The institution's stage-by-stage path on the command line gives the study's numbers (issue 12).

``split``, ``synthesize`` (each part), ``link`` (original parts with the truth, then the synthetic
parts), ``reconstruct`` and ``evaluate`` run one after another on a small demo population, with the
seeds of the config; ``synthlink run`` runs the same config. The expected values are not worked out
by hand: the test's point is that the two routes agree exactly, number for number (linkage quality
of the baseline, the row accounting of J*, every utility summary number and every privacy risk).
The shared defaults that make them agree: split surrogates the identifier with the split seed
(study: seeds[0]), synthesize samples part k with seed + 7919 k, link shuffles the right part with
the seed, evaluate --split takes the train rows both parts cover and the covered control rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from synthlink.cli import app

runner = CliRunner()
N, SEED = 1200, 1
COMMON = "sex,age,nationality,canton"
QUESTION = "np.log(wage) ~ isced + age + C(sex)"


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, f"{args[0]}: {r.output}"
    return r.output


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("path")
    cfg = {
        "name": "path", "data": {"demo": {"n": N, "seed": SEED}}, "split": {"plan": "demo"},
        "link_parts": ["education", "employment"], "synthesizers": ["cart"], "linkers": ["exact"],
        "questions": [QUESTION], "target": "wage", "privacy": {"secret": "wage", "n_attacks": 100},
        "evaluate": {"n_jobs": 1}, "seeds": [SEED],
    }
    (d / "study.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    # what `synthlink run study.yaml` runs (the report is not needed here)
    from synthlink.study import Study

    Study.from_yaml(d / "study.yaml").run(d / "run", progress=False, report=False)
    study = json.loads((d / "run" / "metrics.json").read_text())["seeds"][0]

    s, parts = str(SEED), d / "split" / "parts"
    edu, emp = str(parts / "education.parquet"), str(parts / "employment.parquet")
    _ok(["generate", "--n", str(N), "--seed", s, "--out", str(d / "pop.parquet")])
    _ok(["split", str(d / "pop.parquet"), "--plan", "demo", "--seed", s, "--out", str(d / "split")])
    out = {"synth": [_ok(["synthesize", p, "--method", "cart", "--drop-column", "matricule", "--out", str(d / f"{n}_syn.parquet")])
                     for p, n in ((edu, "edu"), (emp, "emp"))]}
    _ok(["link", edu, emp, "--method", "exact", "--on", COMMON, "--truth", str(d / "split" / "truth.parquet"),
         "--seed", s, "--out", str(d / "base_links.parquet")])
    _ok(["reconstruct", edu, emp, "--links", str(d / "base_links.parquet"), "--drop-column", "matricule",
         "--out", str(d / "base_joint.parquet")])
    _ok(["link", str(d / "edu_syn.parquet"), str(d / "emp_syn.parquet"), "--method", "exact", "--on", COMMON,
         "--seed", s, "--out", str(d / "syn_links.parquet")])
    out["reconstruct"] = _ok(["reconstruct", str(d / "edu_syn.parquet"), str(d / "emp_syn.parquet"),
                              "--links", str(d / "syn_links.parquet"), "--out", str(d / "joint.parquet")])
    _ok(["evaluate", "--split", str(d / "split"), "--synthetic", str(d / "joint.parquet"),
         "--baseline", str(d / "base_joint.parquet"), "--question", QUESTION, "--target", "wage",
         "--secret", "wage", "--n-attacks", "100", "--seed", s, "--out", str(d / "metrics.json")])
    cli = {"baseline": json.loads((d / "base_links.parquet.json").read_text()),
           "metrics": json.loads((d / "metrics.json").read_text())}
    return {"dir": d, "study": study, "cli": cli, "out": out}


def _same(a, b, path: str = "") -> list[str]:
    """Paths where two JSON values differ (floats to 1e-12)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for k in sorted(set(a) | set(b), key=str) for p in _same(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (lengths {len(a)} and {len(b)})"]
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12 * max(1.0, abs(a)) else [path]
    return [] if a == b else [path]


def test_baseline_linkage_is_the_studys(both):
    st = next(b for b in both["study"]["baseline"] if b["linker"] == "exact")
    q = both["cli"]["baseline"]["quality"]
    assert q["accuracy"] > 0.3  # a real linkage, not two empty results agreeing
    assert _same(st["quality"], q) == []


def test_synthetic_parts_use_the_studys_seeds(both):
    # part k of the plan (education 1, employment 2) is sampled with seed + 7919 k
    assert "seed 7920" in both["out"]["synth"][0] and "seed 15839" in both["out"]["synth"][1]


def test_utility_and_privacy_of_jstar_are_the_studys(both):
    st = next(s for s in both["study"]["synthetic"] if s["synthesizer"] == "cart" and s["linker"] == "exact")
    m = both["cli"]["metrics"]
    a = st["accounting"]
    assert f"{a['linked']:,} linked" in both["out"]["reconstruct"]
    assert m["inputs"]["synthetic"]["rows"] == a["linked"]
    assert st["utility"]["summary"] and "s_pmse_synthetic" in st["utility"]["summary"]
    assert _same(st["utility"], m["utility"]) == []
    assert st["privacy"]["inference"]["risk"] == m["privacy"]["inference"]["risk"]
    assert _same(st["privacy"], m["privacy"]) == []


def test_a_hand_join_is_not_the_path(both):
    """The reason reconstruct exists: J* is the linked rows, built from the links; a naive join of
    the two synthetic parts on the common variables (every matching pair) is another table."""
    import pandas as pd

    d = both["dir"]
    A, B = pd.read_parquet(d / "edu_syn.parquet"), pd.read_parquet(d / "emp_syn.parquet")
    naive = A.merge(B, on=COMMON.split(","))
    J = pd.read_parquet(d / "joint.parquet")
    assert len(naive) > len(J)  # many-to-many: people duplicated
    assert not J.columns.str.startswith("_link").any()  # linked rows only, as the study evaluates


def test_report_on_evaluates_file_says_what_it_needs(both, tmp_path):
    d = tmp_path / "ev"
    d.mkdir()
    (d / "metrics.json").write_text((both["dir"] / "metrics.json").read_text())
    r = runner.invoke(app, ["report", str(d)])
    assert r.exit_code == 2 and "synthlink evaluate" in r.output and "synthlink run" in r.output
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (d / "report.html").exists()


def test_synthesize_and_evaluate_refuse_to_overwrite(both):
    d = both["dir"]
    before = (d / "edu_syn.parquet").read_bytes()
    r = runner.invoke(app, ["synthesize", str(d / "split" / "parts" / "education.parquet"), "--method", "marginals",
                            "--drop-column", "matricule", "--out", str(d / "edu_syn.parquet")])
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert (d / "edu_syn.parquet").read_bytes() == before
    m_before = (d / "metrics.json").read_text()
    r = runner.invoke(app, ["evaluate", "--split", str(d / "split"), "--synthetic", str(d / "joint.parquet"),
                            "--out", str(d / "metrics.json")])
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert (d / "metrics.json").read_text() == m_before


def test_nist_example_ships_its_data():
    """examples/nist_acs.yaml must run in a clone: its data file lies inside the repository."""
    from synthlink.config import StudyConfig
    from synthlink.study import load_data

    root = Path(__file__).resolve().parents[1]
    cfg = StudyConfig.from_yaml(root / "examples" / "nist_acs.yaml")
    path = (cfg.base_dir / str(cfg.data["path"])).resolve()
    assert root in path.parents and path.exists()
    assert path.stat().st_size < 500_000  # a small excerpt
    df, _ = load_data(cfg)
    assert len(df) == 7634  # every row of ma2019.csv (PROVENANCE: 7,634 rows)
    cfg.plan.validate(df, str(path))


def test_a_study_pointed_at_the_handed_over_files_gives_the_same_numbers(both):
    """The institutions hand over the parts they synthesized (here: `synthlink synthesize` on the
    parts `synthlink split` gave them); a study that points at those files with the `files`
    synthesizer measures exactly what the study that synthesized them itself measured."""
    from synthlink.study import Study

    d = both["dir"]
    cfg = yaml.safe_load((d / "study.yaml").read_text())
    cfg["synthesizers"] = [{"name": "files", "label": "cart",
                            "params": {"parts": {"education": "edu_syn.parquet", "employment": "emp_syn.parquet"}}}]
    (d / "files.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = Study.from_yaml(d / "files.yaml").run(d / "files_run", progress=False, report=False)
    got = {e["linker"]: e for e in res.metrics["seeds"][0]["synthetic"]}
    want = {e["linker"]: e for e in both["study"]["synthetic"]}
    assert set(got) == {"exact"}  # no central synthesis from files
    for key in ("accounting", "utility", "privacy"):
        assert not _same(got["exact"][key], want["exact"][key]), key
    assert set(res.metrics["seeds"][0]["handed_over"]["cart"]) == {"education", "employment"}


def test_a_handed_over_file_that_carries_the_split_keys_is_refused(both, tmp_path):
    import pandas as pd

    from synthlink.errors import PrivacyError
    from synthlink.study import Study

    d = both["dir"]
    part = pd.read_parquet(d / "split" / "parts" / "education.parquet")
    part.to_parquet(tmp_path / "edu_with_keys.parquet")  # the real part itself, keys and all
    cfg = yaml.safe_load((d / "study.yaml").read_text())
    cfg["synthesizers"] = [{"name": "files", "params": {"parts": {
        "education": str(tmp_path / "edu_with_keys.parquet"), "employment": str(d / "emp_syn.parquet")}}}]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    with pytest.raises(PrivacyError, match="identifier"):
        Study.from_yaml(tmp_path / "bad.yaml").run(tmp_path / "out", progress=False, report=False)


def test_files_synthesizer_needs_a_file_per_linked_part():
    from synthlink.config import StudyConfig
    from synthlink.errors import ConfigError

    cfg = {"data": {"demo": {"n": 100}}, "split": {"plan": "demo"}, "link_parts": ["education", "employment"],
           "synthesizers": [{"name": "files", "params": {"parts": {"education": "e.parquet"}}}], "linkers": ["exact"]}
    with pytest.raises(ConfigError, match="one file per linked part"):
        StudyConfig.from_dict(cfg)

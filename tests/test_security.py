"""Security (issue 7): reports, logs and metrics never contain real identifiers or real records, and
pseudonymisation keys never reach an output.

One small study runs end to end through the command line (``synthlink run``) on the demo
population written to CSV. Then every output is searched:

* real identifiers (matricules of all persons, train and control): in every file under the output
  folder, the stage cache included (the study replaces the identifier by a surrogate key when it
  loads the data, so no real identifier may reach even the working area), in the captured logs and
  in the command-line output;
* complete real records: in the shareable files (``report.html``, ``metrics.json``,
  ``results.parquet``), the logs and the command-line output. A record is searched as the sequence
  of its values (the whole training row, the row of the joint table without the identifier, and
  each part's row), after both sides are cut into the same tokens: so a row printed as CSV, as an
  HTML table row, as a JSON list or as a JSON object (keys dropped) is found. The cache (stage
  outputs: the split with the real training rows, synthetic parts) is the secure environment's
  working area and is not shareable.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthlink import synth
from synthlink.cli import app
from synthlink.demo import DEMO_PLAN, population

runner = CliRunner()
KEY = "k3y-" + "f00dfacecafe" * 4  # a distinctive pseudonymisation key (>= 16 bytes)
TOKEN = re.compile(r"[A-Za-z\u00c0-\u024f]+|\d+(?:\.\d+)?")
TAG = re.compile(r"<[^<>]*>")
MISSING = {"null", "NaN", "nan", "None", "NA", "NaT", "n", "a"}  # "n/a" -> "n", "a"


# -- search helpers ------------------------------------------------------------------------------------


def _norm(tok: str) -> str:
    if tok[0].isdigit():
        v = float(tok)
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return tok


def tokens(text: str, drop: set[str] = frozenset()) -> list[str]:
    """The text as normalised tokens (numbers rounded to 2 decimals, 26.0 == 26), without ``drop``
    tokens (column names), HTML tags and missing-value markers."""
    text = TAG.sub(" ", text)
    return [_norm(t) for t in TOKEN.findall(text) if t not in drop and t not in MISSING]


def _fmt(v) -> str:
    return "" if pd.isna(v) else str(v)


def row_keys(df: pd.DataFrame, drop: set[str] = frozenset()) -> list[list[str]]:
    """Each row as its token sequence (missing values left out)."""
    text = df.astype(object).map(_fmt).to_numpy()
    return [tokens(" ".join(r), drop) for r in text]


class Haystack:
    """A text cut into tokens once, to look up many rows in it."""

    def __init__(self, text: str, drop: set[str]) -> None:
        toks = tokens(text, drop)
        self.vocab = set(toks)
        self.stream = "\x1f" + "\x1f".join(toks) + "\x1f"

    def count(self, rows: list[list[str]]) -> int:
        """How many rows appear as a contiguous token sequence."""
        return sum(1 for r in rows if r and all(t in self.vocab for t in r)
                   and ("\x1f" + "\x1f".join(r) + "\x1f") in self.stream)


def leaked_rows(text: str, df: pd.DataFrame, drop: set[str]) -> int:
    return Haystack(text, drop).count(row_keys(df, drop))


def file_text(path: Path) -> str:
    if path.suffix in (".parquet", ".pq"):
        df = pd.read_parquet(path)
        return " ".join(map(str, df.columns)) + "\n" + df.to_csv(index=False)
    return path.read_bytes().decode("utf-8", errors="replace")


# -- the study ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("security")
    df = population(1500, seed=11)
    df.to_csv(tmp / "people.csv", index=False)
    synths = ["marginals"] + (["cart"] if "cart" in synth.available() else [])
    cfg = {
        "name": "security",
        "data": {"path": "people.csv"},
        "split": {"plan": "demo"},
        "synthesizers": synths,
        "linkers": ["identifier", "exact"],
        "privacy": {"secret": "wage", "n_attacks": 100},  # every measure runs, on fewer attacks
        "seeds": [0],
    }
    (tmp / "study.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = tmp / "out"
    log = logging.getLogger("synthlink")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, old_level = Keep(level=logging.DEBUG), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    mp = pytest.MonkeyPatch()
    mp.setenv("SYNTHLINK_PSEUDONYM_KEY", KEY)
    try:
        r = runner.invoke(app, ["--verbose", "run", str(tmp / "study.yaml"), "--out", str(out), "--quiet"])
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        mp.undo()
    assert r.exit_code == 0, r.output
    logs = "\n".join(rec.getMessage() for rec in records)
    return {"tmp": tmp, "out": out, "people": df, "cli": r.output + "\n" + (r.stderr or ""), "logs": logs}


def _ids(df: pd.DataFrame) -> set[str]:
    return set(df["matricule"].astype(str))


def test_study_wrote_the_shareable_outputs(study):
    out = study["out"]
    for name in ("report.html", "metrics.json", "results.parquet"):
        assert (out / name).stat().st_size > 0
    # the output folder holds only what may be shared; the cache of training records is elsewhere
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html", "results.parquet"]
    assert len(study["logs"]) > 0  # the study logged something, so the log search below means something


def test_no_real_identifier_anywhere(study):
    ids = _ids(study["people"])
    assert len(ids) == 1500 and all(len(i) == 13 for i in ids)
    from synthlink.study import default_work_dir

    work = default_work_dir(study["out"])
    texts = {str(p.relative_to(study["out"])): file_text(p) for p in study["out"].rglob("*") if p.is_file()}
    texts.update({str(p.relative_to(work)): file_text(p) for p in work.rglob("*") if p.is_file()})
    texts["<logs>"] = study["logs"]
    texts["<command line>"] = study["cli"]
    assert any(k.startswith("cache") for k in texts)  # the working area is searched too
    found = {}
    for name, text in texts.items():
        digits = set(re.findall(r"(?<!\d)\d{13}(?!\d)", text))
        hit = digits & ids
        if hit:
            found[name] = len(hit)
    assert not found, f"real identifiers found in: {found}"


def test_identifier_search_would_find_a_leak(study, tmp_path):
    # the search is not blind: a report that printed a few matricules is caught
    ids = sorted(_ids(study["people"]))[:3]
    text = (study["out"] / "report.html").read_text() + f"<td>{ids[0]}</td>"
    assert set(re.findall(r"(?<!\d)\d{13}(?!\d)", text)) & set(ids) == {ids[0]}


def _frames(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The real records as they could appear: whole rows, joint rows without identifier, part rows."""
    common = DEMO_PLAN["common"]
    parts = {name: spec["columns"] for name, spec in DEMO_PLAN["parts"].items()}
    keep = [DEMO_PLAN["identifier"], *common, *[c for cols in parts.values() for c in cols]]
    out = {"full row": df, "plan row": df[keep], "joint row": df[keep[1:]]}
    for name, cols in parts.items():
        out[f"{name} row"] = df[[*common, *cols]]
    return out


def test_no_complete_real_record_in_shareable_outputs(study):
    df = study["people"]
    drop = set(tokens(" ".join(df.columns)))
    texts = {name: file_text(study["out"] / name) for name in ("report.html", "metrics.json", "results.parquet")}
    texts["<logs>"] = study["logs"]
    texts["<command line>"] = study["cli"]
    stacks = {name: Haystack(text, drop) for name, text in texts.items()}
    found = {}
    for fname, frame in _frames(df).items():
        rows = row_keys(frame, drop)
        for name, hay in stacks.items():
            n = hay.count(rows)
            if n:
                found[(name, fname)] = n
    assert not found, f"real records found: {found}"


def test_record_search_would_find_a_leak(study):
    # a row printed as an HTML table row, as a JSON object and as CSV is found; one value changed is not
    df = study["people"]
    drop = set(tokens(" ".join(df.columns)))
    frames = _frames(df)
    joint = frames["joint row"]
    row = joint.iloc[[7]]
    html = "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row.iloc[0]) + "</tr>"
    as_json = json.dumps({c: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for c, v in row.iloc[0].items()})
    as_csv = row.to_csv(index=False)
    for text in (html, as_json, as_csv):
        assert leaked_rows("<p>report</p>" + text, joint, drop) >= 1, text
    changed = row.assign(age=row["age"] + 1)
    assert leaked_rows(changed.to_csv(index=False), joint.iloc[[7]], drop) == 0


def test_pseudonymisation_key_never_reaches_an_output(study):
    texts = [file_text(p) for p in study["out"].rglob("*") if p.is_file()] + [study["logs"], study["cli"]]
    for text in texts:
        assert KEY not in text
        assert KEY.encode().hex() not in text


def test_pseudonymisation_key_from_file_and_env_not_in_outputs(tmp_path, monkeypatch):
    from synthlink.pseudonymise import DEFAULT_KEY_ENV, load_key, pseudonymise

    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    people = population(300, seed=4)
    # the generate verb with a key file: the output has pseudonyms, never the key or a real matricule
    out = tmp_path / "pseudo.csv"
    r = runner.invoke(app, ["generate", "--n", "300", "--seed", "4", "--out", str(out), "--key-file", str(key_file)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert KEY not in text and KEY not in r.output
    assert not (_ids(people) & set(re.findall(r"(?<!\d)\d{13}(?!\d)", text)))
    written = pd.read_csv(out)
    assert written["matricule"].tolist() == pseudonymise(people["matricule"], KEY).tolist()
    # env var and file give the same key; errors name the source, never the value
    monkeypatch.setenv(DEFAULT_KEY_ENV, KEY)
    assert load_key() == load_key(file=key_file) == KEY.encode()
    monkeypatch.setenv(DEFAULT_KEY_ENV, KEY[:10])
    with pytest.raises(Exception) as e:
        load_key()
    assert DEFAULT_KEY_ENV in str(e.value) and KEY[:10] not in str(e.value)


@pytest.mark.skipif("preserving" not in synth.available(), reason="record-preserving synthesizer not registered")
def test_record_preserving_synthesis_keeps_the_key_out(tmp_path, monkeypatch):
    from synthlink.synth import get_synthesizer

    monkeypatch.setenv("SYNTHLINK_PSEUDONYM_KEY", KEY)
    part = population(400, seed=2)[["matricule", "sex", "age", "canton", "isced"]]
    s = get_synthesizer("preserving", identifier="matricule", inner="marginals", mode="row_aligned").fit(part)
    fake = s.sample(len(part), seed=0)
    text = fake.to_csv(index=False) + repr(s)
    assert KEY not in text
    assert not (_ids(part) & set(re.findall(r"(?<!\d)\d{13}(?!\d)", text)))


def test_study_config_never_echoes_a_key_parameter(tmp_path):
    """A key written into the study config must not be copied into metrics.json or the report.
    Checked on the config's own serialisation, which is what metrics.json records."""
    from synthlink.config import StudyConfig
    from synthlink.errors import ConfigError

    with pytest.raises(ConfigError) as e:  # refused outright: keys come from the environment or a file
        StudyConfig.from_dict({
            "data": {"demo": {"n": 100}}, "split": {"plan": "demo"},
            "synthesizers": [{"name": "preserving", "params": {"key": KEY, "identifier": "matricule"}}],
            "linkers": ["identifier"],
        })
    assert "SYNTHLINK_PSEUDONYM_KEY" in str(e.value) and KEY not in str(e.value)


def test_population_matricules_are_real_looking(study):
    # guard for the searches above: identifiers are 13-digit strings in the CSV as written
    raw = pd.read_csv(study["tmp"] / "people.csv", dtype={"matricule": str})
    assert raw["matricule"].str.fullmatch(r"\d{13}").all()
    assert np.array_equal(raw["matricule"].to_numpy(), study["people"]["matricule"].astype(str).to_numpy())


# -- every stage verb (issue 12): no identifier leaves through the command line ------------------------
#
# The demo population is written to CSV, where the 13-digit matricule reads back as an integer: the
# shape the identifier had when `synthesize` copied it into its output (100% of identifiers) before.


@pytest.fixture(scope="module")
def verbs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verbs")
    people = population(400, seed=5)
    people.to_csv(tmp / "people.csv", index=False)
    r = runner.invoke(app, ["split", str(tmp / "people.csv"), "--plan", "demo", "--seed", "2", "--out", str(tmp / "split")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["split", str(tmp / "people.csv"), "--plan", "demo", "--seed", "2", "--keep-identifier",
                            "--out", str(tmp / "real")])
    assert r.exit_code == 0, r.output
    return {"tmp": tmp, "ids": _ids(people), "people": people}


def _real_ids_in(path: Path, ids: set[str]) -> int:
    return len(set(re.findall(r"(?<!\d)\d{13}(?!\d)", file_text(path))) & ids)


def _refused(r, *needles):
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_split_writes_a_surrogate_key_not_the_identifier(verbs):
    # decision: split does what `run` does first and replaces the identifier by a random surrogate
    # key (same person, same key in every part); --keep-identifier keeps the real one on request
    files = [p for p in (verbs["tmp"] / "split").rglob("*.parquet")]
    assert len(files) == 5  # train, control, truth, 2 parts
    assert {p.name: _real_ids_in(p, verbs["ids"]) for p in files} == {p.name: 0 for p in files}
    part = pd.read_parquet(verbs["tmp"] / "split" / "parts" / "education.parquet")
    assert part["matricule"].str.fullmatch(r"S\d{9}").all()
    assert _real_ids_in(verbs["tmp"] / "real" / "train.parquet", verbs["ids"]) > 0  # the search sees them


def test_synthesize_refuses_a_part_with_its_identifier(verbs, tmp_path):
    # the integer matricule (13 digits on every row, all distinct) is found without any declaration
    part = verbs["tmp"] / "real" / "parts" / "employment.parquet"
    assert pd.api.types.is_integer_dtype(pd.read_parquet(part)["matricule"])
    for where in (part, ):
        out = tmp_path / "syn.parquet"
        r = runner.invoke(app, ["synthesize", str(where), "--method", "cart", "--out", str(out)])
        _refused(r, "'matricule'", "--drop-column matricule")
        assert not out.exists()
    # the same part copied out of its split folder (nothing declared): refused from its shape alone
    alone = tmp_path / "alone.csv"
    pd.read_parquet(part).to_csv(alone, index=False)
    r = runner.invoke(app, ["synthesize", str(alone), "--method", "marginals", "--out", str(tmp_path / "m.csv")])
    _refused(r, "--drop-column matricule")
    r = runner.invoke(app, ["synthesize", str(part), "--method", "cart", "--drop-column", "matricule", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert _real_ids_in(out, verbs["ids"]) == 0 and "matricule" not in pd.read_parquet(out).columns


def test_link_refuses_the_identifier_as_a_linking_column(verbs, tmp_path):
    parts = verbs["tmp"] / "real" / "parts"
    r = runner.invoke(app, ["link", str(parts / "education.parquet"), str(parts / "employment.parquet"),
                            "--method", "exact", "--on", "sex,matricule", "--out", str(tmp_path / "l.csv")])
    _refused(r, "'matricule'", "--method identifier")
    assert not (tmp_path / "l.csv").exists()


def test_reconstruct_refuses_parts_with_the_identifier(verbs, tmp_path):
    parts = verbs["tmp"] / "real" / "parts"
    links = tmp_path / "links.parquet"
    r = runner.invoke(app, ["link", str(parts / "education.parquet"), str(parts / "employment.parquet"),
                            "--method", "exact", "--on", "sex,age,nationality,canton", "--out", str(links)])
    assert r.exit_code == 0, r.output
    assert _real_ids_in(links, verbs["ids"]) == 0  # links are row positions
    joint = tmp_path / "joint.parquet"
    args = ["reconstruct", str(parts / "education.parquet"), str(parts / "employment.parquet"), "--links", str(links),
            "--out", str(joint)]
    _refused(runner.invoke(app, args), "--drop-column matricule")
    assert not joint.exists()
    r = runner.invoke(app, [*args, "--drop-column", "matricule"])
    assert r.exit_code == 0, r.output
    assert _real_ids_in(joint, verbs["ids"]) == 0


def test_evaluate_refuses_a_linked_table_with_real_identifiers(verbs, tmp_path):
    real = verbs["tmp"] / "real"
    train = pd.read_parquet(real / "train.parquet")
    cols = [*DEMO_PLAN["common"], *DEMO_PLAN["parts"]["education"]["columns"], *DEMO_PLAN["parts"]["employment"]["columns"]]
    leaky = train[["matricule", *cols]].sample(frac=1, random_state=0).reset_index(drop=True)
    leaky.to_parquet(tmp_path / "leaky.parquet")
    renamed = leaky.rename(columns={"matricule": "person"}).iloc[:200]
    # 10 rows twice: not unique any more, yet 200 of 210 values are distinct real identifiers (the
    # rule of synthlink.synth.files: >= 5 hits, >= half the rows, >= 90% of hits distinct; 200/210 = 95%)
    renamed = pd.concat([renamed, renamed.iloc[:10]], ignore_index=True)
    renamed.to_parquet(tmp_path / "renamed.parquet")
    base = ["evaluate", "--train", str(real / "train.parquet"), "--control", str(real / "control.parquet"),
            "--part-columns", "education=" + ",".join(DEMO_PLAN["parts"]["education"]["columns"]),
            "--part-columns", "employment=" + ",".join(DEMO_PLAN["parts"]["employment"]["columns"])]
    for extra in ([], ["--identifier", "matricule"]):  # with or without declaring it
        out = tmp_path / f"m{len(extra)}.json"
        _refused(runner.invoke(app, [*base, *extra, "--synthetic", str(tmp_path / "leaky.parquet"), "--out", str(out)]),
                 "'matricule'")
        assert not out.exists()
    # real identifiers under another name, on rows that are no longer unique: found by their values
    out = tmp_path / "r.json"
    _refused(runner.invoke(app, [*base, "--synthetic", str(tmp_path / "renamed.parquet"), "--out", str(out)]),
             "'person'", "real values")
    assert not out.exists()

"""A catalogue of bad inputs (issue 7, robustness): each ends with one clear line naming the file,
the column and the problem (command line: exit code 2, no traceback, no output folder), a clear
exception from the API, or, for inputs that are odd but usable (all-null or constant columns,
identifier-like categories, huge floats), a clear warning and a run that does not crash."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthlink.cli import app
from synthlink.errors import InputError, PrivacyError, SchemaError
from synthlink.link import get_linker, shuffled_link
from synthlink.reconstruct import reconstruct
from synthlink.split import SplitPlan, split
from synthlink.synth import get_synthesizer
from synthlink.synth.files import load_synthetic
from synthlink.validate import check_parts_agree, validate_table

from .conftest import PLAN, make_people

runner = CliRunner()


@pytest.fixture
def small() -> pd.DataFrame:
    return make_people(200, seed=5)


def _plan_file(tmp_path, plan=None):
    p = tmp_path / "plan.yaml"
    p.write_text(yaml.safe_dump(plan or PLAN))
    return p


def _run_split(tmp_path, data):
    out = tmp_path / "out"
    r = runner.invoke(app, ["split", str(data), "--plan", str(_plan_file(tmp_path)), "--out", str(out)])
    return r, out


def _assert_one_line(r, out, tmp_path, *needles, ids=()):
    assert r.exit_code == 2, (r.exit_code, r.output)
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("synthlink: error: ")
    assert "Traceback" not in r.output
    for n in needles:
        assert n in err, (n, err)
    for i in ids:  # never echo an identifier
        assert str(i) not in err, err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no half-written folder
    return err


# -- command line: each bad file -> exit 2, one line naming file, column, problem -------------------


def test_empty_file(tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes(b"")
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "empty")


def test_blank_lines_only(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("\n\n\n")
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "empty")


def test_header_only(tmp_path, small):
    data = tmp_path / "data.csv"
    data.write_text(",".join(small.columns) + "\n")
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "no rows")


def test_empty_parquet(tmp_path, small):
    data = tmp_path / "data.parquet"
    small.iloc[:0].to_parquet(data)
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.parquet", "no rows")


def test_wrong_encoding_latin1(tmp_path, small):
    small = small.assign(field=np.where(np.arange(len(small)) % 7 == 0, "éducation", small["field"]))
    data = tmp_path / "data.csv"
    data.write_bytes(small.to_csv(index=False).encode("latin-1"))
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "not valid UTF-8", "re-encode")


def test_mixed_types_numbers_with_text(tmp_path, small):
    age = small["age"].astype(str).to_numpy(dtype=object)
    age[[3, 10]] = "unknown"
    data = tmp_path / "data.csv"
    small.assign(age=age).to_csv(data, index=False)
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "column 'age'", "mixes types", "2 text value(s)", "'unknown'",
                     ids=small["pid"])


def test_mixed_types_declared_categorical_is_accepted(tmp_path, small):
    age = small["age"].astype(str).to_numpy(dtype=object)
    age[[3, 10]] = "unknown"
    plan = SplitPlan.from_dict({**PLAN, "kinds": {"age": "categorical"}})
    res = split(small.assign(age=age), plan, seed=0)
    assert len(res.train) + len(res.control) == len(small)


def test_infinity(tmp_path, small):
    wage = small["wage"].to_numpy().copy()
    wage[[0, 5, 9]] = [np.inf, -np.inf, np.inf]
    data = tmp_path / "data.csv"
    small.assign(wage=wage).to_csv(data, index=False)
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "column 'wage'", "3 infinite value(s)")


def test_nan_is_missing_not_an_error(small):
    wage = small["wage"].to_numpy().copy()
    wage[::4] = np.nan
    df = small.assign(wage=wage)
    assert validate_table(df, "data.csv", identifier="pid") == []
    res = split(df, SplitPlan.from_dict(PLAN), seed=0)
    total = pd.concat([res.train, res.control])
    assert int(total["wage"].isna().sum()) == int(np.isnan(wage).sum())  # kept, not dropped


def test_duplicate_identifiers(tmp_path, small):
    data = tmp_path / "data.csv"
    pd.concat([small, small.iloc[[4, 8]]]).to_csv(data, index=False)
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "'pid'", "2 duplicated value(s)", ids=small["pid"])


def test_empty_identifier(tmp_path, small):
    pid = small["pid"].to_numpy(dtype=object).copy()
    pid[7] = None
    data = tmp_path / "data.csv"
    small.assign(pid=pid).to_csv(data, index=False)
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "'pid'", "1 empty value(s)", ids=small["pid"])


def test_very_large_integers(tmp_path, small):
    data = tmp_path / "data.csv"
    isced = small["isced"].to_numpy().astype(np.int64)
    isced[2] = 2**60  # fits int64 but not float64 exactly
    small.assign(isced=isced).to_csv(data, index=False)
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "column 'isced'", "1 integer value(s) beyond the float64 safe range")


def test_integers_beyond_int64(tmp_path, small):
    data = tmp_path / "data.csv"
    text = small.to_csv(index=False).splitlines()
    header = text[0].split(",")
    k = header.index("isced")
    row = text[1].split(",")
    row[k] = str(10**20)  # the CSV reader keeps it as a Python integer
    text[1] = ",".join(row)
    data.write_text("\n".join(text) + "\n")
    r, out = _run_split(tmp_path, data)
    _assert_one_line(r, out, tmp_path, "data.csv", "column 'isced'", "beyond the float64 safe range")


def test_very_large_floats_warn(small):
    wage = small["wage"].to_numpy().copy()
    wage[:3] = 3e17
    w = validate_table(small.assign(wage=wage), "data.csv", identifier="pid")
    assert len(w) == 1 and "column 'wage'" in w[0] and "3 value(s) of magnitude 1e15" in w[0]


def test_validate_never_quotes_identifier_values(small):
    df = small.assign(pid=np.where(np.arange(len(small)) % 2, small["pid"], np.arange(len(small))).astype(object))
    # a mixed identifier is only ever joined: no complaint, and no other message carries its values
    assert validate_table(df, "data.csv", identifier="pid") == []
    with pytest.raises(SchemaError) as e:
        validate_table(pd.concat([df, df.iloc[[1]]]), "data.csv", identifier="pid")
    assert str(df["pid"].iloc[1]) not in str(e.value)


# -- odd but usable: warn clearly and never crash -----------------------------------------------------


def _split_synth_link(df, plan_dict):
    plan = SplitPlan.from_dict(plan_dict)
    res = split(df, plan, seed=0)
    syn = {}
    for name, part in res.parts.items():
        data = part.drop(columns=[plan.identifier])
        s = get_synthesizer("marginals").fit(data)
        out = s.sample(len(part), seed=1)
        assert list(out.columns) == list(data.columns) and len(out) == len(part)
        syn[name] = out
    a, b = syn["edu"], syn["emp"]
    links = shuffled_link(get_linker("exact", on=plan.common), a, b, seed=0)
    rec = reconstruct(a, b, links, plan.common)
    acc = rec.accounting
    assert acc["linked"] + acc["left_only"] == len(a) and acc["linked"] + acc["right_only"] == len(b)
    return res, syn, links


def test_all_null_and_single_value_columns_warn_and_run(small, caplog):
    df = small.assign(field=np.nan, status="employee")  # an all-null own column, a constant one
    w = validate_table(df, "data.csv", identifier="pid")
    assert any("column 'field'" in x and "all null" in x for x in w), w
    assert any("column 'status'" in x and "single value" in x for x in w), w
    with caplog.at_level(logging.WARNING, logger="synthlink"):
        _, syn, _ = _split_synth_link(df, PLAN)
    assert any("all null" in r.getMessage() for r in caplog.records)
    assert syn["edu"]["field"].isna().all()
    assert (syn["emp"]["status"] == "employee").all()


def test_single_value_and_all_null_common_columns_run(small):
    # a constant linking variable, and one that is missing everywhere: linking must not crash
    df = small.assign(sex="F", canton=np.nan)
    res, syn, links = _split_synth_link(df, PLAN)
    assert len(links) == 0  # rows with a missing linking value never link
    df2 = small.assign(sex="F")
    _, _, links2 = _split_synth_link(df2, PLAN)
    assert len(links2) > 0


def test_all_null_column_through_cli(tmp_path, small):
    data = tmp_path / "data.csv"
    small.assign(field=np.nan).to_csv(data, index=False)
    r, out = _run_split(tmp_path, data)
    assert r.exit_code == 0, r.output
    assert (out / "parts" / "edu.parquet").exists()
    assert pd.read_parquet(out / "parts" / "edu.parquet")["field"].isna().all()


def test_extreme_cardinality_warns(small):
    df = small.assign(field=[f"name-{i}" for i in range(len(small))])
    w = validate_table(df, "data.csv", identifier="pid")
    assert len(w) == 1 and "column 'field'" in w[0] and "200 distinct values in 200 rows" in w[0]
    assert "identifier" in w[0]
    # the identifier itself is never flagged, and a numeric column with many values is fine
    assert validate_table(small, "data.csv", identifier="pid") == []


# -- synthetic files that carry real identifiers -------------------------------------------------------


def test_identifiers_present_in_synthetic_file(tmp_path, small):
    part = small[["pid", "sex", "age", "canton", "isced", "field"]]
    fake = get_synthesizer("marginals").fit(part.drop(columns="pid")).sample(50, seed=0)
    leaked = fake.assign(pid=small["pid"].iloc[:50].to_numpy())
    path = tmp_path / "edu_synthetic.csv"
    leaked.to_csv(path, index=False)
    with pytest.raises(PrivacyError) as e:
        load_synthetic(path, part.drop(columns="pid"), identifier="pid", real_ids=small["pid"])
    msg = str(e.value)
    assert "edu_synthetic.csv" in msg and "'pid'" in msg and "50 real identifier" in msg
    assert not any(p in msg for p in small["pid"])
    # the same identifiers hidden under another column name are caught too
    hidden = fake.assign(ref=small["pid"].iloc[:50].to_numpy())
    hidden.to_csv(path, index=False)
    with pytest.raises(PrivacyError, match="column 'ref'"):
        load_synthetic(path, part.drop(columns="pid"), identifier="pid", real_ids=small["pid"])
    # synthetic identifiers that match nobody are dropped, not refused
    ok = fake.assign(pid=[f"S{i}" for i in range(50)])
    got, report = load_synthetic(ok, part.drop(columns="pid"), identifier="pid", real_ids=small["pid"])
    assert "pid" not in got.columns and report.dropped_columns == ["pid"]


# -- parts that disagree ----------------------------------------------------------------------------------


def test_parts_whose_types_disagree(small):
    a = small[["sex", "age", "canton"]]
    b = a.assign(age=a["age"].astype(str) + " years")
    with pytest.raises(SchemaError) as e:
        check_parts_agree({"edu": a, "emp": b}, ["sex", "age", "canton"])
    assert "'age'" in str(e.value) and "part 'edu' holds numbers" in str(e.value) and "part 'emp' holds text" in str(e.value)


def test_parts_missing_a_common_column(small):
    a = small[["sex", "age", "canton"]]
    with pytest.raises(SchemaError, match="part 'emp': common column 'canton' is missing"):
        check_parts_agree({"edu": a, "emp": a.drop(columns="canton")}, ["sex", "age", "canton"])


def test_mismatched_category_labels(small):
    a = small[["sex", "age", "canton"]]
    b = a.assign(sex=a["sex"].map({"F": "female", "M": "male"}))
    with pytest.raises(SchemaError) as e:
        check_parts_agree({"edu": a, "emp": b}, ["sex", "age", "canton"])
    msg = str(e.value)
    assert "'sex'" in msg and "only in 'edu': 'F', 'M'" in msg and "only in 'emp': 'female', 'male'" in msg


def test_mismatched_integer_codes(small):
    a = small[["sex", "age"]].assign(sex=small["sex"].map({"F": 1, "M": 2}))
    b = a.assign(sex=a["sex"] - 1)  # 0/1 against 1/2
    with pytest.raises(SchemaError, match="only in 'edu': 2; only in 'emp': 0"):
        check_parts_agree({"edu": a, "emp": b}, ["sex"])


def test_rare_label_on_one_side_is_a_warning(small):
    a = small[["sex", "canton"]]
    b = a.assign(canton=np.where(np.arange(len(a)) < 4, "Z", a["canton"]))
    w = check_parts_agree({"edu": a, "emp": b}, ["sex", "canton"])
    assert len(w) == 1 and "only in 'emp': 'Z'" in w[0] and "2.0% of rows" in w[0]
    assert check_parts_agree({"edu": a, "emp": a.sample(frac=1, random_state=1)}, ["sex", "canton"]) == []


def test_split_parts_always_agree(small):
    res = split(small, SplitPlan.from_dict(PLAN), seed=3)
    assert check_parts_agree(res.parts, PLAN["common"]) == []


def test_declared_numeric_with_text_is_an_error(small):
    df = small.assign(field=np.where(np.arange(len(small)) == 0, "12", small["field"]))
    with pytest.raises(SchemaError, match="column 'field' mixes types"):
        validate_table(df, "data.csv", {"field": "numeric"}, identifier="pid")
    with pytest.raises(SchemaError, match="unknown kind 'colour'"):
        validate_table(df, "data.csv", {"field": "colour"}, identifier="pid")


def test_python_mixed_object_column(small):
    mixed = small["field"].to_numpy(dtype=object).copy()
    mixed[:5] = 7
    with pytest.raises(SchemaError) as e:
        validate_table(small.assign(field=mixed), "register A", identifier="pid")
    assert "register A: column 'field' mixes types: " in str(e.value)
    assert "number (e.g. 7)" in str(e.value) and "text (e.g. " in str(e.value)


def test_input_errors_are_value_errors():
    with pytest.raises(InputError, match="no rows"):
        validate_table(pd.DataFrame({"a": []}), "x.csv")


# -- every registered method on all-null and constant columns: works, or refuses with a clear error ---

_SYNTHS = [s for s in ("marginals", "cart", "copula", "privbayes") if s in __import__("synthlink.synth", fromlist=["x"]).available()]
_LINKERS = [x for x in ("exact", "distance", "hotdeck", "propensity") if x in __import__("synthlink.link", fromlist=["x"]).available()]


@pytest.mark.parametrize("name", _SYNTHS)
def test_synthesizers_take_all_null_and_constant_columns(name, small):
    part = small[["sex", "age", "canton", "wage", "status"]].assign(wage=np.nan, status="employee")
    out = get_synthesizer(name).fit(part).sample(50, seed=0)
    assert len(out) == 50 and list(out.columns) == list(part.columns)
    assert out["wage"].isna().all()
    assert (out["status"] == "employee").all()


@pytest.mark.parametrize("name", _LINKERS)
def test_linkers_take_constant_and_all_null_common_columns(name, small):
    left = small[["sex", "age", "canton", "isced"]].assign(sex="F")
    right = small[["sex", "age", "canton", "wage"]].assign(sex="F").sample(frac=1, random_state=0).reset_index(drop=True)
    links = shuffled_link(get_linker(name, on=["sex", "age", "canton"]), left, right, seed=0)
    # the hot deck reuses donors by default (StatMatch's unconstrained NND.hotdeck): not one-to-one
    assert len(links) > 0 and links.pairs["left"].is_unique and (links.pairs["right"].is_unique or not links.one_to_one)
    try:
        links = shuffled_link(get_linker(name, on=["sex", "age", "canton"]),
                              left.assign(canton=np.nan), right.assign(canton=np.nan), seed=0)
    except InputError as e:  # a clear refusal naming the column is fine; a crash is not
        assert "'canton'" in str(e)
    else:
        assert links.pairs["left"].is_unique


# -- interrupted runs leave no half-written files ----------------------------------------------------


def test_interrupted_split_leaves_no_output(tmp_path, small, monkeypatch):
    from synthlink import io

    data = tmp_path / "data.csv"
    small.to_csv(data, index=False)
    real = io.write_table
    calls = {"n": 0}

    def dying_write(df, path):
        calls["n"] += 1
        if calls["n"] == 3:  # train and control written, then the machine "dies"
            raise KeyboardInterrupt
        return real(df, path)

    monkeypatch.setattr(io, "write_table", dying_write)
    r, out = _run_split(tmp_path, data)
    assert r.exit_code != 0  # click turns the interrupt into exit 130
    assert calls["n"] == 3
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_interrupted_table_write_leaves_no_file(tmp_path, small, monkeypatch):
    from synthlink.io import write_table

    target = tmp_path / "t.parquet"

    def dying(self, path, *a, **k):
        with open(path, "wb") as f:
            f.write(b"PAR1 half")  # half a file in the temporary path
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", dying)
    with pytest.raises(KeyboardInterrupt):
        write_table(small, target)
    assert list(tmp_path.iterdir()) == []


# -- real public microdata ---------------------------------------------------------------------------------


def test_real_acs_excerpt_missing_marker_is_caught_and_na_values_fixes_it():
    from .conftest import SHARED_DATA

    path = SHARED_DATA / "nist_acs_excerpts" / "ma2019.csv"
    if not path.exists():
        pytest.skip("shared data not present")
    from synthlink.io import read_table

    raw = read_table(path).assign(person_id=lambda d: np.arange(len(d)))
    # the excerpt marks missing values with 'N': read as-is, income mixes numbers and text
    with pytest.raises(SchemaError) as e:
        validate_table(raw[["person_id", "AGEP", "PINCP"]], "ma2019.csv", identifier="person_id")
    assert "ma2019.csv: column 'PINCP' mixes types" in str(e.value) and "'N'" in str(e.value)
    assert "na_values" in str(e.value)
    clean = read_table(path, na_values=["N"]).assign(person_id=lambda d: np.arange(len(d)))
    assert validate_table(clean[["person_id", "AGEP", "PINCP"]], "ma2019.csv", identifier="person_id") == []

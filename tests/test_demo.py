"""Demo population: determinism, schema, identifiers, marginals, coverage, causal structure, output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
import typer
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from synthlink import demo
from synthlink import matricule as mat
from synthlink.cli.generate import register
from synthlink.errors import ConfigError, InputError
from synthlink.io import read_table
from synthlink.split import SplitPlan, split

N = 20_000


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return demo.population(N, seed=11)


def test_same_seed_same_frame_other_seed_other_frame():
    a = demo.population(3_000, seed=5)
    assert_frame_equal(a, demo.population(3_000, seed=5))
    b = demo.population(3_000, seed=6)
    assert not a["matricule"].equals(b["matricule"])


def test_columns_and_dtypes(df):
    expected = {
        "matricule": "str", "sex": "str", "birth_date": "datetime64[ns]", "age": "int64",
        "nationality": "str", "canton": "str", "commune": "str", "household_size": "int64",
        "isced": "Int64", "field": "str", "graduation_year": "Int64", "studied_abroad": "Int64",
        "student_aid": "Int64", "employment_status": "str", "nace": "str", "isco": "Int64",
        "wage": "float64", "contract": "str", "hours": "float64", "minimum_income": "Int64",
        "family_allowance": "Int64", "disability": "Int64",
    }
    assert list(df.columns) == list(expected)
    assert {c: str(t) for c, t in df.dtypes.items()} == expected
    assert len(df) == N


def test_value_domains(df):
    assert set(df["sex"]) == {"F", "M"}
    assert df["age"].between(16, 85).all()
    assert df["household_size"].between(1, 6).all()
    assert set(df["nationality"]) == set(demo.NATIONALITIES)
    assert set(df["canton"]) == set(demo.CANTONS)
    for canton, communes in df.groupby("canton")["commune"]:
        assert set(communes) <= set(demo.CANTONS[canton][1]), canton
    assert df["isced"].dropna().between(0, 8).all()
    assert set(df["field"].dropna()) <= set(demo.FIELDS)
    assert set(df["employment_status"].dropna()) == {"employee", "self-employed", "unemployed"}
    assert set(df["nace"].dropna()) <= set(demo.NACE)
    assert df["isco"].dropna().between(1, 9).all()
    for c in ("studied_abroad", "student_aid", "minimum_income", "family_allowance", "disability"):
        assert set(df[c].dropna().unique()) <= {0, 1}, c
    assert (df["graduation_year"].dropna() <= 2024).all()
    assert (df["graduation_year"].dropna().astype(int) - df.loc[df["graduation_year"].notna(), "birth_date"].dt.year >= 12).all()


def test_matricules_valid_unique_and_dated(df):
    ids = df["matricule"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"\d{13}").all()
    assert mat.validate(ids).all()
    assert (ids.str.slice(0, 8) == df["birth_date"].dt.strftime("%Y%m%d")).all()


def test_age_matches_birth_date_on_reference_date(df):
    assert demo.REFERENCE_DATE == pd.Timestamp("2025-01-01")
    b = df["birth_date"]
    ref = demo.REFERENCE_DATE
    had_birthday = (b.dt.month < ref.month) | ((b.dt.month == ref.month) & (b.dt.day <= ref.day))
    age = ref.year - b.dt.year - (~had_birthday).astype(int)
    assert (age == df["age"]).all()
    # both ends are reached: someone born on 2009-01-01 is 16, on 1939-01-02 is 85
    assert df["age"].min() == 16 and df["age"].max() == 85


def test_marginals_within_tolerance(df):
    exp = demo.expected_marginals()
    sex = df["sex"].value_counts(normalize=True)
    assert abs(sex["F"] - exp["sex"]["F"]) < 0.015
    nat = df["nationality"].value_counts(normalize=True)
    for k, v in exp["nationality"].items():
        assert abs(nat[k] - v) < 0.015, k
    assert abs((df["nationality"] != "Luxembourgish").mean() - 0.473) < 0.02  # ~47% foreign
    assert abs(nat["Portuguese"] - 0.14) < 0.015
    cant = df["canton"].value_counts(normalize=True)
    for k, v in exp["canton"].items():
        assert abs(cant.get(k, 0.0) - v) < 0.012, k
    assert cant.index[0] in ("Luxembourg", "Esch-sur-Alzette") and cant["Vianden"] < 0.02


def test_coverage_shares(df):
    exp = demo.expected_marginals()["coverage"]
    edu = df["field"].notna().mean()
    assert abs(edu - exp["education"]) < 0.015 and 0.85 < edu < 0.95
    emp = df["employment_status"].notna()
    assert 0.55 < emp.mean() < 0.70
    prime = df["age"].between(25, 54)
    assert emp[prime].mean() > 0.8 and emp[df["age"] >= 70].mean() < 0.1
    working = df["employment_status"].isin(["employee", "self-employed"])
    assert 0.68 < working[df["age"].between(20, 64)].mean() < 0.80  # Eurostat 20-64: ~74%
    unemp = (df["employment_status"] == "unemployed").sum() / emp.sum()
    assert 0.03 < unemp < 0.09
    assert df[["minimum_income", "family_allowance", "disability"]].notna().all().all()  # social: everyone


def test_isced_marginals_and_age_gradient(df):
    a = df[df["age"].between(25, 64) & df["isced"].notna()]
    tertiary = (a["isced"] >= 5).mean()
    assert 0.45 < tertiary < 0.57  # Eurostat: about half of 25-64 year olds in Luxembourg
    young = df[df["age"].between(30, 39)]["isced"].dropna()
    old = df[df["age"].between(60, 69)]["isced"].dropna()
    assert (young >= 5).mean() > (old >= 5).mean() + 0.1
    assert (df.loc[df["age"] <= 17, "isced"].dropna() <= 2).all()


def test_register_nulls_follow_coverage(df):
    edu_cols = demo.REGISTERS["education"]
    not_edu = df["field"].isna()
    assert df.loc[not_edu, edu_cols].isna().all().all()
    assert df.loc[~not_edu, ["isced", "field", "studied_abroad", "student_aid"]].notna().all().all()
    emp_cols = demo.REGISTERS["employment"]
    assert df.loc[df["employment_status"].isna(), emp_cols].isna().all().all()
    unemp = df["employment_status"] == "unemployed"
    assert df.loc[unemp, ["wage", "hours", "nace", "isco", "contract"]].isna().all().all()
    selfe = df["employment_status"] == "self-employed"
    assert df.loc[selfe, "contract"].isna().all() and df.loc[selfe, "wage"].notna().all()
    emp = df["employment_status"] == "employee"
    assert df.loc[emp, ["wage", "hours", "nace", "isco", "contract"]].notna().all().all()
    assert (df.loc[emp | selfe, "wage"] > 0).all()


def test_wage_effect_of_isced_recovered_by_ols(df):
    d = df[df["wage"].notna() & df["isced"].notna()].copy()
    d["log_wage"] = np.log(d["wage"])
    d["isced"] = d["isced"].astype(float)
    fit = smf.ols("log_wage ~ isced + age + C(sex) + C(nationality) + C(canton)", data=d).fit()
    true = demo.STRUCTURE["wage"]["isced"]
    assert true == 0.08
    assert abs(fit.params["isced"] - true) < 0.012, (fit.params["isced"], fit.bse["isced"])


def test_cross_register_relationships_beyond_common_variables(df):
    d = df[df["isced"].notna()].copy()
    d["isced"] = d["isced"].astype(float)
    controls = "age + C(sex) + C(nationality) + C(canton)"
    act = d[d["employment_status"].notna()].copy()
    act["unemployed"] = (act["employment_status"] == "unemployed").astype(float)
    f_u = smf.logit(f"unemployed ~ isced + {controls}", data=act).fit(disp=0)
    assert f_u.params["isced"] < 0 and f_u.pvalues["isced"] < 1e-3
    d["revis"] = d["minimum_income"].astype(float)
    f_r = smf.logit(f"revis ~ isced + {controls}", data=d).fit(disp=0)
    assert f_r.params["isced"] < 0 and f_r.pvalues["isced"] < 1e-3
    emp = d[d["isco"].notna()].copy()
    emp["high_skill"] = (emp["isco"] <= 3).astype(float)
    f_s = smf.logit(f"high_skill ~ isced + {controls}", data=emp).fit(disp=0)
    assert f_s.params["isced"] > 0.3
    # field of study drives the NACE section
    tab = pd.crosstab(emp["field"], emp["nace"], normalize="index")
    assert tab.loc["ICT", "J"] > 0.4 and tab.loc["Health and welfare", "Q"] > 0.5
    assert tab.loc["Education", "P"] > 0.4 and tab.loc["Business and law", "K"] > 0.25
    assert (emp["nace"] == "J").mean() < 0.1


def test_registers_cut(df):
    regs = demo.registers(df)
    assert set(regs) == {"population", "education", "employment", "social"}
    assert len(regs["population"]) == len(regs["social"]) == N
    assert len(regs["education"]) == df["field"].notna().sum()
    assert len(regs["employment"]) == df["employment_status"].notna().sum()
    for name, t in regs.items():
        assert t.columns[0] == "matricule" and t["matricule"].is_unique, name
    assert set(regs["employment"]["matricule"]) <= set(regs["population"]["matricule"])
    with pytest.raises(InputError, match="wage"):
        demo.registers(df.drop(columns="wage"))


def test_demo_plan_splits(df):
    plan = SplitPlan.from_dict(demo.DEMO_PLAN)
    assert plan.identifier == "matricule" and plan.common == ["sex", "age", "nationality", "canton"]
    res = split(df.head(4_000), plan, seed=0)
    assert len(res.train) + len(res.control) == 4_000
    assert len(res.parts["education"]) == res.train["field"].notna().sum()
    assert len(res.parts["employment"]) == res.train["employment_status"].notna().sum()


def test_bad_n():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ConfigError):
            demo.population(bad)  # type: ignore[arg-type]


def test_write_population_joint_and_per_register(tmp_path):
    small = demo.population(500, seed=2)
    (p,) = demo.write_population(small, tmp_path / "pop.parquet")
    assert_frame_equal(read_table(p), small)
    (c,) = demo.write_population(small, tmp_path / "pop.csv")
    back = read_table(c)
    assert len(back) == 500 and back["matricule"].astype(str).equals(small["matricule"].astype(str))
    paths = demo.write_population(small, tmp_path / "regs", per_register=True, fmt="csv")
    assert sorted(x.name for x in paths) == ["education.csv", "employment.csv", "population.csv", "social.csv"]
    assert len(read_table(tmp_path / "regs" / "social.csv")) == 500
    with pytest.raises(InputError):
        demo.write_population(small, tmp_path / "pop.txt")


def test_cli_generate_writes_readable_file_without_printing_identifiers(tmp_path):
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer in multi-command mode
        pass

    out = tmp_path / "gen.parquet"
    r = CliRunner().invoke(app, ["generate", "--n", "300", "--seed", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    got = read_table(out)
    assert len(got) == 300 and mat.validate(got["matricule"]).all()
    assert str(out) in r.output
    assert not any(m in r.output for m in got["matricule"])
    r2 = CliRunner().invoke(app, ["generate", "--n", "300", "--seed", "3", "--out", str(tmp_path / "regs"), "--per-register"])
    assert r2.exit_code == 0, r2.output
    assert (tmp_path / "regs" / "employment.parquet").exists()


def test_cli_generate_pseudonymised(tmp_path, monkeypatch):
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:
        pass

    key = "a-long-enough-secret-key-for-tests"
    monkeypatch.setenv("SYNTHLINK_PSEUDONYM_KEY", key)
    out = tmp_path / "pseudo.csv"
    r = CliRunner().invoke(app, ["generate", "--n", "200", "--out", str(out), "--pseudonymise"])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    got = read_table(out)
    assert got["matricule"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert key not in text and key not in r.output
    plain = demo.population(200, seed=0)
    assert not set(plain["matricule"]) & set(got["matricule"].astype(str))


def test_write_refuses_existing_output_unless_overwrite(tmp_path):
    small = demo.population(100, seed=1)
    f = tmp_path / "p.parquet"
    demo.write_population(small, f)
    with pytest.raises(InputError, match="already exists"):
        demo.write_population(small, f, overwrite=False)
    demo.write_population(small, tmp_path / "regs", per_register=True)
    with pytest.raises(InputError, match="already exists"):
        demo.write_population(small, tmp_path / "regs", per_register=True, overwrite=False)
    with pytest.raises(InputError, match="folder"):
        demo.write_population(small, tmp_path / "regs.csv", per_register=True)
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:
        pass

    r = CliRunner().invoke(app, ["generate", "--n", "50", "--out", str(f)])
    assert r.exit_code != 0 and isinstance(r.exception, InputError)
    r = CliRunner().invoke(app, ["generate", "--n", "50", "--out", str(f), "--overwrite"])
    assert r.exit_code == 0 and len(read_table(f)) == 50

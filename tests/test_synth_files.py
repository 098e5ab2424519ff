"""The user's own synthetic files: validation against the part, identifier refusal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlink.errors import PrivacyError, SchemaError
from synthlink.schema import Schema
from synthlink.synth.files import load_synthetic


def real(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "pid": np.arange(100001, 100001 + n),
        "age": rng.integers(18, 90, n),
        "sex": rng.choice(["F", "M"], n),
        "wage": rng.normal(3000, 500, n).round(2),
        "start": pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
    })


def synthetic(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "sex": rng.choice(["F", "M", "X"], n, p=[0.45, 0.45, 0.1]),
        "wage": rng.normal(3000, 500, n).round(2),
        "start": (pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")).strftime("%Y-%m-%d"),
    })


def test_csv_is_read_cast_and_unseen_categories_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = real()
    syn = synthetic()
    p = tmp_path / "syn.csv"
    syn.to_csv(p, index=False)
    df, rep = load_synthetic(p, r, identifier="pid", real_ids=r["pid"])
    assert list(df.columns) == ["age", "sex", "wage", "start"]
    assert len(df) == 80 and rep.n_rows == 80
    assert df["age"].dtype == r["age"].dtype
    assert pd.api.types.is_datetime64_any_dtype(df["start"])
    n_x = int((syn["sex"] == "X").sum())
    assert rep.unseen_categories == {"sex": {"X": n_x}}
    assert (df["sex"] == "X").sum() == n_x  # reported, not dropped


def test_parquet_and_schema_reference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = real()
    p = tmp_path / "syn.parquet"
    synthetic().to_parquet(p)
    schema = Schema.infer(r, identifier="pid")
    df, rep = load_synthetic(p, schema)
    assert len(df) == 80 and rep.unseen_categories == {}


def test_missing_and_extra_columns_are_refused() -> None:
    r = real()
    with pytest.raises(SchemaError, match="'wage'"):
        load_synthetic(synthetic().drop(columns=["wage"]), r, identifier="pid")
    with pytest.raises(SchemaError, match="'bonus'"):
        load_synthetic(synthetic().assign(bonus=1), r, identifier="pid")
    with pytest.raises(SchemaError, match="'age'.*numeric"):
        load_synthetic(synthetic().assign(age=["x"] * 80), r, identifier="pid")


def test_identifier_with_real_values_is_refused_without_printing_them() -> None:
    r = real()
    syn = synthetic().assign(pid=np.r_[r["pid"].iloc[:1], np.arange(900000, 900079)])
    with pytest.raises(PrivacyError, match="1 real identifier") as e:
        load_synthetic(syn, r, identifier="pid", real_ids=r["pid"])
    assert str(r["pid"].iloc[0]) not in str(e.value)


def test_synthetic_identifiers_are_dropped_and_reported() -> None:
    r = real()
    syn = synthetic().assign(pid=np.arange(900000, 900080))
    df, rep = load_synthetic(syn, r, identifier="pid", real_ids=r["pid"])
    assert "pid" not in df.columns and rep.dropped_columns == ["pid"]
    with pytest.raises(PrivacyError, match="no list of real identifiers"):
        load_synthetic(syn, r, identifier="pid")


def test_other_column_carrying_real_ids_is_refused() -> None:
    r = real()
    syn = synthetic().assign(age=r["pid"].iloc[:80].to_numpy())  # identifiers hidden in a column
    with pytest.raises(PrivacyError, match="'age'"):
        load_synthetic(syn, r, identifier="pid", real_ids=r["pid"])
    # small integers that merely overlap numeric identifiers are not refused
    ids = pd.Series(np.arange(1, 101))
    df, _ = load_synthetic(synthetic(), real().assign(pid=ids), identifier="pid", real_ids=ids)
    assert len(df) == 80

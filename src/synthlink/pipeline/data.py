"""Load a study's data and replace its real identifier by a surrogate key."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlink.cache import stage_key
from synthlink.config import StudyConfig
from synthlink.errors import ConfigError
from synthlink.io import read_table


def load_data(cfg: StudyConfig) -> tuple[pd.DataFrame, str]:
    """Load the study's data; returns (frame, a fingerprint for the cache)."""
    d = cfg.data
    if "demo" in d:
        from synthlink.demo import population

        spec = d["demo"] or {}
        n, seed = int(spec.get("n", 20_000)), int(spec.get("seed", 0))
        return population(n, seed), stage_key("demo", n, seed)
    path = cfg.base_dir / str(d["path"])
    table = d.get("table")
    df = read_table(path, table=table, na_values=d.get("na_values"))
    add_id = d.get("add_identifier")
    if add_id:
        # data without an identifier (public excerpts): number the rows; the name must be new
        if add_id in df.columns:
            raise ConfigError(f"'data.add_identifier': column '{add_id}' already exists in {path}")
        df.insert(0, str(add_id), [f"R{i:08d}" for i in range(len(df))])
    st = path.stat()
    return df, stage_key("file", str(path.resolve()), st.st_size, st.st_mtime_ns, table, d.get("na_values"), add_id)


def surrogate_identifier(df: pd.DataFrame, identifier: str, seed: int) -> pd.DataFrame:
    """Replace the real identifier by a random surrogate key (a seeded permutation of row numbers).

    The study only needs a key that is the same for one person in every part (for the identifier
    join and the truth); the real identifier never reaches the cache, the metrics or the report."""
    out = df.copy()
    perm = np.random.default_rng([seed, 0x5EED]).permutation(len(df))
    out[identifier] = pd.Series([f"S{i:09d}" for i in perm], index=df.index, dtype="object")
    return out

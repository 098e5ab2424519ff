"""Stage cache: each stage's output is stored under a hash of its inputs and parameters, written
atomically, so a rerun after a crash or a config change recomputes only what changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from synthlink.io import atomic_dir, read_table, write_json, write_table


def stage_key(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class Cache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self.computed: list[str] = []

    def path(self, stage: str, key: str, suffix: str) -> Path:
        return self.root / f"{stage}-{key}{suffix}"

    def frame(self, stage: str, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        p = self.path(stage, key, ".parquet")
        if p.exists():
            self.hits += 1
            return read_table(p)
        self.misses += 1
        self.computed.append(f"{stage}-{key}")
        df = compute()
        write_table(df, p)
        return df

    def json(self, stage: str, key: str, compute: Callable[[], Any]) -> Any:
        p = self.path(stage, key, ".json")
        if p.exists():
            self.hits += 1
            return json.loads(p.read_text(encoding="utf-8"))
        self.misses += 1
        self.computed.append(f"{stage}-{key}")
        obj = compute()
        if isinstance(obj, dict) and set(obj) == {"error"}:
            return obj  # a failed evaluation is not cached: the next run tries again
        write_json(obj, p)
        return json.loads(p.read_text(encoding="utf-8"))  # the same (JSON-clean) object either way

    def folder(self, stage: str, key: str, save: Callable[[Path], object], load: Callable[[Path], Any]) -> Any:
        p = self.path(stage, key, "")
        if p.exists():
            self.hits += 1
            return load(p)
        self.misses += 1
        self.computed.append(f"{stage}-{key}")
        with atomic_dir(p, overwrite=True) as tmp:
            save(tmp)
        return load(p)

"""Holdout and vertical split of a joint table into institution parts.

``holdout`` keeps a control set aside (it never enters synthesis; privacy measures use it as the
non-member reference and utility measures as the sampling-noise ceiling). ``vertical_split`` cuts
the training table into parts by a :class:`SplitPlan`: each part gets the identifier, the common
variables and its own variables, optionally for a subset of people (coverage) and with recording
noise on common variables. Each part is shuffled on its own and the true correspondence is kept in
a separate truth table of row positions, so row order can never leak a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from synthlink.errors import ConfigError, SchemaError
from synthlink.schema import Kind, Schema, check_identifier, check_not_empty
from synthlink.validate import validate_table

NOISE_KINDS = ("shift", "resample")


@dataclass
class NoiseSpec:
    """Recording noise on one common variable of one part.

    ``shift``: numeric (or date, in days) values move by a whole number in [-max_shift, max_shift]
    other than 0, with probability ``rate``. ``resample``: a categorical value is replaced by another
    observed category (drawn by frequency) with probability ``rate``.
    """

    rate: float
    kind: str = "shift"
    max_shift: int = 1

    def validate(self, where: str) -> None:
        if not 0 <= self.rate <= 1:
            raise ConfigError(f"{where}: noise rate must be within [0, 1], got {self.rate}")
        if self.kind not in NOISE_KINDS:
            raise ConfigError(f"{where}: unknown noise kind '{self.kind}' (use {' or '.join(NOISE_KINDS)})")
        if self.max_shift < 1:
            raise ConfigError(f"{where}: max_shift must be at least 1")


@dataclass
class PartPlan:
    name: str
    columns: list[str]
    coverage: float | str = 1.0  # a share in (0, 1], or "observed": rows with any own value
    noise: dict[str, NoiseSpec] = field(default_factory=dict)


@dataclass
class SplitPlan:
    """Which columns go where. Load from YAML with :meth:`from_yaml` or build in Python."""

    identifier: str
    common: list[str]
    parts: list[PartPlan]
    control_share: float = 0.2
    kinds: dict[str, str] = field(default_factory=dict)

    # -- (de)serialisation ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SplitPlan:
        if not isinstance(d, Mapping):
            raise ConfigError("split plan: expected a mapping with keys identifier, common, parts")
        known = {"identifier", "common", "parts", "control_share", "kinds"}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"split plan: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        for key in ("identifier", "common", "parts"):
            if key not in d:
                raise ConfigError(f"split plan: missing key '{key}'")
        parts_raw = d["parts"]
        if not isinstance(parts_raw, Mapping) or len(parts_raw) < 2:
            raise ConfigError("split plan: 'parts' must map at least two part names to their settings")
        parts = []
        for name, spec in parts_raw.items():
            if isinstance(spec, list):
                spec = {"columns": spec}
            if not isinstance(spec, Mapping) or "columns" not in spec:
                raise ConfigError(f"split plan: part '{name}' needs a 'columns' list")
            bad = set(spec) - {"columns", "coverage", "noise"}
            if bad:
                raise ConfigError(f"split plan: part '{name}': unknown key(s) {', '.join(sorted(bad))}")
            noise = {}
            for col, ns in (spec.get("noise") or {}).items():
                if isinstance(ns, (int, float)):
                    ns = {"rate": ns}
                try:
                    noise[str(col)] = NoiseSpec(**ns)
                except TypeError as e:
                    raise ConfigError(f"split plan: part '{name}', noise on '{col}': {e}") from None
            parts.append(PartPlan(str(name), [str(c) for c in spec["columns"]], spec.get("coverage", 1.0), noise))
        plan = cls(
            identifier=str(d["identifier"]),
            common=[str(c) for c in d["common"]],
            parts=parts,
            control_share=float(d.get("control_share", 0.2)),
            kinds={str(k): str(v) for k, v in (d.get("kinds") or {}).items()},
        )
        plan.check()
        return plan

    @classmethod
    def from_yaml(cls, path: str | Path) -> SplitPlan:
        from synthlink.io import read_yaml

        p = Path(path)
        d = read_yaml(p, "split plan file")
        try:
            return cls.from_dict(d)
        except ConfigError as e:
            raise ConfigError(f"{p}: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "common": list(self.common),
            "control_share": self.control_share,
            "kinds": dict(self.kinds),
            "parts": {
                p.name: {
                    "columns": list(p.columns),
                    "coverage": p.coverage,
                    "noise": {c: asdict(n) for c, n in p.noise.items()},
                }
                for p in self.parts
            },
        }

    # -- validation ---------------------------------------------------------------------------
    def check(self) -> None:
        """Checks that need no data."""
        if not 0 <= self.control_share < 1:
            raise ConfigError(f"split plan: control_share must be within [0, 1), got {self.control_share}")
        if not self.common:
            raise ConfigError("split plan: 'common' must name at least one common variable")
        seen: dict[str, str] = {}
        for c in self.common:
            if c == self.identifier:
                raise ConfigError(f"split plan: column '{c}' is the identifier and cannot be common")
            seen[c] = "common"
        names = set()
        for p in self.parts:
            if p.name in names:
                raise ConfigError(f"split plan: part name '{p.name}' used twice")
            names.add(p.name)
            if isinstance(p.coverage, str):
                if p.coverage != "observed":
                    raise ConfigError(f"split plan: part '{p.name}': coverage must be a share or 'observed'")
            elif not 0 < float(p.coverage) <= 1:
                raise ConfigError(f"split plan: part '{p.name}': coverage must be within (0, 1], got {p.coverage}")
            for c in p.columns:
                if c == self.identifier:
                    raise ConfigError(f"split plan: part '{p.name}' lists the identifier '{c}' as its own column")
                if c in seen:
                    raise ConfigError(f"split plan: column '{c}' is in both '{seen[c]}' and '{p.name}'")
                seen[c] = p.name
            for c, n in p.noise.items():
                if c not in self.common:
                    raise ConfigError(f"split plan: part '{p.name}': noise on '{c}', which is not a common variable")
                n.validate(f"split plan: part '{p.name}', noise on '{c}'")

    def validate(self, df: pd.DataFrame, where: str = "data") -> None:
        """Checks against a table: all plan columns exist, identifier unique, table not empty."""
        check_not_empty(df, where)
        check_identifier(df, self.identifier, where)
        for c in self.common:
            if c not in df.columns:
                raise SchemaError(f"{where}: split plan names common column '{c}', which the table does not have")
        for p in self.parts:
            for c in p.columns:
                if c not in df.columns:
                    raise SchemaError(f"{where}: split plan part '{p.name}' names column '{c}', which the table does not have")
        for c in self.kinds:
            if c not in df.columns:
                raise SchemaError(f"{where}: split plan declares a kind for '{c}', which the table does not have")

    def schema(self, df: pd.DataFrame) -> Schema:
        return Schema.infer(
            df, identifier=self.identifier, common=self.common,
            parts={p.name: p.columns for p in self.parts}, kinds=self.kinds,
        )

    @property
    def part_names(self) -> list[str]:
        return [p.name for p in self.parts]


@dataclass
class SplitResult:
    """The outcome of a split. ``truth`` has one row per training person and one column per part
    holding that person's row position in the part (missing where the part does not cover them).
    It holds no identifiers."""

    train: pd.DataFrame
    control: pd.DataFrame
    parts: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    schema: Schema
    plan: SplitPlan

    def truth_pairs(self, left: str, right: str) -> pd.DataFrame:
        """True links between two parts as row positions (columns ``left``, ``right``)."""
        t = self.truth[[left, right]].dropna()
        return pd.DataFrame({"left": t[left].astype("int64").to_numpy(), "right": t[right].astype("int64").to_numpy()})

    def save(self, out: str | Path) -> Path:
        from synthlink.io import write_json, write_table, write_text

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_table(self.train, out / "train.parquet")
        write_table(self.control, out / "control.parquet")
        for name, part in self.parts.items():
            write_table(part, out / "parts" / f"{name}.parquet")
        write_table(self.truth, out / "truth.parquet")
        write_json(self.schema.to_dict(), out / "schema.json")
        write_text(yaml.safe_dump(self.plan.to_dict(), sort_keys=False), out / "plan.yaml")
        return out

    @classmethod
    def load(cls, folder: str | Path) -> SplitResult:
        import json

        from synthlink.io import read_table

        folder = Path(folder)
        plan = SplitPlan.from_yaml(folder / "plan.yaml")
        schema = Schema.from_dict(json.loads((folder / "schema.json").read_text(encoding="utf-8")))
        parts = {p.name: read_table(folder / "parts" / f"{p.name}.parquet") for p in plan.parts}
        return cls(read_table(folder / "train.parquet"), read_table(folder / "control.parquet"), parts,
                   read_table(folder / "truth.parquet"), schema, plan)


def holdout(df: pd.DataFrame, control_share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random split into (train, control); every row lands in exactly one of them."""
    rng = np.random.default_rng(seed)
    n = len(df)
    n_control = int(round(n * control_share))
    perm = rng.permutation(n)
    control_idx = np.sort(perm[:n_control])
    train_idx = np.sort(perm[n_control:])
    return df.iloc[train_idx].reset_index(drop=True), df.iloc[control_idx].reset_index(drop=True)


def _apply_noise(part: pd.DataFrame, col: str, spec: NoiseSpec, kind: Kind, rng: np.random.Generator) -> None:
    s = part[col]
    hit = (rng.random(len(part)) < spec.rate) & s.notna().to_numpy()
    k = int(hit.sum())
    if k == 0:
        return
    if spec.kind == "shift":
        mag = rng.integers(1, spec.max_shift + 1, size=k) * rng.choice([-1, 1], size=k)
        if kind is Kind.DATE or pd.api.types.is_datetime64_any_dtype(s):
            part.loc[hit, col] = s[hit] + pd.to_timedelta(mag, unit="D")
        elif pd.api.types.is_numeric_dtype(s):
            part.loc[hit, col] = s[hit] + mag.astype(s.dtype if pd.api.types.is_integer_dtype(s) else float)
        else:
            raise SchemaError(f"noise on '{col}': 'shift' needs a numeric or date column; use 'resample'")
    else:
        values = s.dropna()
        cats, counts = np.unique(values.astype(str).to_numpy(), return_counts=True)
        lookup = dict(zip(values.astype(str), values, strict=False))
        if len(cats) < 2:
            return
        p = counts / counts.sum()
        cur = s[hit].astype(str).to_numpy()
        new = rng.choice(cats, size=k, p=p)
        same = new == cur
        while same.any():  # redraw until every hit value really changes
            new[same] = rng.choice(cats, size=int(same.sum()), p=p)
            same = new == cur
        part.loc[hit, col] = pd.Series([lookup[v] for v in new], index=s.index[hit], dtype=s.dtype)


def covered(frame: pd.DataFrame, plan: SplitPlan, parts: list[str]) -> np.ndarray:
    """Which rows of ``frame`` every one of ``parts`` covers: a part of coverage 'observed' holds the
    rows with any of its own values (a part without own columns holds every row); a part of random
    coverage (a share) may hold any row, so it rules none out. The split draws its parts with this
    rule, and the evaluation applies it to the control rows."""
    mask = np.ones(len(frame), dtype=bool)
    for p in plan.parts:
        if p.name in parts and p.coverage == "observed" and p.columns:
            mask &= frame[p.columns].notna().any(axis=1).to_numpy()
    return mask


def vertical_split(train: pd.DataFrame, plan: SplitPlan, seed: int, schema: Schema | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Cut ``train`` into parts. Returns (parts, truth)."""
    schema = schema or plan.schema(train)
    rng = np.random.default_rng(seed)
    n = len(train)
    parts: dict[str, pd.DataFrame] = {}
    truth = pd.DataFrame(index=pd.RangeIndex(n))
    for p in plan.parts:
        if p.coverage == "observed":
            members = np.flatnonzero(covered(train, plan, [p.name]))
        else:
            share = float(p.coverage)
            k = n if share >= 1 else int(round(n * share))
            members = np.sort(rng.choice(n, size=k, replace=False))
        cols = [plan.identifier, *plan.common, *p.columns]
        order = rng.permutation(len(members))
        rows = members[order]  # row r of the part is train row rows[r]
        part = train.iloc[rows][cols].reset_index(drop=True)
        for col, spec in p.noise.items():
            _apply_noise(part, col, spec, schema.kind(col), rng)
        parts[p.name] = part
        pos = pd.array(np.full(n, pd.NA), dtype="Int64")
        pos[rows] = np.arange(len(rows))
        truth[p.name] = pos
    return parts, truth


def split(df: pd.DataFrame, plan: SplitPlan, seed: int = 0, where: str = "data") -> SplitResult:
    """Validate, hold out the control set and split the rest into parts."""
    plan.validate(df, where)
    keep = [plan.identifier, *plan.common, *[c for p in plan.parts for c in p.columns]]
    df = df[keep]
    validate_table(df, where, plan.kinds, identifier=plan.identifier, log=True)
    schema = plan.schema(df)
    train, control = holdout(df, plan.control_share, seed)
    parts, truth = vertical_split(train, plan, seed + 1, schema)
    return SplitResult(train, control, parts, truth, schema, plan)

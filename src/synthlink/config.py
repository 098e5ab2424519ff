"""Study configuration: one YAML file (or dict) that says which data, which split plan, which
synthesizers and linkers with which parameters, which research questions and privacy settings,
which seeds. Validated with messages that name the key and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthlink.errors import ConfigError
from synthlink.io import read_yaml
from synthlink.split import SplitPlan

#: parameters that would carry a secret into metrics.json and the report
SECRET_PARAMS = ("key", "secret_key", "pseudonym_key")

TOP_KEYS = {
    "name", "data", "split", "link_parts", "synthesizers", "linkers", "questions", "target",
    "privacy", "seeds", "out", "work_dir", "evaluate",
}


@dataclass
class MethodSpec:
    """A synthesizer or linker with its parameters. ``label`` names it in the report (defaults to
    the method name, plus the variant where one is given)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            variant = self.params.get("variant") or self.params.get("m_from")
            self.label = f"{self.name}:{variant}" if variant else self.name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params), "label": self.label}


def _methods(raw: Any, key: str) -> list[MethodSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"'{key}' must be a list of method names or {{name, params}} mappings")
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            out.append(MethodSpec(item))
        elif isinstance(item, Mapping) and "name" in item:
            bad = set(item) - {"name", "params", "label"}
            if bad:
                raise ConfigError(f"'{key}[{i}]': unknown key(s) {', '.join(sorted(bad))}")
            params = item.get("params") or {}
            if not isinstance(params, Mapping):
                raise ConfigError(f"'{key}[{i}].params' must be a mapping")
            out.append(MethodSpec(str(item["name"]), dict(params), str(item.get("label") or "")))
        else:
            raise ConfigError(f"'{key}[{i}]' must be a method name or a mapping with 'name'")
    for i, m in enumerate(out):
        for secret in SECRET_PARAMS:
            if secret in m.params:
                raise ConfigError(
                    f"'{key}[{i}].params.{secret}': a key must not be written in the config (it would "
                    "reach the outputs); give it through the SYNTHLINK_PSEUDONYM_KEY environment variable "
                    "or 'key_file'"
                )
    labels = [m.label for m in out]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise ConfigError(f"'{key}': label(s) used twice: {', '.join(sorted(dup))} (give each a 'label')")
    return out


@dataclass
class StudyConfig:
    data: dict[str, Any]
    plan: SplitPlan
    synthesizers: list[MethodSpec]
    linkers: list[MethodSpec]
    name: str = "study"
    link_parts: tuple[str, str] | None = None
    questions: list[Any] = field(default_factory=list)
    target: str | None = None
    privacy: dict[str, Any] = field(default_factory=dict)
    evaluate: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    out: Path | None = None
    work_dir: Path | None = None
    base_dir: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base_dir: str | Path | None = None) -> StudyConfig:
        if not isinstance(d, Mapping):
            raise ConfigError("study config: expected a mapping at the top level")
        unknown = set(d) - TOP_KEYS
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (known: {', '.join(sorted(TOP_KEYS))})")
        base = Path(base_dir) if base_dir else Path.cwd()
        for key in ("data", "split", "synthesizers", "linkers"):
            if key not in d:
                raise ConfigError(f"missing key '{key}'")
        data = d["data"]
        if not isinstance(data, Mapping) or not ({"demo", "path"} & set(data)):
            raise ConfigError("'data' must be {demo: {n: N, seed: S}} or {path: FILE} (CSV, Parquet or file.duckdb with table: NAME)")
        split_raw = d["split"]
        try:
            if isinstance(split_raw, str):
                plan = SplitPlan.from_yaml(base / split_raw)
            elif isinstance(split_raw, Mapping) and split_raw.get("plan") == "demo":
                from synthlink.demo import DEMO_PLAN

                plan = SplitPlan.from_dict({**DEMO_PLAN, **{k: v for k, v in split_raw.items() if k != "plan"}})
            else:
                plan = SplitPlan.from_dict(split_raw)
        except ConfigError as e:
            raise ConfigError(f"'split': {e}") from None
        seeds = d.get("seeds", [0])
        if isinstance(seeds, int):
            seeds = [seeds]
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
            raise ConfigError("'seeds' must be an integer or a non-empty list of integers")
        link_parts = d.get("link_parts")
        if link_parts is not None:
            if not isinstance(link_parts, list) or len(link_parts) != 2:
                raise ConfigError("'link_parts' must name exactly two parts")
            for p in link_parts:
                if p not in plan.part_names:
                    raise ConfigError(f"'link_parts': unknown part '{p}' (parts: {', '.join(plan.part_names)})")
            link_parts = (str(link_parts[0]), str(link_parts[1]))
        questions = d.get("questions") or []
        if not isinstance(questions, list):
            raise ConfigError("'questions' must be a list of model formulas")
        synths = _methods(d["synthesizers"], "synthesizers")
        linkers = _methods(d["linkers"], "linkers")
        from synthlink import link, synth

        for m in synths:
            if m.name not in synth.available():
                raise ConfigError(f"'synthesizers': unknown method '{m.name}' (available: {', '.join(synth.available())})")
        for m in linkers:
            if m.name not in link.available():
                raise ConfigError(f"'linkers': unknown method '{m.name}' (available: {', '.join(link.available())})")
        if not linkers:
            raise ConfigError("'linkers' must name at least one linkage method")
        privacy = d.get("privacy") or {}
        if not isinstance(privacy, Mapping):
            raise ConfigError("'privacy' must be a mapping (keys, targets, secret, n_attacks)")
        out = d.get("out")
        work_dir = d.get("work_dir")
        return cls(
            data=dict(data), plan=plan, synthesizers=synths, linkers=linkers,
            name=str(d.get("name", "study")), link_parts=link_parts, questions=list(questions),
            target=d.get("target"), privacy=dict(privacy), evaluate=dict(d.get("evaluate") or {}),
            seeds=list(seeds), out=(base / out) if out else None,
            work_dir=(base / work_dir) if work_dir else None, base_dir=base,
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> StudyConfig:
        p = Path(path)
        d = read_yaml(p, "study config")
        try:
            return cls.from_dict(d, base_dir=p.parent)
        except ConfigError as e:
            raise ConfigError(f"{p}: {e}") from None

    @property
    def parts(self) -> tuple[str, str]:
        return self.link_parts or (self.plan.part_names[0], self.plan.part_names[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "data": self.data, "split": self.plan.to_dict(),
            "link_parts": list(self.parts),
            "synthesizers": [m.to_dict() for m in self.synthesizers],
            "linkers": [m.to_dict() for m in self.linkers],
            "questions": self.questions, "target": self.target, "privacy": self.privacy,
            "evaluate": self.evaluate, "seeds": self.seeds,
        }


#: the research question of the demo: education drives wage within age and sex (a cross-part
#: relationship that the common variables do not explain)
DEMO_QUESTIONS = ["np.log(wage) ~ isced + age + C(sex)"]


def demo_study_dict(n: int = 20_000, seed: int = 0) -> dict[str, Any]:
    """The built-in demo study: the demo population, education x employment, CART with the floor
    beside it, and every linkage method that is available."""
    from synthlink import link, synth

    synths = [s for s in ("cart", "marginals") if s in synth.available()]
    linkers: list[Any] = [m for m in ("identifier", "exact", "probabilistic", "distance", "propensity") if m in link.available()]
    if "hotdeck" in link.available():
        linkers.append({"name": "hotdeck", "params": {"variant": "nnd"}})
    return {
        "name": f"demo population, {n:,} persons",
        "data": {"demo": {"n": n, "seed": seed}},
        "split": {"plan": "demo"},
        "link_parts": ["education", "employment"],
        "synthesizers": synths,
        "linkers": linkers,
        "questions": DEMO_QUESTIONS,
        "target": "wage",
        "privacy": {"secret": "wage", "n_attacks": 300},
        "seeds": [seed],
    }

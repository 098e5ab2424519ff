"""Study configuration: one YAML file (or dict) that says which data, which split plan, which
synthesizers and linkers with which parameters, which research questions and privacy settings,
which seeds. Validated with messages that name the key and what is wrong."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthlink.config_keys import check_keys
from synthlink.config_keys import closest as _closest
from synthlink.config_sections import BridgeConfig, OptionsConfig, parse_bridge, parse_options
from synthlink.errors import ConfigError
from synthlink.io import read_yaml
from synthlink.link.plan import LinkPlan, check_edge_names
from synthlink.split import SplitPlan

#: parameters that would carry a secret into metrics.json and the report
SECRET_PARAMS = ("key", "secret_key", "pseudonym_key")

TOP_KEYS = {
    "name", "data", "split", "link_parts", "link_plan", "synthesizers", "linkers", "questions", "target",
    "privacy", "seeds", "out", "work_dir", "evaluate", "bridge", "options",
}
#: the keys of every nested mapping of a study config (method params are checked against the
#: method's own signature, evaluate.utility / evaluate.privacy against the evaluator's options)
DATA_KEYS = {"demo", "path", "table", "na_values", "add_identifier"}
DEMO_DATA_KEYS = {"n", "seed"}
SPLIT_KEYS = {"identifier", "common", "parts", "control_share", "kinds"}
PART_KEYS = {"columns", "coverage", "noise"}
NOISE_KEYS = {"rate", "kind", "max_shift"}
METHOD_KEYS = {"name", "params", "label"}
QUESTION_KEYS = {"formula", "family", "name"}
#: the study's own privacy settings (every other privacy_report option goes under evaluate.privacy)
PRIVACY_KEYS = {"keys", "targets", "secret", "n_attacks"}
EVALUATE_KEYS = {"utility", "privacy", "baseline_utility", "influence_linker", "n_jobs", "measures", "pair_privacy"}
#: evaluator options the study sets itself (a config may not give them)
_STUDY_SET_UTILITY = {"part_columns", "common", "questions", "target", "baseline", "seed", "kinds"}
_STUDY_SET_PRIVACY = {"common", "part_columns", "seed", "source", "kinds"}


def _mapping(d: Mapping[str, Any], key: str, section: str) -> Mapping[str, Any]:
    v = d.get(key)
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise ConfigError(f"{section}.{key}: expected a mapping, got {type(v).__name__}")
    return v


def check_method_params(cls: Callable[..., Any], params: Mapping[str, Any], section: str, study_set: Iterable[str] = ()) -> None:
    """Method parameters must be arguments of the method (unless it takes ``**params``, as the SDV
    adapters do); ``study_set`` are arguments the study passes itself."""
    sig = inspect.signature(cls)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    names = {n for n, p in sig.parameters.items()
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    check_keys(params, names - set(study_set), section)


def _check_split_keys(raw: Mapping[str, Any], section: str = "'split'") -> None:
    check_keys(raw, SPLIT_KEYS | {"plan"}, section)
    parts = raw.get("parts")
    if isinstance(parts, Mapping):
        for name, spec in parts.items():
            if isinstance(spec, Mapping):
                check_keys(spec, PART_KEYS, f"{section} part '{name}'")
                noise = spec.get("noise")
                if isinstance(noise, Mapping):
                    for col, ns in noise.items():
                        if isinstance(ns, Mapping):
                            check_keys(ns, NOISE_KEYS, f"{section} part '{name}', noise on '{col}'")


# -- research questions: every name a formula uses is checked against the linked table's columns


def _formula_namespace() -> set[str]:
    """Names a formula may use as functions or modules: patsy's builtins (C, I, Q, center, ...),
    Python's builtins and the names statsmodels evaluates formulas among (the globals of
    :mod:`synthlink.evaluate.utility.questions`, where the fits run: ``np`` among them)."""
    import builtins

    import patsy.builtins

    from synthlink.evaluate.utility import questions

    return set(patsy.builtins.__all__) | set(dir(builtins)) | set(vars(questions))


def formula_columns(formula: str) -> tuple[list[str], list[str]]:
    """The columns a patsy formula reads and the functions or modules it calls, in order of
    appearance. ``np.log(wage) ~ isced + C(sex)`` reads wage, isced, sex and calls np, C;
    ``Q("a b")`` reads the column ``a b``. A formula patsy cannot parse is a ConfigError."""
    from patsy import ModelDesc, PatsyError

    try:
        desc = ModelDesc.from_formula(formula)
    except PatsyError as e:
        raise ConfigError(f"formula '{formula}' does not parse ({str(e).splitlines()[0]})") from None
    cols: list[str] = []
    funcs: list[str] = []
    for term in [*desc.lhs_termlist, *desc.rhs_termlist]:
        for factor in term.factors:
            code = getattr(factor, "code", None)
            if code is None:
                continue
            try:
                tree = ast.parse(code, mode="eval")
            except SyntaxError:
                raise ConfigError(f"formula '{formula}': term '{code}' is not a valid expression") from None
            called = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    f = node.func
                    while isinstance(f, ast.Attribute):
                        f = f.value
                    if isinstance(f, ast.Name):
                        called.add(id(f))
                        funcs.append(f.id)
                        if f.id == "Q" and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                            cols.append(node.args[0].value)
                elif isinstance(node, ast.Attribute):
                    base = node.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if isinstance(base, ast.Name):
                        called.add(id(base))
                        funcs.append(base.id)
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and id(node) not in called and isinstance(node.ctx, ast.Load):
                    cols.append(node.id)
    return list(dict.fromkeys(cols)), list(dict.fromkeys(funcs))


def check_formula(formula: str, columns: Iterable[str], section: str) -> None:
    """One line naming the first name of ``formula`` that is neither a column of the linked table
    nor a function a formula may call."""
    columns = list(columns)
    cols, funcs = formula_columns(formula)
    known = set(columns)
    for c in cols:
        if c not in known:
            raise ConfigError(f"{section}: '{formula}' uses '{c}', which is not a column of the linked table "
                              f"({_closest(c, columns)}columns: {', '.join(columns)})")
    space = _formula_namespace()
    for f in funcs:
        if f not in space and f not in known:
            raise ConfigError(f"{section}: '{formula}' calls '{f}', which is not a function a formula can use "
                              "(use np.log, C, I, Q, center, standardize, ...)")


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
            check_keys(item, METHOD_KEYS, f"'{key}[{i}]'")
            params = item.get("params") or {}
            if not isinstance(params, Mapping):
                raise ConfigError(f"'{key}[{i}].params' must be a mapping")
            if params.get("insecure_reproducible_noise") is not None:
                raise ConfigError(f"'{key}[{i}].params.insecure_reproducible_noise' makes the DP noise reproducible and "
                                  "voids the privacy guarantee; it is for tests only and refused in studies")
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


def _check_evaluate(ev: Mapping[str, Any]) -> None:
    check_keys(ev, EVALUATE_KEYS, "'evaluate'")
    if isinstance(ev.get("utility"), Mapping):
        from synthlink.evaluate.utility import utility_report

        check_method_params(utility_report, ev["utility"], "'evaluate.utility'", _STUDY_SET_UTILITY)
    elif ev.get("utility") not in (None, True, False):
        raise ConfigError("'evaluate.utility' must be true, false or a mapping of utility_report options")
    if isinstance(ev.get("privacy"), Mapping):
        from synthlink.evaluate.privacy import privacy_report

        opts = dict(ev["privacy"])
        opts.pop("max_rows", None)  # the study's own sampling option
        check_method_params(privacy_report, opts, "'evaluate.privacy'", _STUDY_SET_PRIVACY)
    elif ev.get("privacy") not in (None, True, False):
        raise ConfigError("'evaluate.privacy' must be true, false or a mapping of privacy_report options")
    if ev.get("pair_privacy") not in (None, True, False, "all", "first"):
        raise ConfigError("'evaluate.pair_privacy' must be first (default: the first linker that does not use the "
                          "identifier), all, or false: each linked pair's privacy in a plan of three or more parts")
    if ev.get("measures") not in (None, True, False):
        raise ConfigError("'evaluate.measures' must be true or false (the registered measures on every J*)")
    il = ev.get("influence_linker")
    if il is not None:
        if not isinstance(il, Mapping) or "name" not in il:
            raise ConfigError("'evaluate.influence_linker' must be a mapping {name, params}")
        check_keys(il, {"name", "params"}, "'evaluate.influence_linker'")
        from synthlink import link

        if il["name"] not in link.available():
            raise ConfigError(f"'evaluate.influence_linker': unknown method '{il['name']}' "
                              f"({_closest(il['name'], link.available())}available: {', '.join(link.available())})")
        check_method_params(link.linker_class(str(il["name"])), _mapping(il, "params", "'evaluate.influence_linker'"),
                            "'evaluate.influence_linker.params'", {"on"})


def _check_columns(plan: SplitPlan, linked: Sequence[str], questions: list[Any], target: Any,
                   privacy: Mapping[str, Any], ev: Mapping[str, Any]) -> None:
    """Names of columns (formulas, the ML target, the privacy secret, keys and targets) must be
    columns of the linked table J*: the common variables and the linked parts' columns."""
    parts = {p.name: p for p in plan.parts}
    cols = list(dict.fromkeys([*plan.common, *[c for n in linked for c in parts[n].columns]]))

    def one(name: Any, section: str) -> None:
        if str(name) not in cols:
            raise ConfigError(f"{section}: '{name}' is not a column of the linked table "
                              f"({_closest(name, cols)}columns: {', '.join(cols)})")

    from synthlink.evaluate.utility import Question

    for i, q in enumerate(questions):
        if isinstance(q, Mapping):
            check_keys(q, QUESTION_KEYS, f"'questions[{i}]'")
        try:
            formula = Question.parse(q).formula
        except ConfigError as e:
            raise ConfigError(f"'questions[{i}]': {e}") from None
        check_formula(formula, cols, f"'questions[{i}]'")
    if target is not None:
        one(target, "'target'")
    opts = dict(privacy)
    if isinstance(ev.get("privacy"), Mapping):
        opts.update(ev["privacy"])
    sec = opts.get("secret")
    for s in ([sec] if isinstance(sec, str) else list(sec or [])):
        one(s, "'privacy.secret'")
    for key in ("keys", "targets"):
        vals = opts.get(key)
        if vals is not None and not isinstance(vals, list):
            raise ConfigError(f"'privacy.{key}' must be a list of columns")
        for v in vals or []:
            one(v, f"'privacy.{key}'")










@dataclass
class StudyConfig:
    data: dict[str, Any]
    plan: SplitPlan
    synthesizers: list[MethodSpec]
    linkers: list[MethodSpec]
    name: str = "study"
    link_parts: tuple[str, str] | None = None
    #: how K >= 2 parts are joined (``link_plan``); None: the two ``link_parts``
    link_plan: LinkPlan | None = None
    #: a linker for one edge of the plan, replacing the study's linker there
    edge_linkers: dict[tuple[str, str], MethodSpec] = field(default_factory=dict)
    questions: list[Any] = field(default_factory=list)
    target: str | None = None
    privacy: dict[str, Any] = field(default_factory=dict)
    evaluate: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    out: Path | None = None
    work_dir: Path | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    bridge: BridgeConfig | None = None
    options: OptionsConfig = field(default_factory=OptionsConfig)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base_dir: str | Path | None = None) -> StudyConfig:
        if not isinstance(d, Mapping):
            raise ConfigError("study config: expected a mapping at the top level")
        check_keys(d, TOP_KEYS, "study config (top level)")
        base = Path(base_dir) if base_dir else Path.cwd()
        for key in ("data", "split", "synthesizers", "linkers"):
            if key not in d:
                raise ConfigError(f"missing key '{key}'")
        data = d["data"]
        if not isinstance(data, Mapping) or not ({"demo", "path"} & set(data)):
            raise ConfigError("'data' must be {demo: {n: N, seed: S}} or {path: FILE} (CSV, Parquet or file.duckdb with table: NAME)")
        check_keys(data, DATA_KEYS, "'data'")
        if isinstance(data.get("demo"), Mapping):
            check_keys(data["demo"], DEMO_DATA_KEYS, "'data.demo'")
        split_raw = d["split"]
        if isinstance(split_raw, Mapping):
            _check_split_keys(split_raw)
        elif isinstance(split_raw, str) and (base / split_raw).exists():
            plan_raw = read_yaml(base / split_raw, "split plan file")
            if isinstance(plan_raw, Mapping):
                _check_split_keys(plan_raw, f"'split' ({split_raw})")
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
        link_plan: LinkPlan | None = None
        edge_raw: Any = {}
        if d.get("link_plan") is not None:
            if link_parts is not None:
                raise ConfigError("give 'link_parts' (two parts) or 'link_plan' (K parts), not both")
            link_plan = LinkPlan.from_dict(d["link_plan"], plan.part_names)
            link_plan.check_columns({p.name: [*plan.common, *p.columns] for p in plan.parts})
            edge_raw = d["link_plan"].get("edges") or {}
            if not isinstance(edge_raw, Mapping):
                raise ConfigError("'link_plan.edges' must map an edge (a-b) to a linker, e.g. {employment-social: distance}")
            if link_plan.k == 2:  # the chain of two is the pair of link_parts
                link_parts, link_plan = link_plan.edges[0], None
                if edge_raw:
                    raise ConfigError("'link_plan.edges': a plan of two parts has one edge; name its linker in 'linkers'")
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
        for section, methods, cls_of in (("synthesizers", synths, synth.synthesizer_class),
                                         ("linkers", linkers, link.linker_class)):
            for i, m in enumerate(methods):
                check_method_params(cls_of(m.name), m.params, f"'{section}[{i}].params' ({m.name})")
        edge_linkers: dict[tuple[str, str], MethodSpec] = {}
        if link_plan is not None and edge_raw:
            named = check_edge_names(edge_raw, link_plan)
            specs = _methods([edge_raw[k] for k in named], "link_plan.edges")
            for (key, edge), m in zip(named.items(), specs, strict=True):
                if m.name not in link.available():
                    raise ConfigError(f"'link_plan.edges.{key}': unknown method '{m.name}' (available: {', '.join(link.available())})")
                check_method_params(link.linker_class(m.name), m.params, f"'link_plan.edges.{key}.params' ({m.name})")
                edge_linkers[edge] = m
        parts_linked: tuple[str, ...] = link_plan.parts if link_plan is not None else (link_parts or (plan.part_names[0], plan.part_names[1]))
        for i, m in enumerate(synths):
            if synth.synthesizer_class(m.name).handed_over:  # one file per linked part, named now
                files = m.params.get("parts")
                if not isinstance(files, Mapping) or any(p not in files for p in parts_linked):
                    raise ConfigError(f"'synthesizers[{i}].params.parts' ({m.name}): give one file per linked part "
                                      f"({', '.join(parts_linked)}), e.g. {{{parts_linked[0]}: {parts_linked[0]}_synthetic.parquet}}")
        privacy = d.get("privacy") or {}
        if not isinstance(privacy, Mapping):
            raise ConfigError("'privacy' must be a mapping (keys, targets, secret, n_attacks)")
        check_keys(privacy, PRIVACY_KEYS, "'privacy'")
        evaluate = d.get("evaluate") or {}
        if not isinstance(evaluate, Mapping):
            raise ConfigError("'evaluate' must be a mapping (utility, privacy, baseline_utility, influence_linker, n_jobs)")
        _check_evaluate(evaluate)
        _check_columns(plan, parts_linked, questions, d.get("target"), privacy, evaluate)
        out = d.get("out")
        work_dir = d.get("work_dir")
        if link_plan is not None and d.get("bridge") is not None:
            raise ConfigError("'bridge': a bridge release links two parts; a 'link_plan' of "
                              f"{link_plan.k} parts cannot use it yet (link two parts with 'link_parts')")
        try:
            bridge = parse_bridge(d.get("bridge"), plan, parts_linked)  # type: ignore[arg-type]
        except ConfigError as e:
            msg = str(e)
            raise ConfigError(msg if msg.startswith("'bridge") else f"'bridge': {msg.removeprefix('bridge: ')}") from None
        return cls(
            data=dict(data), plan=plan, synthesizers=synths, linkers=linkers,
            name=str(d.get("name", "study")), link_parts=link_parts, link_plan=link_plan,
            edge_linkers=edge_linkers, questions=list(questions),
            target=d.get("target"), privacy=dict(privacy), evaluate=dict(evaluate),
            seeds=list(seeds), out=(base / out) if out else None,
            work_dir=(base / work_dir) if work_dir else None, base_dir=base, bridge=bridge,
            options=parse_options(d.get("options")),
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
        """The two linked parts (a plan of K parts: its first edge)."""
        if self.link_plan is not None:
            return self.link_plan.edges[0]
        return self.link_parts or (self.plan.part_names[0], self.plan.part_names[1])

    @property
    def linked_parts(self) -> tuple[str, ...]:
        """Every part J* joins, in plan order."""
        return self.link_plan.parts if self.link_plan is not None else self.parts

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "data": self.data, "split": self.plan.to_dict(),
            **({"link_plan": {**self.link_plan.to_dict(), **({"edges": {f"{a}-{b}": m.to_dict() for (a, b), m in self.edge_linkers.items()}} if self.edge_linkers else {})}}
               if self.link_plan is not None else {"link_parts": list(self.parts)}),
            "synthesizers": [m.to_dict() for m in self.synthesizers],
            "linkers": [m.to_dict() for m in self.linkers],
            "questions": self.questions, "target": self.target, "privacy": self.privacy,
            "evaluate": self.evaluate, "seeds": self.seeds,
            **({"bridge": self.bridge.to_dict()} if self.bridge is not None else {}),
            "options": self.options.to_dict(),
        }


# the demo study's config lives with the demo (re-exported here, where it always was)
from synthlink.demo.study import DEMO_QUESTIONS, DEMO_THREE_REGISTERS, demo_study_dict  # noqa: E402, F401

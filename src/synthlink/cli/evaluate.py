"""``synthlink evaluate --train T --control C --synthetic S [--part-columns PART=col1,col2 ...]
[--common col,...] [--questions FILE] [--target COL] [--seed S] --out METRICS.json``

Utility and privacy of a (linked) synthetic table, measured together: writes one JSON file with
top-level keys ``utility`` (:func:`synthlink.evaluate.utility.utility_report`: the synthetic table
against train, control against train beside it) and ``privacy``
(:func:`synthlink.evaluate.privacy.privacy_report`: train as members, control as non-members).
A measure that fails is recorded as an error entry; the rest still runs.

``--questions`` is a YAML file holding a list of research questions, each a statsmodels formula
(``np.log(wage) ~ C(isced) + age``) or a mapping ``{formula: ..., family: ols|logit|poisson,
name: ...}`` (a top-level mapping with a ``questions`` key is accepted too).

Without ``--common``, the common variables are the columns train and synthetic share that are in
no part, are not the ``--identifier``, do not start with ``_link`` and are not a key (a
non-float column with a distinct value on every train row: an identifier nobody declared).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from synthlink.errors import ConfigError, InputError


def parse_part_columns(items: list[str] | None) -> dict[str, list[str]]:
    """``["edu=isced,field", "work=wage"]`` -> ``{"edu": ["isced", "field"], "work": ["wage"]}``."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--part-columns {item!r}: expected PART=col1,col2")
        name, cols = item.split("=", 1)
        name = name.strip()
        columns = [c.strip() for c in cols.split(",") if c.strip()]
        if not name:
            raise ConfigError(f"--part-columns {item!r}: the part needs a name before '='")
        if not columns:
            raise ConfigError(f"--part-columns {item!r}: part '{name}' lists no column")
        if name in out:
            raise ConfigError(f"--part-columns: part '{name}' given twice")
        seen = {c: p for p, cs in out.items() for c in cs}
        for c in columns:
            if c in seen:
                raise ConfigError(f"--part-columns: column '{c}' is in both '{seen[c]}' and '{name}'")
        out[name] = columns
    return out


def parse_list(items: list[str] | None) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``."""
    return [c.strip() for item in items or [] for c in item.split(",") if c.strip()]


def read_questions(path: Path | None) -> list[Any]:
    """Research questions from a YAML file (a list, or a mapping with a ``questions`` list)."""
    if path is None:
        return []
    from synthlink.evaluate.utility import Question
    from synthlink.io import read_yaml

    if not path.exists():
        raise InputError(f"{path}: questions file not found")
    raw = read_yaml(path, "questions file")
    if isinstance(raw, dict) and "questions" in raw:
        raw = raw["questions"]
    if raw is None:
        return []
    if isinstance(raw, (str, dict)):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: expected a list of formulas or of mappings with 'formula'")
    out = []
    for q in raw:
        try:
            parsed = Question.parse(q)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None
        out.append({"formula": parsed.formula, "family": parsed.family, "name": parsed.name})
    return out


def privacy_section(train: Any, control: Any, synthetic: Any, *, common: list[str],
                    part_columns: dict[str, list[str]], seed: int) -> dict[str, Any]:
    """``synthlink.evaluate.privacy.privacy_report(...)``, or an error entry when that module is
    missing or the call fails (the utility half is still written)."""
    from synthlink.evaluate.metric import Metric, safe_metric

    holder: dict[str, Any] = {}

    def run() -> Metric:
        import importlib

        mod = importlib.import_module("synthlink.evaluate.privacy")
        privacy_report = getattr(mod, "privacy_report", None)
        if privacy_report is None:
            raise ImportError("synthlink.evaluate.privacy has no privacy_report (not built yet)")
        holder["v"] = privacy_report(train, control, synthetic, common=common,
                                     part_columns=part_columns, seed=seed)
        return Metric("privacy", 0.0, group="privacy")

    m = safe_metric("privacy", "privacy", run)[0]
    if m.error:
        return {"error": m.error, "errors": [m.to_dict()]}
    return holder["v"]


def run_evaluate(train_path: Path, control_path: Path, synthetic_path: Path, out: Path, *,
                 part_columns: dict[str, list[str]] | None = None, common: list[str] | None = None,
                 questions: list[Any] | None = None, target: str | None = None,
                 identifier: str | None = None, baseline_path: Path | None = None,
                 seed: int = 0) -> dict[str, Any]:
    from synthlink.evaluate.utility import utility_report
    from synthlink.io import read_table, write_json

    if out.suffix.lower() != ".json":
        raise InputError(f"{out}: METRICS must end in .json")
    train = read_table(train_path)
    control = read_table(control_path)
    synthetic = read_table(synthetic_path)
    baseline = read_table(baseline_path) if baseline_path is not None else None
    part_columns = dict(part_columns or {})
    if identifier is not None:
        for where, df in ((train_path, train), (control_path, control)):
            if identifier not in df.columns:
                raise InputError(f"{where}: identifier column '{identifier}' not found")
        for p, cols in part_columns.items():
            if identifier in cols:
                raise ConfigError(f"--part-columns: part '{p}' lists the identifier '{identifier}'")
    placed = {c for cols in part_columns.values() for c in cols}
    common = list(common or [])
    skipped: list[str] = []
    if not common and part_columns:
        common = [c for c in train.columns if c in synthetic.columns and c not in placed
                  and c != identifier and not str(c).startswith("_link")]
        # a column with a distinct value on every row is a key, not a common variable
        skipped = [c for c in common if len(train) > 1 and train[c].nunique(dropna=False) == len(train)
                   and not pd.api.types.is_float_dtype(train[c])]
        common = [c for c in common if c not in skipped]
    for c in common:
        if c in placed:
            raise ConfigError(f"--common: column '{c}' is also listed in --part-columns")
    # the identifier never reaches the measures or the metrics file
    drop = [identifier] if identifier else []
    train_, control_, synthetic_ = (df.drop(columns=[c for c in drop if c in df.columns]) for df in (train, control, synthetic))
    baseline_ = baseline.drop(columns=[c for c in drop if c in baseline.columns]) if baseline is not None else None

    utility = utility_report(train_, control_, synthetic_, part_columns=part_columns, common=common,
                             questions=questions or (), target=target, baseline=baseline_, seed=seed)
    privacy = privacy_section(train_, control_, synthetic_, common=common, part_columns=part_columns, seed=seed)
    result = {
        "utility": utility,
        "privacy": privacy,
        "inputs": {
            "train": {"file": train_path.name, "rows": len(train)},
            "control": {"file": control_path.name, "rows": len(control)},
            "synthetic": {"file": synthetic_path.name, "rows": len(synthetic)},
            "baseline": None if baseline is None else {"file": baseline_path.name, "rows": len(baseline)},  # type: ignore[union-attr]
            "part_columns": part_columns, "common": common, "target": target, "seed": seed,
            "questions": questions or [],
            "not_common_unique_keys": skipped,
        },
    }
    write_json(result, out)
    return result


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_cmd(
        train: Annotated[Path, typer.Option("--train", help="real training table (members)")],
        control: Annotated[Path, typer.Option("--control", help="real control table (held out; non-members, sampling-noise reference)")],
        synthetic: Annotated[Path, typer.Option("--synthetic", help="(linked) synthetic table to evaluate")],
        out: Annotated[Path, typer.Option("--out", help="metrics file to write (.json)")],
        part_columns: Annotated[list[str] | None, typer.Option("--part-columns", help="PART=col1,col2 (repeat per part): each institution's own columns")] = None,
        common: Annotated[list[str] | None, typer.Option("--common", help="common variables, comma-separated (default: shared columns in no part)")] = None,
        questions: Annotated[Path | None, typer.Option("--questions", help="YAML list of research questions (formulas or {formula, family})")] = None,
        target: Annotated[str | None, typer.Option("--target", help="column for the machine-learning utility (train on synthetic, test on control)")] = None,
        identifier: Annotated[str | None, typer.Option("--identifier", help="identifier column, left out of every measure")] = None,
        baseline: Annotated[Path | None, typer.Option("--baseline", help="joint table linked from the original split, for the research questions")] = None,
        seed: Annotated[int, typer.Option("--seed", help="seed for every random step")] = 0,
    ) -> None:
        """Utility and privacy of a synthetic table, side by side, into one metrics JSON file."""
        res = run_evaluate(train, control, synthetic, out, part_columns=parse_part_columns(part_columns),
                           common=parse_list(common), questions=read_questions(questions), target=target,
                           identifier=identifier, baseline_path=baseline, seed=seed)
        s = res["utility"].get("summary", {})

        def f(v: Any) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        typer.echo(f"utility: mean TVD {f(s.get('tvd_mean_synthetic'))} (control {f(s.get('tvd_mean_control'))}); "
                   f"cross-part association diff {f(s.get('cross_assoc_diff_mean_synthetic'))} "
                   f"(control {f(s.get('cross_assoc_diff_mean_control'))}); "
                   f"S_pMSE {f(s.get('s_pmse_synthetic'))} (control {f(s.get('s_pmse_control'))})")
        n_err = len(res["utility"].get("errors", []))
        priv = res["privacy"]
        if isinstance(priv, dict) and "error" in priv and len(priv) <= 2:
            typer.echo(f"privacy: not measured ({priv['error']})")
        else:
            typer.echo("privacy: measured")
        if n_err:
            typer.echo(f"{n_err} utility measure(s) failed; see 'errors' in the metrics file")
        typer.echo(f"wrote {out}")

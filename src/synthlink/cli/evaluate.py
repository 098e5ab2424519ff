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
                    part_columns: dict[str, list[str]], seed: int, secret: str | None = None,
                    n_attacks: int | None = None, kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """The privacy stage :func:`synthlink.pipeline.evaluate_privacy`, as ``synthlink run`` calls it,
    or an error entry when it fails (the utility half is still written)."""
    from synthlink.pipeline import evaluate_privacy, guard

    privacy: dict[str, Any] = {}
    if secret:
        privacy["secret"] = secret
    if n_attacks is not None:
        privacy["n_attacks"] = n_attacks
    return guard(lambda: evaluate_privacy(train, control, synthetic, common, part_columns, privacy, seed, {},
                                          None, kinds))


def split_inputs(folder: Path, parts: list[str] | None = None) -> dict[str, Any]:
    """What ``synthlink run`` evaluates J* against, from a folder ``synthlink split`` wrote: the
    training rows that both linked parts cover (common + each part's own columns), the control rows
    those parts would cover, the part columns, the common variables and the identifier."""
    from synthlink.cli._guard import split_info
    from synthlink.io import read_table
    from synthlink.pipeline import reference_tables
    from synthlink.split import SplitPlan

    folder = Path(folder)
    if not (folder / "plan.yaml").exists():
        raise InputError(f"{folder}: not a folder written by synthlink split (no plan.yaml)")
    plan = SplitPlan.from_yaml(folder / "plan.yaml")
    names = list(parts or (split_info(folder).get("parts") or plan.part_names)[:2])
    if len(names) != 2:
        raise ConfigError(f"--parts: name exactly two parts (the split has {', '.join(plan.part_names)})")
    for n in names:
        if n not in plan.part_names:
            raise ConfigError(f"--parts: unknown part '{n}' (the split has {', '.join(plan.part_names)})")
    lname, rname = names
    own = {p.name: list(p.columns) for p in plan.parts}
    train, control, truth = (read_table(folder / f"{t}.parquet") for t in ("train", "control", "truth"))
    in_both = truth[[lname, rname]].notna().all(axis=1).to_numpy()
    ref_train, ref_control = reference_tables(train, control, truth, plan, lname, rname)
    return {
        "train": ref_train,
        "control": ref_control,
        "kinds": dict(plan.kinds),
        "part_columns": {lname: own[lname], rname: own[rname]},
        "common": list(plan.common),
        "identifier": plan.identifier,
        "rows": {"train": int(len(train)), "train_in_both_parts": int(in_both.sum()), "control": int(len(control))},
    }


def _linked_rows(df: pd.DataFrame) -> pd.DataFrame:
    """A joint table written with ``synthlink reconstruct --all``: its linked rows, without the
    bookkeeping columns (what synthlink run evaluates)."""
    from synthlink.reconstruct import SCORE, STATUS

    if STATUS in df.columns:
        df = df[df[STATUS] == "linked"].reset_index(drop=True)
    return df.drop(columns=[c for c in (STATUS, SCORE) if c in df.columns])


def _refuse_identifiers_in(df: pd.DataFrame, where: str, names: set[str], real: dict[str, set[str]]) -> None:
    """No identifier in a table to evaluate: no identifier-like column (declared or shaped), and no
    column carrying the real identifiers of train or control."""
    from synthlink.cli._guard import refuse_identifiers
    from synthlink.errors import PrivacyError
    from synthlink.synth.files import carries_ids

    refuse_identifiers(df, where, declared=sorted(names), how="leave it out of the table (synthlink reconstruct --drop-column {col})")
    for c in df.columns:
        for col, ids in real.items():
            if ids and carries_ids(df[c], ids):
                raise PrivacyError(f"{where}: column '{c}' carries real values of the identifier '{col}'; "
                                   "drop it from the table (synthlink reconstruct --drop-column)")


def run_evaluate(train_path: Path | None, control_path: Path | None, synthetic_path: Path, out: Path, *,
                 part_columns: dict[str, list[str]] | None = None, common: list[str] | None = None,
                 questions: list[Any] | None = None, target: str | None = None,
                 identifier: str | None = None, baseline_path: Path | None = None,
                 seed: int = 0, split_dir: Path | None = None, parts: list[str] | None = None,
                 secret: str | None = None, n_attacks: int | None = None,
                 overwrite: bool = True) -> dict[str, Any]:
    from synthlink.cli._guard import check_output
    from synthlink.io import read_table, write_json
    from synthlink.pipeline import evaluate_utility
    from synthlink.synth.files import as_key
    from synthlink.validate import identifier_like_columns

    if out.suffix.lower() != ".json":
        raise InputError(f"{out}: METRICS must end in .json")
    check_output(out, overwrite)
    from_split: dict[str, Any] | None = None
    if split_dir is not None:
        if train_path is not None or control_path is not None:
            raise ConfigError("--split gives train and control: leave out --train and --control")
        from_split = split_inputs(split_dir, parts)
        train, control = from_split["train"], from_split["control"]
        train_path, control_path = Path(split_dir) / "train.parquet", Path(split_dir) / "control.parquet"
        raw = [read_table(train_path), read_table(control_path)]
        part_columns = part_columns or from_split["part_columns"]
        common = common or from_split["common"]
        identifier = identifier or from_split["identifier"]
    else:
        if train_path is None or control_path is None:
            raise ConfigError("give --train and --control, or --split DIR (a folder written by synthlink split)")
        train = read_table(train_path)
        control = read_table(control_path)
        raw = [train, control]
    synthetic = _linked_rows(read_table(synthetic_path))
    baseline = _linked_rows(read_table(baseline_path)) if baseline_path is not None else None
    if secret and secret not in synthetic.columns:
        raise ConfigError(f"--secret: column '{secret}' is not in {synthetic_path}")
    part_columns = dict(part_columns or {})
    if identifier is not None and from_split is None:
        for where, df in ((train_path, train), (control_path, control)):
            if identifier not in df.columns:
                raise InputError(f"{where}: identifier column '{identifier}' not found")
    if identifier is not None:
        for p, cols in part_columns.items():
            if identifier in cols:
                raise ConfigError(f"--part-columns: part '{p}' lists the identifier '{identifier}'")
    placed = {c for cols in part_columns.values() for c in cols}
    # identifiers of the real tables: declared, or unique and key-shaped; left out of every measure
    real_ids = {c for df in raw for c, _ in identifier_like_columns(df, [identifier] if identifier else [])
                if c not in placed and c not in (common or [])}
    real_values = {c: set(as_key(pd.concat([df[c] for df in raw if c in df.columns], ignore_index=True)).dropna())
                   for c in real_ids}
    names = real_ids | ({identifier} if identifier else set())
    _refuse_identifiers_in(synthetic, str(synthetic_path), names, real_values)
    if baseline is not None:
        _refuse_identifiers_in(baseline, str(baseline_path), names, real_values)
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
    drop = sorted(real_ids | ({identifier} if identifier else set()))
    train_, control_ = (df.drop(columns=[c for c in drop if c in df.columns]) for df in (train, control))
    synthetic_, baseline_ = synthetic, baseline

    kinds = from_split["kinds"] if from_split is not None else None
    utility = evaluate_utility(train_, control_, synthetic_, part_columns, common, list(questions or ()),
                               target, baseline_, seed, {}, kinds)
    privacy = privacy_section(train_, control_, synthetic_, common=common, part_columns=part_columns, seed=seed,
                              secret=secret, n_attacks=n_attacks, kinds=kinds)
    result = {
        "utility": utility,
        "privacy": privacy,
        "inputs": {
            "train": {"file": train_path.name, "rows": len(train)},
            "control": {"file": control_path.name, "rows": len(control)},
            "synthetic": {"file": synthetic_path.name, "rows": len(synthetic)},
            "baseline": None if baseline is None else {"file": baseline_path.name, "rows": len(baseline)},  # type: ignore[union-attr]
            "split": None if from_split is None else {"folder": Path(split_dir).name, **from_split["rows"]},  # type: ignore[arg-type]
            "part_columns": part_columns, "common": common, "target": target, "seed": seed,
            "questions": questions or [], "secret": secret, "n_attacks": n_attacks,
            "not_common_unique_keys": skipped,
            "identifiers_left_out": drop,
        },
    }
    write_json(result, out)
    return result


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_cmd(
        synthetic: Annotated[Path, typer.Option("--synthetic", help="(linked) synthetic table to evaluate, e.g. written by synthlink reconstruct")],
        out: Annotated[Path, typer.Option("--out", help="metrics file to write (.json)")],
        split_dir: Annotated[Path | None, typer.Option("--split", help="folder written by synthlink split: train, control, parts, common and identifier as synthlink run uses them")] = None,
        parts: Annotated[str | None, typer.Option("--parts", help="with --split: the two linked parts LEFT,RIGHT (default: the plan's first two)")] = None,
        train: Annotated[Path | None, typer.Option("--train", help="real training table (members)")] = None,
        control: Annotated[Path | None, typer.Option("--control", help="real control table (held out; non-members, sampling-noise reference)")] = None,
        part_columns: Annotated[list[str] | None, typer.Option("--part-columns", help="PART=col1,col2 (repeat per part): each institution's own columns")] = None,
        common: Annotated[list[str] | None, typer.Option("--common", help="common variables, comma-separated (default: shared columns in no part)")] = None,
        questions: Annotated[Path | None, typer.Option("--questions", help="YAML list of research questions (formulas or {formula, family})")] = None,
        question: Annotated[list[str] | None, typer.Option("--question", help="a research question as a formula (repeatable), as in a study config")] = None,
        target: Annotated[str | None, typer.Option("--target", help="column for the machine-learning utility (train on synthetic, test on control)")] = None,
        secret: Annotated[str | None, typer.Option("--secret", help="column the inference attack tries to learn (as privacy.secret)")] = None,
        n_attacks: Annotated[int | None, typer.Option("--n-attacks", min=1, help="attacks per privacy measure (as privacy.n_attacks; default 500)")] = None,
        identifier: Annotated[str | None, typer.Option("--identifier", help="identifier column of train and control, left out of every measure")] = None,
        baseline: Annotated[Path | None, typer.Option("--baseline", help="joint table linked from the original split, for the research questions")] = None,
        seed: Annotated[int, typer.Option("--seed", help="seed for every random step (the study's seed)")] = 0,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing metrics file")] = False,
    ) -> None:
        """Utility and privacy of a synthetic table, side by side, into one metrics JSON file."""
        qs = read_questions(questions) + list(question or [])
        res = run_evaluate(train, control, synthetic, out, part_columns=parse_part_columns(part_columns),
                           common=parse_list(common), questions=qs, target=target,
                           identifier=identifier, baseline_path=baseline, seed=seed, split_dir=split_dir,
                           parts=parse_list([parts]) if parts else None, secret=secret, n_attacks=n_attacks,
                           overwrite=overwrite)
        s = res["utility"].get("summary", {})

        def f(v: Any) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        typer.echo(f"utility: mean TVD {f(s.get('tvd_mean_synthetic'))} (control {f(s.get('tvd_mean_control'))}); "
                   f"cross-part association diff {f(s.get('cross_assoc_diff_mean_synthetic'))} "
                   f"(control {f(s.get('cross_assoc_diff_mean_control'))}); "
                   f"S_pMSE {f(s.get('s_pmse_synthetic'))} (control {f(s.get('s_pmse_control'))})")
        n_err = len(res["utility"].get("errors", []))
        priv = res["privacy"]
        if isinstance(priv, dict) and "error" in priv and "summary" not in priv:
            typer.echo(f"privacy: not measured ({priv['error']})")
        else:
            typer.echo("privacy: measured")
        if n_err:
            typer.echo(f"{n_err} utility measure(s) failed; see 'errors' in the metrics file")
        typer.echo(f"wrote {out}")

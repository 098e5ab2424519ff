"""The evaluation stages: utility and privacy of one table against train (control as the
sampling-noise and non-member reference), and which variables drive the links. The study and
``synthlink evaluate`` both call these."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthlink.link import get_linker


def evaluation_key(ev: dict[str, Any]) -> dict[str, Any]:
    """The evaluation options that change results (not how many processes compute them)."""
    return {k: v for k, v in ev.items() if k != "n_jobs"}


def evaluate_utility(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, part_cols: dict[str, list[str]], common: list[str], questions: list[Any], target: str | None, baseline: pd.DataFrame | None, seed: int, ev: dict[str, Any], kinds: dict[str, str] | None = None, parallel: bool = False) -> dict[str, Any]:
    """Utility of ``synthetic`` (a linked J*) against ``train``, with ``control`` as the
    sampling-noise reference and ``baseline`` (the original split linked by the same method) for
    the research questions; ``ev['utility']`` holds utility_report options, or False to skip."""
    opt = ev.get("utility", True)
    if opt is False:
        return {"skipped": "utility evaluation switched off in the config (evaluate.utility: false)"}
    from synthlink.evaluate.utility import utility_report

    extra = dict(opt) if isinstance(opt, dict) else {}
    return utility_report(train, control, synthetic, part_columns=part_cols, common=common, questions=questions,
                          target=target, baseline=baseline, seed=seed, kinds=_declared(kinds, train), **extra)


def evaluate_privacy(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, common: list[str], part_cols: dict[str, list[str]] | None, privacy: dict[str, Any], seed: int, ev: dict[str, Any], source: np.ndarray | None = None, kinds: dict[str, str] | None = None, parallel: bool = False) -> dict[str, Any]:
    """Privacy of ``synthetic`` (a part or J*): attacks against ``train`` with ``control`` as the
    non-member reference; ``source`` maps record-preserving rows to their real record."""
    opt = ev.get("privacy", True)
    if opt is False:
        return {"skipped": "privacy evaluation switched off in the config (evaluate.privacy: false)"}
    from synthlink.evaluate.privacy import privacy_report

    kw = {k: v for k, v in privacy.items() if k in ("keys", "targets", "secret", "n_attacks")}
    if isinstance(opt, dict):
        kw.update(opt)
    if parallel:
        kw.setdefault("n_jobs", 1)  # the queue already uses every core
    max_rows = kw.pop("max_rows", None)
    if max_rows:
        # documented sampling for large populations: each table is cut to at most max_rows rows
        # (seeded); the risks then describe that sample (they are rates, so their scale is kept)
        idx = [sample_index(len(t), int(max_rows), seed + i) for i, t in enumerate((train, control, synthetic))]
        if source is not None:
            # synthetic row -> train row, both after sampling (-1 when its source row was not sampled)
            if idx[2] is not None:
                source = source[idx[2]]
            if idx[0] is not None:
                new_pos = np.full(len(train), -1, dtype=np.int64)
                new_pos[idx[0]] = np.arange(len(idx[0]))
                source = np.where(source >= 0, new_pos[np.maximum(source, 0)], -1)
        train, control, synthetic = (t if i is None else t.iloc[i].reset_index(drop=True)
                                     for t, i in zip((train, control, synthetic), idx, strict=True))
    if kw.get("keys"):
        kw["keys"] = [k for k in kw["keys"] if k in synthetic.columns]
    if kw.get("targets"):
        kw["targets"] = [t for t in kw["targets"] if t in synthetic.columns]
    if kw.get("secret") and kw["secret"] not in synthetic.columns:
        kw.pop("secret")
    return privacy_report(train, control, synthetic, common=common, part_columns=part_cols, seed=seed, source=source, kinds=_declared(kinds, synthetic), **kw)


def sample_index(n: int, max_rows: int, seed: int) -> np.ndarray | None:
    """Sorted row positions of a seeded sample of ``max_rows`` rows, or None to keep all ``n``."""
    if n <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def evaluate_influence(left: pd.DataFrame, right: pd.DataFrame, truth: pd.DataFrame, common: list[str], ref: pd.DataFrame, seed: int, linker: dict[str, Any] | None = None) -> dict[str, Any]:
    """Which common variables drive the links (exact linker, leave-one-out and add-one), and which
    combinations single people out."""
    from synthlink.evaluate.influence import singling_out_combinations, variable_influence

    out: dict[str, Any] = {}
    lk = (linker or {}).get("name", "exact")
    params = {k: v for k, v in ((linker or {}).get("params") or {}).items() if k != "on"}

    def factory(cols: list[str]) -> Any:
        return get_linker(lk, on=list(cols), **params)

    per_var, steps = variable_influence(left[common], right[common], truth, common, factory, seed=seed)
    out["linker"] = lk
    out["variables"] = per_var.to_dict(orient="records")
    out["forward"] = steps.to_dict(orient="records")
    so = singling_out_combinations(ref, common, max_k=min(len(common), 4), seed=seed)
    out["singling_out"] = so.drop(columns=["variables"], errors="ignore").to_dict(orient="records")
    return out


def _declared(kinds: dict[str, str] | None, frame: pd.DataFrame) -> dict[str, str] | None:
    """The declared kinds of the columns a table has (None: nothing declared)."""
    got = {c: k for c, k in (kinds or {}).items() if c in frame.columns}
    return got or None


def reference_tables(train: pd.DataFrame, control: pd.DataFrame, truth: pd.DataFrame, plan: Any,
                     *names: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What J* of the parts ``names`` is evaluated against: the training rows that every part
    covers (the true pairs, or tuples) and the control rows that every part would cover (the
    split's own coverage rule), each with the common variables and the parts' own columns."""
    from synthlink.split import covered

    own = {p.name: list(p.columns) for p in plan.parts}
    cols = list(dict.fromkeys([*plan.common, *[c for n in names for c in own[n]]]))
    in_all = truth[list(names)].notna().all(axis=1).to_numpy()
    ref_train = train.loc[in_all, cols].reset_index(drop=True)
    ref_control = control.loc[covered(control, plan, list(names)), cols].reset_index(drop=True)
    return ref_train, ref_control


def evaluate_measures(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, common: list[str],
                      part_cols: dict[str, list[str]] | None, seed: int, measures: list[Any],
                      parallel: bool = False) -> dict[str, Any]:
    """Every plug-in measure (:mod:`synthlink.evaluate.measures`) on one table: name -> result.
    The measures are passed in (resolved from the registry by the caller), so worker processes
    need no registry of their own."""
    from synthlink.evaluate.measures import run

    return {m.name: run(m, train, control, synthetic, common=common, part_columns=part_cols, seed=seed)
            for m in measures}

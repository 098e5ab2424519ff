"""What a study measured, flattened: one row per (seed, stage, synthesizer, linker) with the headline
numbers, their mean and spread over seeds, and the list of what failed (each failed stage,
section or measure, which sets the exit code and opens the report)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def headline_utility(util: Any) -> dict[str, float]:
    """A few headline numbers from a utility report (NaN where absent)."""
    if not isinstance(util, dict) or "error" in util and "summary" not in util:
        return {}
    s = util.get("summary") or {}
    return {f"utility_{k}": _num(v) for k, v in s.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def headline_privacy(priv: Any) -> dict[str, float]:
    if not isinstance(priv, dict):
        return {}
    from synthlink.evaluate.privacy import HEADLINE_RISKS

    out = {}
    for k in HEADLINE_RISKS:
        v = priv.get(k)
        if isinstance(v, dict) and "risk" in v:
            out[f"risk_{k}"] = _num(v["risk"])
    s = priv.get("summary") or {}
    for k, v in s.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"privacy_{k}"] = _num(v)
    return out


def runs_table(seeds: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for rec in seeds:
        for b in rec["baseline"]:
            row = {"seed": rec["seed"], "stage": "baseline", "synthesizer": "original", "linker": b["linker"], "status": b["status"]}
            row.update({k: _num(v) for k, v in (b.get("quality") or {}).items()})
            row["uniqueness_bound"] = rec["uniqueness_bound"]["linked_population"]
            row["expected_bound"] = rec["uniqueness_bound"].get("expected", float("nan"))
            row["expected_bound_sd"] = rec["uniqueness_bound"].get("expected_sd", float("nan"))
            d = b.get("diagnostics") or {}
            if "record_linkage_supported" in d:
                row["record_linkage_supported"] = bool(d["record_linkage_supported"])
                row["populations_differ"] = bool(d["populations_differ"])
            for e in b.get("edges") or []:  # K parts: each edge's accuracy beside the tuple's
                row[f"accuracy {e['edge']}"] = _num((e.get("quality") or {}).get("accuracy"))
            row.update(headline_utility(b.get("utility")))
            rows.append(row)
        for s in rec["synthetic"]:
            row = {"seed": rec["seed"], "stage": "synthetic", "synthesizer": s["synthesizer"], "linker": s["linker"], "status": s["status"],
                   "option": s.get("option") or "independent synthesis + linkage"}
            acc = s.get("accounting") or {}
            if acc and "complete" in acc:  # K parts: complete tuples over the smallest part
                row["share_linked"] = acc["complete"] / max(1, min(acc["parts"].values()))
            elif acc:
                row["share_linked"] = acc["linked"] / max(1, min(acc["n_left"], acc["n_right"]))
            row.update(headline_utility(s.get("utility")))
            row.update(headline_privacy(s.get("privacy")))
            for name, m in (s.get("measures") or {}).items():  # the registered measures
                if isinstance(m, dict):
                    row[f"measure_{name}"] = _num(m.get("value"))
            rows.append(row)
    return pd.DataFrame(rows)


#: exit code of ``synthlink run`` / ``demo`` when the study ran but a stage, section or measure failed
#: (0: everything measured; 1: the program crashed; 2: bad input or config, nothing run;
#: 128 + N: stopped by signal N, e.g. 143 for SIGTERM, 130 for Ctrl-C)
EXIT_FAILED = 3


#: result keys that repeat or index errors already found in their section (not walked)
_NOT_WALKED = {"errors", "metrics"}


def _find_errors(x: Any, path: list[str], out: list[tuple[list[str], str]]) -> None:
    """Every ``{"error": ...}`` entry under ``x`` (a section or measure that failed), with its path;
    entries inside a failed one are not searched (they are its consequences)."""
    if isinstance(x, dict):
        err = x.get("error")
        if isinstance(err, str) and err:
            out.append((path, err))
            return
        for k, v in x.items():
            if k in _NOT_WALKED:
                continue
            label = str(k)
            _find_errors(v, [*path, label], out)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            label = f"[{i}]"
            if isinstance(v, dict) and (v.get("formula") or v.get("question")):
                q = v.get("formula") or v.get("question")
                label = f"research question '{q.get('formula', q) if isinstance(q, dict) else q}'"
            _find_errors(v, [*path, label], out)


def study_failures(seeds: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What failed in a study, one entry per failed stage, section or measure: ``where`` (seed,
    table, evaluation and the section within it), ``table``, ``section`` and ``error``. A study
    with any failure exits :data:`EXIT_FAILED` and its report opens with them."""
    found: list[dict[str, str]] = []

    def add(seed: Any, table: str, what: str, result: Any) -> None:
        errs: list[tuple[list[str], str]] = []
        _find_errors(result, [], errs)
        for path, err in errs:
            section = " · ".join([what, *path])
            found.append({"seed": str(seed), "table": table, "section": section,
                          "where": f"seed {seed}, {table}: {section}", "error": err})

    for rec in seeds:
        sd = rec.get("seed")
        add(sd, "original split", "variable influence", rec.get("influence"))
        for b in rec.get("baseline") or []:
            add(sd, f"original split linked by {b.get('linker')}", "utility", b.get("utility"))
        for syn, parts in (rec.get("parts_privacy") or {}).items():
            for pname, priv in (parts or {}).items():
                add(sd, f"synthetic part {pname}* ({syn})", "privacy", priv)
        for e in rec.get("synthetic") or []:
            table = f"J* ({e.get('synthesizer')} × {e.get('linker')})"
            add(sd, table, "utility", e.get("utility"))
            add(sd, table, "privacy", e.get("privacy"))
    return found


def summary_over_seeds(runs: pd.DataFrame) -> dict[str, Any]:
    """Mean and spread over seeds for each (stage, synthesizer, linker)."""
    if runs.empty:
        return {}
    num = runs.select_dtypes("number").columns.drop("seed", errors="ignore")
    g = runs.groupby(["stage", "synthesizer", "linker"], sort=False)[list(num)]
    mean, sd = g.mean(), g.std(ddof=1)
    out = []
    for idx in mean.index:
        out.append({"stage": idx[0], "synthesizer": idx[1], "linker": idx[2],
                    "mean": {k: v for k, v in mean.loc[idx].items() if pd.notna(v)},
                    "sd": {k: v for k, v in sd.loc[idx].items() if pd.notna(v)}})
    return {"runs": out, "n_seeds": int(runs["seed"].nunique())}

"""Privacy of synthetic tables: each synthetic part (A*, B*) and the linked table (J*) against the
training data, with the control set (real records the synthesizer never saw) as the non-member
reference.

:func:`privacy_report` returns a JSON-ready dict with one entry per measure family:

``singling_out``, ``linkability``, ``inference``
    Anonymeter's three attacks (PETS 2023), native and seeded (:mod:`.singling_attack` with its
    query engine :mod:`.queries`, :mod:`.linkability_attack`, :mod:`.inference_attack`; the shared
    risk arithmetic in :mod:`.risk`);
``dcr``
    distance to closest record, NNDR, share closer to train than control, identical matches
    (:mod:`.dcr`);
``membership``
    distance-based membership inference AUC (:mod:`.membership`);
``disclosure``
    synthpop's repU, DiSCO and DiSDiO for declared keys and targets (:mod:`.disclosure`);
``key_holder``
    for record-preserving synthesis (rows tied to real records by a pseudonymised key): how much of
    a person's true values their own row gives away to whoever holds the key (:mod:`.keyholder`);
    not applicable (``risk`` None with the reason) to fully synthetic rows.

Every estimated risk reads ``{"risk": x, "ci": [lo, hi], ...}`` with ``definition``, ``direction``
and ``range``; a measure that fails is recorded as ``{"risk": None, "ci": None, "error": "..."}``
and the others still run. :func:`compare_risk` puts the same measures for the parts and the
linked table side by side ("does linkage raise the risk?"). The identifier column is dropped
before anything is computed and no record values are echoed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd

from synthlink.errors import InputError
from synthlink.evaluate.metric import Metric, safe_metric
from synthlink.evaluate.privacy.dcr import dcr_measures
from synthlink.evaluate.privacy.disclosure import disclosure_measures
from synthlink.evaluate.privacy.inference_attack import inference
from synthlink.evaluate.privacy.keyholder import key_holder_disclosure, not_applicable
from synthlink.evaluate.privacy.linkability_attack import linkability
from synthlink.evaluate.privacy.membership import membership_inference
from synthlink.evaluate.privacy.singling_attack import singling_out
from synthlink.schema import Schema

MEASURES = ("singling_out", "linkability", "inference", "dcr", "membership", "disclosure", "key_holder")
#: the attack-style risks with intervals that summaries and the report lead with
HEADLINE_RISKS = ("singling_out", "linkability", "inference", "key_holder")


def _safe(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    box: dict[str, Any] = {}

    def run() -> Metric:
        box["d"] = fn()
        return Metric(name, box["d"].get("risk"), goal="min", group="privacy")

    m = safe_metric(name, "privacy", run)[0]
    if m.error is not None:
        return {"risk": None, "ci": None, "error": m.error}
    return box["d"]


def _columns(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, drop: set[str]) -> list[str]:
    missing = [c for c in synthetic.columns if c not in drop and (c not in train.columns or c not in control.columns)]
    if missing:
        raise InputError(
            f"privacy: synthetic column(s) {', '.join(map(repr, missing))} are missing from the train or control table"
        )
    cols = [str(c) for c in synthetic.columns if c not in drop]
    if not cols:
        raise InputError("privacy: the synthetic table has no columns to evaluate")
    for name, df in (("train", train), ("control", control), ("synthetic", synthetic)):
        if len(df) == 0:
            raise InputError(f"privacy: the {name} table has no rows")
    return cols


def _aux_sets(cols: list[str], common: list[str], part_columns: Mapping[str, Sequence[str]] | None) -> tuple[list[str], list[str]]:
    com = [c for c in common if c in cols]
    rest = [c for c in cols if c not in com]
    if part_columns:
        owned = [[c for c in pc if c in cols] for pc in part_columns.values()]
        owned = [o for o in owned if o]
        if len(owned) >= 2:
            return com + owned[0], com + owned[1]
        if len(owned) == 1 and com:
            return com, owned[0]
    if com and rest:
        return com, rest
    half = len(cols) // 2
    return cols[:half], cols[half:]


def privacy_report(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    common: Sequence[str],
    part_columns: Mapping[str, Sequence[str]] | None = None,
    keys: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    secret: str | Sequence[str] | None = None,
    n_attacks: int = 500,
    seed: int = 0,
    identifier: str | None = None,
    kinds: Mapping[str, str] | Schema | None = None,
    link_neighbors: int = 1,
    max_secrets: int = 5,
    n_jobs: int = 2,
    dcr_max_queries: int | None = 20_000,
    source: Any = None,
) -> dict[str, Any]:
    """Privacy measures of one synthetic table against ``train``, with ``control`` as reference.

    Parameters
    ----------
    common : the common (linking) variables; they are the default keys for the disclosure
        measures and are in both auxiliary sets of the linkability attack.
    part_columns : each institution's own columns, ``{part: [columns]}``; linkability then uses
        common + one part's columns against common + the other's (a single represented part: common
        against its own columns; none: common against the rest).
    keys, targets : disclosure keys (default ``common``) and targets (default the other columns).
    secret : column(s) for attribute inference (default: up to ``max_secrets`` non-common columns);
        the auxiliary columns are all other columns; the headline is the largest risk.
    kinds : column kinds (``{"col": "numeric"|"categorical"|...}`` or a :class:`Schema`); inferred
        otherwise. A Schema's identifier is dropped like ``identifier``.
    dcr_max_queries : DCR compares each synthetic row with every train and control row (quadratic);
        above this many synthetic rows a seeded sample of them is measured (None = all).
    source : for record-preserving synthesis, the ``train`` row each synthetic row was derived from
        (-1: none); enables the key-holder disclosure measure.
    """
    drop: set[str] = set()
    kind_map: dict[str, str] | None = None
    if isinstance(kinds, Schema):
        kind_map = {c.name: str(c.kind) for c in kinds.columns.values()}
        if kinds.identifier:
            drop.add(kinds.identifier)
    elif kinds is not None:
        kind_map = {str(k): str(v) for k, v in kinds.items()}
    if identifier:
        drop.add(identifier)
    cols = _columns(train, control, synthetic, drop)
    common = [c for c in common if c in cols]
    train = train[cols]
    control = control[cols]
    synthetic = synthetic[cols]
    out: dict[str, Any] = {}

    def so() -> dict[str, Any]:
        multi = singling_out(train, control, synthetic, cols, mode="multivariate", n_attacks=n_attacks,
                             kinds=kind_map, seed=seed)
        multi["univariate"] = _safe("singling_out_univariate", lambda: singling_out(
            train, control, synthetic, cols, mode="univariate", n_attacks=n_attacks, kinds=kind_map, seed=seed + 1))
        return multi

    out["singling_out"] = _safe("singling_out", so)
    aux = _aux_sets(cols, common, part_columns)
    out["linkability"] = _safe("linkability", lambda: linkability(
        train, control, synthetic, aux, n_attacks=n_attacks, n_neighbors=link_neighbors, kinds=kind_map, seed=seed + 2))
    owned = {p: [c for c in pc if c in cols and c not in common] for p, pc in (part_columns or {}).items()}
    owned = {p: o for p, o in owned.items() if o}
    if len(owned) >= 3:  # K registers: can each part's records be linked to the rest of J*?
        com = [c for c in common if c in cols]

        def against(p: str) -> dict[str, Any]:
            rest = [c for q, o in owned.items() if q != p for c in o]
            return linkability(train, control, synthetic, (com + owned[p], com + rest), n_attacks=n_attacks,
                               n_neighbors=link_neighbors, kinds=kind_map, seed=seed + 2)

        by_part: dict[str, Any] = {}
        for p in owned:
            by_part[p] = _safe(f"linkability ({p})", functools.partial(against, p))
        out["linkability_by_part"] = by_part

    def secret_columns(what: str) -> list[str]:
        if secret is None:
            secrets = [c for c in cols if c not in common][:max_secrets] or cols[:1]
        else:
            secrets = [secret] if isinstance(secret, str) else list(secret)
        bad = [s for s in secrets if s not in cols]
        if bad:
            raise InputError(f"{what}: secret column(s) {', '.join(map(repr, bad))} not in the synthetic table")
        return secrets

    def inf() -> dict[str, Any]:
        secrets = secret_columns("inference")
        def one(s: str) -> dict[str, Any]:
            return inference(train, control, synthetic, s, [c for c in cols if c != s], n_attacks=n_attacks,
                             kinds=kind_map, seed=seed + 3)

        by = {s: _safe(f"inference[{s}]", partial(one, s)) for s in secrets}
        ok = {s: r for s, r in by.items() if r.get("risk") is not None}
        if not ok:
            raise RuntimeError("every inference attack failed: " + "; ".join(f"{s}: {r.get('error')}" for s, r in by.items()))
        worst = max(ok, key=lambda s: ok[s]["risk"])
        return {"risk": ok[worst]["risk"], "ci": ok[worst]["ci"], "secret": worst, "by_secret": by,
                "definition": "largest attribute-inference risk over the secrets (Anonymeter), see by_secret",
                "direction": "lower is safer", "range": "[0, 1]"}

    out["inference"] = _safe("inference", inf)
    out["dcr"] = _safe("dcr", lambda: dcr_measures(train, control, synthetic, cols, kinds=kind_map, n_jobs=n_jobs,
                                                        max_queries=dcr_max_queries, seed=seed + 5))
    out["membership"] = _safe("membership", lambda: membership_inference(
        train, control, synthetic, cols, kinds=kind_map, seed=seed + 4, n_jobs=n_jobs))
    dkeys = [c for c in (keys if keys is not None else common) if c in cols]
    dtargets = [c for c in (targets if targets is not None else [c for c in cols if c not in dkeys]) if c in cols]
    out["disclosure"] = _safe("disclosure", lambda: disclosure_measures(train, control, synthetic, dkeys, dtargets))
    if source is None:
        out["key_holder"] = not_applicable("no row of this table is tied to a real record (fully synthetic rows, "
                                           "or a join not made on the record key)")
    else:
        out["key_holder"] = _safe("key_holder", lambda: key_holder_disclosure(
            train, synthetic, source, secret_columns("key-holder disclosure"), kinds=kind_map))
    out["meta"] = {"n_train": len(train), "n_control": len(control), "n_synthetic": len(synthetic),
                   "columns": cols, "seed": seed, "n_attacks": n_attacks}
    return out


def headline(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The one number per measure family that summaries and plots use: the risk for the attacks,
    DCR and membership; repU and the largest DiSCO (synthpop's headline attribute measure; DiSDiO
    is in the full report) for disclosure."""
    rows: dict[str, dict[str, Any]] = {}
    for m in ("singling_out", "linkability", "inference", "dcr", "membership", "key_holder"):
        r = report.get(m, {})
        rows[m] = {"risk": r.get("risk"), "ci": r.get("ci"), "error": r.get("error")}
    d = report.get("disclosure", {})
    rows["disclosure_repU"] = {"risk": d.get("repU"), "ci": None, "error": d.get("error")}
    rows["disclosure_DiSCO"] = {"risk": d.get("DiSCO_max"), "ci": None, "error": d.get("error")}
    return rows


def privacy_metrics(report: Mapping[str, Any], table: str = "") -> list[Metric]:
    """The headline figures as :class:`Metric` objects (goal "min", range [0, 1])."""
    out = []
    for name, r in headline(report).items():
        full = report.get(name.split("_")[0] if name.startswith("disclosure") else name, {})
        out.append(Metric(
            name=f"{table}:{name}" if table else name, value=r["risk"], goal="min", low=0.0, high=1.0,
            ci=tuple(r["ci"]) if r["ci"] else None, group="privacy",
            description=str(full.get("definition", "")), error=r["error"],
        ))
    return out


def compare_risk(
    parts: Mapping[str, pd.DataFrame],
    linked: pd.DataFrame,
    train: pd.DataFrame,
    control: pd.DataFrame,
    *,
    common: Sequence[str],
    part_columns: Mapping[str, Sequence[str]] | None = None,
    linked_name: str = "J*",
    **kwargs: Any,
) -> dict[str, Any]:
    """The same measures for each synthetic part and the linked table, side by side.

    Each table is evaluated on its own columns (train and control are cut to them). ``effect``
    says, per headline measure, whether the linked table's risk exceeds the largest part risk and
    whether the intervals separate (``raised``: the linked lower bound above every part's upper
    bound; for the CI-less disclosure shares, simply larger)."""
    tables = {**{str(k): v for k, v in parts.items()}, linked_name: linked}
    reports = {name: privacy_report(train, control, df, common=common, part_columns=part_columns, **kwargs)
               for name, df in tables.items()}
    heads = {name: headline(r) for name, r in reports.items()}
    rows = [{"table": name, "measure": m, **v} for name, h in heads.items() for m, v in h.items()]
    effect: dict[str, Any] = {}
    for m in heads[linked_name]:
        lv = heads[linked_name][m]
        pv = [heads[p][m] for p in parts if heads[p][m]["risk"] is not None]
        if lv["risk"] is None or not pv:
            effect[m] = {"linked": lv["risk"], "max_part": None, "difference": None, "raised": None}
            continue
        best = max(pv, key=lambda r: r["risk"])
        if lv["ci"] and all(r["ci"] for r in pv):
            raised = lv["ci"][0] > max(r["ci"][1] for r in pv)
        else:
            raised = lv["risk"] > best["risk"]
        effect[m] = {"linked": lv["risk"], "max_part": best["risk"], "difference": lv["risk"] - best["risk"],
                     "raised": bool(raised)}
    return {"reports": reports, "table": rows, "effect": effect}


__all__ = [
    "HEADLINE_RISKS", "MEASURES", "compare_risk", "dcr_measures", "disclosure_measures", "headline", "inference",
    "key_holder_disclosure", "linkability",
    "membership_inference", "privacy_metrics", "privacy_report", "singling_out",
]

"""The bridge stage: inside the secure environment, release the cross-register counts of the
study's bridge spec (one release per epsilon), and give the ``bridge`` linker each release.

The release is made once per split and epsilon and kept in the working area: a rerun reuses it
rather than spending the budget again (each new draw of DP noise is a new release of the same
data). ``epsilon: none`` gives the true counts without noise, a reference that shows what the
bridge could do at best; it is not private and stays in the working area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthlink.bridge import BridgeRelease, BridgeSpec, binned
from synthlink.config import BridgeConfig, MethodSpec


def true_counts(joint: pd.DataFrame, spec: BridgeSpec) -> BridgeRelease:
    """The exact counts of every declared cell of each marginal: no noise, not private."""
    cells = binned(joint, spec, spec.columns, "joint table")
    tables = {}
    for m in spec.marginals:
        grid = spec.cells(m)
        counts = cells.groupby(list(m), observed=True).size().rename("count").reset_index()
        t = grid.merge(counts, how="left", on=list(m))
        t["count"] = t["count"].fillna(0).to_numpy(dtype=np.int64)
        tables[tuple(m)] = t
    budget = {"epsilon": None, "mechanism": "none", "private": False,
              "note": "true counts without noise: a reference, not a release"}
    return BridgeRelease(spec, tables, budget, ("none: the true counts",), int(len(joint)))


def make_release(joint: pd.DataFrame, spec: BridgeSpec, epsilon: float | None) -> BridgeRelease:
    """The release of ``joint`` (the real linked train) under ``spec`` at ``epsilon``, or the true
    counts when ``epsilon`` is None."""
    if epsilon is None:
        return true_counts(joint, spec)
    from synthlink.bridge.release import release

    return release(joint[[c for c in spec.columns if c in joint.columns]], spec)


def bridge_label(epsilon: float | None) -> str:
    return "bridge (true counts)" if epsilon is None else f"bridge eps={epsilon:g}"


def bridge_linkers(bridge: BridgeConfig, releases: dict[float | None, Path]) -> list[MethodSpec]:
    """One ``bridge`` linker per release, labelled by its epsilon."""
    return [MethodSpec("bridge", {"release": str(path), "method": bridge.method}, bridge_label(eps))
            for eps, path in releases.items()]


def release_summary(rel: BridgeRelease) -> dict[str, Any]:
    """What the metrics keep of a release: its budget, post-processing and cell counts per
    marginal (aggregates only: the release is itself a published table)."""
    return {"budget": dict(rel.budget), "post_processing": list(rel.post_processing),
            "marginals": [{"columns": list(m), "cells": len(t), "total": int(t["count"].sum())}
                          for m, t in rel.tables.items()]}


#: a difference between train and the reference smaller than this (association units) leaves
#: nothing lost to recover: the share is not defined there (as the utility's MIN_CI_GAP)
MIN_GAP = 0.02


def _share(bridged: float | None, reference: float | None, train: float | None) -> float | None:
    if bridged is None or reference is None or train is None or abs(train - reference) < MIN_GAP:
        return None
    return (bridged - reference) / (train - reference)


def _coefficients(q: dict[str, Any], source: str) -> dict[str, tuple[float, float]]:
    fit = (q.get("fits") or {}).get(source) or {}
    return {str(c["term"]): (float(c["coef"]), float(c.get("se") or 0.0))
            for c in fit.get("coefficients") or [] if c.get("coef") is not None}


def _crosses(formula: str, term: str, part_cols: dict[str, list[str]]) -> bool:
    """Whether a coefficient's term and the question's response hold own variables of different
    parts (the association only linkage can bring back)."""
    lhs = formula.split("~", 1)[0]
    owner = {c: p for p, cols in part_cols.items() for c in cols}

    def parts(text: str) -> set[str]:
        import re

        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        return {owner[n] for n in names if n in owner}

    return bool(parts(lhs)) and bool(parts(term)) and not parts(lhs) & parts(term)


def recovered_shares(record: dict[str, Any], bridge: BridgeConfig, part_cols: dict[str, list[str]],
                     reference: str = "exact") -> list[dict[str, Any]]:
    """The share of the lost association each bridged J* recovers (issue: the bridge):
    ``(assoc(J*_bridge) - assoc(J*_CIA)) / (assoc(train) - assoc(J*_CIA))``, where J*_CIA is the
    same synthesizer's parts linked by the ``reference`` linker (``exact``: a random join within
    common-variable cells, the conditional-independence join on the synthetic parts). Given for
    every cross-part pair (Cramér's V, correlation ratio or Spearman, as the utility measures them),
    marked when the pair lies in a released marginal, and for every research-question coefficient
    whose term and response come from different parts. 1 = all of the lost association back, as
    the real linked data; 0 = no more than the CIA join; undefined where train and the CIA join
    differ by less than :data:`MIN_GAP` (for a coefficient: by less than two of train's standard
    errors)."""
    released = {frozenset(m) for m in bridge.spec.marginals}
    labels = {bridge_label(e): e for e in bridge.epsilons}
    by = {(e.get("synthesizer"), e.get("linker")): e for e in record.get("synthetic") or []}
    out = []
    for (syn, lk), e in by.items():
        if lk not in labels or e.get("status") != "ok":
            continue
        ref = by.get((syn, reference))
        ref_u = (ref or {}).get("utility") or {}
        u = e.get("utility") or {}
        ref_pairs = {(p["a"], p["b"]): p for p in (ref_u.get("cross_part") or {}).get("pairs") or []}
        pairs = []
        for p in (u.get("cross_part") or {}).get("pairs") or []:
            if not p.get("primary", True):
                continue
            rp = ref_pairs.get((p["a"], p["b"]))
            base = rp.get("synthetic") if rp else p.get("ci")
            in_release = any(frozenset((p["a"], p["b"])) <= m for m in released)
            pairs.append({"a": p["a"], "b": p["b"], "measure": p.get("measure"), "train": p.get("train"),
                          "reference": base, "bridged": p.get("synthetic"), "released": in_release,
                          "share": _share(p.get("synthetic"), base, p.get("train"))})
        coefs = []
        ref_q = {q.get("formula"): q for q in ref_u.get("questions") or []} if ref else {}
        for q in u.get("questions") or []:
            rq = ref_q.get(q.get("formula"))
            if rq is None:
                continue
            tr, bq, cq = _coefficients(q, "train"), _coefficients(q, "synthetic"), _coefficients(rq, "synthetic")
            for term, (bt, se) in tr.items():
                if term == "Intercept" or term not in bq or term not in cq or not _crosses(str(q["formula"]), term, part_cols):
                    continue
                b, c = bq[term][0], cq[term][0]
                share = (b - c) / (bt - c) if abs(bt - c) >= 2 * se and bt != c else None
                coefs.append({"formula": q["formula"], "term": term, "train": bt, "reference": c, "bridged": b,
                              "share": share})
        defined = [p["share"] for p in pairs if p["share"] is not None and p["released"]]
        out.append({"synthesizer": syn, "linker": lk, "epsilon": labels[lk],
                    "reference": reference if ref else "conditional-independence join of train (design limit)",
                    "pairs": pairs, "coefficients": coefs,
                    "released_pairs_mean": float(np.mean(defined)) if defined else None})
    return out


def releases(cache: Any, bridge: BridgeConfig, split_key: str, ref_train: pd.DataFrame) -> tuple[list[MethodSpec], dict[str, Any]]:
    """The bridge linkers of one split and what the metrics keep of its releases: each release is
    made once per split and epsilon, inside the secure environment from the real linked train, and
    kept in the working area (``cache``): a rerun reads it back rather than spending the budget
    again."""
    from synthlink.cache import stage_key

    paths: dict[float | None, Path] = {}
    summaries = {}
    for eps in bridge.epsilons:
        spec = bridge.spec_for(eps)
        k = stage_key("bridge", split_key, spec.to_dict(), eps)
        p = cache.path("bridge-release", k, ".json")
        if p.exists():
            cache.hits += 1
            rel = BridgeRelease.load(p)
        else:
            cache.misses += 1
            cache.computed.append(f"bridge-release-{k}")
            rel = make_release(ref_train, spec, eps)
            rel.save(p)
        paths[eps] = p
        summaries[bridge_label(eps)] = release_summary(rel)
    return bridge_linkers(bridge, paths), {"spec": bridge.spec.to_dict(), "method": bridge.method, "releases": summaries}

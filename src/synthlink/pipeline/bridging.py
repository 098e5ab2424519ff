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

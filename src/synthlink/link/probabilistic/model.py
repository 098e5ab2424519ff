"""The Fellegi-Sunter model of the probabilistic linker, trained by Splink (Fellegi & Sunter 1969,
*JASA* 64:1183-1210): u probabilities by random sampling, m by expectation maximisation or from
the true pairs, match weights ``log2(m / u)`` per comparison level, and what the one-to-one
assignment sums per candidate pair.

Every call here is Splink's own API (``estimate_u_using_random_sampling``,
``estimate_parameters_using_expectation_maximisation``, ``estimate_m_from_pairwise_labels``);
nothing of the model is re-implemented.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.link.probabilistic.backends import ROW_ID, SOURCE_LEFT, SOURCE_RIGHT
from synthlink.link.probabilistic.comparisons import comparison


def new_splink_linker(tl: Any, tr: Any, prior: float, on: Sequence[str], kinds: Mapping[str, Any],
                      blocking: Sequence[Sequence[str]], max_iterations: int) -> Any:
    """An untrained Splink linker on the registered parts ``tl``/``tr``: one comparison per linking
    column (``kinds``: comparison kind, or numeric thresholds), the prediction blocking rules, the
    prior ``lambda``."""
    from splink import Linker as SplinkLinker
    from splink import SettingsCreator, block_on

    comps: list[Any] = []
    for c in on:
        k = kinds[c]
        if isinstance(k, (list, tuple)):
            comps.append(comparison(c, "numeric", k))
        else:
            comps.append(comparison(c, k))
    rules: list[Any] = [block_on(*b) for b in blocking if b] or ["1=1"]
    settings = SettingsCreator(
        link_type="link_only", comparisons=comps, blocking_rules_to_generate_predictions=rules,
        probability_two_random_records_match=prior, unique_id_column_name=ROW_ID,
        retain_matching_columns=False, retain_intermediate_calculation_columns=True,
        max_iterations=int(max_iterations),
    )
    return SplinkLinker([tl, tr], settings, log_level=logging.WARNING)


def estimate_u(lk: Any, seed: int, max_pairs_u: float, u_min_count: int | None) -> None:
    """u by Splink's random sampling (seeded); ``u_min_count=None``: no early stop."""
    kw: dict[str, Any] = {"max_pairs": float(max_pairs_u), "seed": int(seed)}
    if u_min_count is None:
        # no early stop: Splink's chunks would only add passes over the same sample
        kw.update(min_count_per_level=None, num_chunks=1)
    else:
        kw["min_count_per_level"] = int(u_min_count)
    lk.training.estimate_u_using_random_sampling(**kw)


def em_rules(em_blocking: Sequence[Sequence[str]] | None, blocking: Sequence[Sequence[str]],
             on: Sequence[str]) -> list[list[str]]:
    """The EM sessions' blocking rules: ``em_blocking`` if given, else each prediction rule (which
    estimates the other columns) plus one rule on the columns outside the blocking."""
    if em_blocking is not None:
        return [list(r) for r in em_blocking]
    rules = [list(b) for b in blocking if b]
    used = {c for b in rules for c in b}
    others = [c for c in on if c not in used]
    if used and len(others) >= 1:
        rules.append(others)
    if not rules:
        rules = [[c] for c in list(on)[:2]]
    return rules


def train_em(lk: Any, rules: Sequence[Sequence[str]], on: Sequence[str], max_pairs_em: float,
             max_iterations: int) -> dict[str, Any]:
    """m by EM, one Splink session per rule (each estimates the columns the rule leaves free)."""
    from splink import block_on

    sessions = []
    for rule in rules:
        free = [c for c in on if c not in rule]
        if not free:
            continue
        sess = lk.training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), estimate_without_term_frequencies=True, max_pairs=max_pairs_em)
        iters = len(sess._core_model_settings_history) - 1
        sessions.append({"blocking": list(rule), "estimates": free, "iterations": iters,
                         "converged": iters < int(max_iterations)})
    return {"sessions": sessions, "converged": all(s["converged"] for s in sessions) if sessions else False,
            "iterations": sum(s["iterations"] for s in sessions)}


def train_truth(lk: Any, be: Any, tl: Any, tr: Any, truth: pd.DataFrame) -> Any:
    """m from the true pairs (Splink's ``estimate_m_from_pairwise_labels``), smoothed with half a
    pair per level so that a level no true pair shows (a year off by two, say) keeps a small,
    finite weight; the smoothed model is loaded back into a new Splink linker from its settings."""
    from splink import Linker as SplinkLinker

    labels = pd.DataFrame({
        "source_dataset_l": SOURCE_LEFT, f"{ROW_ID}_l": truth["left"].to_numpy(np.int64),
        "source_dataset_r": SOURCE_RIGHT, f"{ROW_ID}_r": truth["right"].to_numpy(np.int64),
    })
    name = f"__sl_labels_{uuid.uuid4().hex[:10]}"
    lk.table_management.register_table(be.table(labels), name, overwrite=True)
    be.views.append(name)
    lk.training.estimate_m_from_pairwise_labels(name)
    model = lk.misc.save_model_to_json()
    n = float(len(truth))
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        ms = np.array([lv.get("m_probability") or 0.0 for lv in levels], dtype="float64")
        ms = (ms * n + 0.5) / (n + 0.5 * len(levels))
        for lv, m in zip(levels, ms, strict=True):
            lv["m_probability"] = float(m)
    return SplinkLinker([tl, tr], model, log_level=logging.WARNING)


def weights_from_model(model: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per comparison, its non-null levels with m, u, Bayes factor m/u and weight log2(m/u)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for c in model["comparisons"]:
        rows = []
        for lv in c["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m = lv.get("m_probability")
            u = lv.get("u_probability")
            bf = (m / u) if (m is not None and u) else None
            # m = 0 (a level never seen in true pairs): Bayes factor 0, weight minus infinity
            weight = None if bf is None else (math.log2(bf) if bf > 0 else -math.inf)
            rows.append({
                "level": lv.get("label_for_charts", lv.get("sql_condition")),
                "m": m,
                "u": u,
                "bayes_factor": bf,
                "weight": weight,
            })
        out[c["output_column_name"]] = rows
    return out


def separates(weights: dict[str, list[dict[str, Any]]], min_abs_weight: float = 1.0) -> bool:
    """True when at least one level of one comparison has |log2(m/u)| >= min_abs_weight."""
    for rows in weights.values():
        for r in rows:
            if r["weight"] is not None and abs(r["weight"]) >= min_abs_weight:
                return True
    return False


def assignment_values(mw: np.ndarray, objective: str, threshold: float | None) -> tuple[np.ndarray, float]:
    """What the one-to-one assignment sums, per candidate pair, and the floor a pair must pass.

    ``"probability"``: the match probability ``1 / (1 + 2^-weight)`` (computed from the rounded
    weights, so a backend's last-digit noise cannot decide between tied assignments); floor: the
    threshold, or just below 0 (every pair may link). ``"weight"``: the match weight; floor: the
    threshold's weight ``log2(p / (1 - p))``, or one bit below the smallest weight."""
    mw = np.asarray(mw, dtype="float64")
    if objective == "probability":
        return 1.0 / (1.0 + np.exp2(-mw)), (float(threshold) if threshold else -1e-9)
    if threshold is not None and threshold > 0:
        p = float(threshold)
        return mw, math.log2(p / (1 - p))
    return mw, (float(mw.min()) - 1.0) if len(mw) else 0.0


def em_checks(weights: Mapping[str, Any], em_info: Mapping[str, Any], on: Sequence[str],
              max_iterations: int) -> tuple[list[str], dict[str, Any]]:
    """Warnings on an EM model (not converged, not separating, non-monotone weights, far from the
    truth-trained m when there is one) and the diagnostics they rest on."""
    warnings: list[str] = []
    diag: dict[str, Any] = {}
    if not em_info["converged"]:
        stopped = [" + ".join(x["blocking"]) for x in em_info["sessions"] if not x["converged"]]
        warnings.append(
            f"Splink's EM stopped at the iteration limit ({int(max_iterations)}) before converging in the "
            f"session(s) blocking on {'; '.join(stopped) or 'its rules'}: the m probabilities may still move "
            "(raise max_iterations to check; on the original split compare with m from the truth).")
    if not separates(weights["em"]):
        warnings.append(
            "Splink's EM did not separate matches from non-matches: for every variable m is close to u, "
            "so the match weights carry almost no information.")
    inverted = [c for c, rows in weights["em"].items()
                if len(rows) >= 2 and rows[0]["weight"] is not None
                and any(r["weight"] is not None and r["weight"] > rows[0]["weight"] for r in rows[1:])]
    diag["em_non_monotone"] = inverted
    if inverted:
        warnings.append(
            "Splink's EM gave weights that make no sense for " + ", ".join(inverted) + ": a partial or "
            "non-agreement counts more towards a match than exact agreement. EM has probably latched onto "
            "another structure in the data; check these links against a truth (m_from='truth') before use.")
    if "truth" in weights:
        # compared on m, not on weights: a level nearly no match shows (m 0.003 by EM, 0.0001
        # from the truth) differs by many bits and changes nothing
        diffs = {}
        for c in on:
            d = [abs(x["m"] - y["m"]) for x, y in zip(weights["em"][c], weights["truth"][c], strict=True)
                 if x["m"] is not None and y["m"] is not None]
            diffs[c] = max(d) if d else None
        diag["em_vs_truth_max_m_difference"] = diffs
        bad = [c for c, d in diffs.items() if d is not None and d > 0.1]
        if bad:
            warnings.append(
                "EM-estimated m probabilities differ from those trained on the true pairs by more than "
                f"0.1 for {', '.join(bad)}: EM mis-estimated m on these data.")
    return warnings, diag

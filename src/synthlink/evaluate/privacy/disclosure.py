"""synthpop's disclosure measures (Raab, Nowok & Dibben 2024; synthpop ``disclosure()``, vignette
"Disclosure risk measures for synthetic data", Appendix 1), for declared keys and targets.

With ``q`` the combination of key values, ``d`` counts in the original (train) and ``s`` counts in
the synthetic data, ``N_d`` the original size:

* ``UiO   = sum(d_.q | d_.q = 1) / N_d``: original records unique on the keys;
* ``repU  = sum(s_.q | d_.q = 1 and s_.q = 1) / N_d``: replicated uniques, records unique on the
  keys in both the original and the synthetic data (identity disclosure);
* ``DiO   = sum(d_tq | pd_tq = 1) / N_d``: original records whose key group has one target value
  in the original (l-diversity 1; synthpop's ``Dorig``);
* ``DiSCO = sum(d_tq | ps_tq = 1) / N_d``: original records whose key group has a single target
  value in the synthetic data and whose own target is that value (Disclosive in Synthetic,
  Correct in Original; attribute disclosure). synthpop requires one target value in the
  *synthetic* key group only: an original group with several target values still contributes
  its records that carry the synthetic group's value;
* ``DiSDiO = sum(d_tq | ps_tq = 1 and pd_tq = 1) / N_d``: the part of DiSCO where the original
  key group also has that single value (Disclosive in Synthetic, Disclosive in Original);
  DiSDiO <= DiSCO;
* ``iS``, ``DiS``: original records whose key combination is in the synthetic data, and those
  whose synthetic key group has a single target value (any value); ``Dsyn``: synthetic records in
  single-target synthetic key groups, over ``N_s``; ``UiOiS``: original uniques whose key
  combination appears in the synthetic data.

These follow synthpop 1.9-2 ``R/disclosure.R`` (``disclosure.synds``: ``tab_iS``, ``tab_DiS``,
``tab_DiSCO``, ``tab_DiSDiO``, ``tab_ksd1``) with its defaults (no exclusions, no
``denom_lim`` exclusion). The headline attribute measure is DiSCO, as in synthpop.

Shares in [0, 1] (synthpop prints them x100). Missing values are a level of their own
(synthpop's defaults usekeysNA = usetargetNA = TRUE). Keys are compared exactly; a numeric target
with more than ``max_levels`` distinct values is first cut into ``n_bins`` quantile groups of the
original (as synthpop's ``numtocat.syn`` would be used; synthpop's default, ``ngroups_target =
NULL``, would make each distinct value a level). The same measures with the control set in
place of the synthetic data give the reference: what a fresh real sample would disclose.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthlink.evaluate.utility.memo import frame_key, memoized


def _codes(frames: Sequence[pd.DataFrame], cols: Sequence[str]) -> list[np.ndarray]:
    """One integer code per row for the combination of ``cols``, shared across frames."""
    sizes = np.cumsum([0, *[len(f) for f in frames]])
    parts = []
    for c in cols:
        s = pd.concat([f[c].astype(object) for f in frames], ignore_index=True)
        codes, _ = pd.factorize(s, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        codes[codes < 0] = codes.max(initial=-1) + 1
        parts.append(codes)
    combo = joint_rank(parts, int(sizes[-1]))
    return [combo[sizes[i]:sizes[i + 1]] for i in range(len(frames))]


def joint_rank(parts: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Rank (0..k-1) of each row's tuple of non-negative codes in lexicographic order: the inverse
    of ``np.unique(np.column_stack(parts), axis=0, return_inverse=True)``, built one column at a
    time (dense rank of the prefix times the column's size plus the code, re-ranked), which sorts
    integers instead of rows."""
    combo = np.zeros(n, dtype=np.int64)
    for codes in parts:
        width = int(codes.max(initial=-1)) + 1
        _, combo = np.unique(combo * width + codes, return_inverse=True)
        combo = combo.reshape(-1).astype(np.int64)
    return combo


def _target_frames(orig: pd.DataFrame, others: Sequence[pd.DataFrame], target: str, max_levels: int, n_bins: int):
    s = orig[target]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique() > max_levels:
        edges = np.unique(np.nanquantile(pd.to_numeric(s, errors="coerce").astype(float), np.linspace(0, 1, n_bins + 1)))
        def cut(x: pd.Series) -> pd.DataFrame:
            v = pd.to_numeric(x, errors="coerce").astype(float).to_numpy(na_value=np.nan)
            b = np.searchsorted(edges[1:-1], v, side="right").astype(float)
            b[np.isnan(v)] = np.nan
            return pd.DataFrame({target: b})
        return cut(s), [cut(o[target]) for o in others], True
    return orig[[target]], [o[[target]] for o in others], False


def identity_disclosure(orig: pd.DataFrame, released: pd.DataFrame, keys: Sequence[str]) -> dict[str, float]:
    ko, ks = _codes([orig, released], keys)
    n_q = int(max(ko.max(initial=-1), ks.max(initial=-1)) + 1)
    d = np.bincount(ko, minlength=n_q)
    s = np.bincount(ks, minlength=n_q)
    nd = len(orig)
    return {
        "UiO": float((d[ko] == 1).sum() / nd),
        "UiS": float((s[ks] == 1).sum() / max(len(released), 1)),
        "UiOiS": float(((d == 1) & (s > 0)).sum() / nd),
        "repU": float(((d == 1) & (s == 1)).sum() / nd),
    }


def attribute_disclosure(orig: pd.DataFrame, released: pd.DataFrame, keys: Sequence[str], target: str) -> dict[str, float]:
    """synthpop's attribute disclosure shares of ``target`` given ``keys`` (module docstring):
    DiO, Dsyn, iS, DiS, DiSCO and DiSDiO, each in [0, 1]."""
    ko, ks = _codes([orig, released], keys)
    to, ts = _codes([orig[[target]], released[[target]]], [target])
    n_q = int(max(ko.max(initial=-1), ks.max(initial=-1)) + 1)

    def single_target(k: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per key group: whether it has records, whether all of them share one target, and that
        target (-1 if not)."""
        if len(k) == 0:
            return np.zeros(n_q, bool), np.zeros(n_q, bool), np.full(n_q, -1)
        tmin = np.full(n_q, np.iinfo(np.int64).max)
        tmax = np.full(n_q, -1)
        np.minimum.at(tmin, k, t)
        np.maximum.at(tmax, k, t)
        present = tmax >= 0
        one = present & (tmin == tmax)
        return present, one, np.where(one, tmax, -1)

    _, one_d, _ = single_target(ko, to)
    in_s, one_s, t_s = single_target(ks, ts)
    nd, ns = len(orig), len(released)
    dio = one_d[ko]  # pd_tq = 1 for the record's own cell
    disco = one_s[ko] & (t_s[ko] == to)  # ps_tq = 1 for the record's own cell
    return {
        "DiO": float(dio.sum() / nd),
        "Dsyn": float(one_s[ks].sum() / ns) if ns else 0.0,
        "iS": float(in_s[ko].sum() / nd),
        "DiS": float(one_s[ko].sum() / nd),
        "DiSCO": float(disco.sum() / nd),
        "DiSDiO": float((disco & dio).sum() / nd),
    }


def disclosure_measures(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    keys: Sequence[str],
    targets: Sequence[str],
    max_levels: int = 20,
    n_bins: int = 10,
) -> dict[str, Any]:
    keys = list(keys)
    if not keys:
        raise ValueError("disclosure measures need at least one key column")
    ident = identity_disclosure(train, synthetic, keys)
    # the control reference depends on train and control only: the same for every J* of a study
    used = list(dict.fromkeys([*keys, *targets]))
    ref_key = (frame_key(train[used]), frame_key(control[used]), tuple(keys))
    ident_ref = memoized("disclosure_identity_control", ref_key, lambda: identity_disclosure(train, control, keys))
    by_target: dict[str, Any] = {}
    for t in targets:
        if t in keys:
            continue
        to, (ts, tc), binned = _target_frames(train, [synthetic, control], t, max_levels, n_bins)
        o = pd.concat([train[keys].reset_index(drop=True), to.reset_index(drop=True)], axis=1)
        s = pd.concat([synthetic[keys].reset_index(drop=True), ts.reset_index(drop=True)], axis=1)
        c = pd.concat([control[keys].reset_index(drop=True), tc.reset_index(drop=True)], axis=1)
        a = attribute_disclosure(o, s, keys, t)
        ref = memoized("disclosure_attribute_control", (ref_key, t, max_levels, n_bins),
                       partial(attribute_disclosure, o, c, keys, t))
        by_target[t] = {**a, "DiSCO_control": ref["DiSCO"], "DiSDiO_control": ref["DiSDiO"], "binned": binned}
    # headline: the target whose DiSCO exceeds the control reference the most (a target that the
    # keys determine in any real sample, e.g. a function of a key, is then not the headline)
    def worst(measure: str) -> str | None:
        if not by_target:
            return None
        return max(by_target, key=lambda k: by_target[k][measure] - by_target[k][f"{measure}_control"])

    w_disco, w_disdio = worst("DiSCO"), worst("DiSDiO")
    return {
        "repU": ident["repU"],
        "UiO": ident["UiO"],
        "UiS": ident["UiS"],
        "UiOiS": ident["UiOiS"],
        "repU_control": ident_ref["repU"],
        "DiSCO_max": by_target[w_disco]["DiSCO"] if w_disco else None,
        "DiSCO_max_target": w_disco,
        "DiSCO_max_control": by_target[w_disco]["DiSCO_control"] if w_disco else None,
        "DiSDiO_max": by_target[w_disdio]["DiSDiO"] if w_disdio else None,
        "DiSDiO_max_target": w_disdio,
        "DiSDiO_max_control": by_target[w_disdio]["DiSDiO_control"] if w_disdio else None,
        "by_target": by_target,
        "keys": keys,
        "definition": (
            "repU: share of original (train) records unique on the keys in both the original and the "
            "synthetic data; DiSCO: share of original records whose key group has a single target value "
            "in the synthetic data and whose own target is that value; DiSDiO: the part of DiSCO whose "
            "original key group also has that single value (synthpop's disclosure(), Raab, Nowok & "
            "Dibben 2024). UiO and DiO are the same for the original itself; *_max: the target whose "
            "measure exceeds its control reference most; *_control use the control set in place of the "
            "synthetic data (a fresh real sample)."
        ),
        "direction": "lower is safer; compare with the _control reference",
        "range": "[0, 1] (synthpop reports x100)",
    }

"""Empirical DP audit of the bridge release (the recipe of tests/validation/test_dp_audit.py:
Jagielski, Ullman & Oprea, NeurIPS 2020, with Clopper-Pearson bounds and Bonferroni).

For neighbouring joint tables D and D' the release is made ``RELEASES`` times on each with its
real noise (OpenDP, not the reproducible test flag), and a fixed family of events on the released
(post-processed) counts is counted. The lower confidence bound of P(E | D) / P(E | D') (both ways
round, events and complements, family-wise error ``ALPHA``) must not exceed the guarantee:

- **added**: D' is D plus one record (the neighbouring relation of the release): e^epsilon.
  Two marginals sharing a column, so b = k / epsilon = 2 each. By hand, with no post-processing,
  the joint event "both cells of the added record at least their D' count" has probability
  P(L >= 0)^2 = (1 / (1 + e^(-1/2)))^2 = 0.6225^2 = 0.3875 under D' and P(L >= 1)^2 = 0.3775^2 =
  0.1425 under D: a ratio of exactly e = 2.72, the bound (post-processing can only lower it).
- **moved**: one record moved to another cell (replace-one, two add/remove steps): e^(2 epsilon)
  by group privacy; one marginal, b = 1 / epsilon = 1, the two cells move by -1 and +1.

A power check runs the same audit on the raw noisy counts of a measurement whose scale forgets the split over the marginals
(b = 1 / epsilon instead of k / epsilon): by hand the joint event is then P(L >= 0)^2 =
(1 / (1 + e^-1))^2 = 0.731^2 = 0.534 against P(L >= 1)^2 = 0.269^2 = 0.0723, a ratio of e^2 = 7.4,
and the audit must flag it (bound > e).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.stats import beta

from synthlink.bridge import BridgeSpec, release
from synthlink.bridge.release import counts, measure

EPSILON = 1.0
RELEASES = 600
ALPHA = 0.01  # family-wise, over every comparison of one audit
CATS = {"a": ("x", "y"), "b": ("u", "v"), "c": ("p", "q")}

Counts = dict[tuple[str, ...], np.ndarray]


def base() -> pd.DataFrame:
    # 40 records: every (a, b, c) combination 5 times
    g = np.array(np.meshgrid(*[np.arange(2)] * 3, indexing="ij")).reshape(3, -1).T
    rows = np.repeat(g, 5, axis=0)
    return pd.DataFrame({c: np.array(CATS[c], dtype=object)[rows[:, i]] for i, c in enumerate("abc")})


def added() -> tuple[pd.DataFrame, pd.DataFrame, BridgeSpec]:
    d = base()
    d2 = pd.concat([d, pd.DataFrame({"a": ["x"], "b": ["u"], "c": ["p"]})], ignore_index=True)
    return d, d2, BridgeSpec((("a", "b"), ("a", "c")), categories=CATS, epsilon=EPSILON)


def moved() -> tuple[pd.DataFrame, pd.DataFrame, BridgeSpec]:
    d = base()
    d2 = d.copy()
    d2.loc[0, ["a", "b"]] = ["y", "v"]  # record 0 was (x, u, p)
    return d, d2, BridgeSpec((("a", "b"),), categories=CATS, epsilon=EPSILON)


def events(true2: Counts, case: str) -> dict[str, Callable[[Counts], bool]]:
    """Events on the released tables, fixed from D' (public to the auditor)."""
    ab, ac = ("a", "b"), ("a", "c")
    if case == "added":
        t1, t2 = true2[ab][0, 0], true2[ac][0, 0]  # the cells of the added record (x, u), (x, p)
        return {"(x,u) >= D'": lambda r: r[ab][0, 0] >= t1,
                "(x,p) >= D'": lambda r: r[ac][0, 0] >= t2,
                "both >= D'": lambda r: r[ab][0, 0] >= t1 and r[ac][0, 0] >= t2,
                "both >= D' + 1": lambda r: r[ab][0, 0] >= t1 + 1 and r[ac][0, 0] >= t2 + 1}
    lo, hi = true2[ab][0, 0], true2[ab][1, 1]  # (x, u) lost one, (y, v) gained one
    return {"(y,v) >= D'": lambda r: r[ab][1, 1] >= hi,
            "(x,u) <= D' and (y,v) >= D'": lambda r: r[ab][0, 0] <= lo and r[ab][1, 1] >= hi}


def cp_lower(k: int, n: int, a: float) -> float:
    return 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))


def cp_upper(k: int, n: int, a: float) -> float:
    return 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))


def ratio_bound(k1: int, k2: int, n: int, a: float) -> float:
    hi = cp_upper(k2, n, a / 2)
    return cp_lower(k1, n, a / 2) / hi if hi > 0 else np.inf


def opendp_release(table: pd.DataFrame, spec: BridgeSpec, _i: int) -> Counts:
    r = release(table, spec)
    return {m: r.table(m)["count"].to_numpy().reshape([len(CATS[c]) for c in m]) for m in spec.marginals}


def forgot_the_split(table: pd.DataFrame, spec: BridgeSpec, i: int) -> Counts:
    """A defective measurement: scale 1 / epsilon per marginal (NumPy noise, fast), audited before
    post-processing (the consistency step spreads the difference and would hide part of it)."""
    return measure(counts(table, spec), spec, {"scale": 1 / spec.epsilon}, insecure_reproducible_noise=i)


def audit(case: str, make: Callable[[pd.DataFrame, BridgeSpec, int], Counts], n: int = RELEASES) -> list[dict]:
    d, d2, spec = {"added": added, "moved": moved}[case]()
    evs = events(counts(d2, spec), case)
    hits = {name: [0, 0] for name in evs}
    for j, table in enumerate((d, d2)):
        for i in range(n):
            r = make(table, spec, i + j * n)
            for name, ev in evs.items():
                hits[name][j] += bool(ev(r))
    a = ALPHA / (len(evs) * 4)
    out = []
    for name, (k1, k2) in hits.items():
        b = max(ratio_bound(x, y, n, a) for x, y in ((k1, k2), (k2, k1), (n - k1, n - k2), (n - k2, n - k1)))
        out.append({"case": case, "event": name, "p_D": k1 / n, "p_D'": k2 / n, "ratio_lower_bound": b})
    return out


def test_added_record_within_e_to_the_epsilon():
    for r in audit("added", opendp_release):
        print(r)
        assert r["ratio_lower_bound"] <= np.exp(EPSILON), r


def test_moved_record_within_e_to_the_2_epsilon():
    for r in audit("moved", opendp_release):
        print(r)
        assert r["ratio_lower_bound"] <= np.exp(2 * EPSILON), r


def test_the_audit_catches_a_release_that_forgets_the_split():
    rows = audit("added", forgot_the_split, n=600)
    assert max(r["ratio_lower_bound"] for r in rows) > np.exp(EPSILON), rows

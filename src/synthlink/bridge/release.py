"""The bridge release: differentially private counts of cross-register marginals, made inside the
secure environment from the real joint table (issue 16 §1).

Method
    1. **Count** every declared cell of each of the ``k`` marginals of the spec
       (:func:`counts`): the columns are binned by the spec's public domain
       (:func:`synthlink.bridge.spec.binned`), so every cell of ``spec.cells(m)`` is released,
       zero or not, and nothing data-dependent shapes the output.
    2. **Noise** (:func:`measure`), with OpenDP 0.16's exact samplers, one measurement per marginal
       on its vector of integer counts:

       - ``laplace``: discrete Laplace (``make_laplace``), pure epsilon-DP, scale ``b = k / epsilon``;
       - ``gaussian``: discrete Gaussian (``make_gaussian``) under zero-concentrated DP (Bun &
         Steinke 2016), ``rho / k`` per marginal, scale ``sigma = sqrt(k / (2 rho))``; the total
         ``rho`` is the largest for which OpenDP's conversion of the composed release
         (``make_zCDP_to_approxDP``, the bound of Canonne, Kamath & Steinke 2020) gives at most
         ``epsilon`` at the spec's ``delta`` (found by bisection).

       **Neighbouring relation: add or remove one record** (unbounded DP). One record lies in
       exactly one cell of each marginal, so adding or removing it changes one count of each of
       the ``k`` tables by 1: L1 = L2 sensitivity 1 per marginal, L1 ``k`` and L2 ``sqrt(k)`` for
       the whole release. The budget is split evenly over the ``k`` marginals (``epsilon / k``
       each, or ``rho / k``), and sequential composition gives the total. OpenDP's own privacy
       map of the composition of the measurements actually used (``make_composition``) is
       evaluated at d_in = 1 and checked against the budget. Replacing one record is two such
       steps, so the release is ``2 epsilon``-DP under replace-one neighbours (group privacy).
    3. **Post-process** (:mod:`synthlink.bridge.consistency`, free under DP): non-negative integer
       tables, one total for all tables, shared sub-margins that agree exactly.

Randomness
    The noise comes from OpenDP's samplers (system entropy); nothing a user sets reproduces it.
    ``insecure_reproducible_noise=<int>`` (tests only) draws the same distributions from a NumPy
    generator seeded by it instead (discrete Laplace as the difference of two geometrics; discrete
    Gaussian by Canonne, Kamath & Steinke's rejection sampler, Algorithm 3); the budget then says
    ``"reproducible_noise": true``: the guarantee is void.

The result is a :class:`~synthlink.bridge.spec.BridgeRelease`: counts only, never records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthlink.bridge.consistency import make_consistent
from synthlink.bridge.spec import BridgeRelease, BridgeSpec, binned
from synthlink.errors import ConfigError, InputError

#: relative slack when comparing OpenDP's (upward-rounded) privacy maps with the budget
MAP_SLACK = 1e-9

NEIGHBOURING = "add or remove one record (unbounded DP)"

Marginal = tuple[str, ...]


def opendp() -> Any:
    """``opendp.prelude`` with the contrib features enabled."""
    try:
        import opendp.prelude as dp
    except ImportError:  # pragma: no cover - opendp is a dependency
        raise ConfigError("the bridge release needs OpenDP: pip install 'opendp>=0.16,<0.17'") from None
    dp.enable_features("contrib")
    return dp


def shape(spec: BridgeSpec, marginal: Marginal) -> tuple[int, ...]:
    return tuple(len(spec.levels(c)) for c in marginal)


def counts(joint: pd.DataFrame, spec: BridgeSpec, where: str = "joint table") -> dict[Marginal, np.ndarray]:
    """The true count of every declared cell of each marginal (arrays over the levels, axes in
    the marginal's column order, cells in the order of ``spec.cells``)."""
    b = binned(joint, spec, spec.columns, where)
    codes = {c: pd.Categorical(b[c], categories=spec.levels(c)).codes.astype(np.int64) for c in spec.columns}
    out = {}
    for m in spec.marginals:
        sh = shape(spec, m)
        flat = np.ravel_multi_index(tuple(codes[c] for c in m), sh) if len(joint) else np.zeros(0, dtype=np.int64)
        out[m] = np.bincount(flat, minlength=int(np.prod(sh))).reshape(sh).astype(np.int64)
    return out


def _measurement(dp: Any, mechanism: str, scale: float) -> Any:
    if mechanism == "laplace":
        return dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"), scale=scale)
    return dp.m.make_gaussian(dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="i64"), scale=scale)


def _gaussian_epsilon(dp: Any, rho: float, delta: float) -> float:
    """OpenDP's epsilon at ``delta`` of a ``rho``-zCDP measurement (one of sensitivity 1 and
    scale ``1 / sqrt(2 rho)`` has exactly that rho)."""
    meas = _measurement(dp, "gaussian", 1.0 / math.sqrt(2.0 * rho))
    return float(dp.c.make_zCDP_to_approxDP(meas).map(1).epsilon(delta))


def gaussian_rho(epsilon: float, delta: float) -> float:
    """The largest total rho whose (epsilon, delta) conversion by OpenDP is within the budget.
    Starts from the classic bound ``epsilon = rho + 2 sqrt(rho log(1/delta))`` (Bun & Steinke
    2016, Prop. 1.3), which OpenDP's tighter conversion never exceeds, and bisects upwards."""
    dp = opendp()
    log = math.log(1.0 / delta)
    lo = (math.sqrt(log + epsilon) - math.sqrt(log)) ** 2
    while _gaussian_epsilon(dp, lo, delta) > epsilon:  # pragma: no cover - OpenDP is tighter
        lo /= 2
    hi = max(epsilon, 2 * lo)
    while _gaussian_epsilon(dp, hi, delta) <= epsilon:
        hi *= 2
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if _gaussian_epsilon(dp, mid, delta) <= epsilon else (lo, mid)
    return lo * (1 - 1e-6)


def calibrate(spec: BridgeSpec) -> dict[str, Any]:
    """The budget of a release of ``spec`` (before any noise is drawn): mechanism, scale, the
    split over the k marginals, sensitivities, and what OpenDP's privacy map says it spends."""
    dp = opendp()
    k = len(spec.marginals)
    eps = float(spec.epsilon)
    sens = {"per_marginal_l1": 1, "per_marginal_l2": 1, "release_l1": k, "release_l2": math.sqrt(k)}
    if spec.mechanism == "laplace":
        scale = k / eps
        meas = [_measurement(dp, "laplace", scale) for _ in range(k)]
        spent = float(dp.c.make_composition(meas).map(1))
        budget: dict[str, Any] = {"epsilon": eps, "delta": 0.0, "per_marginal": {"epsilon": eps / k},
                                  "accounting": "pure DP, sequential composition (OpenDP make_composition)",
                                  "spent": {"epsilon": spent}}
        ok = spent <= eps * (1 + MAP_SLACK)
    else:
        delta = float(spec.delta)  # type: ignore[arg-type]  # checked by BridgeSpec
        rho = gaussian_rho(eps, delta)
        scale = math.sqrt(k / (2.0 * rho))
        meas = [_measurement(dp, "gaussian", scale) for _ in range(k)]
        comp = dp.c.make_composition(meas)
        spent_rho = float(comp.map(1))
        spent = float(dp.c.make_zCDP_to_approxDP(comp).map(1).epsilon(delta))
        budget = {"epsilon": eps, "delta": delta, "rho": rho, "per_marginal": {"rho": rho / k},
                  "accounting": "zCDP, sequential composition (OpenDP make_composition), converted to "
                                "(epsilon, delta) by OpenDP make_zCDP_to_approxDP",
                  "spent": {"rho": spent_rho, "epsilon": spent, "delta": delta}}
        ok = spent <= eps * (1 + MAP_SLACK)
    if not ok:  # pragma: no cover - a calibration bug
        raise RuntimeError(f"bridge: OpenDP's privacy map gives epsilon {spent}, over the budget {eps}")
    return {"mechanism": spec.mechanism, **budget, "marginals": k, "split": "even over the marginals",
            "scale": scale, "neighbouring": NEIGHBOURING, "sensitivity": sens,
            "replace_one": (f"{2 * eps:g}-DP" if spec.mechanism == "laplace" else f"{4 * budget['rho']:g}-zCDP")
            + " under replacing one record (two add/remove steps, group privacy)"}


def discrete_laplace(rng: np.random.Generator, scale: float, size: int) -> np.ndarray:
    """Discrete Laplace noise, P(x) proportional to exp(-|x| / scale): the difference of two
    geometrics of success probability 1 - exp(-1 / scale)."""
    p = -math.expm1(-1.0 / scale)
    g = rng.geometric(p, (2, size))
    return (g[0] - g[1]).astype(np.int64)


def discrete_gaussian(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    """Discrete Gaussian noise, P(x) proportional to exp(-x^2 / (2 sigma^2)) (Canonne, Kamath &
    Steinke 2020, Algorithm 3: discrete Laplace proposals of scale t = floor(sigma) + 1, accepted
    with probability exp(-(|y| - sigma^2 / t)^2 / (2 sigma^2)))."""
    t = math.floor(sigma) + 1
    out = np.zeros(size, dtype=np.int64)
    todo = np.arange(size)
    while todo.size:
        y = discrete_laplace(rng, t, todo.size)
        keep = rng.random(todo.size) < np.exp(-((np.abs(y) - sigma ** 2 / t) ** 2) / (2 * sigma ** 2))
        out[todo[keep]] = y[keep]
        todo = todo[~keep]
    return out


def measure(true: Mapping[Marginal, np.ndarray], spec: BridgeSpec, budget: Mapping[str, Any], *,
            insecure_reproducible_noise: int | None = None) -> dict[Marginal, np.ndarray]:
    """The noisy counts (integers, possibly negative) of each marginal at ``budget``'s scale."""
    scale = float(budget["scale"])
    out = {}
    if insecure_reproducible_noise is not None:
        rng = np.random.default_rng(int(insecure_reproducible_noise))
        draw = discrete_laplace if spec.mechanism == "laplace" else discrete_gaussian
        for m, t in true.items():
            out[m] = t + draw(rng, scale, t.size).reshape(t.shape)
        return out
    dp = opendp()
    for m, t in true.items():
        meas = _measurement(dp, spec.mechanism, scale)
        out[m] = np.asarray(meas([int(v) for v in t.ravel()]), dtype=np.int64).reshape(t.shape)
    return out


POST_PROCESSING = (
    "The common total is the inverse-variance weighted mean of the tables' noisy sums (weights 1 / "
    "number of cells), rounded to a non-negative integer.",
    "Every shared sub-margin (columns two tables share) and the total were made to agree by iterative "
    "projection (each table moved to the weighted mean of the tables' projections, the difference spread "
    "evenly over the cells), alternated with setting negative counts to zero.",
    "Counts were rounded to non-negative integers that keep the total and every shared sub-margin equal "
    "across tables (largest remainder within each shared cell; an integer program nearest in L1 when "
    "tables overlap on different columns).",
    "All of this reads the noisy counts only (post-processing: no further privacy cost).",
)


def release(joint: pd.DataFrame, spec: BridgeSpec, *, insecure_reproducible_noise: int | None = None,
            where: str = "joint table") -> BridgeRelease:
    """The differentially private release of ``spec``'s marginals of ``joint`` (see the module
    doc): every declared cell with a non-negative integer count, the budget, the post-processing.
    ``insecure_reproducible_noise`` is for tests only and voids the guarantee."""
    if not isinstance(spec, BridgeSpec):
        raise ConfigError("bridge: release needs a BridgeSpec")
    if not isinstance(joint, pd.DataFrame):
        raise InputError(f"{where}: not a table")
    budget = calibrate(spec)
    reproducible = insecure_reproducible_noise is not None
    budget["reproducible_noise"] = reproducible
    budget["noise"] = (f"numpy PCG64 seeded by insecure_reproducible_noise={insecure_reproducible_noise} "
                       "(NOT private: the guarantee is void)" if reproducible else
                       f"OpenDP 0.16 {'make_laplace (discrete Laplace)' if spec.mechanism == 'laplace' else 'make_gaussian (discrete Gaussian)'}")
    noisy = measure(counts(joint, spec, where), spec, budget, insecure_reproducible_noise=insecure_reproducible_noise)
    tables, total = make_consistent(noisy)
    frames = {}
    for m in spec.marginals:
        f = spec.cells(m)
        f["count"] = tables[m].ravel().astype(np.int64)
        frames[m] = f
    return BridgeRelease(spec, frames, budget, POST_PROCESSING, total)

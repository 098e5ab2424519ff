"""PrivBayes (degree 1): an epsilon-differentially private synthesizer built from a tree of
noisy two-way marginals (Zhang, Cormode, Procopiuc, Srivastava & Xiao, "PrivBayes", ACM TODS 2017).

Method
    1. **Discretise.** Categorical columns keep their categories (null is a category). Numeric and
       date columns (dates as days) are cut into ``bins`` equal-width bins between bounds (integer
       columns whose range has at most ``bins`` values keep one bin per integer); null is a bin of
       its own.
    2. **Structure (budget ``epsilon1 = structure_share * epsilon``).** The first attribute is
       chosen uniformly at random (no budget). Then, d - 1 times, the exponential mechanism picks a
       pair (new attribute X, parent P already in the tree) with probability proportional to
       ``exp(epsilon1 / (d - 1) * I(X; P) / (2 * S))``, where ``I`` is the mutual information (bits)
       and ``S`` its sensitivity (PrivBayes Lemma: ``(1/n) log2 n + ((n-1)/n) log2(n/(n-1))`` when
       X or P is binary, ``(2/n) log2((n+1)/2) + ((n-1)/n) log2((n+1)/(n-1))`` otherwise).
    3. **Measure (budget ``epsilon2 = epsilon - epsilon1``).** The count table of each selected pair
       (P, X) (one table in all when d = 1) gets independent Laplace noise with scale
       ``b = 2 * m / epsilon2``, m = number of tables: one record changes two cells of each table
       by one (L1 sensitivity 2), and the m tables compose. Noisy counts are clipped at 0 and
       normalised into P(root) and P(X | P).
    4. **Sample** attributes in tree order from the noisy conditionals; a numeric value is uniform
       inside its bin (rounded for integer columns), a date likewise in days.

What the guarantee covers
    ``epsilon``-differential privacy (pure, Laplace) for the records of the part the synthesizer is
    fitted on, with neighbouring tables that differ by **replacing one record** (bounded DP). The
    DP noise is drawn once, in ``fit`` (from ``random_state``); sampling any number of rows with any
    seed afterwards is post-processing and costs no further budget.
    A pandas ``Categorical`` column's declared categories are its domain (unobserved declared
    categories can appear in the output, as they must under DP); other categorical columns use
    the observed categories.
    Assumed public and NOT covered (they are read from the data unless you give them):
    the number of records ``n``; the list of columns; each categorical column's set of categories
    (give ``categories={col: [...]}`` to make it public knowledge); each numeric or date column's
    bounds (give ``bounds={col: (low, high)}``, dates as ISO strings or days since 1970-01-01;
    values outside are clipped into the end bins); whether a column has nulls at all (its null bin
    exists only then; with ``categories``/``bounds`` given, a null bin is always there, so this
    leaks nothing). With every bound and category set given, the whole output is epsilon-DP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.synth.base import Synthesizer
from synthlink.synth.cart import check_identifier_like, column_kind


def mi_sensitivity(n: int, binary: bool) -> float:
    """Sensitivity of the mutual information (bits) under replacing one of n records (PrivBayes)."""
    if n <= 1:
        return 1.0
    if binary:
        return float(np.log2(n) / n + (n - 1) / n * np.log2(n / (n - 1)))
    return float(2 / n * np.log2((n + 1) / 2) + (n - 1) / n * np.log2((n + 1) / (n - 1)))


def mutual_information(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> float:
    """Empirical mutual information in bits of two code arrays."""
    joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)
    p = joint / joint.sum()
    pa = p.sum(1, keepdims=True)
    pb = p.sum(0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log2(p[nz] / (pa @ pb)[nz])))


def _to_days(v: Any) -> float:
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    ts = pd.Timestamp(v)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return float(ts.value) / 86_400e9


class _Attr:
    """A discretised column: codes plus what is needed to turn codes back into values."""

    def __init__(self, name: str, s: pd.Series, bins: int, bounds: Any, categories: Any) -> None:
        self.name = name
        self.kind = column_kind(s)
        self.tz = getattr(s.dtype, "tz", None)
        null = s.isna().to_numpy()
        self.has_null_bin = bool(null.any()) or bounds is not None or categories is not None
        if self.kind == "categorical":
            if categories is not None:
                cats = list(categories)
                known = pd.Index(cats)
                obs = pd.Index(s.dropna().unique())
                extra = obs.difference(known)
                if len(extra):
                    raise InputError(
                        f"privbayes: column '{name}' has {len(extra)} value(s) outside the declared categories"
                    )
            elif isinstance(s.dtype, pd.CategoricalDtype):
                cats = list(s.cat.categories)
            else:
                cats = sorted(s.dropna().unique().tolist(), key=lambda x: (str(type(x)), x))
            self.categories = np.empty(len(cats) + (1 if self.has_null_bin else 0), dtype=object)
            self.categories[: len(cats)] = cats
            if self.has_null_bin:
                self.categories[-1] = s[s.isna()].iloc[0] if null.any() else np.nan
            idx = pd.Index(cats).get_indexer(s.astype(object).where(~null, None))
            codes = np.where(null, len(cats), idx)
            self.codes = codes.astype(np.int64)
            self.k = len(self.categories)
            return
        # numeric / date
        if self.kind == "date":
            d = s.dt.tz_convert("UTC").dt.tz_localize(None) if self.tz is not None else s
            ns = d.astype("datetime64[ns]")
            x = ns.to_numpy().astype("int64").astype(float) / 86_400e9
            x[null] = np.nan
        else:
            x = s.astype("float64").to_numpy(dtype=float, na_value=np.nan)
        obs = x[~null]
        if bounds is not None:
            lo, hi = _to_days(bounds[0]), _to_days(bounds[1])
            if not hi >= lo:
                raise ConfigError(f"privbayes: bounds for column '{name}' must be (low, high) with low <= high")
        elif len(obs):
            lo, hi = float(obs.min()), float(obs.max())
        else:
            lo, hi = 0.0, 0.0
        self.all_null = len(obs) == 0 and bounds is None
        if self.all_null:  # no values and no public bounds: the domain is {null}
            self.codes = np.zeros(len(s), dtype=np.int64)
            self.k, self.n_value_bins, self.integer = 1, 0, False
            self.edges = np.array([0.0, 0.0])
            return
        self.integer = bool(len(obs) == 0 or np.all(np.mod(obs, 1) == 0))  # whole numbers / days
        if self.integer and hi - lo + 1 <= bins:
            self.edges = np.arange(lo, hi + 2) - 0.5  # one bin per integer
        else:
            self.edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo, hi])
        nb = len(self.edges) - 1
        clipped = np.clip(np.nan_to_num(x, nan=lo), self.edges[0], self.edges[-1])
        b = np.clip(np.searchsorted(self.edges, clipped, side="right") - 1, 0, nb - 1)
        self.n_value_bins = nb
        self.codes = np.where(null, nb, b).astype(np.int64)
        self.k = nb + (1 if self.has_null_bin else 0)
        if not self.has_null_bin and len(obs) == 0:
            self.k = nb

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray | pd.Series:
        if self.kind == "categorical":
            return self.categories[codes]
        nb = self.n_value_bins
        if self.all_null:
            codes = np.full(len(codes), 0, dtype=np.int64)
            nb = 0
        null = codes >= nb
        c = np.clip(codes, 0, max(nb - 1, 0))
        lo, hi = self.edges[c], self.edges[c + 1]
        v = lo + rng.random(len(codes)) * (hi - lo)
        if self.integer:
            v = np.clip(np.round(v), np.ceil(self.edges[0]), np.floor(self.edges[-1]))
        v = np.where(null, np.nan, v)
        if self.kind == "date":
            ns = np.where(null, 0, np.round(v * 86_400e9)).astype("int64")
            out = pd.Series(ns.astype("datetime64[ns]"))
            out[null] = pd.NaT
            if self.tz is not None:
                out = out.dt.tz_localize("UTC").dt.tz_convert(self.tz)
            return out.to_numpy()
        return v


class PrivBayesSynthesizer(Synthesizer):
    """epsilon-DP PrivBayes of degree 1 (a tree of noisy 2-way marginals). See the module doc."""

    name = "privbayes"
    summary = "differentially private PrivBayes (tree of Laplace-noised 2-way marginals), epsilon=1"

    def __init__(
        self,
        epsilon: float = 1.0,
        bins: int = 10,
        structure_share: float = 0.3,
        bounds: Mapping[str, Sequence[Any]] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        random_state: int = 0,
    ) -> None:
        self.epsilon = epsilon
        self.bins = bins
        self.structure_share = structure_share
        self.bounds = bounds
        self.categories = categories
        self.random_state = random_state

    def _fit(self, data: pd.DataFrame) -> None:
        eps = float(self.epsilon)
        if not eps > 0 or not np.isfinite(eps):
            raise ConfigError(f"privbayes: epsilon must be a positive number, got {self.epsilon}")
        if not 0 < float(self.structure_share) < 1:
            raise ConfigError(f"privbayes: structure_share must be in (0, 1), got {self.structure_share}")
        if int(self.bins) < 1:
            raise ConfigError(f"privbayes: bins must be at least 1, got {self.bins}")
        bounds = dict(self.bounds or {})
        cats = dict(self.categories or {})
        for where, given in (("bounds", bounds), ("categories", cats)):
            unknown = [k for k in given if k not in data.columns]
            if unknown:
                raise ConfigError(f"privbayes: {where} names unknown column(s) {', '.join(map(repr, unknown))}")
        check_identifier_like(data, "privbayes")
        rng = np.random.default_rng(self.random_state)
        n = len(data)
        self.attrs_ = [_Attr(str(c), data[c], int(self.bins), bounds.get(c), cats.get(c)) for c in data.columns]
        d = len(self.attrs_)
        eps1 = float(self.structure_share) * eps if d > 1 else 0.0
        eps2 = eps - eps1
        # -- structure: exponential mechanism on mutual information ------------------------------
        root = int(rng.integers(0, d))
        in_tree = [root]
        parents: dict[int, int] = {}
        order = [root]
        if d > 1:
            mi = np.zeros((d, d))
            for i in range(d):
                for j in range(i + 1, d):
                    a, b = self.attrs_[i], self.attrs_[j]
                    mi[i, j] = mi[j, i] = mutual_information(a.codes, b.codes, a.k, b.k)
            eps_step = eps1 / (d - 1)
            for _ in range(d - 1):
                cand = [(x, p) for x in range(d) if x not in in_tree for p in in_tree]
                sens = np.array([mi_sensitivity(n, min(self.attrs_[x].k, self.attrs_[p].k) <= 2) for x, p in cand])
                score = np.array([mi[x, p] for x, p in cand])
                logits = eps_step * score / (2 * sens)
                w = np.exp(logits - logits.max())
                x, p = cand[int(rng.choice(len(cand), p=w / w.sum()))]
                parents[x] = p
                in_tree.append(x)
                order.append(x)
        self.order_ = order
        self.parents_ = parents
        # -- measurement: Laplace noise on the count tables ---------------------------------------
        m = max(d - 1, 1)
        self.noise_scale_ = 2.0 * m / eps2
        self.epsilon_structure_, self.epsilon_measure_ = eps1, eps2
        self.measurements_: list[tuple[tuple[int, ...], np.ndarray]] = []
        self.root_probs_: np.ndarray
        self.conditionals_: dict[int, np.ndarray] = {}
        if d == 1:
            a = self.attrs_[root]
            noisy = np.bincount(a.codes, minlength=a.k) + rng.laplace(0.0, self.noise_scale_, a.k)
            self.measurements_.append(((root,), noisy))
            self.root_probs_ = _normalise(np.clip(noisy, 0, None))
        else:
            root_done = False
            for x in order[1:]:
                p = parents[x]
                ap, ax = self.attrs_[p], self.attrs_[x]
                table = np.bincount(ap.codes * ax.k + ax.codes, minlength=ap.k * ax.k).reshape(ap.k, ax.k)
                noisy = table + rng.laplace(0.0, self.noise_scale_, table.shape)
                self.measurements_.append(((p, x), noisy))
                clipped = np.clip(noisy, 0, None)
                self.conditionals_[x] = np.apply_along_axis(_normalise, 1, clipped)
                if p == root and not root_done:
                    self.root_probs_ = _normalise(clipped.sum(axis=1))
                    root_done = True

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        codes: dict[int, np.ndarray] = {}
        root = self.order_[0]
        codes[root] = _draw(np.cumsum(self.root_probs_)[None, :], np.zeros(n, dtype=np.int64), rng)
        for x in self.order_[1:]:
            cum = np.cumsum(self.conditionals_[x], axis=1)
            codes[x] = _draw(cum, codes[self.parents_[x]], rng)
        return pd.DataFrame({a.name: a.decode(codes[i], rng) for i, a in enumerate(self.attrs_)})


def _normalise(v: np.ndarray) -> np.ndarray:
    s = v.sum()
    return v / s if s > 0 else np.full(len(v), 1.0 / len(v))


def _draw(cum: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one code per row from the cumulative distribution ``cum[rows[i]]``, vectorised."""
    u = rng.random(len(rows))
    c = cum[rows]
    return np.minimum((u[:, None] > c).sum(axis=1), cum.shape[1] - 1).astype(np.int64)

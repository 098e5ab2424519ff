"""PrivBayes (degree 1): an epsilon-differentially private synthesizer built from a tree of
noisy two-way marginals (Zhang, Cormode, Procopiuc, Srivastava & Xiao, "PrivBayes", ACM TODS 2017).

Method
    1. **Discretise** (from declared metadata only, never from the values: see below).
       Categorical columns keep their categories; numeric and date columns (dates as days) are cut
       into ``bins`` equal-width bins between their bounds (a whole-number column whose bounds span
       at most ``bins`` values keeps one bin per integer); null is a category / bin of its own.
    2. **Structure (budget ``epsilon1 = structure_share * epsilon``).** The first attribute is
       chosen uniformly at random (no budget). Then, d - 1 times, a pair (new attribute X, parent P
       already in the tree) is selected with OpenDP's report-noisy-max (``make_noisy_max``,
       exponential noise, i.e. permute-and-flip, McKenna & Sheldon 2020: epsilon-DP with the same
       budget as the exponential mechanism and never less accurate), budget ``epsilon1 / (d - 1)``
       per choice, on the scores ``I(X; P) / S``: ``I`` is the mutual information (bits) and ``S``
       its sensitivity (PrivBayes Lemma: ``(1/n) log2 n + ((n-1)/n) log2(n/(n-1))`` when X or P is
       binary, ``(2/n) log2((n+1)/2) + ((n-1)/n) log2((n+1)/(n-1))`` otherwise), so every score
       has sensitivity 1.
    3. **Measure (budget ``epsilon2 = epsilon - epsilon1``).** The count tables of the selected
       pairs (P, X) (one table of the single column when d = 1), m tables in all, get OpenDP's
       discrete Laplace noise (``make_laplace`` on an integer vector) of scale ``b = 2 * m /
       epsilon2``: replacing one record changes two cells of each table by one, so the L1
       sensitivity of the m tables together is 2m. Noisy counts are clipped at 0 and normalised
       into P(root) and P(X | P). OpenDP's own privacy map is evaluated for every mechanism and
       the sum is kept as ``epsilon_spent_`` (it must not exceed ``epsilon``).
    4. **Sample** attributes in tree order from the noisy conditionals; a numeric value is uniform
       inside its bin (rounded for whole-number columns), a date likewise in days (rounded to whole
       days). This is post-processing: ``sample(n, seed)``'s ``seed`` drives only it.

Randomness
    The DP noise and every mechanism draw come from OpenDP's exact samplers (random bits from a
    CTR-DRBG seeded by system entropy), the random root from ``secrets``: nothing a user can set
    reproduces them, so knowing the study's seed and every record but one does not reveal the
    last one.
    ``insecure_reproducible_noise=<int>`` (for tests only) draws the same distributions from a
    NumPy generator with that seed instead; it voids the guarantee and ``guarantee_`` says so
    (studies refuse it).

What the guarantee covers
    ``epsilon``-differential privacy (pure, delta = 0) for the records of the part the synthesizer
    is fitted on, with neighbouring tables that differ by **replacing one record** (bounded DP);
    the number of records ``n`` and the schema (column names, order and dtypes) are public.
    Everything that shapes the output is taken from declared metadata, never from the values:

    - **integrality**: a numeric column is binned and emitted as whole numbers if its dtype is an
      integer dtype or it is listed in ``integers=[...]``; otherwise it is continuous, whatever its
      values (a float column holding 37.0 or 37.5 is treated alike). Dates are always whole days.
    - **categories**: ``categories={col: [...]}``, else a pandas ``Categorical``'s declared
      categories, else ``[False, True]`` for a boolean dtype. A value outside declared categories
      is refused (``InputError``). Unobserved declared categories can appear in the output, as
      they must under DP.
    - **bounds**: ``bounds={col: (low, high)}`` (dates as ISO strings or days since 1970-01-01);
      values outside are clipped into the end bins.
    - **null bin**: ``nullable=True`` (every column), ``nullable=[cols]`` (exactly those; a null in
      another column is refused), or, when ``nullable`` is not given, always present for a column
      with declared bounds or categories.

    Where something was NOT declared it is read from the data, and that part of the release is
    **not covered** by epsilon: categories of other categorical columns (the observed set),
    bounds of other numeric/date columns (observed min and max), and whether a column without a
    declaration has a null bin (only when nulls are observed). ``guarantee_`` (a dict on the
    fitted object) lists exactly which: ``{"epsilon", "delta", "neighbouring", "noise",
    "reproducible_noise", "covers": [...], "not_covered": [...], "assumed_public": [...]}``; an
    empty ``not_covered`` means the whole output is epsilon-DP. ``guarantee(data)`` gives the same
    statement without fitting (it reads the declarations and dtypes only, never the rows). Refusals (an identifier-like
    column, a value outside declared categories, a null where none is declared) depend on the
    data too: they release no table, and are not covered either.
    ``tests/validation/test_dp_audit.py`` audits neighbouring tables empirically.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.synth.base import Synthesizer
from synthlink.synth.cart import check_identifier_like, column_kind

#: relative slack when comparing OpenDP's (upward-rounded) privacy maps with the budget
_MAP_SLACK = 1e-9
_KINDS = {"categorical": "categorical", "ordinal": "categorical", "numeric": "numeric", "date": "date"}


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


class _Noise:
    """The DP draws of one fit: OpenDP's samplers, or (tests only) a seeded NumPy generator."""

    def __init__(self, insecure_seed: int | None) -> None:
        self.reproducible = insecure_seed is not None
        self.spent = 0.0
        if self.reproducible:
            self.rng = np.random.default_rng(int(insecure_seed))  # type: ignore[arg-type]
            return
        try:
            import opendp.prelude as dp
        except ImportError:  # pragma: no cover - opendp is a dependency
            raise ConfigError("privbayes needs OpenDP for its noise: pip install 'opendp>=0.16,<0.17'") from None
        dp.enable_features("contrib")
        self.dp = dp

    def root(self, d: int) -> int:
        """Uniform choice of the first attribute (data-independent: no budget)."""
        return int(self.rng.integers(0, d)) if self.reproducible else secrets.randbelow(d)

    def noisy_max(self, scores: np.ndarray, epsilon: float) -> int:
        """Index of the highest score, epsilon-DP for scores of L-inf sensitivity 1."""
        scale = 2.0 / epsilon
        if self.reproducible:
            self.spent += epsilon
            return int(np.argmax(scores + self.rng.exponential(scale, len(scores))))
        dp = self.dp
        space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.linf_distance(T=float)
        meas = dp.m.make_noisy_max(*space, dp.max_divergence(), scale=scale)
        self.spent += float(meas.map(1.0))
        return int(meas([float(s) for s in scores]))

    def laplace(self, counts: np.ndarray, l1_sensitivity: int, scale: float) -> np.ndarray:
        """Integer counts plus discrete Laplace noise of ``scale``."""
        if self.reproducible:
            self.spent += l1_sensitivity / scale
            p = -np.expm1(-1.0 / scale)  # difference of two geometrics = discrete Laplace
            g = self.rng.geometric(p, (2, len(counts)))
            return counts + (g[0] - g[1])
        dp = self.dp
        space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
        meas = dp.m.make_laplace(*space, scale=scale)
        self.spent += float(meas.map(int(l1_sensitivity)))
        return np.asarray(meas([int(c) for c in counts]), dtype=np.int64)


class _Attr:
    """A discretised column: codes plus what is needed to turn codes back into values.

    ``covers`` / ``not_covered`` collect which parts of this column's domain were declared and
    which were read from the data."""

    def __init__(
        self, name: str, s: pd.Series, bins: int, bounds: Any, categories: Any,
        integer: bool, null_decl: bool | None, kind: str | None,
    ) -> None:
        self.name = name
        self.kind = kind or column_kind(s)
        self.tz = getattr(s.dtype, "tz", None)
        self.covers: list[str] = []
        self.not_covered: list[str] = []
        null = s.isna().to_numpy()
        if null_decl is False and null.any():
            raise InputError(f"privbayes: column '{name}' has nulls but is not declared in nullable")
        if null_decl is None:
            self.has_null_bin = bool(null.any())
            self.not_covered.append(f"whether '{name}' has nulls (read from the data)")
        else:
            self.has_null_bin = null_decl
            self.covers.append(f"null bin of '{name}' (declared)")
        if self.kind == "categorical":
            self._categorical(s, null, categories)
        else:
            self._numeric(s, null, bins, bounds, integer)

    def _categorical(self, s: pd.Series, null: np.ndarray, categories: Any) -> None:
        name = self.name
        if categories is not None:
            cats = list(categories)
            extra = pd.Index(s[~null].astype(object).unique()).difference(pd.Index(cats))
            if len(extra):
                raise InputError(
                    f"privbayes: column '{name}' has {len(extra)} value(s) outside the declared categories"
                )
            self.covers.append(f"categories of '{name}' (declared)")
        elif isinstance(s.dtype, pd.CategoricalDtype):
            cats = list(s.cat.categories)
            self.covers.append(f"categories of '{name}' (its Categorical dtype)")
        elif pd.api.types.is_bool_dtype(s.dtype):
            cats = [False, True]
            self.covers.append(f"categories of '{name}' (boolean dtype)")
        else:
            cats = sorted(s.dropna().unique().tolist(), key=lambda x: (str(type(x)), x))
            self.not_covered.append(f"categories of '{name}' (read from the data)")
        self.categories = np.empty(len(cats) + (1 if self.has_null_bin else 0), dtype=object)
        self.categories[: len(cats)] = cats
        if self.has_null_bin:
            self.categories[-1] = np.nan  # one null value whatever null the data held
        idx = pd.Index(cats).get_indexer(s.astype(object).where(~null, None))
        self.codes = np.where(null, len(cats), idx).astype(np.int64)
        self.k = len(self.categories)

    def _numeric(self, s: pd.Series, null: np.ndarray, bins: int, bounds: Any, integer: bool) -> None:
        name = self.name
        if self.kind == "date":
            if not pd.api.types.is_datetime64_any_dtype(s):
                raise ConfigError(f"privbayes: column '{name}' is declared a date but is not a datetime column")
            d = s.dt.tz_convert("UTC").dt.tz_localize(None) if self.tz is not None else s
            ns = d.astype("datetime64[ns]")
            x = ns.to_numpy().astype("int64").astype(float) / 86_400e9
            x[null] = np.nan
        else:
            try:
                x = s.astype("float64").to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise ConfigError(f"privbayes: column '{name}' is declared numeric but is not numbers") from None
        obs = x[~null]
        if bounds is not None:
            lo, hi = _to_days(bounds[0]), _to_days(bounds[1])
            if not hi >= lo:
                raise ConfigError(f"privbayes: bounds for column '{name}' must be (low, high) with low <= high")
            self.covers.append(f"bounds of '{name}' (declared)")
        else:
            self.not_covered.append(f"bounds of '{name}' (read from the data)")
            lo, hi = (float(obs.min()), float(obs.max())) if len(obs) else (0.0, 0.0)
        # integrality is declared (dtype, ``integers``, dates in days), never read from the values
        self.integer = bool(integer)
        self.all_null = len(obs) == 0 and bounds is None
        if self.all_null:  # no values and no public bounds: the domain is {null}
            self.codes = np.zeros(len(s), dtype=np.int64)
            self.k, self.n_value_bins = 1, 0
            self.edges = np.array([0.0, 0.0])
            return
        ilo, ihi = np.ceil(lo), np.floor(hi)
        if self.integer and ihi >= ilo and ihi - ilo + 1 <= bins:
            self.edges = np.arange(ilo, ihi + 2) - 0.5  # one bin per integer
        else:
            self.edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo, hi])
        nb = len(self.edges) - 1
        clipped = np.clip(np.nan_to_num(x, nan=lo), self.edges[0], self.edges[-1])
        b = np.clip(np.searchsorted(self.edges, clipped, side="right") - 1, 0, nb - 1)
        self.n_value_bins = nb
        self.codes = np.where(null, nb, b).astype(np.int64)
        self.k = nb + (1 if self.has_null_bin else 0)

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
    """epsilon-DP PrivBayes of degree 1 (a tree of noisy 2-way marginals). See the module doc.

    Parameters beyond the method's (``epsilon``, ``bins``, ``structure_share``) are the public
    metadata that make the guarantee cover the whole output: ``bounds``, ``categories``,
    ``integers`` (numeric columns emitted as whole numbers besides integer dtypes), ``nullable``
    (True, or the columns that may hold nulls) and ``kinds`` (a declared kind per column:
    categorical, ordinal, numeric or date; otherwise the dtype decides).
    ``insecure_reproducible_noise``: a seed that makes the DP noise reproducible, for tests only;
    it VOIDS the differential-privacy guarantee (``guarantee_["reproducible_noise"]`` is True and
    ``not_covered`` says so). Leave it None. The noise is otherwise never seeded: each fit draws
    fresh noise, and ``sample``'s seed drives only the sampling after the fit.
    """

    name = "privbayes"
    summary = "differentially private PrivBayes (tree of Laplace-noised 2-way marginals), epsilon=1"
    differentially_private = True
    accepts_kinds = True

    def __init__(
        self,
        epsilon: float = 1.0,
        bins: int = 10,
        structure_share: float = 0.3,
        bounds: Mapping[str, Sequence[Any]] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        integers: Sequence[str] | None = None,
        nullable: bool | Sequence[str] | None = None,
        kinds: Mapping[str, str] | None = None,
        insecure_reproducible_noise: int | None = None,
    ) -> None:
        self.epsilon = epsilon
        self.bins = bins
        self.structure_share = structure_share
        self.bounds = bounds
        self.categories = categories
        self.integers = integers
        self.nullable = nullable
        self.kinds = kinds
        self.insecure_reproducible_noise = insecure_reproducible_noise

    def _declared(self, data: pd.DataFrame) -> tuple[dict, dict, set, dict]:
        bounds = dict(self.bounds or {})
        cats = dict(self.categories or {})
        integers = set(self.integers or [])
        kinds = dict(self.kinds or {})
        if self.nullable is None or isinstance(self.nullable, bool):
            listed: list[Any] = []
        elif isinstance(self.nullable, str):
            raise ConfigError("privbayes: nullable must be True, False or a list of columns")
        else:
            listed = list(self.nullable)
        for where, given in (("bounds", bounds), ("categories", cats), ("integers", integers),
                             ("nullable", listed), ("kinds", kinds)):
            unknown = [k for k in given if k not in data.columns]
            if unknown:
                raise ConfigError(f"privbayes: {where} names unknown column(s) {', '.join(map(repr, unknown))}")
        bad = {c: k for c, k in kinds.items() if k not in _KINDS}
        if bad:
            raise ConfigError(f"privbayes: unknown kind(s) {bad} (use {', '.join(_KINDS)})")
        return bounds, cats, integers, {c: _KINDS[k] for c, k in kinds.items()}

    def _null_decl(self, c: Any, declared_domain: bool) -> bool | None:
        if isinstance(self.nullable, bool):
            return self.nullable
        if self.nullable is not None:
            return c in set(self.nullable)
        return True if declared_domain else None

    def _attrs(self, data: pd.DataFrame) -> list[_Attr]:
        bounds, cats, integers, kinds = self._declared(data)
        attrs = []
        for c in data.columns:
            s = data[c]
            kind = kinds.get(c)
            integer = (c in integers or (kind or column_kind(s)) == "date"
                       or (pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)))
            null_decl = self._null_decl(c, c in bounds or c in cats)
            attrs.append(_Attr(str(c), s, int(self.bins), bounds.get(c), cats.get(c), integer, null_decl, kind))
        return attrs

    def guarantee(self, data: pd.DataFrame) -> dict[str, Any]:
        """The statement ``fit(data)`` leaves in ``guarantee_``, without fitting: it depends on the
        declarations and on the columns and dtypes of ``data`` only (its rows are not read, so an
        empty frame with the right dtypes will do; a cached release can be labelled with it)."""
        return self._statement(float(self.epsilon), self._attrs(data.iloc[:0]))

    def _fit(self, data: pd.DataFrame) -> None:
        eps = float(self.epsilon)
        if not eps > 0 or not np.isfinite(eps):
            raise ConfigError(f"privbayes: epsilon must be a positive number, got {self.epsilon}")
        if not 0 < float(self.structure_share) < 1:
            raise ConfigError(f"privbayes: structure_share must be in (0, 1), got {self.structure_share}")
        if int(self.bins) < 1:
            raise ConfigError(f"privbayes: bins must be at least 1, got {self.bins}")
        self.attrs_ = self._attrs(data)
        check_identifier_like(data, "privbayes")
        noise = _Noise(self.insecure_reproducible_noise)
        n = len(data)
        d = len(self.attrs_)
        eps1 = float(self.structure_share) * eps if d > 1 else 0.0
        eps2 = eps - eps1
        # -- structure: noisy max (exponential-mechanism family) on mutual information -----------
        root = noise.root(d)
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
                score = np.array([mi[x, p] for x, p in cand]) / sens  # each of sensitivity 1
                x, p = cand[noise.noisy_max(score, eps_step)]
                parents[x] = p
                in_tree.append(x)
                order.append(x)
        self.order_ = order
        self.parents_ = parents
        # -- measurement: discrete Laplace noise on the count tables, all in one vector ----------
        m = max(d - 1, 1)
        self.noise_scale_ = 2.0 * m / eps2
        self.epsilon_structure_, self.epsilon_measure_ = eps1, eps2
        tables: list[tuple[tuple[int, ...], np.ndarray]] = []
        if d == 1:
            a = self.attrs_[root]
            tables.append(((root,), np.bincount(a.codes, minlength=a.k)))
        else:
            for x in order[1:]:
                ap, ax = self.attrs_[parents[x]], self.attrs_[x]
                t = np.bincount(ap.codes * ax.k + ax.codes, minlength=ap.k * ax.k).reshape(ap.k, ax.k)
                tables.append(((parents[x], x), t))
        flat = noise.laplace(np.concatenate([t.ravel() for _, t in tables]), 2 * m, self.noise_scale_)
        self.measurements_: list[tuple[tuple[int, ...], np.ndarray]] = []
        at = 0
        for cols, t in tables:
            self.measurements_.append((cols, flat[at: at + t.size].reshape(t.shape)))
            at += t.size
        self.conditionals_: dict[int, np.ndarray] = {}
        if d == 1:
            self.root_probs_ = _normalise(np.clip(self.measurements_[0][1], 0, None).astype(float))
        else:
            root_done = False
            for (p, x), noisy in self.measurements_:
                clipped = np.clip(noisy, 0, None).astype(float)
                self.conditionals_[x] = np.apply_along_axis(_normalise, 1, clipped)
                if p == root and not root_done:
                    self.root_probs_ = _normalise(clipped.sum(axis=1))
                    root_done = True
        self.epsilon_spent_ = noise.spent
        if noise.spent > eps * (1 + _MAP_SLACK):  # pragma: no cover - a calibration bug
            raise RuntimeError(f"privbayes: spent epsilon {noise.spent} exceeds the budget {eps}")
        self.guarantee_ = self._statement(eps, self.attrs_)

    def _statement(self, eps: float, attrs: list[_Attr]) -> dict[str, Any]:
        reproducible = self.insecure_reproducible_noise is not None
        covers = [c for a in attrs for c in a.covers]
        not_covered = [c for a in attrs for c in a.not_covered]
        if reproducible:
            not_covered.insert(0, "everything: the DP noise is reproducible from insecure_reproducible_noise="
                                  f"{self.insecure_reproducible_noise}, so the epsilon guarantee is void")
            covers = []
            source = "numpy PCG64 seeded by insecure_reproducible_noise (NOT private)"
        else:
            source = ("OpenDP 0.16 make_laplace (discrete Laplace) on the count tables, make_noisy_max "
                      "on the structure; the root from secrets")
        return {
            "epsilon": eps,
            "delta": 0.0,
            "neighbouring": "replace one record (bounded DP)",
            "noise": source,
            "reproducible_noise": reproducible,
            "covers": covers,
            "not_covered": not_covered,
            "assumed_public": ["the number of records n", "the column names, order and dtypes"],
        }

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

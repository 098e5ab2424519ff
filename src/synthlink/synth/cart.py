"""CART sequential synthesis with the semantics of the R package synthpop (``syn(method = "cart")``).

How a synthetic table is built (synthpop, Nowok, Raab & Dibben 2016, ``syn.cart``):

1. Variables are visited in the **visit sequence** (``visit_sequence``; default: the order of the
   columns, as synthpop's default ``visit.sequence = 1:ncol(data)``). Names listed come first, in
   the given order; unlisted columns follow in their original order.
2. The **first** variable is drawn from its observed marginal (synthpop's ``syn.sample``).
3. Each **later** variable gets a decision tree (scikit-learn ``DecisionTreeClassifier`` for
   categorical, ``DecisionTreeRegressor`` for numeric and date variables; synthpop uses ``rpart``)
   fitted on the ORIGINAL part with the variables visited before it as predictors. Each synthetic
   record is dropped down that tree using its already-synthesized predictors, and its value is the
   value of a donor drawn at random from the original records in the same leaf. For categorical
   variables this is the same as drawing from the leaf's class proportions (synthpop draws from
   ``predict(type = "prob")``); for numeric variables it is synthpop's donor draw.
4. Tree controls follow ``rpart.control`` as synthpop sets them: ``min_samples_leaf`` = synthpop's
   ``minbucket`` (default 5), ``min_samples_split`` = rpart's ``minsplit``, ``max_depth`` =
   rpart's ``maxdepth`` (30), and ``cp`` (synthpop default 1e-8) becomes scikit-learn's
   ``min_impurity_decrease = cp * root impurity`` (a split must reduce the overall lack of fit by
   the share ``cp``, as rpart's complexity parameter). ``minsplit``: synthpop's ``syn.cart``
   passes ``minbucket`` to ``rpart`` but not ``minsplit``, and rpart's ``rpart.control`` then sets
   ``minsplit <- minbucket * 3`` ("if (missing(minsplit) && !missing(minbucket))"; rpart 4.1),
   so synthpop's trees split nodes of 15 or more records, not rpart's stand-alone default 20.
   ``min_samples_split=None`` (default) is that rule, 3 x ``min_samples_leaf``; a node is split
   when it holds at least that many records, in rpart as in scikit-learn.
5. ``smoothing="density"`` (numeric variables only) adds Gaussian kernel noise to the drawn donor
   values as ``syn.smooth``: values are left alone when one value holds more than 70% of the
   synthetic values, and the top value is left alone when the variable looks top-coded; results
   are clamped to [min observed, max observed + bandwidth] and rounded to the observed number of
   decimal places. The bandwidth is R's ``bw.nrd0`` (Silverman's rule, the default of R's
   ``density``); synthpop 1.8 uses Sheather-Jones (``bw.SJ``), which is much slower on 100k rows
   and usually a little narrower.
6. ``proper=True``: each tree is fitted on a bootstrap sample of the original records (synthpop's
   proper synthesis), and the first variable is drawn from a bootstrap sample of its values. Here
   the bootstrap is drawn in :meth:`sample` from its seed, so every synthetic copy comes from a
   fresh bootstrap as in synthpop (``m`` copies), and the same seed still gives the same copy.

Missing values (as synthpop): a numeric or date variable with nulls gets a **missingness
indicator** synthesized first (a binary variable visited just before it, with the same
predictors); the values are then synthesized only for synthetic records whose indicator says
"observed", from a tree fitted on the observed original values (plus the indicator-free
predictors). For a categorical variable a null is its own category (synthpop's ``addNA``).

Dates are synthesized as numeric days since 1970-01-01 and turned back into dates. Categorical
predictors enter the trees **ordinal-coded** (category codes in the order of the categories, null
last): binary splits on codes can isolate any category in at most two splits, and trees grow
deep (cp = 1e-8), so this keeps rpart's behaviour on the data sets we measured at a fraction of
the cost of one-hot columns. (rpart searches category subsets; that is the one difference.)

Not synthesized: nothing is copied over. Every output value is an original value of the same
column (or, with smoothing, a smoothed one), so **drop the identifier column before fitting**;
:func:`check_identifier_like` refuses a column whose values are all distinct text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from synthlink.errors import ConfigError, InputError, PrivacyError
from synthlink.synth.base import Synthesizer

_NS_PER_DAY = 86_400 * 10**9


# --------------------------------------------------------------------------------------------
# column encoding shared by the native synthesizers
# --------------------------------------------------------------------------------------------

@dataclass
class EncodedColumn:
    """One column turned into numbers: ``values`` (float, NaN for null) for numeric and date
    columns, ``codes`` (int, null = its own code) for categorical ones."""

    name: str
    kind: str  # "numeric" | "date" | "categorical"
    values: np.ndarray | None = None  # numeric/date: float64 with NaN
    codes: np.ndarray | None = None  # categorical: int64 codes into ``categories``
    categories: np.ndarray | None = None  # object array, may contain a null (last)
    tz: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def null_mask(self) -> np.ndarray:
        if self.values is not None:
            return np.isnan(self.values)
        assert self.codes is not None and self.categories is not None
        nulls = np.array([_is_null(c) for c in self.categories], dtype=bool)
        return nulls[self.codes] if len(nulls) else np.zeros(0, dtype=bool)

    def decode(self, arr: np.ndarray) -> np.ndarray | pd.Series:
        """Numbers back to the column's values (categorical codes or numeric/date floats)."""
        if self.kind == "categorical":
            assert self.categories is not None
            return self.categories[arr.astype(np.int64)]
        if self.kind == "date":
            nat = np.isnan(arr)
            ns = np.where(nat, 0, np.round(arr * _NS_PER_DAY)).astype("int64")
            out = pd.Series(ns.astype("datetime64[ns]"))
            out[nat] = pd.NaT
            if self.tz is not None:
                out = out.dt.tz_localize("UTC").dt.tz_convert(self.tz)
            return out
        return arr


def _is_null(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def column_kind(s: pd.Series, declared: str | None = None) -> str:
    """How a synthesizer models a column: ``numeric``, ``date`` or ``categorical``. A declared kind
    (the plan's ``kinds:``; ordinal counts as categorical) wins over the dtype, which otherwise
    decides as R's class does for synthpop: numbers are numeric, everything else a factor."""
    if declared is not None:
        from synthlink.schema import Kind, declared_kind

        k = declared_kind(str(s.name), declared)
        if k is Kind.DATE:
            if not pd.api.types.is_datetime64_any_dtype(s):
                raise InputError(f"column '{s.name}': declared date but holds no dates (dtype {s.dtype})")
            return "date"
        if k is Kind.NUMERIC:
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                raise InputError(f"column '{s.name}': declared numeric but holds non-numeric values (dtype {s.dtype})")
            return "numeric"
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    return "categorical"


def encode_column(s: pd.Series, declared: str | None = None) -> EncodedColumn:
    """One column as numbers for tree or copula models (see :func:`column_kind` for its kind)."""
    kind = column_kind(s, declared)
    name = str(s.name)
    if kind == "numeric":
        return EncodedColumn(name, kind, values=s.astype("float64").to_numpy(dtype=float, na_value=np.nan))
    if kind == "date":
        tz = getattr(s.dtype, "tz", None)
        d = s.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else s
        ns = d.astype("datetime64[ns]")
        vals = ns.to_numpy().astype("int64").astype(float) / _NS_PER_DAY
        vals[ns.isna().to_numpy()] = np.nan
        return EncodedColumn(name, kind, values=vals, tz=tz)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        cats = np.asarray(list(s.cat.categories), dtype=object)
        if (codes < 0).any():
            cats = np.append(cats, np.array([None], dtype=object))
            cats[-1] = np.nan
            codes = np.where(codes < 0, len(cats) - 1, codes)
        return EncodedColumn(name, kind, codes=codes, categories=cats)
    codes, uniques = pd.factorize(s, sort=True, use_na_sentinel=True)
    cats = np.asarray(uniques, dtype=object)
    codes = codes.astype(np.int64)
    if (codes < 0).any():
        null = s[s.isna()].iloc[0]
        cats = np.append(cats, np.array([None], dtype=object))
        cats[-1] = null
        codes = np.where(codes < 0, len(cats) - 1, codes)
    return EncodedColumn(name, kind, codes=codes, categories=cats)


def check_identifier_like(data: pd.DataFrame, where: str, min_rows: int = 20) -> None:
    """Refuse a text column whose values are all distinct: it looks like an identifier, and any
    synthesizer that draws observed values would copy real identifiers into its output."""
    if len(data) < min_rows:
        return
    for c in data.columns:
        s = data[c]
        if column_kind(s) != "categorical" or pd.api.types.is_bool_dtype(s):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            continue
        nonnull = s.dropna()
        if len(nonnull) >= min_rows and nonnull.nunique() == len(nonnull) and len(nonnull) == len(s):
            raise PrivacyError(
                f"{where}: column '{c}' has a distinct value on every row and looks like an "
                "identifier; drop it before synthesizing (synthlink synthesize --drop-column)"
            )


# --------------------------------------------------------------------------------------------
# smoothing (synthpop syn.smooth, smoothing = "density")
# --------------------------------------------------------------------------------------------

def bw_nrd0(x: np.ndarray) -> float:
    """R's ``bw.nrd0``: 0.9 * min(sd, IQR/1.34) * n^(-1/5), with R's fallbacks."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        raise ValueError("need at least 2 data points")
    hi = float(np.std(x, ddof=1))
    q75, q25 = np.percentile(x, [75, 25])
    lo = min(hi, float(q75 - q25) / 1.34)
    if not lo > 0:
        lo = hi or abs(float(x[0])) or 1.0
    return 0.9 * lo * len(x) ** (-0.2)


def decimal_places(y: np.ndarray, max_places: int = 10) -> int:
    """Largest number of decimal places among the values (synthpop ``decimalplaces``)."""
    y = y[np.isfinite(y)]
    if len(y) == 0:
        return 0
    if len(y) > 20_000:
        y = np.unique(y)
    for d in range(max_places + 1):
        if np.all(np.abs(np.round(y, d) - y) <= 1e-9 * np.maximum(1.0, np.abs(y))):
            return d
    return max_places


def smooth_density(ysyn: np.ndarray, yobs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian kernel smoothing of synthetic numeric values (synthpop ``syn.smooth``,
    ``smoothing = "density"``), bandwidth by ``bw.nrd0``."""
    ysyn = np.asarray(ysyn, dtype=float).copy()
    if len(ysyn) < 2 or len(yobs) == 0:
        return ysyn
    vals, counts = np.unique(ysyn, return_counts=True)
    use = np.ones(len(ysyn), dtype=bool)
    top = counts.argmax()
    if counts[top] / counts.sum() > 0.7:
        use &= ysyn != vals[top]
    maxy = None
    if len(counts) >= 2 and 10 * counts[-2] < counts[-1] - counts[-2]:
        # looks top-coded: leave the top value as it is
        use &= ysyn != float(np.max(yobs))
        maxy = float(np.max(yobs))
    if use.sum() < 2:
        return ysyn
    bw = bw_nrd0(ysyn[use])
    ysyn[use] = rng.normal(ysyn[use], bw)
    if maxy is None:
        maxy = float(np.max(yobs)) + bw
    ysyn[use] = np.clip(ysyn[use], float(np.min(yobs)), maxy)
    ysyn[use] = np.round(ysyn[use], decimal_places(yobs))
    return ysyn


# --------------------------------------------------------------------------------------------
# the synthesizer
# --------------------------------------------------------------------------------------------

@dataclass
class _Step:
    """One variable to synthesize: a categorical code, a missingness indicator or numeric values."""

    column: str
    target: str  # "codes" | "missing" | "values"
    y: np.ndarray  # original target (codes as int, indicator as int, values as float)
    rows: np.ndarray | None  # original rows the model is fitted on (None = all)
    predictors: list[int]  # indices of earlier steps used as predictors
    categorical: bool
    model: Any = None  # fitted LeafDonors


@dataclass
class LeafDonors:
    """A tree plus the original target values grouped by leaf, for vectorised donor draws."""

    tree: Any
    leaf_group: np.ndarray  # node id -> group index (or -1)
    start: np.ndarray
    count: np.ndarray
    donors: np.ndarray  # y sorted by leaf

    @classmethod
    def fit(cls, tree: Any, X: np.ndarray | None, y: np.ndarray) -> LeafDonors:
        if tree is None:
            leaves = np.zeros(len(y), dtype=np.int64)
            n_nodes = 1
        else:
            leaves = tree.apply(X)
            n_nodes = tree.tree_.node_count
        order = np.argsort(leaves, kind="stable")
        sl = leaves[order]
        groups, start, count = np.unique(sl, return_index=True, return_counts=True)
        leaf_group = np.full(n_nodes, -1, dtype=np.int64)
        leaf_group[groups] = np.arange(len(groups))
        return cls(tree, leaf_group, start, count, y[order])

    def draw(self, X: np.ndarray | None, n: int, rng: np.random.Generator) -> np.ndarray:
        if n == 0:
            return self.donors[:0]
        if self.tree is None:
            g = np.zeros(n, dtype=np.int64)
        else:
            g = self.leaf_group[self.tree.apply(X)]
        idx = self.start[g] + np.floor(rng.random(n) * self.count[g]).astype(np.int64)
        return self.donors[idx]


class CartSynthesizer(Synthesizer):
    """Sequential CART synthesis as synthpop's ``syn(method = "cart")``. See the module doc."""

    name = "cart"
    summary = "sequential CART synthesis as synthpop (visit sequence, leaf donors, minbucket 5)"
    accepts_kinds = True

    def __init__(
        self,
        visit_sequence: Sequence[str] | str | None = None,
        min_samples_leaf: int = 5,
        min_samples_split: int | None = None,
        max_depth: int = 30,
        cp: float = 1e-8,
        smoothing: str = "",
        proper: bool = False,
        random_state: int = 0,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self.kinds = kinds
        self.visit_sequence = visit_sequence
        self.min_samples_leaf = min_samples_leaf
        self.min_samples_split = min_samples_split
        self.max_depth = max_depth
        self.cp = cp
        self.smoothing = smoothing
        self.proper = proper
        self.random_state = random_state

    # -- fit ------------------------------------------------------------------------------------
    def _order(self, columns: list[str]) -> list[str]:
        vs = self.visit_sequence
        if vs is None or vs == "" or vs == "as_given":
            return columns
        if isinstance(vs, str):
            vs = [v.strip() for v in vs.split(",") if v.strip()]
        vs = [str(v) for v in vs]
        unknown = [v for v in vs if v not in columns]
        if unknown:
            raise ConfigError(f"cart: visit_sequence names unknown column(s) {', '.join(map(repr, unknown))}")
        dup = sorted({v for v in vs if vs.count(v) > 1})
        if dup:
            raise ConfigError(f"cart: visit_sequence repeats column(s) {', '.join(map(repr, dup))}")
        return vs + [c for c in columns if c not in vs]

    @property
    def min_split(self) -> int:
        """The ``minsplit`` in force: ``min_samples_split``, or 3 x ``min_samples_leaf`` when it is
        None (rpart's rule when only ``minbucket`` is given, as synthpop's ``syn.cart`` does)."""
        if self.min_samples_split is None:
            return 3 * int(self.min_samples_leaf)
        return int(self.min_samples_split)

    def _validate(self) -> None:
        if int(self.min_samples_leaf) < 1:
            raise ConfigError(f"cart: min_samples_leaf must be at least 1, got {self.min_samples_leaf}")
        if self.min_samples_split is not None and int(self.min_samples_split) < 2:
            raise ConfigError(f"cart: min_samples_split must be at least 2, got {self.min_samples_split}")
        if int(self.max_depth) < 1:
            raise ConfigError(f"cart: max_depth must be at least 1, got {self.max_depth}")
        if not 0 <= float(self.cp) < 1:
            raise ConfigError(f"cart: cp must be in [0, 1), got {self.cp}")
        if self.smoothing not in ("", None, "density"):
            raise ConfigError(f"cart: smoothing must be '' or 'density', got {self.smoothing!r}")

    def _fit(self, data: pd.DataFrame) -> None:
        self._validate()
        check_identifier_like(data, "cart")
        self.visit_sequence_ = self._order([str(c) for c in data.columns])
        data = data.rename(columns=str)
        kinds = dict(self.kinds or {})
        self.encoded_ = {c: encode_column(data[c], kinds.get(c)) for c in self.visit_sequence_}
        self.n_ = len(data)
        steps: list[_Step] = []
        # predictor matrix columns of the ORIGINAL data, one per step (float32 as sklearn trees)
        xcols: list[np.ndarray] = []
        for c in self.visit_sequence_:
            enc = self.encoded_[c]
            prev = list(range(len(steps)))
            if enc.kind == "categorical":
                assert enc.codes is not None
                steps.append(_Step(c, "codes", enc.codes, None, prev, True))
                xcols.append(enc.codes.astype(np.float32))
                continue
            assert enc.values is not None
            miss = np.isnan(enc.values)
            if miss.all():
                steps.append(_Step(c, "missing", np.ones(self.n_, dtype=np.int64), None, prev, True))
                xcols.append(np.ones(self.n_, dtype=np.float32))
                continue
            if miss.any():
                steps.append(_Step(c, "missing", miss.astype(np.int64), None, prev, True))
                xcols.append(miss.astype(np.float32))
            rows = np.flatnonzero(~miss) if miss.any() else None
            y = enc.values if rows is None else enc.values[rows]
            steps.append(_Step(c, "values", y, rows, list(range(len(steps))), False))
            # nulls as a value below the observed range, so trees can separate them
            filled = enc.values.copy()
            if miss.any():
                filled[miss] = np.nanmin(enc.values) - 1.0
            xcols.append(filled.astype(np.float32))
        self.steps_ = steps
        self._X = np.column_stack(xcols) if xcols else np.zeros((self.n_, 0), dtype=np.float32)
        if not self.proper:
            rng = np.random.default_rng(self.random_state)
            for st in steps:
                st.model = self._fit_step(st, False, rng)

    def _fit_step(self, st: _Step, bootstrap: bool, rng: np.random.Generator) -> LeafDonors:
        """Fit one step's tree on the original rows (or on a bootstrap sample of them)."""
        rows = st.rows if st.rows is not None else np.arange(self.n_)
        y = st.y
        if bootstrap:
            pick = rng.integers(0, len(rows), size=len(rows))
            rows, y = rows[pick], y[pick]
        if not st.predictors or len(np.unique(y)) < 2 or len(y) < self.min_split:
            return LeafDonors.fit(None, None, y)
        X = self._X[np.ix_(rows, np.asarray(st.predictors, dtype=np.intp))]
        seed = int(rng.integers(0, 2**31 - 1))
        common = dict(
            min_samples_leaf=int(self.min_samples_leaf),
            min_samples_split=max(2, self.min_split),
            max_depth=int(self.max_depth),
            random_state=seed,
        )
        if st.categorical:
            _, cnt = np.unique(y, return_counts=True)
            p = cnt / cnt.sum()
            root = 1.0 - float(np.sum(p**2))
            tree = DecisionTreeClassifier(min_impurity_decrease=float(self.cp) * root, **common)
        else:
            root = float(np.var(y))
            tree = DecisionTreeRegressor(min_impurity_decrease=float(self.cp) * root, **common)
        tree.fit(X, y)
        return LeafDonors.fit(tree, X, y)

    # -- sample ---------------------------------------------------------------------------------
    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        models = [st.model for st in self.steps_]
        if self.proper:
            fit_rng = np.random.default_rng([seed, 1])
            models = [self._fit_step(st, True, fit_rng) for st in self.steps_]
        Xs = np.zeros((n, len(self.steps_)), dtype=np.float32)
        out: dict[str, Any] = {}
        missing: dict[str, np.ndarray] = {}
        for j, (st, model) in enumerate(zip(self.steps_, models, strict=True)):
            enc = self.encoded_[st.column]
            if st.target == "codes":
                codes = model.draw(Xs[:, st.predictors] if model.tree is not None else None, n, rng)
                Xs[:, j] = codes
                out[st.column] = enc.decode(codes)
            elif st.target == "missing":
                m = model.draw(Xs[:, st.predictors] if model.tree is not None else None, n, rng).astype(bool)
                Xs[:, j] = m
                missing[st.column] = m
                if m.all():
                    out[st.column] = enc.decode(np.full(n, np.nan))
            else:
                m = missing.get(st.column, np.zeros(n, dtype=bool))
                keep = np.flatnonzero(~m)
                vals = np.full(n, np.nan)
                if len(keep):
                    sub = Xs[np.ix_(keep, np.asarray(st.predictors, dtype=np.intp))] if model.tree is not None else None
                    v = model.draw(sub, len(keep), rng)
                    if self.smoothing == "density":
                        v = smooth_density(v, st.y, rng)
                    vals[keep] = v
                filled = vals.copy()
                if m.any():
                    assert enc.values is not None
                    filled[m] = np.nanmin(enc.values) - 1.0
                Xs[:, j] = filled.astype(np.float32)
                out[st.column] = enc.decode(vals)
        return pd.DataFrame({c: (v.to_numpy() if isinstance(v, pd.Series) else v) for c, v in out.items()})

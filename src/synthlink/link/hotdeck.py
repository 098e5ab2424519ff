"""Statistical-matching hot deck, after the R package StatMatch (``R/NND.hotdeck.R``,
``R/RANDwNND.hotdeck.R``, ``R/rankNND_hotdeck.R``, version 1.4.3).

This is *statistical matching*, not record linkage: the left part is the *recipient*, the right
part the *donor*; each recipient keeps its own record and receives the values of (at most) one
donor, a person who resembles it on the matching variables, not the same person. The pairs are
returned as links so that the study can build a joint table; with donors reused (the default),
the links are not one-to-one and the study's reconstruction keeps one pair per donor (highest
score), whereas StatMatch's ``create.fused`` would give every recipient its donor's values.

Variants (``variant=``)

``"nnd"`` (StatMatch ``NND.hotdeck``, the default)
    Each recipient takes its nearest donor on ``dist_fun`` over ``match_vars``, within donation
    classes. As in StatMatch, the defaults are ``dist_fun="manhattan"`` and
    ``constrained=False``: donors may be reused, and when several donors lie at the minimum
    distance one of them is drawn at random (StatMatch: ``sample(appo, 1)``). With
    ``constrained=True`` each donor is used at most once and the total distance is minimised, an
    assignment problem (StatMatch: ``constr.alg = "Hungarian"`` via ``clue::solve_LSAP``, or
    ``"lpSolve"``); here solved per donation class by ``scipy.optimize.linear_sum_assignment``
    when ``n_rec * n_don <= max_dense**2``, after pairing identical profiles at random (which
    keeps the optimum for a metric), and by the near-optimal sparse solver of
    :mod:`synthlink.link.assignment` beyond that size. When a class has more recipients than
    donors, the constrained variant links as many recipients as there are donors and leaves the
    rest unlinked (StatMatch's Hungarian stops; its lpSolve needs ``k`` uses per donor).
``"random"`` (StatMatch ``RANDwNND.hotdeck``)
    Within donation classes, a donor drawn at random. With ``match_vars`` the draw is restricted
    to the closest donors on ``dist_fun``: ``cut_don="rot"`` keeps the ceil(sqrt(donors in the
    class)) closest, ``"span"`` a share ``k`` of them, ``"exact"`` the ``k`` closest. Donors are
    drawn with replacement (not one-to-one).
``"rank"`` (StatMatch ``rankNND.hotdeck``)
    Distance between the percentage points of the empirical cumulative distribution function of
    one ranking variable (``rank_var``), computed separately in each part and donation class;
    unconstrained by default as in StatMatch, ``constrained=True`` solves the assignment.

Distances (``dist_fun``)
    ``"manhattan"`` (StatMatch's default): sum over the matching variables of ``|x_rec - x_don|``
    in the variables' own units, unscaled (StatMatch calls ``proxy::dist(method =
    "Manhattan")``), times the optional ``weights``. StatMatch requires numeric matching
    variables for it and stops otherwise; here a categorical variable counts 0 when the values
    are equal and 1 when they differ (the Manhattan distance of its one-hot coding, halved), an
    ordinal one its level index (0, 1, ...), a date its day number. Missing values in a numeric
    or ordinal matching variable are refused (StatMatch stops on NA distances); missing in a
    categorical one is a level. As the variables are not rescaled, a wide numeric variable (age
    in years) dominates a 0/1 mismatch: rescale with ``weights`` or use ``"gower"``.
    ``"gower"``: Gower's distance (ranges pooled over both parts), as
    :class:`~synthlink.link.distance.DistanceLinker`.

Defaults: ``don_class`` = the categorical common variables with at most 3 levels (e.g. sex;
StatMatch has no donation class unless given one; pass ``don_class=[]`` for none),
``match_vars`` = the other common variables (``"random"``: none, as StatMatch's default), and
``rank_var`` = the first numeric or ordinal common variable outside the donation classes.
Recipients whose donation class holds no donor stay unlinked (counted in the diagnostics;
StatMatch stops). Unlike StatMatch, donor weights are not supported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError, InputError
from synthlink.link.assignment import dense_assign, sparse_assign
from synthlink.link.base import Linker, Links, common_columns
from synthlink.link.cells import group_positions, random_pairs_within_cells
from synthlink.link.gower import GowerEncoding, default_block_on, encode_gower
from synthlink.link.kinds import CATEGORICAL, NUMERIC, column_family, pooled
from synthlink.schema import joint_codes

VARIANTS = ("random", "nnd", "rank")
CUTS = ("rot", "span", "exact")
DIST_FUNS = ("manhattan", "gower")


@dataclass
class ManhattanEncoding(GowerEncoding):
    """Both parts encoded for StatMatch's Manhattan distance: numeric values in their own units,
    ordinal level indices, dates as day numbers, categorical codes compared for equality (0/1);
    ``weights`` multiply each variable's term (not normalised)."""

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Weighted Manhattan distance between encoded rows ``a`` and ``b``."""
        shape = np.broadcast_shapes(a.shape, b.shape)[:-1]
        out = np.zeros(shape, dtype=np.float64)
        for j, kind in enumerate(self.kinds):
            x, y = a[..., j], b[..., j]
            d = (x != y).astype(np.float64) if kind == CATEGORICAL else np.abs(x - y)
            out += self.weights[j] * d
        return out


def encode_manhattan(left: pd.DataFrame, right: pd.DataFrame, columns: Sequence[str],
                     kinds: Mapping[str, str] | None = None,
                     weights: Mapping[str, float] | None = None) -> ManhattanEncoding:
    """Encode the matching ``columns`` of both parts for the Manhattan distance (see module)."""
    kinds = dict(kinds or {})
    weights = dict(weights or {})
    cols = list(columns)
    w = np.array([float(weights.get(c, 1.0)) for c in cols])
    if (w < 0).any() or not np.isfinite(w).all() or (len(w) and w.sum() <= 0):
        raise ConfigError(f"hotdeck: weights must be finite, non-negative and not all zero, got {weights}")
    n_l = len(left)
    L = np.empty((n_l, len(cols)))
    R = np.empty((len(right), len(cols)))
    kind_list: list[str] = []
    for j, c in enumerate(cols):
        both = pooled(left, right, c)
        kind = column_family(both, kinds.get(c))
        if kind == CATEGORICAL:
            col = both.astype("float64") if pd.api.types.is_numeric_dtype(both) and not pd.api.types.is_bool_dtype(both) else both.astype("object")
            vals = pd.factorize(col, use_na_sentinel=False)[0].astype(np.float64)  # missing = a level
        else:
            if kind == NUMERIC and pd.api.types.is_datetime64_any_dtype(both):
                vals = (both - pd.Timestamp("1970-01-01")).dt.days.astype("float64").to_numpy()
            elif kind == NUMERIC:
                try:
                    vals = pd.to_numeric(both, errors="raise").astype("float64").to_numpy()
                except (ValueError, TypeError):
                    raise InputError(f"hotdeck: column '{c}' is declared numeric but holds non-numeric values") from None
            else:  # ordinal: level index
                if isinstance(both.dtype, pd.CategoricalDtype) and both.dtype.ordered:
                    vals = both.cat.codes.to_numpy().astype(np.float64)
                else:
                    uniq = np.sort(both.dropna().unique())
                    vals = pd.Categorical(both, categories=uniq, ordered=True).codes.astype(np.float64)
                vals[vals < 0] = np.nan
            if np.isnan(vals).any():
                raise InputError(f"hotdeck: matching variable '{c}' has missing values, which the Manhattan "
                                 "distance cannot compare (StatMatch stops too); impute them, drop the "
                                 "variable, or use dist_fun='gower'")
        kind_list.append(kind)
        L[:, j] = vals[:n_l]
        R[:, j] = vals[n_l:]
    return ManhattanEncoding(cols, kind_list, w, L, R)


def _choose_near(enc: GowerEncoding, rec: np.ndarray, don: np.ndarray, rec_code: np.ndarray, k: int,
                 rng: np.random.Generator, only_min: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each recipient in ``rec``, a donor from ``don`` drawn at random among the ``k`` nearest
    (``only_min``: among those at the smallest distance). Neighbours are searched once per
    distinct recipient profile; a tiny seeded jitter makes equidistant donors random.
    Returns (donor per recipient, True where the draw had more than one candidate)."""
    from sklearn.neighbors import NearestNeighbors

    emb_l, emb_r = enc.embedding()
    k = max(1, min(k, len(don)))
    inv, prof = pd.factorize(rec_code[rec])  # one neighbour search per distinct profile
    first = np.empty(len(prof), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(rec))[::-1]  # first occurrence of each profile
    rep = rec[first]
    jit = 1e-7
    ed = emb_r[don] + rng.random((len(don), emb_r.shape[1])) * jit
    eq = emb_l[rep] + rng.random((len(rep), emb_l.shape[1])) * jit
    nb = NearestNeighbors(n_neighbors=k, metric="manhattan").fit(ed).kneighbors(eq, return_distance=False)
    d = enc.pair_distance(np.repeat(rep, k), don[nb.ravel()]).reshape(nb.shape)
    ok = d <= d.min(axis=1, keepdims=True) + 1e-12 if only_min else np.ones_like(d, dtype=bool)
    m = ok.sum(axis=1)
    pick = (rng.random(len(rec)) * m[inv]).astype(np.int64)  # the pick-th candidate of the profile
    pos = np.argmax(np.cumsum(ok[inv], axis=1) > pick[:, None], axis=1)
    return don[nb[inv, pos]], m[inv] > 1


class HotDeckLinker(Linker):
    """StatMatch-style hot deck, statistical matching: left = recipients, which keep their own
    records and receive a donor's values; right = donors (see module docstring).

    Parameters
    ----------
    variant: ``"nnd"`` (default), ``"random"`` or ``"rank"``.
    on: common variables considered (default: every column both parts share).
    don_class: donation-class variables (``None`` = default, ``[]`` = none).
    match_vars: distance variables (``None`` = default for the variant).
    dist_fun: ``"manhattan"`` (default, as StatMatch) or ``"gower"``.
    constrained: ``nnd``/``rank``: each donor used at most once, total distance minimised
        (an assignment); default False, as StatMatch.
    cut_don, k: ``random`` with ``match_vars``: which closest donors to draw from.
    rank_var: ``rank``: the ranking variable.
    kinds, weights: declared variable kinds, over the inferred ones (:mod:`synthlink.schema`);
        per-variable weight of the distance.
    max_dense: constrained: classes with ``n_rec * n_don <= max_dense**2`` are solved exactly.
    """

    name = "hotdeck"
    summary = "statistical-matching hot deck (nearest, random, rank donor), as StatMatch"
    accepts_kinds = True

    def __init__(
        self,
        variant: str = "nnd",
        on: Sequence[str] | None = None,
        don_class: Sequence[str] | None = None,
        match_vars: Sequence[str] | None = None,
        dist_fun: str = "manhattan",
        constrained: bool = False,
        cut_don: str = "rot",
        k: float | None = None,
        rank_var: str | None = None,
        kinds: Mapping[str, str] | None = None,
        weights: Mapping[str, float] | None = None,
        max_dense: int = 3000,
    ) -> None:
        self.variant = variant
        self.on = on
        self.don_class = don_class
        self.match_vars = match_vars
        self.dist_fun = dist_fun
        self.constrained = constrained
        self.cut_don = cut_don
        self.k = k
        self.rank_var = rank_var
        self.kinds = kinds
        self.weights = weights
        self.max_dense = max_dense

    def _fit(self, left: pd.DataFrame, right: pd.DataFrame) -> None:
        if self.variant not in VARIANTS:
            raise ConfigError(f"hotdeck: unknown variant '{self.variant}' (use one of {', '.join(VARIANTS)})")
        if str(self.dist_fun).lower() not in DIST_FUNS:
            raise ConfigError(f"hotdeck: unknown dist_fun '{self.dist_fun}' (use one of {', '.join(DIST_FUNS)})")
        if int(self.max_dense) < 1:
            raise ConfigError("hotdeck: max_dense must be a positive integer")
        cols = common_columns(left, right, list(self.on) if self.on is not None else None)
        kinds = dict(self.kinds or {})
        if self.don_class is None:
            dc = default_block_on(left, right, cols, 3, kinds)
        else:
            dc = common_columns(left, right, list(self.don_class)) if len(self.don_class) else []
        if self.match_vars is None:
            mv = [] if self.variant == "random" else [c for c in cols if c not in dc]
        else:
            mv = common_columns(left, right, list(self.match_vars)) if len(self.match_vars) else []
        if self.variant == "nnd" and not mv:
            raise ConfigError("hotdeck nnd: no matching variable left outside the donation classes; "
                              "pass match_vars or fewer don_class variables")
        rv = None
        if self.variant == "rank":
            if self.rank_var is not None:
                rv = common_columns(left, right, [self.rank_var])[0]
            else:
                for c in cols:
                    if c in dc:
                        continue
                    both = pooled(left, right, c)
                    if column_family(both, kinds.get(c)) != CATEGORICAL:
                        rv = c
                        break
            if rv is None:
                raise ConfigError("hotdeck rank: needs a numeric or ordinal ranking variable; pass rank_var")
            for part, df in (("recipient (left)", left), ("donor (right)", right)):
                if df[rv].isna().any():
                    raise ConfigError(f"hotdeck rank: ranking variable '{rv}' has missing values in the {part} part")
        if self.variant == "random" and mv:
            if self.cut_don not in CUTS:
                raise ConfigError(f"hotdeck random: unknown cut_don '{self.cut_don}' (use one of {', '.join(CUTS)})")
            if self.cut_don in ("span", "exact") and self.k is None:
                raise ConfigError(f"hotdeck random: cut_don='{self.cut_don}' needs k")
        self.columns_ = cols
        self.don_class_ = dc
        self.match_vars_ = mv
        self.rank_var_ = rv
        self.encoding_ = self._encode(left, right, mv) if mv and self.variant != "rank" else None

    def _encode(self, left: pd.DataFrame, right: pd.DataFrame, cols: Sequence[str],
                kinds: Mapping[str, str] | None = None) -> GowerEncoding:
        kinds = self.kinds if kinds is None else kinds
        if str(self.dist_fun).lower() == "gower":
            return encode_gower(left, right, cols, kinds, self.weights)
        return encode_manhattan(left, right, cols, kinds, self.weights)

    # -- variants --------------------------------------------------------------------------------
    def _classes(self) -> tuple[np.ndarray, np.ndarray]:
        left, right = self.left_, self.right_
        if not self.don_class_:
            return np.zeros(len(left), np.int64), np.zeros(len(right), np.int64)
        both = pd.concat([left[self.don_class_], right[self.don_class_]], ignore_index=True)
        return joint_codes([both], len(left))

    def _ecdf_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Percentage points of the ECDF of the ranking variable, per part and donation class."""
        lc, rc = self._classes()
        out = []
        for df, cls in ((self.left_, lc), (self.right_, rc)):
            x = df[self.rank_var_]
            if isinstance(x.dtype, pd.CategoricalDtype):
                x = pd.Series(x.cat.codes.to_numpy(), index=x.index)
            f = pd.DataFrame({"x": pd.to_numeric(x).to_numpy(), "c": cls})
            # F(x) = share of the class with a value <= x
            f["F"] = f.groupby("c")["x"].rank(method="max") / f.groupby("c")["x"].transform("size")
            out.append(pd.DataFrame({"_ecdf": f["F"].to_numpy(), "_class": cls}))
        return out[0], out[1]

    def _assign(self, enc: GowerEncoding, lcls: np.ndarray, rcls: np.ndarray, lprof: np.ndarray,
                rprof: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Constrained matching: each donor at most once, total distance minimised per class.
        Identical profiles are paired first (at random): for a metric some optimal assignment
        contains those pairs, so the optimum is kept and the residual problem is smaller."""
        n_l, n_r = len(lcls), len(rcls)
        lc, rc = joint_codes([np.concatenate([lcls, rcls]), np.concatenate([lprof, rprof])], n_l)
        ex = random_pairs_within_cells(lc, rc, rng)
        L, R = [ex["left"].to_numpy()], [ex["right"].to_numpy()]
        free_l, free_r = np.ones(n_l, bool), np.ones(n_r, bool)
        free_l[L[0]] = False
        free_r[R[0]] = False
        gl = group_positions(lcls, np.flatnonzero(free_l))
        gr = group_positions(rcls, np.flatnonzero(free_r))
        emb: tuple[np.ndarray, np.ndarray] | None = None
        n_dense = n_sparse = 0
        for c in sorted(set(gl) & set(gr)):
            li, rj = gl[c], gr[c]
            if len(li) * len(rj) <= int(self.max_dense) ** 2:
                a, b, _, _ = dense_assign(enc, li, rj, rng, None)
                n_dense += 1
            else:
                if emb is None:
                    emb = enc.embedding()
                a, b, _, _, _ = sparse_assign(enc, emb[0], emb[1], li, rj, lc, rc, rng, None, 10,
                                               int(self.max_dense), 8)
                n_sparse += 1
            L.append(a)
            R.append(b)
        info = {"exact_pairs": int(len(ex)), "dense_classes": n_dense, "sparse_classes": n_sparse,
                "solver": "linear_sum_assignment (exact)" if not n_sparse else
                          "linear_sum_assignment, and the near-optimal sparse solver for large classes"}
        return np.concatenate(L).astype(np.int64), np.concatenate(R).astype(np.int64), info

    def link(self, seed: int = 0) -> Links:
        rng = np.random.default_rng(seed)
        left, right = self.left_, self.right_
        n_l, n_r = len(left), len(right)
        dist = str(self.dist_fun).lower()
        info: dict[str, Any] = {"variant": self.variant, "don_class": list(self.don_class_),
                                "match_vars": list(self.match_vars_), "distance": dist,
                                "constrained": bool(self.constrained and self.variant != "random")}
        lc, rc = self._classes()
        enc: GowerEncoding | None = self.encoding_
        codes_l = codes_r = None
        if self.variant == "rank":
            el, er = self._ecdf_frames()
            enc = encode_manhattan(el, er, ["_ecdf"], {"_ecdf": "numeric"})
            codes_l, codes_r = joint_codes([pd.concat([el[["_ecdf"]], er[["_ecdf"]]], ignore_index=True)], n_l)
            info["rank_var"] = self.rank_var_
            info["distance"] = "|F_rec - F_don| (ECDF percentage points)"
        elif self.match_vars_:
            both = pd.concat([left[self.match_vars_], right[self.match_vars_]], ignore_index=True)
            codes_l, codes_r = joint_codes([both], n_l)
        warns: list[str] = []
        if self.variant in ("nnd", "rank") and self.constrained:
            assert enc is not None and codes_l is not None and codes_r is not None
            li, rj, ainfo = self._assign(enc, lc, rc, codes_l, codes_r, rng)
            info["assignment"] = ainfo
            info["share_ties"] = None
            one_to_one = True
            n_rec_c, n_don_c = np.bincount(lc), np.bincount(rc)
            m = min(len(n_rec_c), len(n_don_c))
            short = np.flatnonzero((n_rec_c[:m] > n_don_c[:m]) & (n_don_c[:m] > 0))
            if len(short):
                warns.append(f"hotdeck constrained: {len(short)} donation class(es) hold more recipients than "
                             "donors; as each donor serves one recipient, the surplus recipients stay unlinked")
        else:
            groups_r = group_positions(rc, np.arange(n_r))
            groups_l = group_positions(lc, np.arange(n_l))
            L, R, T = [], [], []
            for c, rec in groups_l.items():
                don = groups_r.get(c)
                if don is None:
                    continue
                if enc is None:  # random, no matching variables
                    pick = don[(rng.random(len(rec)) * len(don)).astype(np.int64)]
                    tied = np.full(len(rec), len(don) > 1)
                else:
                    assert codes_l is not None
                    if self.variant == "random":
                        nd = len(don)
                        kk = {"rot": math.ceil(math.sqrt(nd)), "span": math.ceil(float(self.k or 0) * nd),
                              "exact": int(self.k or 1)}[self.cut_don]
                        pick, tied = _choose_near(enc, rec, don, codes_l, kk, rng, only_min=False)
                    else:  # unconstrained nnd / rank: nearest donor, ties at random
                        pick, tied = _choose_near(enc, rec, don, codes_l, 50, rng, only_min=True)
                L.append(rec)
                R.append(pick)
                T.append(tied)
            li = np.concatenate(L) if L else np.array([], np.int64)
            rj = np.concatenate(R) if R else np.array([], np.int64)
            ties = np.concatenate(T) if T else np.array([], bool)
            info["share_ties"] = float(ties.mean()) if len(ties) else 0.0
            one_to_one = False
        d = enc.pair_distance(li, rj) if enc is not None and len(li) else np.zeros(len(li))
        used = np.bincount(rj, minlength=n_r) if len(rj) else np.zeros(n_r, np.int64)
        info.update({
            "one_to_one": one_to_one,
            "with_replacement": not one_to_one,
            "note": ("statistical matching: each recipient keeps its record and takes a donor's values; donors "
                     "are reused, so the links are not one-to-one and reconstruction keeps one pair per donor "
                     "(highest score)")
            if not one_to_one else "statistical matching, each donor used at most once (optimal assignment)",
            "recipients_linked": int(len(li)),
            "recipients_without_donor": int(n_l - len(np.unique(li))) if len(li) else n_l,
            "share_donors_used": float((used > 0).mean()) if n_r else 0.0,
            "max_donor_use": int(used.max()) if len(used) else 0,
            "mean_distance": float(d.mean()) if len(d) else None,
            "total_distance": float(d.sum()),
            "share_unlinked_left": 1 - len(li) / n_l if n_l else 0.0,
        })
        lost = n_l - len(li)
        if lost and info["recipients_without_donor"]:
            warns.insert(0, f"hotdeck: {lost} recipient(s) had no donor available in their donation class and stay unlinked")
        # score: 1 / (1 + matching distance), in (0, 1], higher = closer donor
        pairs = pd.DataFrame({"left": li, "right": rj, "score": 1.0 / (1.0 + d)})
        return Links(pairs, n_l, n_r, self.name, one_to_one=one_to_one, diagnostics=info, warnings=warns)

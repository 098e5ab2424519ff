"""Statistical-matching hot deck, after the R package StatMatch.

The left part is the *recipient*, the right part the *donor*; each recipient receives (at most)
one donor. Three variants (``variant=``):

``"random"`` (StatMatch ``RANDwNND.hotdeck``)
    Within donation classes (``don_class``), a donor drawn at random. With ``match_vars`` the
    draw is restricted to the closest donors: ``cut_don="rot"`` keeps the ceil(sqrt(donors in the
    class)) closest, ``"span"`` a share ``k`` of them, ``"exact"`` the ``k`` closest. Donors are
    drawn *with replacement*: one donor may serve several recipients, so the links are not
    one-to-one (``one_to_one`` False; reconstruction keeps the best pair per donor).
``"nnd"`` (StatMatch ``NND.hotdeck``)
    The nearest donor on a Gower distance over ``match_vars`` within donation classes.
    ``constrained=True`` (default) uses each donor at most once and minimises the total
    distance: the optimal assignment of :class:`~synthlink.link.distance.DistanceLinker`
    (StatMatch's ``constr.alg="Hungarian"``); ``constrained=False`` lets donors repeat (ties
    broken at random).
``"rank"`` (StatMatch ``rankNND.hotdeck``)
    Distance between the percentage points of the empirical cumulative distribution function of
    one ranking variable (``rank_var``), computed separately in each part and donation class.
    ``constrained=True`` (default) solves the optimal assignment on that distance.

Defaults: ``don_class`` = the categorical common variables with at most 3 levels (e.g. sex),
``match_vars`` = the other common variables (``"random"``: none, as StatMatch's default), and
``rank_var`` = the first numeric or ordinal common variable outside the donation classes.
Recipients whose donation class holds no donor stay unlinked (counted in the diagnostics).
Unlike StatMatch, donor weights are not supported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError
from synthlink.link.base import Linker, Links, common_columns
from synthlink.link.distance import (
    _CATEGORICAL,
    DistanceLinker,
    GowerEncoding,
    _group_positions,
    _kind_of,
    default_block_on,
    encode_gower,
    joint_codes,
)

VARIANTS = ("random", "nnd", "rank")
CUTS = ("rot", "span", "exact")


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
    """StatMatch-style hot deck: left = recipients, right = donors (see module docstring).

    Parameters
    ----------
    variant: ``"random"``, ``"nnd"`` or ``"rank"``.
    on: common variables considered (default: every column both parts share).
    don_class: donation-class variables (``None`` = default, ``[]`` = none).
    match_vars: distance variables (``None`` = default for the variant).
    constrained: ``nnd``/``rank``: each donor used at most once (optimal assignment).
    cut_don, k: ``random`` with ``match_vars``: which closest donors to draw from.
    rank_var: ``rank``: the ranking variable.
    kinds, weights: as for the distance linker.
    """

    name = "hotdeck"
    summary = "statistical-matching hot deck (random, nearest-neighbour, rank), as StatMatch"

    def __init__(
        self,
        variant: str = "nnd",
        on: Sequence[str] | None = None,
        don_class: Sequence[str] | None = None,
        match_vars: Sequence[str] | None = None,
        constrained: bool = True,
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
                    both = pd.concat([left[c], right[c]], ignore_index=True)
                    if _kind_of(both, kinds.get(c)) != _CATEGORICAL:
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
        self.score_encoding_ = encode_gower(left, right, cols, kinds, self.weights)

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

    def link(self, seed: int = 0) -> Links:
        rng = np.random.default_rng(seed)
        left, right = self.left_, self.right_
        n_l, n_r = len(left), len(right)
        info: dict[str, Any] = {"variant": self.variant, "don_class": list(self.don_class_),
                                "match_vars": list(self.match_vars_)}
        ties = None
        if self.variant in ("nnd", "rank") and self.constrained:
            if self.variant == "nnd":
                lk = DistanceLinker(on=self.match_vars_, block_on=self.don_class_, kinds=self.kinds,
                                    weights=self.weights, max_dense=self.max_dense).fit(left, right)
            else:
                el, er = self._ecdf_frames()
                info["rank_var"] = self.rank_var_
                lk = DistanceLinker(on=["_ecdf"], block_on=["_class"] if self.don_class_ else [],
                                    kinds={"_ecdf": "numeric"}, max_dense=self.max_dense).fit(el, er)
            inner = lk.link(seed)
            li, rj = inner.pairs["left"].to_numpy(), inner.pairs["right"].to_numpy()
            info["share_ties"] = inner.diagnostics.get("share_ties")
            info["assignment"] = {k: inner.diagnostics[k] for k in ("exact_pairs", "assigned_pairs", "dense_blocks", "sparse_blocks")}
            one_to_one = True
        else:
            lc, rc = self._classes()
            groups_r = _group_positions(rc, np.arange(n_r))
            groups_l = _group_positions(lc, np.arange(n_l))
            L, R, T = [], [], []
            if self.variant == "rank":
                el, er = self._ecdf_frames()
                enc = encode_gower(el, er, ["_ecdf"], {"_ecdf": "numeric"})
                codes_l = joint_codes([pd.concat([el, er], ignore_index=True)], n_l)[0]
                info["rank_var"] = self.rank_var_
            elif self.match_vars_:
                enc = encode_gower(left, right, self.match_vars_, self.kinds, self.weights)
                both = pd.concat([left[self.match_vars_], right[self.match_vars_]], ignore_index=True)
                codes_l = joint_codes([both], n_l)[0]
            for c, rec in groups_l.items():
                don = groups_r.get(c)
                if don is None:
                    continue
                if self.variant == "random" and not self.match_vars_:
                    pick = don[(rng.random(len(rec)) * len(don)).astype(np.int64)]
                    tied = np.full(len(rec), len(don) > 1)
                else:
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
        d = self.score_encoding_.pair_distance(li, rj) if len(li) else np.array([])
        used = np.bincount(rj, minlength=n_r) if len(rj) else np.zeros(n_r, np.int64)
        info.update({
            "one_to_one": one_to_one,
            "with_replacement": not one_to_one,
            "note": ("donors drawn with replacement: a donor can serve several recipients, so the links "
                     "are not one-to-one; reconstruction keeps one pair per donor (highest score)")
            if not one_to_one else "each donor used at most once (optimal assignment)",
            "recipients_linked": int(len(li)),
            "recipients_without_donor": int(n_l - len(np.unique(li))) if len(li) else n_l,
            "share_donors_used": float((used > 0).mean()) if n_r else 0.0,
            "max_donor_use": int(used.max()) if len(used) else 0,
            "mean_distance": float(d.mean()) if len(d) else None,
            "share_unlinked_left": 1 - len(li) / n_l if n_l else 0.0,
        })
        warns = []
        if info["recipients_without_donor"] and len(li) < n_l:
            warns.append(f"hotdeck: {n_l - len(li)} recipient(s) had no donor in their donation class and stay unlinked")
        pairs = pd.DataFrame({"left": li, "right": rj, "score": 1.0 - d})
        return Links(pairs, n_l, n_r, self.name, one_to_one=one_to_one, diagnostics=info, warnings=warns)

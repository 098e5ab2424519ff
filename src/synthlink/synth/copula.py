"""Gaussian copula with empirical marginals (native numpy/scipy).

Fit
    Every column is turned into a standard normal score:

    * numeric and date columns (dates as days): ``z = Phi^-1(r / (m + 1))`` where ``r`` is the
      average rank among the ``m`` observed (non-null) values;
    * categorical columns: the categories (in sorted order; ordered categoricals in their order;
      null is a category of its own, last) split [0, 1] into intervals by their frequencies, and a
      record's score is ``Phi^-1(u)`` for ``u`` drawn uniformly inside its category's interval
      (the seed for this draw is ``random_state``);
    * a numeric or date column with nulls gets an extra missingness indicator, a binary variable
      coded as a categorical one, so missingness can correlate with other variables; its value
      score is the column's rank score on observed rows and 0 (the median) on null rows.

    The correlation matrix of the scores is the normal-scores (van der Waerden) correlation,
    projected onto the nearest valid correlation matrix when needed.

Sample
    Draw ``z ~ N(0, R)``, ``u = Phi(z)``; numeric values are the observed values at quantile ``u``
    (the inverse empirical CDF, so values come from the observed set), categories are found from
    the frequency thresholds, and a value is null where its indicator says so.

Keeps: every marginal (up to sampling) and pairwise monotone association. Loses: non-monotone and
higher-order structure, which is what CART keeps.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special, stats

from synthlink.synth.base import Synthesizer
from synthlink.synth.cart import EncodedColumn, check_identifier_like, encode_column


def _ndtri(u: np.ndarray) -> np.ndarray:
    return special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def nearest_correlation(r: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """Clip negative eigenvalues and rescale to unit diagonal (a simple, valid projection)."""
    r = np.nan_to_num((r + r.T) / 2, nan=0.0)
    np.fill_diagonal(r, 1.0)
    w, v = np.linalg.eigh(r)
    if w.min() >= floor:
        return r
    r = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(r))
    r = r / np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return r


class GaussianCopulaSynthesizer(Synthesizer):
    """Gaussian copula with empirical marginals. See the module doc."""

    name = "copula"
    summary = "Gaussian copula: empirical marginals, normal-scores correlation"

    accepts_kinds = True

    def __init__(self, random_state: int = 0, kinds: Mapping[str, str] | None = None) -> None:
        self.random_state = random_state
        self.kinds = kinds

    def _fit(self, data: pd.DataFrame) -> None:
        check_identifier_like(data, "copula")
        data = data.rename(columns=str)
        rng = np.random.default_rng(self.random_state)
        n = len(data)
        self.encoded_: dict[str, EncodedColumn] = {}
        # latent variables: (column, role) with role "codes" | "missing" | "values"
        self.latent_: list[tuple[str, str]] = []
        self.thresholds_: dict[str, np.ndarray] = {}  # cumulative category shares
        self.sorted_values_: dict[str, np.ndarray] = {}
        scores: list[np.ndarray] = []
        kinds = dict(self.kinds or {})
        for c in data.columns:
            enc = encode_column(data[c], kinds.get(c))
            self.encoded_[c] = enc
            if enc.kind == "categorical":
                assert enc.codes is not None and enc.categories is not None
                self.thresholds_[c] = self._thresholds(enc.codes, len(enc.categories))
                self.latent_.append((c, "codes"))
                scores.append(self._cat_scores(enc.codes, self.thresholds_[c], rng))
                continue
            assert enc.values is not None
            miss = np.isnan(enc.values)
            if miss.any():
                key = c + "\0missing"
                self.thresholds_[key] = self._thresholds(miss.astype(np.int64), 2)
                self.latent_.append((c, "missing"))
                scores.append(self._cat_scores(miss.astype(np.int64), self.thresholds_[key], rng))
            obs = enc.values[~miss]
            self.sorted_values_[c] = np.sort(obs)
            if len(obs) == 0:
                continue
            z = np.zeros(n)
            z[~miss] = _ndtri(stats.rankdata(obs) / (len(obs) + 1))
            self.latent_.append((c, "values"))
            scores.append(z)
        if scores and n > 1:
            Z = np.column_stack(scores)
            sd = Z.std(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.corrcoef(Z, rowvar=False) if Z.shape[1] > 1 else np.ones((1, 1))
            r = np.atleast_2d(r)
            r[sd == 0, :] = 0.0
            r[:, sd == 0] = 0.0
            self.correlation_ = nearest_correlation(r)
        else:
            self.correlation_ = np.eye(len(scores))

    @staticmethod
    def _thresholds(codes: np.ndarray, k: int) -> np.ndarray:
        cnt = np.bincount(codes, minlength=k).astype(float)
        return np.cumsum(cnt) / cnt.sum()

    @staticmethod
    def _cat_scores(codes: np.ndarray, cum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        lo = np.concatenate([[0.0], cum[:-1]])[codes]
        hi = cum[codes]
        return _ndtri(lo + rng.random(len(codes)) * (hi - lo))

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        k = len(self.latent_)
        if k:
            L = np.linalg.cholesky(self.correlation_ + 1e-12 * np.eye(k))
            U = special.ndtr(rng.standard_normal((n, k)) @ L.T)
        else:
            U = np.zeros((n, 0))
        out: dict[str, object] = {}
        missing: dict[str, np.ndarray] = {}
        pos = {lat: j for j, lat in enumerate(self.latent_)}
        for c, enc in self.encoded_.items():
            if enc.kind == "categorical":
                u = U[:, pos[(c, "codes")]]
                codes = np.minimum(np.searchsorted(self.thresholds_[c], u, side="right"),
                                   len(self.thresholds_[c]) - 1)
                out[c] = enc.decode(codes)
                continue
            m = np.zeros(n, dtype=bool)
            if (c, "missing") in pos:
                u = U[:, pos[(c, "missing")]]
                m = np.searchsorted(self.thresholds_[c + "\0missing"], u, side="right") >= 1
            vals = np.full(n, np.nan)
            sv = self.sorted_values_[c]
            if (c, "values") in pos and len(sv):
                u = U[:, pos[(c, "values")]]
                idx = np.clip(np.ceil(u * len(sv)).astype(np.int64) - 1, 0, len(sv) - 1)
                vals = np.where(m, np.nan, sv[idx])
            missing[c] = m
            dec = enc.decode(vals)
            out[c] = dec.to_numpy() if isinstance(dec, pd.Series) else dec
        return pd.DataFrame(out)

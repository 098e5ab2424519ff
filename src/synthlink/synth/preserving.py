"""Record-preserving (partially synthetic) mode: every synthetic row keeps a pseudonymised key of
its source record, so parts synthesized by different institutions can still be joined on the key,
while the other values are synthesized.

``RecordPreserving(inner="cart", identifier="pid", key_column="pseudo_key", key=...)``

* ``fit(part)``: ``part`` holds the real identifier column ``identifier``. Its values are replaced
  by HMAC-SHA256 pseudonyms (:func:`synthlink.pseudonymise.pseudonymise` with ``key``; no key given
  -> the ``SYNTHLINK_PSEUDONYM_KEY`` environment variable). Institutions must use the same key for
  their parts to join. The real identifiers are not kept.
* ``sample(n, seed)``: exactly one row per source record (``n`` must equal the fitted size), rows in
  a seeded random order, columns ``key_column`` then the part's other columns.

How the other values are synthesized (``mode``):

``"conditional"`` (default; needs ``inner="cart"`` or a :class:`CartSynthesizer`)
    Partially synthetic data in the sense of Reiter (2003) and synthpop: each value of a record is
    replaced by a draw from its conditional distribution given that record's OTHER ORIGINAL values.
    For each column a CART tree (the inner synthesizer's tree controls: ``min_samples_leaf``,
    ``min_samples_split``, ``max_depth``, ``cp``) is fitted on all other columns of the real part;
    the record's own original values select a leaf, and the new value is the value of a donor
    drawn from that leaf. A numeric or date column with nulls gets its null/not-null state drawn
    first (same way), then a value for non-null rows. Because each synthetic row stays tied to its
    real record, relationships **across** parts survive a join on the key; so does the disclosure
    risk, which is why the evaluation must show this mode's higher risk.
``"row_aligned"`` (any inner synthesizer)
    The inner synthesizer is fitted on the part without the identifier and samples ``n`` rows,
    which are paired with the source keys at random. The key then only says who is in the part:
    values are unrelated to the record, so cross-part relationships are lost after the join.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from synthlink.errors import ConfigError, InputError
from synthlink.pseudonymise import load_key, pseudonymise
from synthlink.schema import check_identifier
from synthlink.synth.base import Synthesizer, restore_dtypes
from synthlink.synth.cart import (
    CartSynthesizer,
    EncodedColumn,
    LeafDonors,
    check_identifier_like,
    encode_column,
)

MODES = ("conditional", "row_aligned")


class RecordPreserving(Synthesizer):
    """Partially synthetic part with a pseudonymised source key per row. See the module doc."""

    name = "preserving"
    summary = "record-preserving (partially synthetic): keeps a pseudonymised key per row"
    #: the study hands it the part with its identifier (it pseudonymises it, then drops it)
    uses_identifier = True

    def __init__(
        self,
        inner: str | Synthesizer = "cart",
        identifier: str = "pid",
        key_column: str = "pseudo_key",
        key: bytes | str | None = None,
        mode: str = "conditional",
    ) -> None:
        self.inner = inner
        self.identifier = identifier
        self.key_column = key_column
        self.key = key
        self.mode = mode

    def __repr__(self) -> str:  # never print the key
        args = ", ".join(f"{k}={'***' if k == 'key' and v is not None else repr(v)}"
                         for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _inner(self) -> Synthesizer:
        if isinstance(self.inner, Synthesizer):
            return self.inner
        from synthlink.synth import get_synthesizer

        return get_synthesizer(str(self.inner))

    def pseudonyms(self, identifiers: pd.Series) -> np.ndarray:
        """The keys this synthesizer writes for these identifiers (same pseudonymisation key). The
        study uses it inside the secure environment to tell which real record a row came from, for
        the key-holder disclosure measure; nothing it returns is written out."""
        return pseudonymise(identifiers.reset_index(drop=True), load_key(self.key)).to_numpy()

    def fit(self, data: pd.DataFrame) -> RecordPreserving:
        if self.mode not in MODES:
            raise ConfigError(f"preserving: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if len(data) == 0:
            raise InputError("preserving: cannot fit on an empty table")
        check_identifier(data, self.identifier, "preserving")
        if self.key_column in data.columns and self.key_column != self.identifier:
            raise InputError(f"preserving: the part already has a column '{self.key_column}'; choose another key_column")
        rest = data.drop(columns=[self.identifier])
        if len(rest.columns) == 0:
            raise InputError("preserving: the part has no column besides the identifier")
        self.keys_ = self.pseudonyms(data[self.identifier])
        self.n_ = len(data)
        self.columns_ = [self.key_column, *[str(c) for c in rest.columns]]
        rest = rest.rename(columns=str).reset_index(drop=True)
        self.dtypes_ = {self.key_column: pd.StringDtype(na_value=np.nan), **rest.dtypes.to_dict()}
        self._fit(rest)
        return self

    def _fit(self, data: pd.DataFrame) -> None:
        inner = self._inner()
        self.inner_: Any
        if self.mode == "row_aligned":
            self.inner_ = inner.fit(data)
            return
        if not isinstance(inner, CartSynthesizer):
            raise ConfigError("preserving: mode 'conditional' needs inner='cart'; use mode='row_aligned' for other synthesizers")
        inner._validate()
        # the inner CART's own fit (which refuses identifier-like columns) does not run in this
        # mode: refuse them here, or the leaf donors would copy them into the output
        check_identifier_like(data, "preserving")
        self.inner_ = inner
        kinds = dict(inner.kinds or {})
        self.encoded_: dict[str, EncodedColumn] = {c: encode_column(data[c], kinds.get(c)) for c in data.columns}
        # predictor blocks per column: codes, or values (nulls below range) + null indicator
        blocks: dict[str, list[np.ndarray]] = {}
        for c, enc in self.encoded_.items():
            if enc.kind == "categorical":
                assert enc.codes is not None
                blocks[c] = [enc.codes.astype(np.float32)]
            else:
                assert enc.values is not None
                miss = np.isnan(enc.values)
                filled = enc.values.copy()
                if miss.all():
                    filled[:] = 0.0
                elif miss.any():
                    filled[miss] = np.nanmin(enc.values) - 1.0
                blocks[c] = [filled.astype(np.float32)] + ([miss.astype(np.float32)] if miss.any() else [])
        self._X = {c: np.column_stack([b for o, bl in blocks.items() if o != c for b in bl])
                   if len(blocks) > 1 else None for c in self.encoded_}
        rng = np.random.default_rng(inner.random_state)
        self.models_: dict[str, dict[str, Any]] = {}
        for c, enc in self.encoded_.items():
            X = self._X[c]
            m: dict[str, Any] = {}
            if enc.kind == "categorical":
                assert enc.codes is not None
                m["codes"] = self._tree(X, enc.codes, True, rng)
            else:
                assert enc.values is not None
                miss = np.isnan(enc.values)
                if miss.any():
                    m["missing"] = self._tree(X, miss.astype(np.int64), True, rng)
                if not miss.all():
                    rows = np.flatnonzero(~miss)
                    m["rows"] = rows
                    m["values"] = self._tree(None if X is None else X[rows], enc.values[rows], False, rng)
            self.models_[c] = m

    def _tree(self, X: np.ndarray | None, y: np.ndarray, categorical: bool, rng: np.random.Generator) -> LeafDonors:
        inner = self.inner_
        if X is None or len(np.unique(y)) < 2 or len(y) < inner.min_split:
            return LeafDonors.fit(None, None, y)
        kw = dict(min_samples_leaf=int(inner.min_samples_leaf), min_samples_split=max(2, inner.min_split),
                  max_depth=int(inner.max_depth), random_state=int(rng.integers(0, 2**31 - 1)))
        if categorical:
            p = np.unique(y, return_counts=True)[1] / len(y)
            tree: Any = DecisionTreeClassifier(min_impurity_decrease=float(inner.cp) * (1 - float(np.sum(p**2))), **kw)
        else:
            tree = DecisionTreeRegressor(min_impurity_decrease=float(inner.cp) * float(np.var(y)), **kw)
        tree.fit(X, y)
        return LeafDonors.fit(tree, X, y)

    def sample(self, n: int | None = None, seed: int = 0) -> pd.DataFrame:
        if not hasattr(self, "n_"):
            raise RuntimeError("preserving: call fit() before sample()")
        n = self.n_ if n is None else int(n)
        if n != self.n_:
            raise InputError(f"preserving: one row per source record, so n must be {self.n_} (got {n})")
        out = self._sample(n, seed)
        return restore_dtypes(out[self.columns_], self.dtypes_)

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        order = rng.permutation(n)
        if self.mode == "row_aligned":
            vals = self.inner_.sample(n, seed=seed)
            vals.insert(0, self.key_column, self.keys_[order])
            return vals
        cols: dict[str, Any] = {self.key_column: self.keys_[order]}
        for c, enc in self.encoded_.items():
            X = self._X[c]
            Xo = None if X is None else X[order]
            m = self.models_[c]
            if enc.kind == "categorical":
                model = m["codes"]
                codes = model.draw(Xo if model.tree is not None else None, n, rng)
                cols[c] = enc.decode(codes)
                continue
            miss = np.ones(n, dtype=bool) if "values" not in m else np.zeros(n, dtype=bool)
            if "missing" in m:
                model = m["missing"]
                miss = model.draw(Xo if model.tree is not None else None, n, rng).astype(bool)
            vals = np.full(n, np.nan)
            keep = np.flatnonzero(~miss)
            if len(keep):
                model = m["values"]
                vals[keep] = model.draw(Xo[keep] if model.tree is not None and Xo is not None else None, len(keep), rng)
            dec = enc.decode(vals)
            cols[c] = dec.to_numpy() if isinstance(dec, pd.Series) else dec
        return pd.DataFrame(cols)

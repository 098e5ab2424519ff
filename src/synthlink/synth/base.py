"""The synthesizer interface.

A synthesizer is fitted on one part (one institution's register, the identifier already removed)
and samples a synthetic part with the same columns and types::

    syn = get_synthesizer("marginals").fit(part)
    fake = syn.sample(len(part), seed=1)

Conventions (as in scikit-learn): the constructor stores its keyword arguments unchanged, ``fit``
returns ``self``, learned state ends in ``_``. ``sample`` takes the seed, so the same fitted
synthesizer and seed always give the same frame.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import pandas as pd

from synthlink.errors import InputError


class Synthesizer(ABC):
    #: registry name (``cart``, ``copula``, ``marginals``, ...)
    name: ClassVar[str] = ""
    #: one-line description for ``--help``
    summary: ClassVar[str] = ""
    #: record-preserving: fitted on the part with its identifier, writes a pseudonymised record key
    #: (``pseudo_key``) so that the parts can be joined; every other synthesizer never sees it
    uses_identifier: ClassVar[bool] = False
    #: takes ``kinds`` (a declared kind per column, as the plan's ``kinds:``) and models each column
    #: by its declared kind rather than its dtype; the study passes the plan's kinds to it
    accepts_kinds: ClassVar[bool] = False
    #: the institutions' own files, handed over (``files``): loaded per part, never fitted
    handed_over: ClassVar[bool] = False
    #: the synthesizer states a differential-privacy guarantee (``guarantee(data)``)
    differentially_private: ClassVar[bool] = False

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def fit(self, data: pd.DataFrame) -> Synthesizer:
        if len(data) == 0:
            raise InputError(f"{self.name}: cannot fit on an empty table")
        if len(data.columns) == 0:
            raise InputError(f"{self.name}: cannot fit on a table with no columns")
        self.columns_ = list(data.columns)
        self.dtypes_ = data.dtypes.to_dict()
        self._fit(data)
        return self

    @abstractmethod
    def _fit(self, data: pd.DataFrame) -> None: ...

    def guarantee(self, data: pd.DataFrame) -> dict[str, Any] | None:
        """The formal privacy statement of what ``fit(data)`` would release: None for methods that
        make none; a differentially private synthesizer (``differentially_private``) returns its
        epsilon, delta and what the guarantee does and does not cover."""
        return None

    def sample(self, n: int, seed: int = 0) -> pd.DataFrame:
        if not hasattr(self, "columns_"):
            raise RuntimeError(f"{self.name}: call fit() before sample()")
        if n < 0:
            raise InputError(f"{self.name}: cannot sample a negative number of rows ({n})")
        out = self._sample(int(n), seed)
        return restore_dtypes(out[self.columns_], self.dtypes_)

    @abstractmethod
    def _sample(self, n: int, seed: int) -> pd.DataFrame: ...

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def restore_dtypes(df: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """Cast sampled columns back to the dtypes seen in fit (integers with nulls become nullable)."""
    out = {}
    for c, dt in dtypes.items():
        s = df[c]
        try:
            if pd.api.types.is_integer_dtype(dt) and not isinstance(dt, pd.api.extensions.ExtensionDtype):
                if s.isna().any():
                    s = s.astype("Int64")
                else:
                    s = s.astype(dt)
            elif isinstance(dt, pd.CategoricalDtype):
                s = pd.Categorical(s, categories=dt.categories, ordered=dt.ordered)
            else:
                s = s.astype(dt)
        except (TypeError, ValueError):
            pass
        out[c] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))

"""The linker interface and the :class:`Links` it returns.

A linker is fitted on two parts (left and right) and returns candidate or final pairs as row
positions into those parts::

    links = get_linker("exact", on=["sex", "age", "canton"]).fit(left, right).link(seed=0)

Linkers never see the real identifier unless they are the identifier join. The right part is
shuffled (seeded) before linking by :func:`shuffled_link`, so row order can never help a method.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthlink.errors import InputError


class UnsuitableMethodWarning(UserWarning):
    """A linkage method ran but cannot identify individuals on these data (its links are no
    better than random pairing); the same text is added to ``Links.warnings``."""


@dataclass
class Links:
    """Pairs of row positions ``left``/``right`` with a ``score`` (higher = more likely a match).

    ``one_to_one``: each left and each right row appears at most once in ``pairs``.
    ``diagnostics``: method-specific facts (AUC of a propensity model, EM convergence, ties, ...).
    ``warnings``: plain-language warnings the report must show.
    """

    pairs: pd.DataFrame
    n_left: int
    n_right: int
    method: str
    one_to_one: bool = True
    diagnostics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        p = self.pairs
        for c in ("left", "right"):
            if c not in p.columns:
                raise ValueError(f"Links.pairs needs a '{c}' column")
        if "score" not in p.columns:
            p = p.assign(score=1.0)
        self.pairs = p.assign(
            left=p["left"].astype("int64"), right=p["right"].astype("int64"), score=p["score"].astype("float64")
        ).reset_index(drop=True)
        if len(self.pairs):
            if self.pairs["left"].min() < 0 or self.pairs["left"].max() >= self.n_left:
                raise ValueError("Links: left row position out of range")
            if self.pairs["right"].min() < 0 or self.pairs["right"].max() >= self.n_right:
                raise ValueError("Links: right row position out of range")
        if self.one_to_one and (self.pairs["left"].duplicated().any() or self.pairs["right"].duplicated().any()):
            raise ValueError(f"Links from '{self.method}' claim one-to-one but repeat a row")

    def __len__(self) -> int:
        return len(self.pairs)

    def remap_right(self, perm: np.ndarray) -> Links:
        """Right positions were into ``right.iloc[perm]``; map them back to ``right``."""
        pairs = self.pairs.assign(right=perm[self.pairs["right"].to_numpy()])
        return Links(pairs, self.n_left, self.n_right, self.method, self.one_to_one, self.diagnostics, self.warnings)


class Linker(ABC):
    """A linkage method. Its capabilities are declared as class attributes, so that the study and
    the CLI read them instead of guessing from the constructor; ``tests/test_link_capabilities.py``
    checks every registered linker's declarations against its constructor.

    Parameters follow scikit-learn's rule: every constructor argument is stored unchanged as the
    attribute of the same name, and :meth:`get_params` reads them by the constructor's signature.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    uses_identifier: ClassVar[bool] = False
    """True when the method needs the identifier (or pseudonymised key) column: it takes ``key``."""
    accepts_truth: ClassVar[bool] = False
    """True when the method can learn from the true pairs: its constructor takes ``truth`` (a column
    present in both parts whose equal values mark the true pairs, or a DataFrame of row positions
    ``left``/``right``) and an ``m_from`` that accepts ``"truth"`` (the probabilistic linker trains
    its m probabilities on them). Only the original split, where the truth is known, can use it."""
    accepts_kinds: ClassVar[bool] = False
    """True when the method compares values by kind and takes ``kinds``, the declared kinds by column
    (:class:`synthlink.schema.Kind` values), resolved over the inferred ones by
    :mod:`synthlink.schema`."""
    baseline_variants: ClassVar[tuple[tuple[str, dict[str, Any]], ...]] = ()
    """Extra runs of the method on the original split, as ``(label suffix, parameters)``: the study
    runs ``label:suffix`` with the parameters over the configured ones (probabilistic: m from the
    truth beside m by EM, since only the original split can show that EM failed)."""

    @classmethod
    def parameters(cls) -> tuple[str, ...]:
        """The constructor's parameter names (``self`` and ``*args``/``**kwargs`` left out)."""
        sig = inspect.signature(cls.__init__)
        return tuple(n for n, p in sig.parameters.items()
                     if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their values (scikit-learn's ``get_params`` rule)."""
        return {n: getattr(self, n) for n in self.parameters()}

    def fit(self, left: pd.DataFrame, right: pd.DataFrame) -> Linker:
        if len(left) == 0 or len(right) == 0:
            raise InputError(f"{self.name}: cannot link an empty part ({len(left)} x {len(right)} rows)")
        self.left_ = left
        self.right_ = right
        self._fit(left, right)
        return self

    def _fit(self, left: pd.DataFrame, right: pd.DataFrame) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def link(self, seed: int = 0) -> Links: ...

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def shuffled_link(linker: Linker, left: pd.DataFrame, right: pd.DataFrame, seed: int = 0) -> Links:
    """Shuffle ``right`` with ``seed``, fit and link, and map positions back to ``right``'s order."""
    perm = np.random.default_rng(seed).permutation(len(right))
    links = linker.fit(left.reset_index(drop=True), right.iloc[perm].reset_index(drop=True)).link(seed=seed)
    return links.remap_right(perm)


def common_columns(left: pd.DataFrame, right: pd.DataFrame, on: list[str] | None, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns to link on: ``on`` if given (checked), else every column both parts share."""
    if on is None:
        on = [c for c in left.columns if c in right.columns and c not in exclude]
    missing = [c for c in on if c not in left.columns or c not in right.columns]
    if missing:
        raise InputError(f"linking column(s) {', '.join(repr(m) for m in missing)} missing from a part")
    if not on:
        raise InputError("no common column to link on")
    return list(on)

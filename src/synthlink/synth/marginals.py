"""Independent marginals: each column drawn on its own from its observed distribution (nulls
included). Keeps every univariate distribution and destroys every relationship: the floor that
every other synthesizer must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlink.synth.base import Synthesizer
from synthlink.synth.cart import check_identifier_like


class MarginalsSynthesizer(Synthesizer):
    name = "marginals"
    summary = "independent marginals per column (the floor)"

    def _fit(self, data: pd.DataFrame) -> None:
        check_identifier_like(data, "marginals")  # resampling would copy real identifiers
        self.values_ = {c: data[c].to_numpy() for c in data.columns}

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        out = {}
        for c, v in self.values_.items():
            idx = rng.integers(0, len(v), size=n)
            out[c] = v[idx]
        return pd.DataFrame(out)

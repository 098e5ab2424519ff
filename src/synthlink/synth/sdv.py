"""Adapters to the Synthetic Data Vault (SDV): ``sdv_gaussian_copula`` and ``sdv_ctgan``.

Optional extra, never in the core install: ``pip install "synthlink[sdv]"`` (or ``pip install sdv``).
Licence: SDV is published under the **Business Source License 1.1** (source-available, not an
OSI open-source licence; production use by some organisations may need a commercial licence from
DataCebo): check it before you deploy. SDV pulls in **PyTorch** (for CTGAN) and a large dependency
tree, so keep it in its own virtual environment if its pins clash with yours
(``benchmarks/bench_synth.py --with-sdv`` creates ``benchmarks/.venvs/sdv``).

Seeding: SDV has no per-call seed for sampling; ``sample(n, seed)`` seeds numpy, ``random`` and
torch (when present) before calling it, so the same fitted model and seed give the same rows on
one machine (CTGAN on a GPU may still differ).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import MethodUnavailableError
from synthlink.synth.base import Synthesizer

_PIP = 'pip install "synthlink[sdv]"  (or: pip install sdv)'


def _import_sdv() -> Any:
    try:
        import sdv  # noqa: F401
        from sdv.metadata import Metadata
        from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer
    except ImportError as e:
        raise MethodUnavailableError(
            f"the SDV adapters need the optional 'sdv' package, which is not installed ({e}); "
            f"install it with: {_PIP}"
        ) from None
    return Metadata, GaussianCopulaSynthesizer, CTGANSynthesizer


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - SDV draws from the global numpy state
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


class _SDVBase(Synthesizer):
    _which = ""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def _fit(self, data: pd.DataFrame) -> None:
        Metadata, GC, CT = _import_sdv()
        cls = GC if self._which == "gc" else CT
        data = data.rename(columns=str)
        meta = Metadata.detect_from_dataframe(data)
        self.model_ = cls(meta, **self.params)
        _seed_all(0)
        self.model_.fit(data)

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        _seed_all(seed)
        if hasattr(self.model_, "_set_random_state"):
            self.model_._set_random_state(seed)
        return self.model_.sample(num_rows=n).reset_index(drop=True)


class SDVGaussianCopula(_SDVBase):
    name = "sdv_gaussian_copula"
    summary = "SDV GaussianCopulaSynthesizer (optional extra 'sdv', BSL licence)"
    _which = "gc"


class SDVCTGAN(_SDVBase):
    name = "sdv_ctgan"
    summary = "SDV CTGANSynthesizer (optional extra 'sdv', BSL licence, needs torch)"
    _which = "ctgan"

"""Cell codes: integer codes of value combinations, shared by linkers and evaluation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def joint_codes(frames: Sequence[pd.DataFrame | np.ndarray], n_split: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of value combinations over the given columns, missing counted as a value.
    ``frames`` hold the left rows then the right rows stacked; returns (left codes, right codes)."""
    n = None
    codes: np.ndarray | None = None
    for f in frames:
        arr = f.to_numpy() if isinstance(f, pd.DataFrame) else np.asarray(f)
        if arr.ndim == 1:
            arr = arr[:, None]
        for j in range(arr.shape[1]):
            col = pd.Series(arr[:, j])
            if pd.api.types.is_numeric_dtype(col):
                col = col.astype("float64")
            else:
                col = col.astype("object")
            k, uniq = pd.factorize(col, use_na_sentinel=False)
            k = k.astype(np.int64)
            codes = k if codes is None else pd.factorize(codes * (len(uniq) + 1) + k)[0].astype(np.int64)
            n = len(k)
    if codes is None:
        codes = np.zeros(n or 0, dtype=np.int64)
    return codes[:n_split], codes[n_split:]

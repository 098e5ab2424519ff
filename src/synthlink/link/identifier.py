"""Join on the identifier (or the pseudonymised key of record-preserving synthesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlink.errors import InputError
from synthlink.link.base import Linker, Links


class IdentifierLinker(Linker):
    name = "identifier"
    summary = "join on the shared identifier or pseudonymised key"
    uses_identifier = True

    def __init__(self, key: str | None = None) -> None:
        self.key = key

    def link(self, seed: int = 0) -> Links:
        key = self.key
        if key is None or key not in self.left_.columns or key not in self.right_.columns:
            raise InputError(f"identifier: key column '{key}' must be present in both parts")
        lk = pd.DataFrame({"k": self.left_[key].to_numpy(), "left": np.arange(len(self.left_))}).dropna()
        rk = pd.DataFrame({"k": self.right_[key].to_numpy(), "right": np.arange(len(self.right_))}).dropna()
        lk = lk.drop_duplicates("k", keep=False)
        rk = rk.drop_duplicates("k", keep=False)
        pairs = lk.merge(rk, on="k", how="inner")[["left", "right"]]
        n_dup = (len(self.left_) - len(lk)) + (len(self.right_) - len(rk))
        warnings = []
        if n_dup:
            warnings.append(f"{n_dup} row(s) with an empty or repeated key were left unlinked")
        return Links(pairs.assign(score=1.0), len(self.left_), len(self.right_), self.name,
                     diagnostics={"unusable_keys": n_dup}, warnings=warnings)

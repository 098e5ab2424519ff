"""The bridge: a small, differentially private release of cross-register counts, made inside the
secure environment (which holds the identifier), that fusion methods use to go beyond what the
common variables explain (the conditional-independence limit).

    spec         BridgeSpec (marginals, declared domain, budget), BridgeRelease (the file), binned
    release      release(joint, spec): the noisy, post-processed counts (OpenDP)
    consistency  the post-processing: one total, agreeing shared margins, non-negative integers
"""

from synthlink.bridge.release import release
from synthlink.bridge.spec import MECHANISMS, MISSING, BridgeRelease, BridgeSpec, binned

__all__ = ["MECHANISMS", "MISSING", "BridgeRelease", "BridgeSpec", "binned", "release"]

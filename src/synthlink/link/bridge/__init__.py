"""The ``bridge`` linker: calibrated one-to-one linkage of two synthetic parts to a released
cross-register marginal (issue 16, section 2).

    problem     common cells, profiles, the (cell, left profile, right profile) triples, targets
    calibrate   IPF of the CIA weights or the soft-constrained transportation LP
    rounding    integer pair counts keeping each cell's margins and tracking the released ones
    linker      BridgeLinker (the registry's ``synthlink.link.bridge:BridgeLinker``)
"""

from synthlink.link.bridge.linker import BridgeLinker

__all__ = ["BridgeLinker"]

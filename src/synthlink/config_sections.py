"""The study config's decision sections: ``options`` (which options a data service weighs beside
independent synthesis + linkage, and the rule that marks which answer a research question) and
``bridge`` (a differentially private release of cross-register counts and how it is fused)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synthlink.config_keys import check_keys
from synthlink.errors import ConfigError
from synthlink.split import SplitPlan

#: the options a data service weighs (central synthesis beside independent synthesis + linkage) and
#: the rule that marks which answer a research question
OPTIONS_KEYS = {"central", "rule"}


RULE_KEYS = {"min_ci_overlap", "keep_sign", "keep_significance"}


#: the bridge's section: its spec (synthlink.bridge.BridgeSpec) and how the bridged linker fuses
BRIDGE_KEYS = {"marginals", "bins", "categories", "missing", "epsilon", "mechanism", "delta", "method"}


@dataclass(frozen=True)
class BridgeConfig:
    """The study's bridge: one release per epsilon (``None``: the true counts without noise, a
    reference that is not private and never leaves the secure environment), fused by the
    ``bridge`` linker with ``method``."""

    spec: Any  # synthlink.bridge.BridgeSpec (of the first epsilon; the others differ only in it)
    epsilons: tuple[float | None, ...]
    method: str = "ipf"

    def spec_for(self, epsilon: float | None) -> Any:
        from dataclasses import replace

        return self.spec if epsilon is None else replace(self.spec, epsilon=float(epsilon))

    def to_dict(self) -> dict[str, Any]:
        return {**self.spec.to_dict(), "epsilon": list(self.epsilons), "method": self.method}


def parse_bridge(raw: Any, plan: SplitPlan, parts: tuple[str, str]) -> BridgeConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError("'bridge' must be a mapping (marginals, bins, categories, missing, epsilon, mechanism, delta, method)")
    check_keys(raw, BRIDGE_KEYS, "'bridge'")
    from synthlink.bridge import BridgeSpec

    eps = raw.get("epsilon")
    if eps is None:
        raise ConfigError("'bridge.epsilon' is required: the privacy budget of the release (a number, or a list "
                          "of numbers for a curve; 'none' adds the noiseless reference)")
    eps_list = eps if isinstance(eps, list) else [eps]
    epsilons: list[float | None] = []
    for e in eps_list:
        if isinstance(e, str) and e.lower() == "none":
            epsilons.append(None)
        elif isinstance(e, (int, float)) and not isinstance(e, bool) and e > 0:
            epsilons.append(float(e))
        else:
            raise ConfigError(f"'bridge.epsilon': {e!r} is not a positive number (or 'none')")
    first = next((e for e in epsilons if e is not None), 1.0)
    spec = BridgeSpec.from_dict({**{k: v for k, v in raw.items() if k != "method"}, "epsilon": first}, "'bridge'")
    own = {p.name: list(p.columns) for p in plan.parts if p.name in parts}
    spec.check_parts(own, plan.common)
    method = str(raw.get("method", "ipf"))
    if method not in ("ipf", "lp"):
        raise ConfigError(f"'bridge.method' must be 'ipf' or 'lp', got {method!r}")
    return BridgeConfig(spec, tuple(epsilons), method)


@dataclass(frozen=True)
class OptionsConfig:
    """Which options the study computes beside independent synthesis + linkage, and the rule that
    marks an option as answering a research question: every coefficient that crosses the parts has
    a CI overlap with train of at least ``min_ci_overlap``, the same sign (``keep_sign``) and, with
    ``keep_significance``, the same significance at 5%."""

    central: bool = True
    min_ci_overlap: float = 0.5
    keep_sign: bool = True
    keep_significance: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"central": self.central, "rule": {"min_ci_overlap": self.min_ci_overlap, "keep_sign": self.keep_sign,
                                                  "keep_significance": self.keep_significance}}


def parse_options(raw: Any) -> OptionsConfig:
    if raw is None or raw is True:
        return OptionsConfig()
    if raw is False:
        return OptionsConfig(central=False)
    if not isinstance(raw, Mapping):
        raise ConfigError("'options' must be true, false or a mapping (central, rule)")
    check_keys(raw, OPTIONS_KEYS, "'options'")
    rule = raw.get("rule") or {}
    if not isinstance(rule, Mapping):
        raise ConfigError("'options.rule' must be a mapping (min_ci_overlap, keep_sign, keep_significance)")
    check_keys(rule, RULE_KEYS, "'options.rule'")
    central = raw.get("central", True)
    if not isinstance(central, bool):
        raise ConfigError("'options.central' must be true or false")
    mco = rule.get("min_ci_overlap", 0.5)
    if isinstance(mco, bool) or not isinstance(mco, (int, float)) or not -10 <= mco <= 1:
        raise ConfigError(f"'options.rule.min_ci_overlap' must be a number at most 1, got {mco!r}")
    flags = {}
    for k in ("keep_sign", "keep_significance"):
        v = rule.get(k, k == "keep_sign")
        if not isinstance(v, bool):
            raise ConfigError(f"'options.rule.{k}' must be true or false")
        flags[k] = v
    return OptionsConfig(central, float(mco), flags["keep_sign"], flags["keep_significance"])

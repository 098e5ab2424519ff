"""The linkage plan: how K >= 2 parts are joined into one table J*.

A plan is one of three shapes, each a list of edges (pairs of parts, each linked by a linker):

- ``chain``: ``[education, employment, social]`` links education-employment and
  employment-social, in that order;
- ``star``: ``{hub: employment, parts: [education, social]}`` links the hub to every other part;
- ``all_pairs``: ``[a, b, c]`` links every pair (a-b, a-c, b-c), then reconciles the links into
  tuples by the K-partite rule of :func:`synthlink.reconstruct.reconstruct_tuples` (a link that
  would put two records of one part in a person is rejected and counted).

Chains and stars are trees: their one-to-one links can never disagree. Written in a study config
as ``link_plan: {chain: [...]}`` (or ``star`` / ``all_pairs``), with optional ``edges:`` naming
a linker for one edge (``employment-social: distance``); ``link_parts: [a, b]`` is the chain of
two. The checks here name the part or edge at fault (:class:`~synthlink.errors.ConfigError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from synthlink.errors import ConfigError

SHAPES = ("chain", "star", "all_pairs")
PLAN_KEYS = {*SHAPES, "edges"}


def edge_name(a: str, b: str) -> str:
    """How an edge is written: ``a-b``."""
    return f"{a}-{b}"


@dataclass(frozen=True)
class LinkPlan:
    """The parts of a study's J* (in plan order: the chain's order, a star's hub first) and the
    edges that link them (each a pair ``(left, right)`` of part names)."""

    shape: str
    parts: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]

    @property
    def is_tree(self) -> bool:
        """A chain or a star: K - 1 edges that connect every part, so links cannot conflict."""
        return self.shape in ("chain", "star")

    @property
    def k(self) -> int:
        return len(self.parts)

    @property
    def edge_names(self) -> list[str]:
        return [edge_name(a, b) for a, b in self.edges]

    def to_dict(self) -> dict[str, Any]:
        if self.shape == "star":
            return {"star": {"hub": self.parts[0], "parts": list(self.parts[1:])}}
        return {self.shape: list(self.parts)}

    def describe(self) -> dict[str, Any]:
        """The plan as metrics.json records it: shape, parts and edges."""
        return {"shape": self.shape, "parts": list(self.parts), "edges": [list(e) for e in self.edges]}

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def pair(cls, left: str, right: str) -> LinkPlan:
        return cls("chain", (left, right), ((left, right),))

    @classmethod
    def from_dict(cls, d: Any, part_names: Sequence[str], *, where: str = "'link_plan'", every_part: bool = True) -> LinkPlan:
        """Parse ``{chain: [...]}``, ``{star: {hub: H, parts: [...]}}`` or ``{all_pairs: [...]}``
        (any ``edges`` key is the caller's: per-edge linkers) and check it against the split's
        ``part_names``: an unknown part, a part named twice (a cycle in a chain), fewer than two
        parts, or more than one shape is an error naming it; with ``every_part``, so is a part of
        the split that appears in no edge (it would be synthesized and never linked)."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"{where} must be a mapping with one of {', '.join(SHAPES)}, e.g. "
                              "{chain: [education, employment, social]}")
        unknown = set(map(str, d)) - PLAN_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (use one of {', '.join(SHAPES)}, "
                              "and optionally edges)")
        shapes = [s for s in SHAPES if s in d]
        if len(shapes) != 1:
            raise ConfigError(f"{where}: give exactly one of {', '.join(SHAPES)} (got {', '.join(shapes) or 'none'})")
        shape = shapes[0]
        raw = d[shape]
        if shape == "star":
            if not isinstance(raw, Mapping) or set(map(str, raw)) != {"hub", "parts"}:
                raise ConfigError(f"{where}.star must be {{hub: PART, parts: [PART, ...]}}")
            others = raw["parts"]
            if not isinstance(others, list):
                raise ConfigError(f"{where}.star.parts must be a list of part names")
            names = [str(raw["hub"]), *map(str, others)]
        else:
            if not isinstance(raw, list):
                raise ConfigError(f"{where}.{shape} must be a list of part names")
            names = [str(p) for p in raw]
        for p in names:
            if p not in part_names:
                raise ConfigError(f"{where}: unknown part '{p}' (parts of the split: {', '.join(part_names)})")
        seen: set[str] = set()
        for p in names:
            if p in seen:
                what = "a cycle in the chain" if shape == "chain" else "named twice"
                raise ConfigError(f"{where}.{shape}: part '{p}' appears twice ({what}: each part is linked once per plan)")
            seen.add(p)
        if len(names) < 2:
            raise ConfigError(f"{where}.{shape}: name at least two parts")
        if every_part:
            left_out = [p for p in part_names if p not in seen]
            if left_out:
                raise ConfigError(f"{where}: part '{left_out[0]}' appears in no edge (link it, or leave it out of the split)")
        if shape == "chain":
            edges = tuple(zip(names[:-1], names[1:], strict=True))
        elif shape == "star":
            edges = tuple((names[0], p) for p in names[1:])
        else:
            edges = tuple((a, b) for i, a in enumerate(names) for b in names[i + 1:])
        return cls(shape, tuple(names), edges)

    def check_columns(self, columns: Mapping[str, Sequence[str]], on: Mapping[str, Sequence[str]] | None = None,
                      *, where: str = "'link_plan'") -> None:
        """Every edge must have linking variables both of its parts hold: ``columns`` maps each
        part to its columns, ``on`` an edge name to the variables its linker is told to use
        (default: the common variables both parts hold)."""
        for a, b in self.edges:
            name = edge_name(a, b)
            shared = [c for c in columns[a] if c in set(columns[b])]
            want = list((on or {}).get(name) or shared)
            missing = [c for c in want if c not in shared]
            if not want or missing:
                detail = f"'{', '.join(missing)}' not in both" if missing else "no common variable"
                raise ConfigError(f"{where}: edge {name}: {detail} (the parts share {', '.join(shared) or 'nothing'})")


def check_edge_names(edges: Mapping[str, Any], plan: LinkPlan, *, where: str = "'link_plan.edges'") -> dict[str, tuple[str, str]]:
    """Map each per-edge key (``a-b``, either order) to the plan's edge; an edge the plan does not
    have is an error naming it."""
    by_name = {edge_name(a, b): (a, b) for a, b in plan.edges}
    by_name.update({edge_name(b, a): (a, b) for a, b in plan.edges})
    out: dict[str, tuple[str, str]] = {}
    for key in edges:
        if str(key) not in by_name:
            raise ConfigError(f"{where}: '{key}' is not an edge of the plan (edges: {', '.join(plan.edge_names)})")
        out[str(key)] = by_name[str(key)]
    return out

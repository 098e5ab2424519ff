"""One seed of a study whose linkage plan joins K >= 3 parts (``link_plan``).

The order is the two-part study's (:mod:`synthlink.study`, which calls :func:`run_plan_seed`):
split -> baseline (every linker on the original parts, edge by edge, tuples scored against the
truth) -> each synthesizer on each part -> each synthesizer x linker: link every edge of the
plan, reconstruct the K-way J* (:func:`synthlink.reconstruct.reconstruct_tuples`) -> evaluate
the complete tuples (utility against the train persons every part holds, privacy of J*, of each
linked pair and of each part). A linker named for one edge (``link_plan.edges``) replaces the
study's linker on that edge.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd

from synthlink.cache import Cache, stage_key
from synthlink.config import MethodSpec, StudyConfig
from synthlink.evaluate.linkage import expected_bound_and_sd, linkage_quality, uniqueness_bound
from synthlink.evaluate.tuples import expected_tuple_bound, true_tuples, tuple_quality
from synthlink.link import linker_class
from synthlink.link.base import Links
from synthlink.link.plan import LinkPlan, edge_name
from synthlink.pipeline.evaluation import (
    evaluate_influence,
    evaluate_measures,
    evaluate_privacy,
    evaluate_utility,
    evaluation_key,
    reference_tables,
)
from synthlink.pipeline.linking import KEY_COLUMNS, baseline_specs, cached_link
from synthlink.pipeline.parts import central_entry, synthesize_parts, timed
from synthlink.pipeline.progress import Progress
from synthlink.pipeline.synthesis import source_positions
from synthlink.pipeline.workers import EvalQueue, guard
from synthlink.reconstruct import complete_only, reconstruct_tuples
from synthlink.split import SplitResult, split

log = logging.getLogger("synthlink")


def edge_spec(cfg: StudyConfig, spec: MethodSpec, edge: tuple[str, str]) -> MethodSpec:
    """The linker of one edge: the plan's own for that edge, else the study's ``spec``."""
    return cfg.edge_linkers.get(edge, spec)


def plan_label(cfg: StudyConfig, spec: MethodSpec) -> str:
    """A plan run's label: the study linker's, with the edges that use another linker named."""
    other = [f"{edge_name(*e)}: {m.label}" for e, m in cfg.edge_linkers.items() if m.label != spec.label]
    return f"{spec.label} ({', '.join(other)})" if other else spec.label


def bound_tree(lp: LinkPlan) -> list[tuple[str, str]]:
    """The tree of edges the tuple bound is computed over: the plan's own for a chain or a star,
    the chain in plan order for all pairs."""
    return list(lp.edges) if lp.is_tree else list(zip(lp.parts[:-1], lp.parts[1:], strict=True))


def link_plan_edges(cfg: StudyConfig, cache: Cache, stage: str, key_parts: tuple[Any, ...], spec: MethodSpec,
                    parts: dict[str, pd.DataFrame], seed: int, key: str | None, truths: dict[tuple[str, str], pd.DataFrame] | None,
                    timings: dict[str, float]) -> dict[tuple[str, str], Links] | None:
    """Every edge of the plan linked (through the cache); None when an edge's linker does not
    apply (the identifier join without a shared key)."""
    plan = cfg.plan
    lp = cfg.link_plan
    assert lp is not None
    out: dict[tuple[str, str], Links] = {}
    for a, b in lp.edges:
        es = edge_spec(cfg, spec, (a, b))
        links = timed(timings, f"link:{es.label}")(lambda es=es, a=a, b=b: cached_link(
            cache, stage, (*key_parts, a, b), es, parts[a], parts[b], seed=seed, on=list(plan.common),
            identifier=plan.identifier, key=key, truth=(truths or {}).get((a, b)), kinds=plan.kinds))
        if links is None:
            return None
        out[(a, b)] = links
    return out


def tuple_uniqueness_bound(df: pd.DataFrame, columns: list[str], k: int) -> float:
    """The tuple bound of K parts that hold the same people with the same values: a cell of ``m``
    people recovers ``m ** (2 - K)`` tuples in expectation (``uniqueness_bound`` for K = 2)."""
    if len(df) == 0:
        return 0.0
    m = df[columns].astype("object").fillna("<missing>").astype(str).value_counts().to_numpy(dtype=float)
    return float(np.sum(m ** (2 - k)) / len(df))


def run_plan_seed(cfg: StudyConfig, df: pd.DataFrame, data_key: str, seed: int, cache: Cache,
                  timings: dict[str, float], bar: Progress, linkers: list[MethodSpec], where: str) -> dict[str, Any]:
    plan = cfg.plan
    lp = cfg.link_plan
    assert lp is not None
    ident = plan.identifier
    names = list(lp.parts)
    common = list(plan.common)
    kinds = dict(plan.kinds)
    ev = cfg.evaluate
    questions = cfg.questions
    part_cols = {n: list(plan.parts[plan.part_names.index(n)].columns) for n in names}
    timer = lambda name: timed(timings, name)  # noqa: E731

    split_key = stage_key("split", data_key, plan.to_dict(), seed)
    sres: SplitResult = timer("split")(lambda: cache.folder(
        "split", split_key, lambda p: split(df, plan, seed=seed, where=where).save(p), SplitResult.load))
    parts = {n: sres.parts[n] for n in names}
    truths = {(a, b): sres.truth_pairs(a, b) for a, b in lp.edges}
    in_all = sres.truth[names].notna().all(axis=1).to_numpy()
    ref_train, ref_control = reference_tables(sres.train, sres.control, sres.truth, plan, *names)
    from synthlink.evaluate.measures import registered

    measures = registered() if ev.get("measures", True) else []
    n_tuples = len(true_tuples(sres.truth, names))
    log.info("seed %s: split into %s, %d persons in every part", seed,
             ", ".join(f"{n} ({len(parts[n])} rows)" for n in names), n_tuples)
    edge_bounds = {}
    for a, b in lp.edges:
        e, sd = expected_bound_and_sd(parts[a], parts[b], truths[(a, b)], common)
        edge_bounds[edge_name(a, b)] = {"expected": e, "expected_sd": sd}
    t_exp, t_sd = expected_tuple_bound(parts, sres.truth, bound_tree(lp), common)
    record: dict[str, Any] = {
        "seed": seed, "plan": lp.describe(),
        "parts": {n: len(parts[n]) for n in names},
        "true_pairs": n_tuples, "true_tuples": n_tuples,
        "train_rows": len(sres.train), "control_rows": len(sres.control),
        "reference_rows": {"train": len(ref_train), "control": len(ref_control)},
        "uniqueness_bound": {
            "common_all_train": uniqueness_bound(sres.train, common),
            # same people, no noise: sum over cells of m ** (2 - K) / N (synthlink.evaluate.tuples)
            "linked_population": tuple_uniqueness_bound(ref_train, common, lp.k),
            # the tuple's: all K - 1 links of a person right (synthlink.evaluate.tuples)
            "expected": t_exp, "expected_sd": t_sd, "columns": common,
        },
        "tuple_bound": {"expected": t_exp, "expected_sd": t_sd, "true_tuples": n_tuples, "edges": edge_bounds},
        "baseline": [], "synthetic": [], "parts_privacy": {},
    }
    # which variables drive the links: on the plan's first edge
    a0, b0 = lp.edges[0]
    record["influence"] = timer("influence")(lambda: cache.json(
        "influence", stage_key("influence", split_key, common, seed, ev.get("influence_linker"), a0, b0),
        lambda: guard(lambda: {**evaluate_influence(parts[a0].drop(columns=[ident]), parts[b0].drop(columns=[ident]),
                                                    truths[(a0, b0)], common, ref_train, seed, ev.get("influence_linker")),
                               "edge": edge_name(a0, b0)}, "evaluate_influence")))

    queue = EvalQueue(cache)
    originals = {n: parts[n].drop(columns=[ident]) for n in names}
    baseline_joint: dict[str, pd.DataFrame] = {}
    for spec in baseline_specs(linkers):
        bar.step(f"baseline {spec.label}")
        links = link_plan_edges(cfg, cache, "baseline", (split_key,), spec, parts, seed, ident, truths, timings)
        if links is None:
            record["baseline"].append({"linker": spec.label, "status": "not applicable"})
            continue
        rec = reconstruct_tuples(originals, links, common, drop=[ident])
        J = complete_only(rec)
        label = plan_label(cfg, spec)
        baseline_joint[spec.label] = J
        entry: dict[str, Any] = {
            "linker": label, "method": spec.name, "status": "ok",
            "quality": tuple_quality(rec.positions, sres.truth),
            "edges": [{"edge": edge_name(a, b), "left": a, "right": b, "linker": edge_spec(cfg, spec, (a, b)).label,
                       "quality": linkage_quality(lk, truths[(a, b)]), "bound": edge_bounds[edge_name(a, b)]}
                      for (a, b), lk in links.items()],
            "accounting": rec.accounting,
            "diagnostics": {edge_name(*e): lk.diagnostics for e, lk in links.items()},
            "warnings": sorted({w for lk in links.values() for w in lk.warnings}),
        }
        if ev.get("baseline_utility", True) and not linker_class(spec.name).uses_identifier:
            queue.add("baseline-utility", stage_key("bu-k", split_key, spec.to_dict(), seed, questions, cfg.target,
                                                    evaluation_key(ev), kinds, lp.describe()),
                      evaluate_utility, (ref_train, ref_control, J, part_cols, common, questions, cfg.target, None, seed, ev, kinds),
                      entry, "utility")
        record["baseline"].append(entry)

    truth_joint = ref_train
    # each linked pair's privacy (does each added register raise the risk?): by default for the
    # first configured linker that does not join on the identifier; ``pair_privacy: all`` for
    # every linker, ``false`` for none
    pp = ev.get("pair_privacy", "first")
    pair_linkers = ({s.label for s in linkers} if pp in (True, "all") else set() if pp is False
                    else {next((s.label for s in linkers if not linker_class(s.name).uses_identifier), "")})
    for sy in cfg.synthesizers:
        bar.step(f"synthesize {sy.label}")
        syn_parts, key_pos = synthesize_parts(cfg, sy, sres, tuple(names), split_key, seed, cache, timings, record, queue)
        if cfg.options.central and not _record_preserving(sy):
            bar.step(f"central {sy.label}")
            record["synthetic"].append(central_entry(cfg, sy, ref_train, ref_control, part_cols, split_key, seed,
                                                     cache, timings, queue, measures))
        key_col = next((c for c in KEY_COLUMNS if all(c in p.columns for p in syn_parts.values())), None)
        for spec in linkers:
            bar.step(f"{sy.label} x {spec.label}")
            links = link_plan_edges(cfg, cache, "synthetic", (split_key, sy.to_dict()), spec, syn_parts, seed, key_col, None, timings)
            label = plan_label(cfg, spec)
            if links is None:
                record["synthetic"].append({"synthesizer": sy.label, "linker": label, "status": "not applicable",
                                            "reason": "synthetic parts carry no shared key (use a record-preserving synthesizer)"})
                continue
            srec = reconstruct_tuples(syn_parts, links, common, drop=[c for c in (ident, key_col) if c])
            Js = complete_only(srec)
            ek = stage_key("eval-k", split_key, sy.to_dict(), spec.to_dict(), seed, questions, cfg.target, cfg.privacy,
                           evaluation_key(ev), kinds, lp.describe(), {edge_name(*e): m.to_dict() for e, m in cfg.edge_linkers.items()})
            entry = {
                "synthesizer": sy.label, "linker": label, "method": spec.name, "status": "ok",
                "option": "independent synthesis + linkage",
                "accounting": srec.accounting,
                "edges": [{"edge": edge_name(a, b), "left": a, "right": b, "linker": edge_spec(cfg, spec, (a, b)).label}
                          for a, b in lp.edges],
                "diagnostics": {edge_name(*e): lk.diagnostics for e, lk in links.items()},
                "warnings": sorted({w for lk in links.values() for w in lk.warnings}),
                "utility": None, "privacy": None,
            }
            queue.add("utility", ek, evaluate_utility, (ref_train, ref_control, Js, part_cols, common, questions, cfg.target,
                                                        baseline_joint.get(spec.label, truth_joint), seed, ev, kinds), entry, "utility")
            source = None
            if key_col and all(linker_class(edge_spec(cfg, spec, e).name).uses_identifier for e in lp.edges):
                # joined on the record key: each complete tuple is one real person's; J* is evaluated
                # against ref_train (the train persons every part holds), so positions are mapped there
                first = srec.positions[names[0]].to_numpy()[: len(Js)]
                in_train = source_positions(key_pos, syn_parts[names[0]][key_col].reset_index(drop=True).iloc[first])
                if in_train is not None:
                    to_ref = np.full(len(in_all), -1, dtype=np.int64)
                    to_ref[in_all] = np.arange(int(in_all.sum()))
                    source = np.where(in_train >= 0, to_ref[np.maximum(in_train, 0)], -1)
            if measures:
                mk = stage_key("measures", ek, [(m.name, f"{m.fn.__module__}.{m.fn.__qualname__}") for m in measures])
                queue.add("measures", mk, evaluate_measures, (ref_train, ref_control, Js, common, part_cols, seed, measures),
                          entry, "measures")
            queue.add("privacy", ek, evaluate_privacy, (ref_train, ref_control, Js, common, part_cols, cfg.privacy, seed, ev,
                                                        source, kinds), entry, "privacy")
            if spec.label in pair_linkers:  # every linked pair on its own
                pairs_out = entry.setdefault("pairs_privacy", {})
                for a, b in lp.edges:
                    cols = list(dict.fromkeys([*common, *part_cols[a], *part_cols[b]]))
                    pc = {a: part_cols[a], b: part_cols[b]}
                    queue.add("privacy", stage_key("pair", ek, a, b), evaluate_privacy, (
                        ref_train[cols], ref_control[cols], Js[cols], common, pc, _pair_privacy(cfg.privacy, cols), seed, ev,
                        source, kinds), pairs_out, edge_name(a, b))
            record["synthetic"].append(entry)
    bar.step(f"evaluate {len(queue.items)} table(s)")
    queue.run(int(ev.get("n_jobs", os.cpu_count() or 1)), timings)
    if cfg.questions:
        from synthlink.pipeline.decision import decide

        record["decision"] = decide(record, part_cols, cfg.options)
    return record


def _record_preserving(sy: MethodSpec) -> bool:
    from synthlink.synth import synthesizer_class

    cls = synthesizer_class(sy.name)
    return bool(cls.uses_identifier or cls.handed_over)


def _pair_privacy(privacy: dict[str, Any], cols: list[str]) -> dict[str, Any]:
    """The study's privacy options for a pair's table: a secret or key the pair does not hold is
    left to the attacks' own choice."""
    out = dict(privacy)
    sec = out.get("secret")
    if isinstance(sec, str) and sec not in cols:
        out.pop("secret")
    elif isinstance(sec, list):
        out["secret"] = [s for s in sec if s in cols] or None
        if out["secret"] is None:
            out.pop("secret")
    for k in ("keys", "targets"):
        if isinstance(out.get(k), list):
            kept = [c for c in out[k] if c in cols]
            if kept:
                out[k] = kept
            else:
                out.pop(k)
    return out

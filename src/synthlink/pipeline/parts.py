"""Stages of a study over its linked parts: each part synthesized on its own (or read from the
institution's file) with its privacy evaluation queued, and the central-synthesis option. The
study (two parts or a plan of K) calls these; the order stays in :mod:`synthlink.study`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from synthlink.cache import Cache, stage_key
from synthlink.config import MethodSpec, StudyConfig
from synthlink.pipeline.evaluation import (
    evaluate_measures,
    evaluate_privacy,
    evaluate_utility,
    evaluation_key,
)
from synthlink.pipeline.linking import KEY_COLUMNS
from synthlink.pipeline.synthesis import (
    guarantee,
    handed_over_path,
    key_positions,
    load_handed_over,
    source_positions,
    synthesize_part,
)
from synthlink.pipeline.workers import EvalQueue
from synthlink.split import SplitResult
from synthlink.synth import synthesizer_class


def timed(store: dict[str, float], name: str) -> Callable[[Callable[..., Any]], Any]:
    def run(fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            store[name] = store.get(name, 0.0) + time.perf_counter() - t0

    return run


def synthesize_parts(cfg: StudyConfig, sy: MethodSpec, sres: SplitResult, names: tuple[str, ...], split_key: str, seed: int,
                      cache: Cache, timings: dict[str, float], record: dict[str, Any],
                      queue: EvalQueue) -> tuple[dict[str, pd.DataFrame], Any]:
    """Synthesize each linked part on its own with ``sy`` (or read the institution's file), keep
    what a handed-over file's check found and a DP synthesizer's statement, and queue each
    synthetic part's privacy evaluation. Returns the parts and the record-preserving key map."""
    plan = cfg.plan
    ident = plan.identifier
    common = list(plan.common)
    kinds = dict(plan.kinds)
    ev = cfg.evaluate
    timer = lambda name: timed(timings, name)  # noqa: E731
    syn_parts: dict[str, pd.DataFrame] = {}
    # record-preserving rows: key -> position of its real record in train (None: rows belong to nobody)
    key_pos = key_positions(sy, ident, sres.train[ident])
    for pname in names:
        part = sres.parts[pname]
        k = stage_key("synth", split_key, pname, sy.to_dict(), seed)

        handed = synthesizer_class(sy.name).handed_over  # the institution's own file for this part
        if handed:
            fpath = handed_over_path(sy, pname, seed, cfg.base_dir)
            st = fpath.stat() if fpath.exists() else None
            k = stage_key(k, str(fpath), st.st_size if st else None, st.st_mtime_ns if st else None)
        checked: dict[str, Any] = {}

        def make(part: pd.DataFrame = part, pname: str = pname, handed: bool = handed,
                 checked: dict[str, Any] = checked) -> pd.DataFrame:
            if handed:
                got, checked["report"] = load_handed_over(sy, pname, part, identifier=ident, seed=seed,
                                                          base_dir=cfg.base_dir)
                return got
            # each part its own sample seed: the parts are drawn independently
            return synthesize_part(sy, part, identifier=ident, seed=seed + 7919 * (1 + plan.part_names.index(pname)),
                                   kinds=kinds)

        syn_parts[pname] = timer(f"synth:{sy.label}")(lambda k=k, make=make: cache.frame("synth", k, make))
        if handed:  # what the check of the file found (kept with the cached part)
            def found(pname: str = pname, part: pd.DataFrame = part, checked: dict[str, Any] = checked) -> Any:
                return checked.get("report") or load_handed_over(
                    sy, pname, part, identifier=ident, seed=seed, base_dir=cfg.base_dir)[1]

            record.setdefault("handed_over", {}).setdefault(sy.label, {})[pname] = cache.json("handed-over", k, found)
        statement = guarantee(sy, part.drop(columns=[ident]), kinds)
        if statement is not None:  # a DP synthesizer: what its epsilon covers (declarations, not rows)
            record.setdefault("guarantees", {}).setdefault(sy.label, {})[pname] = statement
        keys = next((syn_parts[pname][c] for c in KEY_COLUMNS if c in syn_parts[pname].columns), None)
        syn_eval = syn_parts[pname].drop(columns=[c for c in KEY_COLUMNS if c in syn_parts[pname].columns])
        queue.add("part-privacy", stage_key("pp", k, cfg.privacy, evaluation_key(ev), kinds), evaluate_privacy, (
            sres.train[[c for c in syn_eval.columns if c in sres.train.columns]],
            sres.control[[c for c in syn_eval.columns if c in sres.control.columns]],
            syn_eval, common, None, cfg.privacy, seed, ev, source_positions(key_pos, keys), kinds),
            record["parts_privacy"].setdefault(sy.label, {}), pname)
    return syn_parts, key_pos

def central_entry(cfg: StudyConfig, sy: MethodSpec, ref_train: pd.DataFrame, ref_control: pd.DataFrame,
                   part_cols: dict[str, list[str]], split_key: str, seed: int, cache: Cache,
                   timings: dict[str, float], queue: EvalQueue, measures: list[Any]) -> dict[str, Any]:
    """Central synthesis: the registers joined by the identifier inside the secure environment
    (the real linked train), then synthesized as one table; its evaluations are queued."""
    plan = cfg.plan
    common = list(plan.common)
    kinds = dict(plan.kinds)
    ev = cfg.evaluate
    questions = cfg.questions
    truth_joint = ref_train
    timer = lambda name: timed(timings, name)  # noqa: E731
    # central synthesis: the registers joined by the identifier inside the secure
    # environment (the real linked train), then synthesized as one table
    ck = stage_key("central", split_key, sy.to_dict(), seed, kinds)
    Jc = timer(f"synth:{sy.label} (central)")(lambda ck=ck: cache.frame("central", ck, lambda: synthesize_part(
        sy, ref_train, identifier=None, seed=seed + 7919 * (1 + len(plan.part_names)), kinds=kinds)))
    centry: dict[str, Any] = {"synthesizer": sy.label, "linker": "central", "method": "central",
                              "option": "central synthesis", "status": "ok", "utility": None, "privacy": None,
                              "accounting": {"linked": len(Jc), "n_left": len(Jc), "n_right": len(Jc)}}
    cek = stage_key("eval-central", ck, questions, cfg.target, cfg.privacy, evaluation_key(ev), kinds)
    queue.add("utility", cek, evaluate_utility, (ref_train, ref_control, Jc, part_cols, common, questions, cfg.target,
                                                 truth_joint, seed, ev, kinds), centry, "utility")
    if measures:
        queue.add("measures", stage_key("measures", cek, [(m.name, f"{m.fn.__module__}.{m.fn.__qualname__}") for m in measures]), evaluate_measures,
                  (ref_train, ref_control, Jc, common, part_cols, seed, measures), centry, "measures")
    queue.add("privacy", cek, evaluate_privacy, (ref_train, ref_control, Jc, common, part_cols, cfg.privacy, seed, ev,
                                                 None, kinds), centry, "privacy")
    return centry

"""The study runner: the only module that knows the whole order.

    data -> split (holdout + parts + truth)
         -> baseline: each linker on the ORIGINAL parts (true links known)
         -> each synthesizer on each part, on its own
         -> each synthesizer x linker: link the synthetic parts, reconstruct J*
         -> evaluate: linkage quality (baseline), utility of J* vs train (control = sampling-noise
            reference), privacy of A*, B* and J* (control = non-member reference), influence
         -> results table, metrics.json, report.html

Every stage is cached under a hash of its inputs and parameters (see :mod:`synthlink.cache`), so
an interrupted run resumes where it stopped. Logs name stages and counts, never identifiers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthlink.cache import Cache, stage_key
from synthlink.config import MethodSpec, StudyConfig
from synthlink.errors import ConfigError
from synthlink.evaluate.linkage import expected_bound_and_sd, linkage_quality, uniqueness_bound
from synthlink.io import write_json, write_table
from synthlink.link import linker_class
from synthlink.link.base import Links
from synthlink.pipeline import (
    EvalQueue,
    StudyStopped,
    baseline_specs,
    cached_link,
    evaluate_influence,
    evaluate_measures,
    evaluate_privacy,
    evaluate_utility,
    evaluation_key,
    guard,
    load_data,
    pseudo_key,
    reference_tables,
    run_in_workers,
    source_positions,
    stop_on_signals,
    surrogate_identifier,
    worker_init,
)
from synthlink.pipeline.parts import central_entry, synthesize_parts
from synthlink.pipeline.progress import Progress
from synthlink.pipeline.tables import EXIT_FAILED, runs_table, study_failures, summary_over_seeds
from synthlink.reconstruct import Reconstruction, linked_only, reconstruct, resolve_one_to_one
from synthlink.results import stamp
from synthlink.split import SplitResult, split
from synthlink.synth import synthesizer_class
from synthlink.validate import validate_table

__all__ = ["EXIT_FAILED", "Study", "StudyResult", "StudyStopped", "default_work_dir", "load_data",
           "run_in_workers", "stop_on_signals", "study_failures", "surrogate_identifier", "worker_init"]

log = logging.getLogger("synthlink")


# ---------------------------------------------------------------------------------------------
# helpers


def _timed(store: dict[str, float], name: str) -> Callable[[Callable[..., Any]], Any]:
    def run(fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            store[name] = store.get(name, 0.0) + time.perf_counter() - t0

    return run


# ---------------------------------------------------------------------------------------------
# results


@dataclass
class StudyResult:
    """Everything a study measured. ``runs`` has one row per (seed, stage, synthesizer, linker)
    with the headline numbers; ``metrics`` is the full nested record written to metrics.json."""

    out: Path
    metrics: dict[str, Any]
    runs: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0
    cache_misses: int = 0
    computed: list[str] = field(default_factory=list)
    #: the working area (cache of training records): stays in the secure environment
    work_dir: Path | None = None

    @property
    def report_path(self) -> Path:
        return self.out / "report.html"

    @property
    def failures(self) -> list[dict[str, str]]:
        """Every evaluation (a whole stage or one section or measure) that failed: ``where`` it
        failed and the ``error``. Empty when everything was measured; the command line then exits
        0, otherwise 3 (see :data:`EXIT_FAILED`)."""
        return list(self.metrics.get("failures") or [])

    @property
    def ok(self) -> bool:
        return not self.failures

    def baseline(self) -> pd.DataFrame:
        return self.runs[self.runs["stage"] == "baseline"].reset_index(drop=True)

    def synthetic(self) -> pd.DataFrame:
        return self.runs[self.runs["stage"] == "synthetic"].reset_index(drop=True)

    def _repr_html_(self) -> str:  # rich display in notebooks
        from html import escape

        rows = self.runs.drop(columns=[c for c in self.runs.columns if c.startswith("_")], errors="ignore")
        return f"<p>synthlink study <b>{escape(str(self.metrics.get('name', '')))}</b>, report: {escape(str(self.report_path))}</p>" + rows.to_html(index=False, float_format=lambda x: f"{x:.3f}")


# ---------------------------------------------------------------------------------------------
# the runner


class Study:
    """Run a study config end to end. ``Study.from_yaml("study.yaml").run(out="results/")``."""

    def __init__(self, config: StudyConfig) -> None:
        self.config = config

    @classmethod
    def from_yaml(cls, path: str | Path) -> Study:
        return cls(StudyConfig.from_yaml(path))

    @classmethod
    def from_dict(cls, d: dict[str, Any], base_dir: str | Path | None = None) -> Study:
        return cls(StudyConfig.from_dict(d, base_dir))

    # -- public ---------------------------------------------------------------------------------
    def run(self, out: str | Path | None = None, *, work_dir: str | Path | None = None, progress: bool = True,
            report: bool = True) -> StudyResult:
        """Run the study; the shareable results go to ``out``, the working area (the cache, which
        holds the training records under a surrogate key) to ``work_dir`` (default:
        :func:`default_work_dir`), never inside ``out``."""
        cfg = self.config
        out_path = Path(out) if out is not None else cfg.out
        if out_path is None:
            raise ConfigError("no output folder: give 'out' in the config or --out")
        work = Path(work_dir) if work_dir is not None else (cfg.work_dir or default_work_dir(out_path))
        if _inside(work, out_path):
            raise ConfigError(f"the working area {work} is inside the output folder {out_path}: it holds training "
                              "records and must stay apart from what may be shared")
        timings: dict[str, float] = {}
        t_start = time.perf_counter()

        df, data_key = _timed(timings, "data")(lambda: load_data(cfg))
        where = str(cfg.data.get("path", "demo population"))
        # validate before anything is written, so bad data leaves no output folder behind
        cfg.plan.validate(df, where=where)
        keep = [cfg.plan.identifier, *cfg.plan.common, *[c for p in cfg.plan.parts for c in p.columns]]
        validate_table(df[keep], where, cfg.plan.kinds, identifier=cfg.plan.identifier, log=True)
        df = surrogate_identifier(df, cfg.plan.identifier, seed=cfg.seeds[0])
        out_path.mkdir(parents=True, exist_ok=True)
        cache = Cache(work / "cache")
        self._where = where

        tasks = self._plan_tasks()
        seeds_out = []
        with Progress(progress, total=len(tasks) * len(cfg.seeds)) as bar:
            for seed in cfg.seeds:
                if cfg.link_plan is not None:  # K >= 3 parts joined along the plan's edges
                    from synthlink.pipeline.registers import run_plan_seed

                    seeds_out.append(run_plan_seed(cfg, df, data_key, seed, cache, timings, bar, list(cfg.linkers), where))
                else:
                    seeds_out.append(self._run_seed(df, data_key, seed, cache, timings, bar))

        metrics = {
            "name": cfg.name,
            "synthlink_version": _version(),
            "config": cfg.to_dict(),
            "seeds": seeds_out,
            "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
            "total_seconds": round(time.perf_counter() - t_start, 3),
            "cache": {"hits": cache.hits, "computed": cache.misses},
        }
        runs = runs_table(seeds_out)
        metrics["summary"] = summary_over_seeds(runs)
        failures = study_failures(seeds_out)
        metrics["failures"] = failures
        metrics = stamp(metrics)  # the schema version of metrics.json (schemas/metrics.schema.json)
        for f in failures:
            log.info("failed: %s: %s", f["where"], f["error"])
        write_json(metrics, out_path / "metrics.json")
        write_table(runs, out_path / "results.parquet")
        result = StudyResult(out_path, metrics, runs, timings, cache.hits, cache.misses, list(cache.computed), work)
        if report:
            from synthlink.report import write_report

            write_report(result.metrics, out_path / "report.html")
        return result

    # -- internals ------------------------------------------------------------------------------
    def _plan_tasks(self) -> list[tuple[str, str, str]]:
        cfg = self.config
        linkers = self._linkers_planned()
        tasks = [("baseline", "", lk.label) for lk in baseline_specs(linkers)]
        for sy in cfg.synthesizers:
            tasks.append(("synthesize", sy.label, ""))
            tasks += [("synthetic", sy.label, lk.label) for lk in linkers]
            if self._central(sy):
                tasks.append(("central", sy.label, ""))
        tasks.append(("evaluate", "", ""))  # the seed's evaluation queue
        return tasks

    def _central(self, sy: MethodSpec) -> bool:
        """Whether the study synthesizes the joint table centrally with ``sy`` too (the option of
        linking by the identifier inside the secure environment, then synthesizing): on by default;
        not for record-preserving synthesizers, whose rows are the real people's."""

        cls = synthesizer_class(sy.name)
        return self.config.options.central and not cls.uses_identifier and not cls.handed_over

    def _linkers_planned(self) -> list[MethodSpec]:
        """The configured linkers and one bridge linker per release epsilon (labels only: the
        progress count; the releases are made per seed)."""
        from synthlink.pipeline.bridging import bridge_label

        cfg = self.config
        out = list(cfg.linkers)
        if cfg.bridge is not None:
            out += [MethodSpec("bridge", {}, bridge_label(e)) for e in cfg.bridge.epsilons]
        return out

    def _link(self, cache: Cache, stage: str, key_parts: tuple[Any, ...], spec: MethodSpec, left: pd.DataFrame,
              right: pd.DataFrame, seed: int, key: str | None, truth: pd.DataFrame | None = None) -> Links | None:
        plan = self.config.plan
        return cached_link(cache, stage, key_parts, spec, left, right, seed=seed, on=list(plan.common),
                           identifier=plan.identifier, key=key, truth=truth, kinds=plan.kinds)

    def _run_seed(self, df: pd.DataFrame, data_key: str, seed: int, cache: Cache, timings: dict[str, float], bar: Progress) -> dict[str, Any]:
        cfg = self.config
        plan = cfg.plan
        ident = plan.identifier
        lname, rname = cfg.parts
        common = list(plan.common)
        part_cols = {lname: [c for c in plan.parts[plan.part_names.index(lname)].columns],
                     rname: [c for c in plan.parts[plan.part_names.index(rname)].columns]}
        timer = lambda name: _timed(timings, name)  # noqa: E731

        # -- split ----------------------------------------------------------------------------
        split_key = stage_key("split", data_key, plan.to_dict(), seed)
        sres: SplitResult = timer("split")(lambda: cache.folder(
            "split", split_key, lambda p: split(df, plan, seed=seed, where=getattr(self, "_where", "data")).save(p), SplitResult.load))
        left, right = sres.parts[lname], sres.parts[rname]
        truth = sres.truth_pairs(lname, rname)
        in_both = sres.truth[[lname, rname]].notna().all(axis=1).to_numpy()
        ref_train, ref_control = reference_tables(sres.train, sres.control, sres.truth, plan, lname, rname)
        kinds = dict(plan.kinds)  # declared kinds reach every stage (linkers, evaluation)
        from synthlink.evaluate.measures import registered

        measures = registered() if cfg.evaluate.get("measures", True) else []
        log.info("seed %s: split into %s (%d rows) and %s (%d rows), %d true pairs", seed, lname, len(left), rname, len(right), len(truth))

        ev = cfg.evaluate
        questions = cfg.questions
        eb = expected_bound_and_sd(left, right, truth, common)
        record: dict[str, Any] = {
            "seed": seed,
            "parts": {lname: len(left), rname: len(right)},
            "true_pairs": len(truth), "train_rows": len(sres.train), "control_rows": len(sres.control),
            "reference_rows": {"train": len(ref_train), "control": len(ref_control)},
            "uniqueness_bound": {
                "common_all_train": uniqueness_bound(sres.train, common),
                "linked_population": uniqueness_bound(ref_train, common),
                # with incomplete coverage or recording noise: the expected accuracy of the best use of
                # exact agreement on the common variables, the ceiling every method is shown against
                "expected": eb[0],
                # what one seed may differ by: which of several identical records a link takes is random
                "expected_sd": eb[1],
                "columns": common,
            },
            "baseline": [], "synthetic": [], "parts_privacy": {},
        }

        # -- influence and singling out on the original split ------------------------------------
        record["influence"] = timer("influence")(lambda: cache.json(
            "influence", stage_key("influence", split_key, common, seed, ev.get("influence_linker")),
            lambda: guard(lambda: evaluate_influence(left.drop(columns=[ident]), right.drop(columns=[ident]), truth, common, ref_train, seed,
                                              ev.get("influence_linker")), "evaluate_influence")))

        queue = EvalQueue(cache)
        # -- baseline: each linker on the original parts -------------------------------------------
        baseline_joint: dict[str, pd.DataFrame] = {}
        linkers = list(cfg.linkers)
        if cfg.bridge is not None:  # released inside the secure environment, from the real linked train
            from synthlink.pipeline.bridging import releases

            bridged, record["bridge"] = releases(cache, cfg.bridge, split_key, ref_train)
            linkers += bridged
        for spec in baseline_specs(linkers):
            bar.step(f"baseline {spec.label}")
            links = timer(f"link:{spec.label}")(lambda spec=spec: self._link(cache, "baseline", (split_key, lname, rname), spec, left, right, seed, ident, truth=truth))
            if links is None:
                record["baseline"].append({"linker": spec.label, "status": "not applicable"})
                continue
            rec = reconstruct(left.drop(columns=[ident]), right.drop(columns=[ident]), links, common, drop=[ident])
            quality = linkage_quality(links, truth)
            J = linked_only(rec)
            baseline_joint[spec.label] = J
            entry = {
                "linker": spec.label, "method": spec.name, "status": "ok", "quality": quality,
                "accounting": rec.accounting, "diagnostics": links.diagnostics, "warnings": links.warnings,
            }
            if ev.get("baseline_utility", True) and not linker_class(spec.name).uses_identifier:
                queue.add("baseline-utility", stage_key("bu", split_key, spec.to_dict(), seed, questions, cfg.target, evaluation_key(ev), kinds),
                          evaluate_utility, (ref_train, ref_control, J, part_cols, common, questions, cfg.target, None, seed, ev, kinds), entry, "utility")
            record["baseline"].append(entry)

        # reference row: what the true join (identifier) gives, for research questions
        truth_joint = ref_train
        # -- synthetic -------------------------------------------------------------------------------
        for sy in cfg.synthesizers:
            bar.step(f"synthesize {sy.label}")
            syn_parts, key_pos = synthesize_parts(cfg, sy, sres, (lname, rname), split_key, seed, cache, timings, record, queue)
            if self._central(sy):
                bar.step(f"central {sy.label}")
                record["synthetic"].append(central_entry(cfg, sy, ref_train, ref_control, part_cols, split_key, seed,
                                                               cache, timings, queue, measures))
            A, B = syn_parts[lname], syn_parts[rname]
            key_col = pseudo_key(A, B)
            for spec in linkers:
                bar.step(f"{sy.label} x {spec.label}")
                links = timer(f"link:{spec.label}")(lambda spec=spec: self._link(cache, "synthetic", (split_key, sy.to_dict(), lname, rname), spec, A, B, seed, key_col))
                if links is None:
                    record["synthetic"].append({"synthesizer": sy.label, "linker": spec.label, "status": "not applicable",
                                                "reason": "synthetic parts carry no shared key (use a record-preserving synthesizer)"})
                    continue
                srec: Reconstruction = reconstruct(A, B, links, common, drop=[c for c in (ident, key_col) if c])
                Js = linked_only(srec)
                ek = stage_key("eval", split_key, sy.to_dict(), spec.to_dict(), seed, questions, cfg.target, cfg.privacy, evaluation_key(ev), kinds)
                entry = {
                    "synthesizer": sy.label, "linker": spec.label, "method": spec.name, "status": "ok",
                    "option": "independent synthesis + bridge" if spec.name == "bridge" else "independent synthesis + linkage",
                    "accounting": srec.accounting, "diagnostics": links.diagnostics, "warnings": links.warnings,
                    "utility": None, "privacy": None,
                }
                queue.add("utility", ek, evaluate_utility, (ref_train, ref_control, Js, part_cols, common, questions, cfg.target,
                                                            baseline_joint.get(spec.label, truth_joint), seed, ev, kinds), entry, "utility")
                source = None
                if key_col and linker_class(spec.name).uses_identifier:
                    # joined on the record key: each J* row is one real person's row; J* is evaluated
                    # against ref_train (the train rows in both parts), so train positions are mapped there
                    li = resolve_one_to_one(links)["left"].to_numpy()
                    in_train = source_positions(key_pos, A[key_col].reset_index(drop=True).iloc[li])
                    if in_train is not None:
                        to_ref = np.full(len(in_both), -1, dtype=np.int64)
                        to_ref[in_both] = np.arange(int(in_both.sum()))
                        source = np.where(in_train >= 0, to_ref[np.maximum(in_train, 0)], -1)
                if measures:  # plug-in measures of the registry (synthlink.evaluate.measures)
                    mk = stage_key("measures", ek, [(m.name, f"{m.fn.__module__}.{m.fn.__qualname__}") for m in measures])
                    queue.add("measures", mk, evaluate_measures, (ref_train, ref_control, Js, common, part_cols, seed, measures),
                              entry, "measures")
                queue.add("privacy", ek, evaluate_privacy, (ref_train, ref_control, Js, common, part_cols, cfg.privacy, seed, ev, source, kinds),
                          entry, "privacy")
                record["synthetic"].append(entry)
        # every evaluation of this seed, on all cores (each task single-threaded)
        bar.step(f"evaluate {len(queue.items)} table(s)")
        queue.run(int(ev.get("n_jobs", os.cpu_count() or 1)), timings)
        if cfg.questions:  # which options answer each research question, and the lowest-risk one
            from synthlink.pipeline.decision import decide

            record["decision"] = decide(record, part_cols, cfg.options)
        if cfg.bridge is not None:  # the share of the lost association each bridged J* recovers
            from synthlink.pipeline.bridging import recovered_shares

            record["bridge"]["recovered"] = recovered_shares(record, cfg.bridge, part_cols)
        return record


def default_work_dir(out: str | Path) -> Path:
    """The working area of a study writing to ``out``: ``.synthlink-work/<name of out>`` beside
    ``out``, so that ``out`` holds only what may be shared (report.html, metrics.json,
    results.parquet) and the cache of training records stays in the secure environment."""
    p = Path(out).absolute()
    return p.parent / ".synthlink-work" / p.name


def _inside(a: Path, b: Path) -> bool:
    a, b = Path(a).absolute(), Path(b).absolute()
    return a == b or b in a.parents


# ---------------------------------------------------------------------------------------------
# evaluation adapters (guarded: an evaluation module that is missing or fails becomes an error entry)


def _version() -> str:
    from synthlink.version import version

    return version()


# ---------------------------------------------------------------------------------------------
# tables



















# ---------------------------------------------------------------------------------------------
# progress



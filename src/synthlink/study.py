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

import contextlib
import functools
import inspect
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthlink.cache import Cache, stage_key
from synthlink.config import MethodSpec, StudyConfig
from synthlink.errors import ConfigError, SynthlinkError
from synthlink.evaluate.linkage import expected_bound_and_sd, linkage_quality, uniqueness_bound
from synthlink.evaluate.metric import Metric
from synthlink.io import read_table, write_json, write_table
from synthlink.link import get_linker, linker_class
from synthlink.link.base import Links, shuffled_link
from synthlink.reconstruct import Reconstruction, linked_only, reconstruct, resolve_one_to_one
from synthlink.split import SplitResult, split
from synthlink.synth import get_synthesizer, synthesizer_class
from synthlink.validate import validate_table

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


def _guard(fn: Callable[[], Any]) -> Any:
    """Run an evaluation; a failure becomes ``{"error": ...}`` instead of stopping the study."""
    try:
        return fn()
    except Exception as e:
        log.warning("evaluation failed: %s: %s", type(e).__name__, e)
        return {"error": f"{type(e).__name__}: {e}"}


def links_to_frame(links: Links) -> pd.DataFrame:
    return links.pairs[["left", "right", "score"]]


def links_meta(links: Links) -> dict[str, Any]:
    return {
        "method": links.method, "n_left": links.n_left, "n_right": links.n_right,
        "one_to_one": links.one_to_one, "diagnostics": links.diagnostics, "warnings": links.warnings,
    }


def links_from_cache(pairs: pd.DataFrame, meta: dict[str, Any]) -> Links:
    return Links(pairs, int(meta["n_left"]), int(meta["n_right"]), str(meta["method"]),
                 bool(meta["one_to_one"]), dict(meta.get("diagnostics") or {}), list(meta.get("warnings") or []))


def load_data(cfg: StudyConfig) -> tuple[pd.DataFrame, str]:
    """Load the study's data; returns (frame, a fingerprint for the cache)."""
    d = cfg.data
    if "demo" in d:
        from synthlink.demo import population

        spec = d["demo"] or {}
        n, seed = int(spec.get("n", 20_000)), int(spec.get("seed", 0))
        return population(n, seed), stage_key("demo", n, seed)
    path = cfg.base_dir / str(d["path"])
    table = d.get("table")
    df = read_table(path, table=table, na_values=d.get("na_values"))
    add_id = d.get("add_identifier")
    if add_id:
        # data without an identifier (public excerpts): number the rows; the name must be new
        if add_id in df.columns:
            raise ConfigError(f"'data.add_identifier': column '{add_id}' already exists in {path}")
        df.insert(0, str(add_id), [f"R{i:08d}" for i in range(len(df))])
    st = path.stat()
    return df, stage_key("file", str(path.resolve()), st.st_size, st.st_mtime_ns, table, d.get("na_values"), add_id)


def surrogate_identifier(df: pd.DataFrame, identifier: str, seed: int) -> pd.DataFrame:
    """Replace the real identifier by a random surrogate key (a seeded permutation of row numbers).

    The study only needs a key that is the same for one person in every part (for the identifier
    join and the truth); the real identifier never reaches the cache, the metrics or the report."""
    out = df.copy()
    perm = np.random.default_rng([seed, 0x5EED]).permutation(len(df))
    out[identifier] = pd.Series([f"S{i:09d}" for i in perm], index=df.index, dtype="object")
    return out


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
        with _Progress(progress, total=len(tasks) * len(cfg.seeds)) as bar:
            for seed in cfg.seeds:
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
        runs = _runs_table(seeds_out)
        metrics["summary"] = _summary(runs)
        metrics["failures"] = study_failures(seeds_out)
        for f in metrics["failures"]:
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
        tasks = [("baseline", "", lk.label) for lk in _baseline_specs(cfg.linkers)]
        for sy in cfg.synthesizers:
            tasks.append(("synthesize", sy.label, ""))
            tasks += [("synthetic", sy.label, lk.label) for lk in cfg.linkers]
        tasks.append(("evaluate", "", ""))  # the seed's evaluation queue
        return tasks

    def _linker_inputs(self, spec: MethodSpec, left: pd.DataFrame, right: pd.DataFrame, key: str | None, truth_column: str | None = None) -> tuple[Any, pd.DataFrame, pd.DataFrame] | None:
        """Build the linker and the frames it may see. The identifier is dropped for every method
        except the identifier join; that join needs a key present in both frames. On the original
        split, a method that can learn from the truth (a ``truth`` parameter, as the probabilistic
        linker's m from true pairs) gets the surrogate key column as ``truth``; it lists the true
        pairs from it and never matches on it."""
        ident = self.config.plan.identifier
        cls = linker_class(spec.name)
        params = dict(spec.params)
        if cls.uses_identifier:
            if key is None or key not in left.columns or key not in right.columns:
                return None
            params.setdefault("key", key)
            return get_linker(spec.name, **params), left, right
        if "on" not in params and "passes" not in params:
            params["on"] = list(self.config.plan.common)
        keep_truth = (truth_column is not None and "truth" not in params
                      and "truth" in inspect.signature(cls.__init__).parameters)
        if keep_truth:
            params["truth"] = truth_column
        drop = [c for c in (ident, key) if c and not (keep_truth and c == truth_column)]
        return get_linker(spec.name, **params), left.drop(columns=drop, errors="ignore"), right.drop(columns=drop, errors="ignore")

    def _link(self, cache: Cache, stage: str, key_parts: tuple[Any, ...], spec: MethodSpec, left: pd.DataFrame, right: pd.DataFrame, seed: int, key: str | None, truth_column: str | None = None) -> tuple[Links, pd.DataFrame, pd.DataFrame] | None:
        built = self._linker_inputs(spec, left, right, key, truth_column)
        if built is None:
            return None
        linker, lx, rx = built
        k = stage_key(stage, *key_parts, spec.to_dict(), seed)
        pairs_p = cache.path(f"{stage}-links", k, ".parquet")
        meta_p = cache.path(f"{stage}-links", k, ".json")
        if pairs_p.exists() and meta_p.exists():
            cache.hits += 1
            meta = json.loads(meta_p.read_text(encoding="utf-8"))
            return links_from_cache(read_table(pairs_p), meta), lx, rx
        cache.misses += 1
        cache.computed.append(f"{stage}-links-{k}")
        with warnings.catch_warnings(record=True) as caught:
            # method warnings (e.g. propensity matching unsuitable) are kept in Links.warnings and
            # shown in the report; here they only go to the log, once
            warnings.simplefilter("always")
            links = shuffled_link(linker, lx, rx, seed=seed)
        for w in {str(w.message) for w in caught}:
            log.info("%s (%s): %s", spec.label, stage, w)
        write_table(links_to_frame(links), pairs_p)
        write_json(links_meta(links), meta_p)
        meta = json.loads(meta_p.read_text(encoding="utf-8"))  # JSON-clean, as on a rerun
        return links_from_cache(links.pairs, meta), lx, rx

    def _run_seed(self, df: pd.DataFrame, data_key: str, seed: int, cache: Cache, timings: dict[str, float], bar: _Progress) -> dict[str, Any]:
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
        joint_cols = common + part_cols[lname] + part_cols[rname]
        ref_train = sres.train.loc[in_both, joint_cols].reset_index(drop=True)
        ref_control = _covered(sres.control, plan, lname, rname)[joint_cols].reset_index(drop=True)
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
            lambda: _guard(lambda: _influence(left.drop(columns=[ident]), right.drop(columns=[ident]), truth, common, ref_train, seed,
                                              ev.get("influence_linker")))))

        queue = _EvalQueue(cache)
        # -- baseline: each linker on the original parts -------------------------------------------
        baseline_joint: dict[str, pd.DataFrame] = {}
        for spec in _baseline_specs(cfg.linkers):
            bar.step(f"baseline {spec.label}")
            got = timer(f"link:{spec.label}")(lambda spec=spec: self._link(cache, "baseline", (split_key, lname, rname), spec, left, right, seed, ident, truth_column=ident))
            if got is None:
                record["baseline"].append({"linker": spec.label, "status": "not applicable"})
                continue
            links, lx, rx = got
            lx, rx = lx.drop(columns=[ident], errors="ignore"), rx.drop(columns=[ident], errors="ignore")
            rec = reconstruct(lx, rx, links, common, drop=[ident])
            quality = linkage_quality(links, truth)
            J = linked_only(rec)
            baseline_joint[spec.label] = J
            entry = {
                "linker": spec.label, "method": spec.name, "status": "ok", "quality": quality,
                "accounting": rec.accounting, "diagnostics": links.diagnostics, "warnings": links.warnings,
            }
            if ev.get("baseline_utility", True) and spec.name != "identifier":
                queue.add("baseline-utility", stage_key("bu", split_key, spec.to_dict(), seed, questions, cfg.target, _ev_key(ev)),
                          _utility, (ref_train, ref_control, J, part_cols, common, questions, cfg.target, None, seed, ev), entry, "utility")
            record["baseline"].append(entry)

        # reference row: what the true join (identifier) gives, for research questions
        truth_joint = ref_train
        # -- synthetic -------------------------------------------------------------------------------
        for sy in cfg.synthesizers:
            bar.step(f"synthesize {sy.label}")
            syn_parts: dict[str, pd.DataFrame] = {}
            # record-preserving rows: key -> position of its real record in train (None: rows belong to nobody)
            key_pos = _key_positions(sy, ident, sres.train[ident])
            for pname, part in ((lname, left), (rname, right)):
                k = stage_key("synth", split_key, pname, sy.to_dict(), seed)

                def make(part: pd.DataFrame = part, pname: str = pname) -> pd.DataFrame:
                    params = dict(sy.params)
                    if getattr(synthesizer_class(sy.name), "uses_identifier", False):
                        params.setdefault("identifier", ident)  # record-preserving: keeps a pseudonymised key
                    s = get_synthesizer(sy.name, **params)
                    data = part.drop(columns=[ident]) if not getattr(s, "uses_identifier", False) else part
                    s.fit(data)
                    out = s.sample(len(part), seed=seed + 7919 * (1 + plan.part_names.index(pname)))
                    if ident in out.columns:
                        raise SynthlinkError(f"synthesizer '{sy.name}' returned the real identifier column '{ident}'")
                    return out

                syn_parts[pname] = timer(f"synth:{sy.label}")(lambda k=k, make=make: cache.frame("synth", k, make))
                statement = _guarantee(sy, part.drop(columns=[ident]))
                if statement is not None:  # a DP synthesizer: what its epsilon covers (declarations, not rows)
                    record.setdefault("guarantees", {}).setdefault(sy.label, {})[pname] = statement
                keys = next((syn_parts[pname][c] for c in KEY_COLUMNS if c in syn_parts[pname].columns), None)
                syn_eval = syn_parts[pname].drop(columns=[c for c in KEY_COLUMNS if c in syn_parts[pname].columns])
                queue.add("part-privacy", stage_key("pp", k, cfg.privacy, _ev_key(ev)), _privacy, (
                    sres.train[[c for c in syn_eval.columns if c in sres.train.columns]],
                    sres.control[[c for c in syn_eval.columns if c in sres.control.columns]],
                    syn_eval, common, None, cfg.privacy, seed, ev, _source_positions(key_pos, keys)),
                    record["parts_privacy"].setdefault(sy.label, {}), pname)
            A, B = syn_parts[lname], syn_parts[rname]
            key_col = _pseudo_key(A, B)
            for spec in cfg.linkers:
                bar.step(f"{sy.label} x {spec.label}")
                got = timer(f"link:{spec.label}")(lambda spec=spec: self._link(cache, "synthetic", (split_key, sy.to_dict(), lname, rname), spec, A, B, seed, key_col))
                if got is None:
                    record["synthetic"].append({"synthesizer": sy.label, "linker": spec.label, "status": "not applicable",
                                                "reason": "synthetic parts carry no shared key (use a record-preserving synthesizer)"})
                    continue
                links, ax, bx = got
                srec: Reconstruction = reconstruct(ax, bx, links, common, drop=[c for c in (ident, key_col) if c])
                Js = linked_only(srec)
                ek = stage_key("eval", split_key, sy.to_dict(), spec.to_dict(), seed, questions, cfg.target, cfg.privacy, _ev_key(ev))
                entry = {
                    "synthesizer": sy.label, "linker": spec.label, "method": spec.name, "status": "ok",
                    "accounting": srec.accounting, "diagnostics": links.diagnostics, "warnings": links.warnings,
                    "utility": None, "privacy": None,
                }
                queue.add("utility", ek, _utility, (ref_train, ref_control, Js, part_cols, common, questions, cfg.target,
                                                    baseline_joint.get(spec.label, truth_joint), seed, ev), entry, "utility")
                source = None
                if key_col and linker_class(spec.name).uses_identifier:
                    # joined on the record key: each J* row is one real person's row; J* is evaluated
                    # against ref_train (the train rows in both parts), so train positions are mapped there
                    li = resolve_one_to_one(links)["left"].to_numpy()
                    in_train = _source_positions(key_pos, ax[key_col].reset_index(drop=True).iloc[li])
                    if in_train is not None:
                        to_ref = np.full(len(in_both), -1, dtype=np.int64)
                        to_ref[in_both] = np.arange(int(in_both.sum()))
                        source = np.where(in_train >= 0, to_ref[np.maximum(in_train, 0)], -1)
                queue.add("privacy", ek, _privacy, (ref_train, ref_control, Js, common, part_cols, cfg.privacy, seed, ev, source),
                          entry, "privacy")
                record["synthetic"].append(entry)
        # every evaluation of this seed, on all cores (each task single-threaded)
        bar.step(f"evaluate {len(queue.items)} table(s)")
        queue.run(int(ev.get("n_jobs", os.cpu_count() or 1)), timings)
        return record


def _guarantee(sy: Any, data: pd.DataFrame) -> dict[str, Any] | None:
    """The privacy statement of a synthesizer that makes one (``guarantee(data)``: a DP
    synthesizer's epsilon and what it does and does not cover), else None. It reads the
    declarations and the columns' dtypes, not the rows, so a cached part can be labelled too."""
    s = get_synthesizer(sy.name, **dict(sy.params))
    fn = getattr(s, "guarantee", None)
    return dict(fn(data)) if callable(fn) else None


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
# evaluation queue: utility and privacy of every table of a seed, run on all cores


def _ev_key(ev: dict[str, Any]) -> dict[str, Any]:
    """The evaluation options that change results (not how many processes compute them)."""
    return {k: v for k, v in ev.items() if k != "n_jobs"}


def _identity(x: Any) -> Any:
    return x


def _run_task(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # one task per core: no nested thread pools
            res = _guard(lambda: fn(*args, parallel=True))
    return res, time.perf_counter() - t0


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_init(parent: int) -> None:
    """First thing every evaluation worker runs: it ends when the study's process ends, however
    that ends (SIGKILL included). On Linux the kernel sends SIGKILL when the parent dies
    (``prctl(PR_SET_PDEATHSIG)``); everywhere a watcher thread checks every half second that the
    parent is still the one that started it. Ctrl-C is left to the parent, which stops its
    workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watcher remains
            pass
    if os.getppid() != parent:  # the study ended while this worker started
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="synthlink-parent-watch", daemon=True).start()


def _stop_workers(ex: Any) -> None:
    """End a process pool's workers now (the running ones too), then its queues."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


def _run_in_workers(tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]], n_jobs: int) -> list[tuple[Any, float]]:
    """Run ``_run_task(fn, args)`` for every task in ``n_jobs`` fresh worker processes (spawned,
    so no thread or OpenMP state is forked). The workers end with this call, whether it returns or
    raises (SIGTERM turned into :class:`StudyStopped`, Ctrl-C, any error), and by themselves when
    the study's process dies. A worker that dies (out of memory) fails its task only."""
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor
    from concurrent.futures import wait as wait_for
    from concurrent.futures.process import BrokenProcessPool

    ex = ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init, initargs=(os.getpid(),))
    try:
        futures = [ex.submit(_run_task, fn, args) for fn, args in tasks]
        pending = set(futures)
        while pending:
            # wake up twice a second: a signal that another thread received is handled by the main
            # thread only when it runs Python code (SIGTERM then stops the study at once)
            _, pending = wait_for(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
        results: list[tuple[Any, float]] = []
        for fut in futures:
            try:
                results.append(fut.result())
            except BrokenProcessPool as e:
                results.append(({"error": f"an evaluation worker process died ({e}); rerun, or lower evaluate.n_jobs "
                                          "or evaluate.privacy.max_rows if memory is short"}, 0.0))
    except BaseException:
        _stop_workers(ex)
        raise
    ex.shutdown(wait=True)
    return results


class StudyStopped(KeyboardInterrupt):
    """The study was stopped by a signal (SIGTERM from a job scheduler or ``timeout``, SIGINT);
    raised in the main thread like Ctrl-C, so every ``finally`` runs and the workers end."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"stopped by {signal.Signals(signum).name}")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block SIGTERM and SIGINT raise :class:`StudyStopped` in the main thread
    (outside the main thread nothing changes). The command line runs studies inside it and exits
    ``128 + signal``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise StudyStopped(signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


class _EvalQueue:
    """Evaluations wait here until the seed's linking is done, then run in parallel processes.
    Cached results are filled in at once; failed ones are not cached (the next run retries)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.items: list[tuple[str, str, Callable[..., Any], tuple[Any, ...], dict[str, Any], str]] = []

    def add(self, stage: str, key: str, fn: Callable[..., Any], args: tuple[Any, ...], target: dict[str, Any], slot: str) -> None:
        p = self.cache.path(stage, key, ".json")
        if p.exists():
            self.cache.hits += 1
            target[slot] = json.loads(p.read_text(encoding="utf-8"))
            return
        self.items.append((stage, key, fn, args, target, slot))

    def run(self, n_jobs: int, timings: dict[str, float]) -> None:
        if not self.items:
            return
        t0 = time.perf_counter()
        n_jobs = max(1, min(n_jobs, len(self.items)))
        if n_jobs == 1:
            results = [_run_task(fn, args) for _, _, fn, args, _, _ in self.items]
        else:
            results = _run_in_workers([(fn, args) for _, _, fn, args, _, _ in self.items], n_jobs)
        for (stage, key, _, _, target, slot), (res, secs) in zip(self.items, results, strict=True):
            kind = "privacy" if "privacy" in stage else "utility"
            timings[f"{kind} (task seconds)"] = timings.get(f"{kind} (task seconds)", 0.0) + secs
            target[slot] = self.cache.json(stage, key, functools.partial(_identity, res))  # counts the miss
        timings["evaluation (wall)"] = timings.get("evaluation (wall)", 0.0) + time.perf_counter() - t0
        self.items = []


# ---------------------------------------------------------------------------------------------
# evaluation adapters (guarded: an evaluation module that is missing or fails becomes an error entry)


def _utility(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, part_cols: dict[str, list[str]], common: list[str], questions: list[Any], target: str | None, baseline: pd.DataFrame | None, seed: int, ev: dict[str, Any], parallel: bool = False) -> dict[str, Any]:
    opt = ev.get("utility", True)
    if opt is False:
        return {"skipped": "utility evaluation switched off in the config (evaluate.utility: false)"}
    from synthlink.evaluate.utility import utility_report

    extra = dict(opt) if isinstance(opt, dict) else {}
    return utility_report(train, control, synthetic, part_columns=part_cols, common=common, questions=questions,
                          target=target, baseline=baseline, seed=seed, **extra)


def _privacy(train: pd.DataFrame, control: pd.DataFrame, synthetic: pd.DataFrame, common: list[str], part_cols: dict[str, list[str]] | None, privacy: dict[str, Any], seed: int, ev: dict[str, Any], source: np.ndarray | None = None, parallel: bool = False) -> dict[str, Any]:
    opt = ev.get("privacy", True)
    if opt is False:
        return {"skipped": "privacy evaluation switched off in the config (evaluate.privacy: false)"}
    from synthlink.evaluate.privacy import privacy_report

    kw = {k: v for k, v in privacy.items() if k in ("keys", "targets", "secret", "n_attacks")}
    if isinstance(opt, dict):
        kw.update(opt)
    if parallel:
        kw.setdefault("n_jobs", 1)  # the queue already uses every core
    max_rows = kw.pop("max_rows", None)
    if max_rows:
        # documented sampling for large populations: each table is cut to at most max_rows rows
        # (seeded); the risks then describe that sample (they are rates, so their scale is kept)
        idx = [_sample_index(len(t), int(max_rows), seed + i) for i, t in enumerate((train, control, synthetic))]
        if source is not None:
            # synthetic row -> train row, both after sampling (-1 when its source row was not sampled)
            if idx[2] is not None:
                source = source[idx[2]]
            if idx[0] is not None:
                new_pos = np.full(len(train), -1, dtype=np.int64)
                new_pos[idx[0]] = np.arange(len(idx[0]))
                source = np.where(source >= 0, new_pos[np.maximum(source, 0)], -1)
        train, control, synthetic = (t if i is None else t.iloc[i].reset_index(drop=True)
                                     for t, i in zip((train, control, synthetic), idx, strict=True))
    if kw.get("keys"):
        kw["keys"] = [k for k in kw["keys"] if k in synthetic.columns]
    if kw.get("targets"):
        kw["targets"] = [t for t in kw["targets"] if t in synthetic.columns]
    if kw.get("secret") and kw["secret"] not in synthetic.columns:
        kw.pop("secret")
    return privacy_report(train, control, synthetic, common=common, part_columns=part_cols, seed=seed, source=source, **kw)


def _baseline_specs(linkers: list[MethodSpec]) -> list[MethodSpec]:
    """The baseline runs every configured linker and, for a probabilistic linker whose m comes from
    EM, the same linker with m trained from the true pairs: EM can fail silently on weak linking
    variables, and only the original split can show it."""
    out: list[MethodSpec] = []
    for spec in linkers:
        out.append(spec)
        if spec.name == "probabilistic" and spec.params.get("m_from", "em") == "em":
            out.append(MethodSpec(spec.name, {**spec.params, "m_from": "truth"}, f"{spec.label}:truth"))
    return out


def _sample_index(n: int, max_rows: int, seed: int) -> np.ndarray | None:
    """Sorted row positions of a seeded sample of ``max_rows`` rows, or None to keep all ``n``."""
    if n <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def _key_positions(sy: Any, ident: str, ids: pd.Series) -> pd.Series | None:
    """For a record-preserving synthesizer: the position in ``ids`` of each real record, indexed by
    the pseudonymised key the synthesizer writes for it (recomputed with the synthesizer's own key,
    once per synthesizer). None for synthesizers whose rows belong to nobody."""
    if not getattr(synthesizer_class(sy.name), "uses_identifier", False):
        return None
    params = dict(sy.params)
    params.setdefault("identifier", ident)
    pseudonyms = getattr(get_synthesizer(sy.name, **params), "pseudonyms", None)
    if pseudonyms is None:
        return None
    return pd.Series(np.arange(len(ids), dtype=np.int64), index=pseudonyms(ids))


def _source_positions(key_pos: pd.Series | None, keys: pd.Series | None) -> np.ndarray | None:
    """The position of the real record each synthetic row was derived from (-1: none), from the
    row's key; None when the rows carry no key or belong to nobody."""
    if key_pos is None or keys is None:
        return None
    return keys.reset_index(drop=True).map(key_pos).fillna(-1).astype("int64").to_numpy()


def _influence(left: pd.DataFrame, right: pd.DataFrame, truth: pd.DataFrame, common: list[str], ref: pd.DataFrame, seed: int, linker: dict[str, Any] | None = None) -> dict[str, Any]:
    """Which common variables drive the links (exact linker, leave-one-out and add-one), and which
    combinations single people out."""
    from synthlink.evaluate.influence import singling_out_combinations, variable_influence

    out: dict[str, Any] = {}
    lk = (linker or {}).get("name", "exact")
    params = {k: v for k, v in ((linker or {}).get("params") or {}).items() if k != "on"}

    def factory(cols: list[str]) -> Any:
        return get_linker(lk, on=list(cols), **params)

    per_var, steps = variable_influence(left[common], right[common], truth, common, factory, seed=seed)
    out["linker"] = lk
    out["variables"] = per_var.to_dict(orient="records")
    out["forward"] = steps.to_dict(orient="records")
    so = singling_out_combinations(ref, common, max_k=min(len(common), 4), seed=seed)
    out["singling_out"] = so.drop(columns=["variables"], errors="ignore").to_dict(orient="records")
    return out


def _covered(control: pd.DataFrame, plan: Any, lname: str, rname: str) -> pd.DataFrame:
    """Control rows that the two linked parts would both cover ('observed' coverage applies the
    same rule as the split; a random share keeps every row)."""
    mask = np.ones(len(control), dtype=bool)
    for p in plan.parts:
        if p.name in (lname, rname) and p.coverage == "observed" and p.columns:
            mask &= control[p.columns].notna().any(axis=1).to_numpy()
    return control.loc[mask]


#: columns that carry a (pseudonymised) record key in synthetic parts: used to join, never evaluated
KEY_COLUMNS = ("pseudo_key",)


def _pseudo_key(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    for c in KEY_COLUMNS:
        if c in a.columns and c in b.columns:
            return c
    return None


def _version() -> str:
    from synthlink import __version__

    return __version__


# ---------------------------------------------------------------------------------------------
# tables


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def headline_utility(util: Any) -> dict[str, float]:
    """A few headline numbers from a utility report (NaN where absent)."""
    if not isinstance(util, dict) or "error" in util and len(util) == 1:
        return {}
    s = util.get("summary") or {}
    return {f"utility_{k}": _num(v) for k, v in s.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def headline_privacy(priv: Any) -> dict[str, float]:
    if not isinstance(priv, dict):
        return {}
    from synthlink.evaluate.privacy import HEADLINE_RISKS

    out = {}
    for k in HEADLINE_RISKS:
        v = priv.get(k)
        if isinstance(v, dict) and "risk" in v:
            out[f"risk_{k}"] = _num(v["risk"])
    s = priv.get("summary") or {}
    for k, v in s.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"privacy_{k}"] = _num(v)
    return out


def _runs_table(seeds: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for rec in seeds:
        for b in rec["baseline"]:
            row = {"seed": rec["seed"], "stage": "baseline", "synthesizer": "original", "linker": b["linker"], "status": b["status"]}
            row.update({k: _num(v) for k, v in (b.get("quality") or {}).items()})
            row["uniqueness_bound"] = rec["uniqueness_bound"]["linked_population"]
            row["expected_bound"] = rec["uniqueness_bound"].get("expected", float("nan"))
            row["expected_bound_sd"] = rec["uniqueness_bound"].get("expected_sd", float("nan"))
            d = b.get("diagnostics") or {}
            if "record_linkage_supported" in d:
                row["record_linkage_supported"] = bool(d["record_linkage_supported"])
                row["populations_differ"] = bool(d["populations_differ"])
            row.update(headline_utility(b.get("utility")))
            rows.append(row)
        for s in rec["synthetic"]:
            row = {"seed": rec["seed"], "stage": "synthetic", "synthesizer": s["synthesizer"], "linker": s["linker"], "status": s["status"]}
            acc = s.get("accounting") or {}
            if acc:
                row["share_linked"] = acc["linked"] / max(1, min(acc["n_left"], acc["n_right"]))
            row.update(headline_utility(s.get("utility")))
            row.update(headline_privacy(s.get("privacy")))
            rows.append(row)
    return pd.DataFrame(rows)


#: exit code of ``synthlink run`` / ``demo`` when the study ran but a stage, section or measure failed
#: (0: everything measured; 1: the program crashed; 2: bad input or config, nothing run;
#: 128 + N: stopped by signal N, e.g. 143 for SIGTERM, 130 for Ctrl-C)
EXIT_FAILED = 3

#: result keys that repeat or index errors already found in their section (not walked)
_NOT_WALKED = {"errors", "metrics"}


def _find_errors(x: Any, path: list[str], out: list[tuple[list[str], str]]) -> None:
    """Every ``{"error": ...}`` entry under ``x`` (a section or measure that failed), with its path;
    entries inside a failed one are not searched (they are its consequences)."""
    if isinstance(x, dict):
        err = x.get("error")
        if isinstance(err, str) and err:
            out.append((path, err))
            return
        for k, v in x.items():
            if k in _NOT_WALKED:
                continue
            label = str(k)
            _find_errors(v, [*path, label], out)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            label = f"[{i}]"
            if isinstance(v, dict) and (v.get("formula") or v.get("question")):
                q = v.get("formula") or v.get("question")
                label = f"research question '{q.get('formula', q) if isinstance(q, dict) else q}'"
            _find_errors(v, [*path, label], out)


def study_failures(seeds: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What failed in a study, one entry per failed stage, section or measure: ``where`` (seed,
    table, evaluation and the section within it), ``table``, ``section`` and ``error``. A study
    with any failure exits :data:`EXIT_FAILED` and its report opens with them."""
    found: list[dict[str, str]] = []

    def add(seed: Any, table: str, what: str, result: Any) -> None:
        errs: list[tuple[list[str], str]] = []
        _find_errors(result, [], errs)
        for path, err in errs:
            section = " · ".join([what, *path])
            found.append({"seed": str(seed), "table": table, "section": section,
                          "where": f"seed {seed}, {table}: {section}", "error": err})

    for rec in seeds:
        sd = rec.get("seed")
        add(sd, "original split", "variable influence", rec.get("influence"))
        for b in rec.get("baseline") or []:
            add(sd, f"original split linked by {b.get('linker')}", "utility", b.get("utility"))
        for syn, parts in (rec.get("parts_privacy") or {}).items():
            for pname, priv in (parts or {}).items():
                add(sd, f"synthetic part {pname}* ({syn})", "privacy", priv)
        for e in rec.get("synthetic") or []:
            table = f"J* ({e.get('synthesizer')} × {e.get('linker')})"
            add(sd, table, "utility", e.get("utility"))
            add(sd, table, "privacy", e.get("privacy"))
    return found


def _summary(runs: pd.DataFrame) -> dict[str, Any]:
    """Mean and spread over seeds for each (stage, synthesizer, linker)."""
    if runs.empty:
        return {}
    num = runs.select_dtypes("number").columns.drop("seed", errors="ignore")
    g = runs.groupby(["stage", "synthesizer", "linker"], sort=False)[list(num)]
    mean, sd = g.mean(), g.std(ddof=1)
    out = []
    for idx in mean.index:
        out.append({"stage": idx[0], "synthesizer": idx[1], "linker": idx[2],
                    "mean": {k: v for k, v in mean.loc[idx].items() if pd.notna(v)},
                    "sd": {k: v for k, v in sd.loc[idx].items() if pd.notna(v)}})
    return {"runs": out, "n_seeds": int(runs["seed"].nunique())}


# ---------------------------------------------------------------------------------------------
# progress


class _Progress:
    """A rich progress bar with time estimates; silent when disabled or not on a terminal."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and os.environ.get("SYNTHLINK_NO_PROGRESS") is None
        self.total = total
        self._p: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._p = Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                               TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
            self._p.__enter__()
            self._task = self._p.add_task("starting", total=self.total)
        return self

    def step(self, description: str) -> None:
        log.info("stage: %s", description)
        if self._p is not None:
            self._p.update(self._task, advance=1, description=description[:40])

    def __exit__(self, *exc: Any) -> None:
        if self._p is not None:
            self._p.update(self._task, description="done")
            self._p.__exit__(*exc)


def metric_list_to_dicts(ms: list[Metric]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in ms]

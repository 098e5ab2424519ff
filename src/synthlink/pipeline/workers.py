"""Run evaluations on all cores, and stop cleanly.

Every evaluation of a seed waits in an :class:`EvalQueue` until the seed's linking is done, then
runs in fresh worker processes (spawned, one thread each). Workers end with the call that started
them, however it ends (SIGTERM turned into :class:`StudyStopped`, Ctrl-C, an error), and by
themselves when the study's process dies (``prctl(PR_SET_PDEATHSIG)`` and a parent watcher).
A failed evaluation becomes a :class:`synthlink.results.Failure` (as a dict: ``where``,
``error`` "Type: message", ``kind``) instead of stopping the study.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from synthlink.cache import Cache
from synthlink.threads import limited_threads

log = logging.getLogger("synthlink")


def guard(fn: Callable[[], Any], where: str = "evaluation") -> Any:
    """Run an evaluation; a failure becomes the one failure shape of the metrics
    (:class:`synthlink.results.Failure` as a dict: ``where``, ``error`` "Type: message", ``kind``)
    instead of stopping the study."""
    from synthlink.results import Failure, capture

    got = capture(where, fn)
    return got.to_dict() if isinstance(got, Failure) else got


def identity(x: Any) -> Any:
    return x


def run_task(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with limited_threads(1):  # one task per core: no nested thread pools
            res = guard(lambda: fn(*args, parallel=True), getattr(fn, "__name__", "evaluation"))
    return res, time.perf_counter() - t0


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_init(parent: int) -> None:
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


def stop_workers(ex: Any) -> None:
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


def run_in_workers(tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]], n_jobs: int) -> list[tuple[Any, float]]:
    """Run ``run_task(fn, args)`` for every task in ``n_jobs`` fresh worker processes (spawned,
    so no thread or OpenMP state is forked). The workers end with this call, whether it returns or
    raises (SIGTERM turned into :class:`StudyStopped`, Ctrl-C, any error), and by themselves when
    the study's process dies. A worker that dies (out of memory) fails its task only."""
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor
    from concurrent.futures import wait as wait_for
    from concurrent.futures.process import BrokenProcessPool

    ex = ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=worker_init, initargs=(os.getpid(),))
    try:
        futures = [ex.submit(run_task, fn, args) for fn, args in tasks]
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
                results.append(({"where": "evaluation worker", "kind": "BrokenProcessPool",
                                 "error": f"BrokenProcessPool: an evaluation worker process died ({e}); rerun, or lower evaluate.n_jobs "
                                          "or evaluate.privacy.max_rows if memory is short"}, 0.0))
    except BaseException:
        stop_workers(ex)
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


class EvalQueue:
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
            results = [run_task(fn, args) for _, _, fn, args, _, _ in self.items]
        else:
            results = run_in_workers([(fn, args) for _, _, fn, args, _, _ in self.items], n_jobs)
        for (stage, key, _, _, target, slot), (res, secs) in zip(self.items, results, strict=True):
            kind = "privacy" if "privacy" in stage else "utility"
            timings[f"{kind} (task seconds)"] = timings.get(f"{kind} (task seconds)", 0.0) + secs
            target[slot] = self.cache.json(stage, key, functools.partial(identity, res))  # counts the miss
        timings["evaluation (wall)"] = timings.get("evaluation (wall)", 0.0) + time.perf_counter() - t0
        self.items = []

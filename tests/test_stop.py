"""A stopped study leaves no process behind (issue 12): ``synthlink run`` stopped by SIGTERM (a job
scheduler, ``timeout``) or SIGKILL used to leave its evaluation workers running as orphans (loky
workers and resource trackers were still there ten minutes later). Workers now end with the study,
however it ends: the study stops them on SIGTERM/SIGINT and on any error, and each worker ends by
itself when its parent dies (``prctl(PR_SET_PDEATHSIG)`` and a watcher of ``os.getppid()``).

Processes are found through /proc (psutil may not be installed); Linux only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from .conftest import make_people

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _procs() -> dict[int, tuple[str, int, int, float]]:
    """pid -> (state, ppid, process group, CPU seconds) of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        out[int(d)] = (f[0], int(f[1]), int(f[2]), (int(f[11]) + int(f[12])) / TICK)
    return out


def _alive(pids: set[int]) -> set[int]:
    now = _procs()
    return {p for p in pids if p in now and now[p][0] not in ("Z", "X")}


def _group(pgid: int) -> set[int]:
    return {p for p, v in _procs().items() if v[2] == pgid and v[0] not in ("Z", "X")}


def _wait_gone(find, seconds: float = 10.0) -> set[int]:
    deadline = time.monotonic() + seconds
    left = find()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = find()
    return left


def _study(tmp_path: Path) -> Path:
    # evaluation heavy enough (privacy attacks on four tables) that the workers are still computing
    # when the study is stopped; everything before the evaluation takes well under a second
    make_people(1500, seed=2).to_csv(tmp_path / "data.csv", index=False)
    cfg = {"name": "stop", "data": {"path": "data.csv"},
           "split": {"identifier": "pid", "common": ["sex", "age", "canton"],
                     "parts": {"edu": ["isced", "field"], "emp": ["wage", "status"]}},
           "synthesizers": ["marginals"], "linkers": ["exact"],
           # three seeds: far more work remains after the first worker is seen computing, so the
           # signal never races the study's own end on a loaded machine
           "seeds": [1, 2, 3],
           "privacy": {"n_attacks": 2000}, "evaluate": {"n_jobs": 2, "baseline_utility": False}}
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return p


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopped_study_leaves_no_worker(tmp_path, sig):
    cfg = _study(tmp_path)
    err = tmp_path / "stderr.txt"
    with err.open("w") as fh:
        # its own session: every process it starts shares its process group, orphans included
        proc = subprocess.Popen([sys.executable, "-c", "from synthlink.cli import main; main()", "run", str(cfg),
                                 "--out", str(tmp_path / "out"), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=fh, start_new_session=True)
    try:
        # wait until a worker is computing (more CPU time than starting up takes)
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while proc.poll() is None and time.monotonic() < deadline:
            kids = {p: v for p, v in _procs().items() if v[1] == proc.pid and v[0] not in ("Z", "X")}
            workers = {p for p, v in kids.items() if v[3] >= 0.6}
            if workers:
                break
            time.sleep(0.1)
        assert workers, f"no evaluation worker seen before the study ended ({proc.poll()}): {err.read_text()[-500:]}"
        family = _group(proc.pid) - {proc.pid}
        os.kill(proc.pid, sig)
        rc = proc.wait(timeout=60)  # generous: a loaded machine (the full suite on 2 cores) is slow to unwind
        if sig == signal.SIGTERM:
            # stopped cleanly: 128 + 15, one line saying so
            assert rc == 128 + signal.SIGTERM, (rc, err.read_text()[-800:])
            assert "stopped by SIGTERM" in err.read_text(), err.read_text()[-800:]
            assert "Traceback" not in err.read_text(), err.read_text()[-2000:]
        else:
            assert rc == -signal.SIGKILL
        left = _wait_gone(lambda: _alive(family) | _group(proc.pid), 30.0)
        assert not left, f"processes left after {sig.name}: {[(p, _cmdline(p)[:120]) for p in sorted(left)]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if _group(proc.pid):  # leftovers of a failed run: end them (only this test's own group)
            os.killpg(proc.pid, signal.SIGKILL)


# -- the worker pool itself, in this process -------------------------------------------------------


def _slow(seconds: float, parallel: bool = False) -> dict[str, float]:
    time.sleep(seconds)
    return {"slept": seconds}


def _die(parallel: bool = False) -> dict[str, float]:
    os._exit(1)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children() -> set[int]:
    """This process's live children, except multiprocessing's resource tracker: one per process,
    started with the first pool, it ends with this process (the subprocess tests above check it)."""
    me = os.getpid()
    return {p for p, v in _procs().items()
            if v[1] == me and v[0] not in ("Z", "X") and "resource_tracker" not in _cmdline(p)}


def test_workers_end_with_the_call_that_started_them():
    from synthlink.pipeline import run_in_workers as _run_in_workers

    before = _children()
    res = _run_in_workers([(_slow, (0.0,)), (_slow, (0.1,))], 2)
    assert [r for r, _ in res] == [{"slept": 0.0}, {"slept": 0.1}]
    # the workers (and nothing else this call started) are gone once it returns
    assert not _wait_gone(lambda: _children() - before, 5.0)


def test_interrupted_evaluation_ends_its_workers():
    """Ctrl-C (or SIGTERM turned into StudyStopped) while workers compute: the call raises at once
    and the workers are ended, not left to finish their 30-second tasks."""
    from synthlink.pipeline import run_in_workers as _run_in_workers

    before = _children()
    main = threading.main_thread().ident
    seen: set[int] = set()

    def interrupt_when_workers_run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            new = _children() - before
            if len(new) >= 2:
                seen.update(new)
                time.sleep(0.3)
                signal.pthread_kill(main, signal.SIGINT)
                return
            time.sleep(0.05)

    t = threading.Thread(target=interrupt_when_workers_run, daemon=True)
    t.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _run_in_workers([(_slow, (30.0,)), (_slow, (30.0,))], 2)
    assert time.monotonic() - t0 < 25 and seen
    assert not _wait_gone(lambda: _alive(seen) | (_children() - before), 5.0)


def test_a_worker_that_dies_fails_its_task_not_the_study():
    from synthlink.pipeline import run_in_workers as _run_in_workers

    res = _run_in_workers([(_die, ())], 1)
    assert "worker process died" in res[0][0]["error"]


def test_worker_ends_when_its_parent_dies(tmp_path):
    """However the study's process ends (SIGKILL: no cleanup runs), a worker started with the
    study's initializer ends by itself. The parent here is a small process that starts one such
    worker and is then SIGKILLed."""
    ready = tmp_path / "ready"
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time, multiprocessing as mp\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from tests.test_stop import _hold\n"
        "if __name__ == '__main__':\n"
        f"    p = mp.get_context('spawn').Process(target=_hold, args=(os.getpid(), {str(ready)!r}))\n"
        "    p.start()\n"
        "    print(p.pid, flush=True)\n"
        "    time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ready.exists():
            time.sleep(0.05)
        assert ready.exists() and _alive({worker})
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert not _wait_gone(lambda: _alive({worker}), 5.0)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if _group(parent.pid):
            os.killpg(parent.pid, signal.SIGKILL)


def _hold(parent: int, ready: str) -> None:
    from synthlink.pipeline import worker_init as _worker_init

    _worker_init(parent)
    Path(ready).touch()
    time.sleep(60)

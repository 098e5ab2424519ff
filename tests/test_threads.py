"""synthlink.threads.limited_threads: the BLAS and OpenMP pools threadpoolctl sees run one thread
inside ``limited_threads(1)``, the previous limits are back after it, ``None`` changes nothing,
and the libraries are loaded before limiting (threadpoolctl only limits loaded libraries)."""

from __future__ import annotations

import json
import subprocess
import sys

from threadpoolctl import threadpool_info, threadpool_limits

from synthlink.pipeline.workers import run_task
from synthlink.threads import limited_threads

POOLS = ("blas", "openmp")


def limits() -> dict[str, int]:
    """Thread limit of every BLAS/OpenMP pool, by library file."""
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] in POOLS}


def test_one_thread_inside_previous_limits_after():
    with limited_threads(1):  # loads the libraries, so `before` below sees every pool
        pass
    with threadpool_limits(limits=2):  # a known limit above 1 before the block
        before = limits()
        assert before and set(before.values()) == {2}
        with limited_threads(1):
            inside = limits()
        after = limits()
    assert set(inside) == set(before)
    assert set(inside.values()) == {1}
    assert after == before


def test_none_leaves_limits_alone():
    with threadpool_limits(limits=2):
        before = limits()
        with limited_threads(None):
            assert limits() == before
        assert limits() == before


def test_loads_blas_and_openmp_before_limiting():
    """In a fresh interpreter nothing numeric is loaded yet: the block loads BLAS and OpenMP and
    limits them, so a library a model loads inside the block is limited too."""
    code = ("import json\nfrom threadpoolctl import threadpool_info\n"
            "from synthlink.threads import limited_threads\n"
            "with limited_threads(1):\n"
            "    print(json.dumps([[i['user_api'], i['num_threads']] for i in threadpool_info()]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    pools = json.loads(out.strip().splitlines()[-1])
    assert {api for api, _ in pools} >= set(POOLS)
    assert all(n == 1 for api, n in pools if api in POOLS)


def probe(*, parallel: bool) -> dict[str, object]:
    return {"parallel": parallel, "threads": sorted(set(limits().values()))}


def test_worker_task_runs_one_thread_per_pool():
    with threadpool_limits(limits=2):
        res, seconds = run_task(probe, ())
        assert set(limits().values()) == {2}
    assert res == {"parallel": True, "threads": [1]}
    assert seconds >= 0


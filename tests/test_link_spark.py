"""Probabilistic linkage through Splink's Spark backend (local mode) against the DuckDB default.

What is asserted and why:

- With u from every pair (``max_pairs_u`` above ``n_left * n_right``, ``u_min_count=None``: nothing is
  sampled, so the two backends' different hash functions play no part) and m from the true pairs,
  both backends build the same model from the same counts; the match weights they compute agree to
  the last digits, are rounded to 1e-9 bits before the one-to-one assignment and the pairs are put
  in one order, so the links must be IDENTICAL (same left, same right, scores equal to 1e-12).
- The EM model trained alongside (same start, same number of iterations) sums over the pairs in
  another order on Spark: its weights must agree within 1e-6 bits, not bit for bit.
- The SparkSession given to the linker is left running and without the views the linker created.

Skipped when pyspark or Java (17 or newer, which pyspark 4 needs) is missing. One SparkSession for
the module: starting Spark costs seconds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("splink.backends.spark")


def _java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


_JAVA = _java_major()
if _JAVA is None or _JAVA < 17:
    pytest.skip(f"Spark backend needs Java 17 or newer (found: {_JAVA})", allow_module_level=True)

from synthlink import demo  # noqa: E402
from synthlink.errors import ConfigError  # noqa: E402
from synthlink.evaluate.linkage import linkage_quality  # noqa: E402
from synthlink.link.probabilistic import ProbabilisticLinker  # noqa: E402
from synthlink.split import SplitPlan, split  # noqa: E402

ON = ["sex", "age", "nationality", "canton"]
SAME = {"on": ON, "m_from": "truth", "truth": "matricule", "max_pairs_u": 1e9, "u_min_count": None,
        "max_iterations": 3}


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    tmp = tmp_path_factory.mktemp("spark")
    builder = SparkSession.builder
    for k, v in {
        "spark.master": "local[2]", "spark.app.name": "synthlink-test", "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false", "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2", "spark.driver.memory": "1g", "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1", "spark.sql.session.timeZone": "UTC",
        # tiny data: compiling every query's code costs more than it saves (halves the run time)
        "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false",
        # a short-lived JVM: the quick compiler only (used when this fixture starts the JVM)
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
        "spark.local.dir": str(tmp / "local"), "spark.sql.warehouse.dir": str(tmp / "warehouse"),
    }.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(tmp / "checkpoints"))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def parts():
    """The demo population split as in the demo study: education x employment, truth by row position."""
    res = split(demo.population(1000, seed=4), SplitPlan.from_dict(demo.DEMO_PLAN), seed=4)
    left, right = res.parts["education"], res.parts["employment"]
    t = res.truth[["education", "employment"]].dropna().astype("int64")
    truth = pd.DataFrame({"left": t["education"].to_numpy(), "right": t["employment"].to_numpy()})
    return left, right, truth


@pytest.fixture(scope="module")
def runs(spark, parts):
    left, right, _ = parts
    duck = ProbabilisticLinker(**SAME).fit(left, right)
    sp = ProbabilisticLinker(**SAME, backend="spark", spark=spark).fit(left, right)
    return duck.link(seed=5), sp.link(seed=5), sp


def _weights(links, key):
    return np.array([r["weight"] for rows in links.diagnostics[key].values() for r in rows], dtype="float64")


def test_spark_gives_the_same_links_as_duckdb_with_truth_m(runs, parts):
    d, s, _ = runs
    _, right, truth = parts
    assert d.diagnostics["backend"]["backend"] == "duckdb"
    assert s.diagnostics["backend"]["backend"] == "spark"
    assert s.diagnostics["backend"]["spark_master"] == "local[2]"
    assert s.diagnostics["candidate_pairs"] == d.diagnostics["candidate_pairs"] > 0
    # the truth model is built from the same counts: same weights, bit for bit up to the log
    np.testing.assert_allclose(_weights(s, "match_weights_truth"), _weights(d, "match_weights_truth"), rtol=0, atol=1e-12)
    assert len(d.pairs) == min(len(parts[0]), len(right)) or len(d.pairs) > 0.9 * len(truth)
    np.testing.assert_array_equal(s.pairs["left"].to_numpy(), d.pairs["left"].to_numpy())
    np.testing.assert_array_equal(s.pairs["right"].to_numpy(), d.pairs["right"].to_numpy())
    np.testing.assert_allclose(s.pairs["score"].to_numpy(), d.pairs["score"].to_numpy(), rtol=0, atol=1e-12)
    qd, qs = linkage_quality(d, truth), linkage_quality(s, truth)
    assert qs == qd
    assert qd["precision"] > 0.3  # far above chance on four common variables (the bound is lower than 1)


def test_spark_em_weights_match_duckdb_within_float_tolerance(runs):
    d, s, _ = runs
    we, ws = _weights(d, "match_weights_em"), _weights(s, "match_weights_em")
    assert np.isfinite(we).all()
    np.testing.assert_allclose(ws, we, rtol=0, atol=1e-6)
    assert [x["iterations"] for x in s.diagnostics["em_sessions"]] == [x["iterations"] for x in d.diagnostics["em_sessions"]]


def test_spark_leaves_the_given_session_running_and_clean(spark, runs):
    _, s, _ = runs
    assert s.diagnostics["backend"]["session"].startswith("given")
    names = [t.name for t in spark.catalog.listTables() if t.isTemporary]
    assert not [n for n in names if n.startswith(("__sl_", "__splink__"))], names
    assert spark.range(3).count() == 3


def test_spark_config_errors(spark, parts):
    left, right, _ = parts
    with pytest.raises(ConfigError, match="backend='spark'"):
        ProbabilisticLinker(on=ON, spark=spark).fit(left, right)
    with pytest.raises(ConfigError, match="backend must be"):
        ProbabilisticLinker(on=ON, backend="postgres").fit(left, right)
    with pytest.raises(ConfigError, match="unknown spark_options"):
        ProbabilisticLinker(on=ON, backend="spark", spark=spark, spark_options={"nope": 1}).fit(left, right).link()
    with pytest.raises(ConfigError, match="spark_conf"):
        ProbabilisticLinker(on=ON, backend="spark", spark=spark, spark_conf={"spark.master": "local[1]"}).fit(left, right).link()


@pytest.mark.slow
def test_spark_own_local_session_is_stopped_and_its_directory_removed(tmp_path):
    """spark=None with no active session: the linker makes a local session and cleans up after it.
    Run in a fresh interpreter so that the module's session is not the active one."""
    code = (
        "import glob, os, tempfile\n"
        "tempfile.tempdir = os.environ['SL_TMP']\n"
        "from pyspark.sql import SparkSession\n"
        "from synthlink import demo\n"
        "from synthlink.split import SplitPlan, split\n"
        "from synthlink.link.probabilistic import ProbabilisticLinker\n"
        "r = split(demo.population(800, seed=1), SplitPlan.from_dict(demo.DEMO_PLAN), seed=1)\n"
        "lk = ProbabilisticLinker(on=['sex', 'age', 'nationality', 'canton'], max_iterations=3, backend='spark')\n"
        "links = lk.fit(r.parts['education'], r.parts['employment']).link(seed=0)\n"
        "assert links.diagnostics['backend']['session'] == 'created for this call'\n"
        "assert len(links.pairs) > 0\n"
        "assert SparkSession.getActiveSession() is None\n"
        "print('LEFT', glob.glob(os.path.join(os.environ['SL_TMP'], 'synthlink_spark_*')))\n"
    )
    env = {**__import__("os").environ, "SL_TMP": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "LEFT []" in out.stdout


@pytest.mark.slow
def test_spark_em_with_sampled_u_links_about_as_well_as_duckdb(spark, parts):
    """Default settings (u sampled with early stop): the sample differs between backends (their hash
    functions differ), so only the quality is compared, within a few points."""
    left, right, truth = parts
    kw = {"on": ON, "m_from": "em", "max_iterations": 10}
    d = ProbabilisticLinker(**kw).fit(left, right).link(seed=2)
    s = ProbabilisticLinker(**kw, backend="spark", spark=spark).fit(left, right).link(seed=2)
    fd, fs = linkage_quality(d, truth)["f1"], linkage_quality(s, truth)["f1"]
    assert abs(fd - fs) < 0.05, (fd, fs)

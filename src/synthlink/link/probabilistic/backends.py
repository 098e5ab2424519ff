"""Where Splink runs for the probabilistic linker: an in-memory DuckDB database (default) or Spark.

Both backends offer the same small interface to the linker: ``register`` a pandas frame as a
Splink input, ``view``/``drop_view`` a helper table, ``numpy``/``frame`` to run SQL and fetch the
result, ``quote`` to quote an identifier, ``info`` for the diagnostics, ``close``. Nothing is
fetched from the network: DuckDB's extension auto-install is off; Spark gets no ``--packages``
and no Maven jars (see :mod:`synthlink.link.probabilistic` for the session rules).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from synthlink.errors import ConfigError

#: the internal row-position id, the only column besides the linking columns that reaches Splink
ROW_ID = "_sl_row"
#: Splink's source-dataset names of the left and right part (``part_l`` sorts before ``part_r``)
SOURCE_LEFT = "part_l"
SOURCE_RIGHT = "part_r"
_LOGGER = "splink"


def quiet_splink() -> None:
    """Keep Splink's log at WARNING."""
    logging.getLogger(_LOGGER).setLevel(logging.WARNING)


#: Spark settings of the session this linker creates when none is given (local mode)
SPARK_LOCAL_CONF: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.app.name": "synthlink-probabilistic",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
#: added only when the master is local: no listening socket outside the loopback interface
SPARK_LOOPBACK_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
SPLINK_SPARK_OPTIONS = {"break_lineage_method", "num_partitions_on_repartition", "repartition_after_blocking",
                         "catalog", "database"}


class DuckDBBackend:
    """In-memory DuckDB connection wrapped for Splink; ``quote`` quotes an identifier in its SQL."""

    name = "duckdb"
    quote = '"'

    def __init__(self) -> None:
        self.views: list[str] = []
        import duckdb
        from splink import DuckDBAPI

        self.con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
        self.con.execute("SET enable_progress_bar = false")
        self.db = DuckDBAPI(connection=self.con)
        self.info: dict[str, Any] = {"backend": "duckdb"}

    def table(self, df: pd.DataFrame) -> Any:
        return df

    def register(self, df: pd.DataFrame, display_name: str) -> Any:
        self.n_registered = getattr(self, "n_registered", 0) + 1
        name = display_name if self.n_registered <= 2 else f"__sl_{display_name}_{self.n_registered}"
        return self.db.register(df, dataset_display_name=display_name, table_name=name)

    def view(self, df: pd.DataFrame, name: str) -> None:
        self.con.register(name, df)

    def drop_view(self, name: str) -> None:
        self.con.unregister(name)

    def numpy(self, sql: str) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.con.execute(sql).fetchnumpy().items()}

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def close(self) -> None:
        self.con.close()


class SparkBackend:
    """Splink's SparkAPI on a given or a new Spark session (see the module docstring)."""

    name = "spark"
    quote = "`"

    def __init__(self, spark: Any = None, conf: dict[str, Any] | None = None,
                 options: dict[str, Any] | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            from synthlink.errors import MethodUnavailableError

            raise MethodUnavailableError(
                "probabilistic: backend='spark' needs pyspark (pip install 'pyspark>=4.0') and Java 17 or 21") from e
        import pyspark

        if int(pyspark.__version__.split(".", 1)[0]) < 4:
            from synthlink.errors import MethodUnavailableError

            raise MethodUnavailableError(
                f"probabilistic: backend='spark' needs pyspark 4.0 or newer (Arrow input and output), "
                f"found {pyspark.__version__}")
        from splink.backends.spark import SparkAPI

        options = dict(options or {})
        bad = sorted(set(options) - SPLINK_SPARK_OPTIONS)
        if bad:
            raise ConfigError(f"probabilistic: unknown spark_options {bad}; known: {sorted(SPLINK_SPARK_OPTIONS)}")
        self.tmp: str | None = None
        self.owned = False
        self.views: list[str] = []
        self.tag = uuid.uuid4().hex[:10]
        if spark is None:
            spark = SparkSession.getActiveSession()
            if spark is not None and conf:
                raise ConfigError("probabilistic: a Spark session is already active, spark_conf cannot reconfigure "
                                  "it; pass it as spark= (configured as needed) or stop it first")
            if spark is None:
                if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
                    from synthlink.errors import MethodUnavailableError

                    raise MethodUnavailableError(
                        "probabilistic: backend='spark' needs Java 17 or 21 ('java' on the PATH or JAVA_HOME)")
                spark = self._new_session(SparkSession, conf or {})
                self.owned = True
        elif conf:
            raise ConfigError("probabilistic: spark_conf applies to the session the linker creates; "
                              "configure the SparkSession you pass instead")
        self.spark = spark
        # temporary views present before: everything new with Splink's or our prefix is dropped at the end
        self.views_before = self._temp_views()
        if "break_lineage_method" not in options:
            local = str(spark.sparkContext.master).startswith("local")
            has_dir = not spark.sparkContext._jsc.sc().getCheckpointDir().isEmpty()
            options["break_lineage_method"] = "persist" if (local and self.owned) or not has_dir else "parquet"
        self.db = SparkAPI(spark_session=spark, register_udfs_automatically=False, **options)
        self.info = {
            "backend": "spark",
            "spark_version": spark.version,
            "spark_master": str(spark.sparkContext.master),
            "session": "created for this call" if self.owned else "given or active session, left running",
            "break_lineage_method": self.db.break_lineage_method,
            "num_partitions_on_repartition": self.db.num_partitions_on_repartition,
        }

    def _new_session(self, SparkSession: Any, conf: dict[str, Any]) -> Any:
        self.tmp = tempfile.mkdtemp(prefix="synthlink_spark_")
        settings = dict(SPARK_LOCAL_CONF)
        settings["spark.local.dir"] = os.path.join(self.tmp, "local")
        settings["spark.sql.warehouse.dir"] = os.path.join(self.tmp, "warehouse")
        settings.update({str(k): str(v) for k, v in conf.items()})
        if settings["spark.master"].startswith("local"):
            for k, v in SPARK_LOOPBACK_CONF.items():
                settings.setdefault(k, v)
        b = SparkSession.builder
        for k, v in settings.items():
            b = b.config(k, v)
        try:
            spark = b.getOrCreate()
        except Exception:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        spark.sparkContext.setLogLevel("ERROR")
        if settings["spark.master"].startswith("local") and "spark.checkpoint.dir" not in settings:
            spark.sparkContext.setCheckpointDir(os.path.join(self.tmp, "checkpoints"))
        return spark

    def _temp_views(self) -> set[str]:
        try:
            t = self.spark.sql("SHOW VIEWS").toArrow().to_pydict()
            return {n for n, tmp in zip(t["viewName"], t["isTemporary"], strict=True) if tmp}
        except Exception:  # a catalog that cannot list views: drop only the views named here
            return set()

    def table(self, df: pd.DataFrame) -> Any:
        import pyarrow as pa

        return self.spark.createDataFrame(pa.Table.from_pandas(df, preserve_index=False))

    def register(self, df: pd.DataFrame, display_name: str) -> Any:
        name = f"__sl_{display_name}_{self.tag}_{len(self.views)}"
        self.views.append(name)
        return self.db.register(self.table(df), dataset_display_name=display_name, table_name=name)

    def view(self, df: pd.DataFrame, name: str) -> None:
        self.table(df).createOrReplaceTempView(name)
        self.views.append(name)

    def drop_view(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def numpy(self, sql: str) -> dict[str, np.ndarray]:
        t = self.spark.sql(sql).toArrow()
        return {c: t.column(c).to_numpy() for c in t.column_names}

    def frame(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toArrow().to_pandas()

    def close(self) -> None:
        try:
            if not self.owned:
                # drop (and so uncache) every view made here: Splink's tables (some are made by its
                # copies of the database API) and ours
                names = set(self.views) | {n for n in self._temp_views() - self.views_before
                                           if n.startswith(("__splink__", "__sl_"))}
                for name in sorted(names):
                    with contextlib.suppress(Exception):
                        self.spark.catalog.dropTempView(name)
            else:
                self.spark.stop()
        finally:
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def open_backend(kind: str, spark: Any = None, conf: dict[str, Any] | None = None,
             options: dict[str, Any] | None = None) -> Iterator[Any]:
    be: Any = SparkBackend(spark, conf, options) if kind == "spark" else DuckDBBackend()
    try:
        yield be
    finally:
        be.close()

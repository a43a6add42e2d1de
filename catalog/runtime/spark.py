"""The local SparkSession: pyspark 3.5 in local mode with the real Iceberg runtime.

Glue 5 runs the same job with its own session (``--datalake-formats iceberg`` and the Glue
catalog conf); locally this module builds the equivalent over the shared SQLite catalog. A
session is expensive (4-10 s to start), so a process builds one and reuses it for every day
it loads: the demo, ``backfill`` and the test suite each hold a single session.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    StringType,
    TimestamptzType,
)

from catalog.iceberg.profiles import CATALOG_NAME, jdbc_uri, local_catalog, warehouse_uri
from catalog.paths import LakehousePaths
from catalog.runtime.jars import local_spark_jars

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

#: Set to a comma-separated Maven coordinate list to use ``spark.jars.packages`` instead of
#: the jars found on this machine (where Maven Central is reachable).
SPARK_PACKAGES_ENV: Final = "LAKEHOUSE_SPARK_PACKAGES"
#: Spark master for local runs. Two cores is the size of the machines this is built for.
SPARK_MASTER_ENV: Final = "LAKEHOUSE_SPARK_MASTER"
DEFAULT_MASTER: Final = "local[2]"
#: Driver memory; the daily load is tiny, the 10,000-artist benchmark wants more than 1g.
SPARK_DRIVER_MEMORY_ENV: Final = "LAKEHOUSE_SPARK_DRIVER_MEMORY"
DEFAULT_DRIVER_MEMORY: Final = "2g"
#: Iceberg's SQL extensions (MERGE INTO, CALL, tags): the one definition, used by the local
#: session here, the Glue job's session check (glue/job.py) and the stack's ``--conf``.
ICEBERG_EXTENSIONS: Final = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


class SparkSessionConflictError(RuntimeError):
    """A SparkSession for another lakehouse home is already running in this process."""


def _log_config() -> str:
    config = resources.files("catalog.runtime") / "log4j2.properties"
    return f"-Dlog4j2.configurationFile={Path(str(config)).as_uri()}"


def local_iceberg_conf(paths: LakehousePaths) -> dict[str, str]:
    """Spark conf that opens ``<home>/catalog.db`` as Iceberg's JdbcCatalog ``lakehouse``."""
    prefix = f"spark.sql.catalog.{CATALOG_NAME}"
    return {
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        f"{prefix}.uri": jdbc_uri(paths),
        # V1 is the schema pyiceberg's SqlCatalog reads and writes (it has views columns).
        f"{prefix}.jdbc.schema-version": "V1",
        # pyiceberg's SqlCatalog creates the catalog tables (prepare + local_catalog run first).
        # Iceberg's own check leaves a metadata ResultSet open on its pooled connection, which
        # pins a read transaction forever: Spark then sees a stale catalog and its commits fail
        # with SQLITE_BUSY_SNAPSHOT once pyiceberg has written.
        f"{prefix}.jdbc.init-catalog-tables": "false",
        f"{prefix}.warehouse": warehouse_uri(paths),
        # pyiceberg commits to the same catalog (tables, schema evolution); a cached Spark
        # table would start every MERGE from stale metadata and pay a commit retry.
        f"{prefix}.cache-enabled": "false",
        # One connection: SQLite has one writer anyway, and a second pooled connection
        # holding a read lock would make our own commit fail with SQLITE_BUSY.
        f"{prefix}.clients": "1",
        "spark.sql.defaultCatalog": CATALOG_NAME,
    }


def build_local_session(paths: LakehousePaths, app_name: str = "spotify-lakehouse") -> SparkSession:
    """Start (or return the running) local session wired to this home's catalog.

    A process has one SparkSession and its Iceberg catalog is bound at start, so asking for
    a second home while one runs is an error rather than a silent write to the wrong one.
    """
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    if running is not None:
        bound = running.conf.get(f"spark.sql.catalog.{CATALOG_NAME}.uri", None)
        if bound != jdbc_uri(paths):
            raise SparkSessionConflictError(
                f"this process's SparkSession is bound to {bound}, not {jdbc_uri(paths)}; "
                "use one lakehouse home per process"
            )
        return running
    local_catalog(paths)  # WAL mode and the catalog tables, created by pyiceberg
    # Bind the driver to loopback: Spark otherwise picks the first non-loopback interface.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(os.environ.get(SPARK_MASTER_ENV, DEFAULT_MASTER))
        .config(
            "spark.driver.memory", os.environ.get(SPARK_DRIVER_MEMORY_ENV, DEFAULT_DRIVER_MEMORY)
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", f"-Duser.timezone=UTC {_log_config()}")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.warehouse.dir", str(paths.home / "tmp" / "spark-warehouse"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    packages = os.environ.get(SPARK_PACKAGES_ENV)
    if packages:
        builder = builder.config("spark.jars.packages", packages)
    else:
        builder = builder.config("spark.jars", ",".join(str(j) for j in local_spark_jars()))
    for key, value in local_iceberg_conf(paths).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_schema(schema: Schema) -> StructType:
    """The Spark ``StructType`` of an Iceberg schema from :mod:`catalog.iceberg.tables`.

    Derived, never written by hand, so a column added to the table definition reaches the
    job's DataFrames without a second edit.
    """
    from pyspark.sql import types as st

    def convert(kind: IcebergType) -> st.DataType:
        if isinstance(kind, ListType):
            return st.ArrayType(convert(kind.element_type), not kind.element_required)
        simple: dict[type[IcebergType], st.DataType] = {
            StringType: st.StringType(),
            LongType: st.LongType(),
            IntegerType: st.IntegerType(),
            DateType: st.DateType(),
            TimestamptzType: st.TimestampType(),
            BooleanType: st.BooleanType(),
            DoubleType: st.DoubleType(),
        }
        try:
            return simple[type(kind)]
        except KeyError as e:
            raise TypeError(f"no Spark type mapped for Iceberg type {kind}") from e

    return st.StructType(
        [st.StructField(f.name, convert(f.field_type), not f.required) for f in schema.fields]
    )

"""Shared fixtures. One SparkSession for the whole run: it costs 4-10 s to start.

Spark's Iceberg catalog is bound to one SQLite file when the session starts, so every
Spark-backed test shares one lakehouse home; the ``lakehouse`` fixture gives each test a
clean one by dropping the tables (with their files) and emptying bronze and reports.

Time: a test that depends on "today" takes ``frozen_today`` (the clock moved to a fixed
UTC day, still ticking) instead of reading the clock when its module is imported, so a run
that crosses UTC midnight sees one day from start to end.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Final

import pytest
import time_machine

from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import NAMESPACE, TABLES
from catalog.paths import LakehousePaths

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The UTC day ``frozen_today`` sets the clock to. Modules that need "today" in constants
#: (``PAST = TODAY - 10 days``) use this date and the fixture together.
FROZEN_TODAY: Final = date(2026, 11, 24)


@pytest.fixture
def frozen_today() -> Iterator[date]:
    """Python's clock moved to noon UTC of :data:`FROZEN_TODAY` for one test.

    It keeps ticking (``tick=True``): token lifetimes, timeouts and timestamps advance as
    usual, and noon leaves half a day before the date could change. Only this process is
    moved (``datetime.now``, ``time.time``; not ``time.monotonic``, not the JVM, not DuckDB).
    """
    with time_machine.travel(datetime.combine(FROZEN_TODAY, time(12), UTC), tick=True):
        yield FROZEN_TODAY


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Put the root logger back as each test found it: its level and its handlers' formats.

    The Lambda handler switches the process's root logger to JSON lines at INFO (as it must
    on Lambda), and pytest reuses its capture handlers from test to test, so without this a
    handler test would change what every later test logs and prints (seen in random order:
    the CLI's one-line stderr reason grew a JSON log line).
    """
    root = logging.getLogger()
    level = root.level
    formatters = {handler: handler.formatter for handler in root.handlers}
    yield
    root.setLevel(level)
    for handler in root.handlers:
        if handler in formatters:
            handler.setFormatter(formatters[handler])


@pytest.fixture(scope="session")
def spark_home(tmp_path_factory: pytest.TempPathFactory) -> LakehousePaths:
    return LakehousePaths.resolve(tmp_path_factory.mktemp("spark-lakehouse")).ensure()


@pytest.fixture(scope="session")
def spark(spark_home: LakehousePaths) -> Iterator[SparkSession]:
    from catalog.runtime.spark import build_local_session

    session = build_local_session(spark_home, app_name="spotify-lakehouse-tests")
    yield session
    session.stop()


@dataclass
class SparkLakehouse:
    paths: LakehousePaths
    spark: SparkSession


@pytest.fixture
def lakehouse(spark: SparkSession, spark_home: LakehousePaths) -> SparkLakehouse:
    """The shared Spark home, emptied: no tables, no bronze, no reports."""
    # No cached plan of an earlier test may outlive its tables: a plan cached over a purged
    # table would read files that no longer exist.
    spark.catalog.clearCache()
    for name in TABLES:
        spark.sql(f"DROP TABLE IF EXISTS {CATALOG_NAME}.{NAMESPACE}.{name} PURGE")
    # PURGE deletes what the table's last metadata lists; older metadata files may stay,
    # and a warehouse holding tables the catalog does not know refuses every write.
    for directory in (spark_home.bronze, spark_home.reports, spark_home.warehouse):
        shutil.rmtree(directory, ignore_errors=True)
    spark_home.ensure()
    return SparkLakehouse(spark_home, spark)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's HTTP server on 127.0.0.1 for the S3, Glue, Secrets Manager and Athena paths."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean moto (state reset) that every boto3 client in the test talks to.

    Fake credentials and ``AWS_ENDPOINT_URL`` make sure nothing can reach real AWS.
    """
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server

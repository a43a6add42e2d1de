"""Maintenance of one local home: its lease taken exclusively, then the Spark procedures.

Why here and not in :mod:`catalog.iceberg.maintenance`: building a local SparkSession is this
room's job, and the Iceberg room never imports the runtime (``.importlinter``). On AWS the
Glue job calls :func:`catalog.iceberg.maintenance.maintain` with its own session.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from catalog.iceberg.lease import write_lease
from catalog.iceberg.maintenance import (
    DEFAULT_SNAPSHOT_RETENTION_DAYS,
    TableMaintenance,
    maintain,
)
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS
from catalog.paths import LakehousePaths
from catalog.runtime.spark import build_local_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def maintain_local(
    paths: LakehousePaths,
    *,
    spark: SparkSession | None = None,
    snapshot_retention_days: int = DEFAULT_SNAPSHOT_RETENTION_DAYS,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
    compact: bool = True,
    today: date | None = None,
) -> list[TableMaintenance]:
    """:func:`maintain` on one home, holding its lease exclusively (the CLI's ``maintain``)."""
    with write_lease(paths, "maintain"):
        if spark is None:
            spark = build_local_session(paths, app_name="spotify-lakehouse-maintain")
        return maintain(
            spark,
            snapshot_retention_days=snapshot_retention_days,
            tag_retention_days=tag_retention_days,
            compact=compact,
            today=today,
        )

"""Maintenance of one local home: its lease taken exclusively, then the Spark procedures.

Why here and not in :mod:`catalog.iceberg.maintenance`: building a local SparkSession is this
room's job, and the Iceberg room never imports the runtime (``.importlinter``). On AWS the
Glue job calls :func:`catalog.iceberg.maintenance.maintain` with its own session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from catalog.iceberg.lease import write_lease
from catalog.iceberg.maintenance import (
    DEFAULT_SNAPSHOT_RETENTION_DAYS,
    TableMaintenance,
    maintain,
    settle_tag_retention,
)
from catalog.iceberg.tables import TABLES
from catalog.paths import LakehousePaths
from catalog.runtime.spark import build_local_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def maintain_local(
    paths: LakehousePaths,
    *,
    spark: SparkSession | None = None,
    snapshot_retention_days: int = DEFAULT_SNAPSHOT_RETENTION_DAYS,
    tag_retention_days: int | None = None,
    compact: bool = True,
    today: date | None = None,
    on_table: Callable[[str, TableMaintenance | None], object] | None = None,
) -> list[TableMaintenance]:
    """:func:`maintain` on one home, holding its lease exclusively (the CLI's ``maintain``).

    ``on_table`` hears of each table of :data:`TABLES` as soon as it is done (None: the
    table does not exist yet), so a long maintenance reports table by table.
    ``tag_retention_days`` becomes the home's tag retention (every later load obeys it);
    ``None`` keeps the stored one (:func:`catalog.iceberg.maintenance.settle_tag_retention`),
    settled once for all tables."""
    with write_lease(paths, "maintain"):
        if spark is None:
            spark = build_local_session(paths, app_name="spotify-lakehouse-maintain")
        retention = settle_tag_retention(spark, days=tag_retention_days)
        results: list[TableMaintenance] = []
        for name in TABLES:
            done = maintain(
                spark,
                tables=[name],
                snapshot_retention_days=snapshot_retention_days,
                tag_retention_days=retention,
                compact=compact,
                today=today,
            )
            results += done
            if on_table is not None:
                on_table(name, done[0] if done else None)
        return results

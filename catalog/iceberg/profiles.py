"""Catalog profiles: which Iceberg catalog a process talks to.

``local`` is the embedded default: one SQLite file ``<home>/catalog.db`` that pyiceberg opens
as a ``SqlCatalog`` and Spark opens as Iceberg's ``JdbcCatalog`` (schema version V1). Both
must use the same catalog name, because the SQL catalog stores it in every row; that name
is :data:`CATALOG_NAME`. The ``glue`` profile (AWS Glue Data Catalog, :func:`glue_catalog`)
shares the same name so that SQL written against one runs against the other.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from typing import Final

from pyiceberg.catalog import Catalog
from pyiceberg.io import S3_ENDPOINT, S3_FORCE_VIRTUAL_ADDRESSING, S3_REGION

from catalog.iceberg.names import CATALOG_NAME as CATALOG_NAME  # re-exported: its owner is names
from catalog.paths import LakehousePaths

#: The AWS SDKs' endpoint overrides for S3, most specific first (never set on AWS).
S3_ENDPOINT_ENVIRONMENT: Final = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


def sqlite_uri(paths: LakehousePaths) -> str:
    """SQLAlchemy URI of the local catalog database."""
    return f"sqlite:///{paths.catalog_db}"


def jdbc_uri(paths: LakehousePaths) -> str:
    """JDBC URI of the same database, for Spark's Iceberg JdbcCatalog."""
    return f"jdbc:sqlite:{paths.catalog_db}"


def warehouse_uri(paths: LakehousePaths) -> str:
    return paths.warehouse.as_uri()


def prepare_catalog_db(paths: LakehousePaths) -> None:
    """Put the catalog database in WAL mode (persistent in the file; idempotent).

    Spark's JDBC connection and pyiceberg's SQLAlchemy engine share the file. In SQLite's
    default rollback-journal mode a connection that has read and not yet closed its
    statement blocks every other connection's commit ("database is locked"); in WAL mode
    readers never block the writer, and writers wait their turn through the busy timeout.
    """
    paths.ensure()
    with closing(sqlite3.connect(paths.catalog_db, timeout=30)) as connection:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()
    if mode is None or str(mode[0]).lower() != "wal":
        raise RuntimeError(f"{paths.catalog_db} cannot use WAL journal mode (got {mode})")


def local_catalog(paths: LakehousePaths) -> Catalog:
    """The pyiceberg side of the shared SQLite catalog (created on first use).

    ``SqlCatalog`` is imported here, not at the top: it brings SQLAlchemy (~0.4 s), which
    the read-only query path (:mod:`views.tables`) avoids while importing this module.
    """
    from catalog.iceberg.cached.sql import CachedSqlCatalog

    prepare_catalog_db(paths)
    return CachedSqlCatalog(
        CATALOG_NAME,
        uri=sqlite_uri(paths),
        warehouse=warehouse_uri(paths),
    )


def glue_catalog(
    *,
    warehouse: str,
    region: str,
    glue_endpoint: str | None = None,
    s3_endpoint: str | None = None,
) -> Catalog:
    """The pyiceberg side of the AWS Glue Data Catalog (profile ``glue``).

    ``warehouse`` is the S3 URI under which new tables get their location
    (``s3://bucket/warehouse``). Credentials come from the standard AWS chain (the Glue
    job's or Lambda's role, or the environment). The endpoints are for tests against
    moto's server on 127.0.0.1 and are never set on AWS.

    Without an explicit ``s3_endpoint``, the S3 endpoint follows the AWS SDKs' own
    environment settings (``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL``): boto3, and so
    the Glue catalog client, reads them by itself, but pyiceberg's PyArrow file IO does not,
    and a job pointed at another endpoint would otherwise write table metadata to real S3.

    ``GlueCatalog`` is imported here: it brings boto3 (0.3-0.8 s), which no local command
    needs (the query path reads the SQLite catalog and imports this module).
    """
    from pyiceberg.catalog.glue import GLUE_CATALOG_ENDPOINT, GLUE_REGION

    from catalog.iceberg.cached.glue import CachedGlueCatalog

    if s3_endpoint is None:
        s3_endpoint = next(
            (os.environ[k] for k in S3_ENDPOINT_ENVIRONMENT if os.environ.get(k)), None
        )
    properties = {"warehouse": warehouse, GLUE_REGION: region, S3_REGION: region}
    if glue_endpoint:
        properties[GLUE_CATALOG_ENDPOINT] = glue_endpoint
    if s3_endpoint:
        properties[S3_ENDPOINT] = s3_endpoint
        properties[S3_FORCE_VIRTUAL_ADDRESSING] = "false"  # path-style, as moto serves it
    return CachedGlueCatalog(CATALOG_NAME, **properties)

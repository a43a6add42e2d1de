"""Catalog profiles: which Iceberg catalog a process talks to.

``local`` is the embedded default: one SQLite file ``<home>/catalog.db`` that pyiceberg opens
as a ``SqlCatalog`` and Spark opens as Iceberg's ``JdbcCatalog`` (schema version V1). Both
must use the same catalog name, because the SQL catalog stores it in every row; that name
is :data:`CATALOG_NAME`. The ``glue`` profile (AWS Glue Data Catalog) shares the same name so
that SQL written against one runs against the other.
"""

from __future__ import annotations

from typing import Final

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog

from catalog.paths import LakehousePaths

#: Catalog name shared by Spark and pyiceberg; rows in the SQLite catalog are keyed by it.
CATALOG_NAME: Final = "lakehouse"


def sqlite_uri(paths: LakehousePaths) -> str:
    """SQLAlchemy URI of the local catalog database."""
    return f"sqlite:///{paths.catalog_db}"


def jdbc_uri(paths: LakehousePaths) -> str:
    """JDBC URI of the same database, for Spark's Iceberg JdbcCatalog."""
    return f"jdbc:sqlite:{paths.catalog_db}"


def warehouse_uri(paths: LakehousePaths) -> str:
    return paths.warehouse.as_uri()


def local_catalog(paths: LakehousePaths) -> Catalog:
    """The pyiceberg side of the shared SQLite catalog (created on first use)."""
    paths.ensure()
    return SqlCatalog(
        CATALOG_NAME,
        uri=sqlite_uri(paths),
        warehouse=warehouse_uri(paths),
    )

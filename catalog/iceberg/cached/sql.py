"""The local SQLite catalog, parsing each metadata file once (see :mod:`catalog.iceberg.cached`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog

from catalog.iceberg.cached import MetadataCaching

if TYPE_CHECKING:
    from pyiceberg.table import Table


class CachedSqlCatalog(MetadataCaching, SqlCatalog):
    """pyiceberg's ``SqlCatalog`` whose loads re-read no metadata file they already know."""

    def _convert_orm_to_iceberg(self, orm_table: IcebergTables) -> Table:
        location = orm_table.metadata_location
        if not location or not orm_table.table_namespace or not orm_table.table_name:
            return super()._convert_orm_to_iceberg(orm_table)  # pyiceberg's own errors
        namespace = Catalog.identifier_to_tuple(orm_table.table_namespace)
        return self.cached_table(
            (*namespace, orm_table.table_name),
            location,
            lambda: super(CachedSqlCatalog, self)._convert_orm_to_iceberg(orm_table),
        )

"""The local SQLite catalog, parsing each metadata file once (see :mod:`catalog.iceberg.cached`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog

from catalog.iceberg.cached import ParsedMetadata, stage_commit, table_from

if TYPE_CHECKING:
    from pyiceberg.table import CommitTableResponse, StagedTable, Table
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from pyiceberg.typedef import Identifier


class CachedSqlCatalog(SqlCatalog):
    """pyiceberg's ``SqlCatalog`` whose loads re-read no metadata file they already know."""

    def __init__(self, name: str, **properties: Any) -> None:
        super().__init__(name, **properties)
        self.parsed = ParsedMetadata()

    def _convert_orm_to_iceberg(self, orm_table: IcebergTables) -> Table:
        location = orm_table.metadata_location
        if not location or not orm_table.table_namespace or not orm_table.table_name:
            return super()._convert_orm_to_iceberg(orm_table)  # pyiceberg's own errors
        namespace = Catalog.identifier_to_tuple(orm_table.table_namespace)
        identifier = (*namespace, orm_table.table_name)
        return table_from(
            self,
            self.parsed,
            identifier,
            location,
            lambda: super(CachedSqlCatalog, self)._convert_orm_to_iceberg(orm_table),
        )

    def commit_table(
        self,
        table: Table,
        requirements: tuple[TableRequirement, ...],
        updates: tuple[TableUpdate, ...],
    ) -> CommitTableResponse:
        response = super().commit_table(table, requirements, updates)
        self.parsed.put(response.metadata_location, response.metadata)
        return response

    def _update_and_stage_table(
        self,
        current_table: Table | None,
        table_identifier: Identifier,
        requirements: tuple[TableRequirement, ...],
        updates: tuple[TableUpdate, ...],
    ) -> StagedTable:
        if current_table is None:
            return super()._update_and_stage_table(
                current_table, table_identifier, requirements, updates
            )
        return stage_commit(self, current_table, table_identifier, requirements, updates)

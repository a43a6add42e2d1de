"""The AWS Glue Data Catalog, parsing each metadata file once (see
:mod:`catalog.iceberg.cached`): a known file is not downloaded from S3 again; ``GetTable``
is still called for every load, so the catalog's pointer decides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import METADATA_LOCATION
from pyiceberg.catalog.glue import GlueCatalog

from catalog.iceberg.cached import ParsedMetadata, stage_commit, table_from

if TYPE_CHECKING:
    from pyiceberg.table import CommitTableResponse, StagedTable, Table
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from pyiceberg.typedef import Identifier


class CachedGlueCatalog(GlueCatalog):
    """pyiceberg's ``GlueCatalog`` whose loads re-read no metadata file they already know."""

    def __init__(self, name: str, **properties: Any) -> None:
        super().__init__(name, **properties)
        self.parsed = ParsedMetadata()

    def _convert_glue_to_iceberg(self, glue_table: Any) -> Table:
        parameters = glue_table.get("Parameters") or {}
        location = parameters.get(METADATA_LOCATION)
        database, name = glue_table.get("DatabaseName"), glue_table.get("Name")
        if not location or not database or not name:
            return super()._convert_glue_to_iceberg(glue_table)  # pyiceberg's own errors
        return table_from(
            self,
            self.parsed,
            (database, name),
            location,
            lambda: super(CachedGlueCatalog, self)._convert_glue_to_iceberg(glue_table),
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

"""The AWS Glue Data Catalog, parsing each metadata file once (see
:mod:`catalog.iceberg.cached`): a known file is not downloaded from S3 again; ``GetTable``
is still called for every load, so the catalog's pointer decides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import METADATA_LOCATION
from pyiceberg.catalog.glue import GlueCatalog

from catalog.iceberg.cached import MetadataCaching

if TYPE_CHECKING:
    from pyiceberg.table import Table


class CachedGlueCatalog(MetadataCaching, GlueCatalog):
    """pyiceberg's ``GlueCatalog`` whose loads re-read no metadata file they already know."""

    def _convert_glue_to_iceberg(self, glue_table: Any) -> Table:
        parameters = glue_table.get("Parameters") or {}
        location = parameters.get(METADATA_LOCATION)
        database, name = glue_table.get("DatabaseName"), glue_table.get("Name")
        if not location or not database or not name:
            return super()._convert_glue_to_iceberg(glue_table)  # pyiceberg's own errors
        return self.cached_table(
            (database, name),
            location,
            lambda: super(CachedGlueCatalog, self)._convert_glue_to_iceberg(glue_table),
        )

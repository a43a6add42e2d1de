"""Catalogs that parse each table metadata file once, and stage commits without copies.

A table's metadata file grows with its history: every daily load adds a snapshot, a tag and
a log entry, so a year of loads is ~350 KB of JSON for silver and ~300 KB for dq_results.
pyiceberg's catalogs read and parse that file on every ``load_table`` and again inside every
``commit_table`` (to check the commit's requirements against the table as it is), and
stage each commit with ``update_table_metadata``, whose last step deep-copies the whole
result. A day's load reads three tables and commits three times, so at day 365 those parses
and copies were ~0.5 s of every day (a profile of days 361-365, 1,000 artists): the one step
of a day whose cost grew with the history.

Both are removed here without changing what is read or written:

* **parsed once** (:class:`ParsedMetadata`): a metadata file is never changed after it is
  written (Iceberg's commit protocol writes a new file per commit and swaps the catalog's
  pointer), so the metadata parsed from a location, or committed to it by this catalog, is
  that location's metadata for good. The catalog's pointer is still asked every time (one
  SQLite query; one ``GetTable`` on Glue), so another writer's commit (Spark's MERGE, a
  second process) is always seen; only re-reading a file already known is skipped.
* **staged without copies** (:func:`staged_metadata`): pyiceberg's updates build new frozen
  models and never change the one they are applied to, so the deep copy protects nothing.
  The :class:`~catalog.iceberg.writes.OneCommitTransaction` uses the same function for its
  staged view of a transaction.

:class:`MetadataCaching` holds both behaviours once; :mod:`~catalog.iceberg.cached.sql` (the
local SQLite catalog) and :mod:`~catalog.iceberg.cached.glue` (AWS Glue) each mix it into
pyiceberg's catalog and only say where their catalog keeps a table's metadata location. They
are separate modules because each brings its client library (SQLAlchemy, boto3), which the
other profile never needs. :func:`catalog.iceberg.profiles.local_catalog` and
:func:`~catalog.iceberg.profiles.glue_catalog` return them. (The query path keeps its own
parsed files, :mod:`views.tables`: it never opens a pyiceberg catalog, so as not to import
SQLAlchemy.)
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog, MetastoreCatalog
    from pyiceberg.table import CommitTableResponse, StagedTable, Table
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from pyiceberg.typedef import Identifier

    # mypy sees the mixin as the catalog it is mixed into; at run time it is a plain class
    # placed before pyiceberg's catalog in the method resolution order.
    _CatalogBase = MetastoreCatalog
else:
    _CatalogBase = object

#: Metadata files kept parsed per catalog. A load touches four tables; a few versions each
#: covers a commit racing a reader. Each entry is one table version (~1-2 MB of models at a
#: year of history for the largest), so the bound is what keeps a long backfill's memory flat.
DEFAULT_PARSED_FILES: Final = 16


def _stage_functions() -> tuple[Any, Any, Any] | None:
    """pyiceberg's own update appliers (what ``update_table_metadata`` is made of)."""
    try:
        from pyiceberg.table.update import (
            _apply_table_update,
            _TableMetadataUpdateContext,
            _update_table_metadata_log,
        )
    except ImportError:  # another pyiceberg: its own (copying) function is used
        return None
    return _apply_table_update, _TableMetadataUpdateContext, _update_table_metadata_log


_STAGE: Final = _stage_functions()


def staged_metadata(
    base: TableMetadata,
    updates: tuple[TableUpdate, ...],
    *,
    metadata_location: str | None = None,
) -> TableMetadata:
    """``update_table_metadata(base, updates, metadata_location=...)`` without its final
    deep copy (see the module docstring); with ``metadata_location`` (a commit's current
    file) the metadata log gains it, as pyiceberg's does."""
    if _STAGE is None:
        from pyiceberg.table.update import update_table_metadata

        return update_table_metadata(base, updates, metadata_location=metadata_location)
    apply, context_class, log_location = _STAGE
    if not updates:
        return base
    context = context_class()
    metadata = base
    for update in updates:
        metadata = apply(update, metadata, context)
    if context.has_changes():
        if metadata_location:
            metadata = log_location(metadata, metadata_location, base.last_updated_ms)
        if base.last_updated_ms == metadata.last_updated_ms:
            metadata = metadata.model_copy(update={"last_updated_ms": int(time.time() * 1000)})
    metadata.spec().check_compatible(metadata.schema())
    metadata.sort_order().check_compatible(metadata.schema())
    return metadata


class ParsedMetadata:
    """The last :data:`DEFAULT_PARSED_FILES` metadata files seen, by location (oldest out
    first). Locations are unique and their files immutable, so an entry is never stale."""

    def __init__(self, limit: int = DEFAULT_PARSED_FILES) -> None:
        self._limit = limit
        self._by_location: OrderedDict[str, TableMetadata] = OrderedDict()

    def get(self, location: str) -> TableMetadata | None:
        metadata = self._by_location.get(location)
        if metadata is not None:
            self._by_location.move_to_end(location)
        return metadata

    def put(self, location: str, metadata: TableMetadata) -> None:
        self._by_location[location] = metadata
        self._by_location.move_to_end(location)
        while len(self._by_location) > self._limit:
            self._by_location.popitem(last=False)

    def __len__(self) -> int:
        return len(self._by_location)


def table_from(
    catalog: Catalog,
    parsed: ParsedMetadata,
    identifier: Identifier,
    location: str,
    load: Callable[[], Table],
) -> Table:
    """The table at ``location``: built from ``parsed`` when that file was seen, else
    ``load()`` (pyiceberg's own read and parse), remembered."""
    from pyiceberg.table import Table

    metadata = parsed.get(location)
    if metadata is None:
        table = load()
        parsed.put(location, table.metadata)
        return table
    return Table(
        identifier=identifier,
        metadata=metadata,
        metadata_location=location,
        io=catalog._load_file_io(metadata.properties, location),
        catalog=catalog,
    )


def stage_commit(
    catalog: MetastoreCatalog,
    current: Table,
    identifier: Identifier,
    requirements: tuple[TableRequirement, ...],
    updates: tuple[TableUpdate, ...],
) -> StagedTable:
    """pyiceberg's ``Catalog._update_and_stage_table`` for an existing table, staged with
    :func:`staged_metadata` (no deep copy). A new table (``current`` None) is not staged
    here: its metadata is validated whole by pyiceberg's own path."""
    from pyiceberg.table import StagedTable
    from pyiceberg.table.locations import load_location_provider

    for requirement in requirements:
        requirement.validate(current.metadata)
    metadata = staged_metadata(
        current.metadata, updates, metadata_location=current.metadata_location
    )
    version = catalog._parse_metadata_version(current.metadata_location) + 1
    location = load_location_provider(
        metadata.location, metadata.properties
    ).new_table_metadata_file_location(version)
    return StagedTable(
        identifier=identifier,
        metadata=metadata,
        metadata_location=location,
        io=catalog._load_file_io(properties=metadata.properties, location=location),
        catalog=catalog,
    )


class MetadataCaching(_CatalogBase):
    """What both cached catalogs add to pyiceberg's: a :class:`ParsedMetadata` per catalog,
    commits remembered under their new location, and existing tables staged by
    :func:`stage_commit`. Mixed in first (``class C(MetadataCaching, SqlCatalog)``); the
    subclass calls :meth:`cached_table` where pyiceberg turns its catalog's row into a table.
    """

    def __init__(self, name: str, **properties: Any) -> None:
        super().__init__(name, **properties)
        self.parsed = ParsedMetadata()

    def cached_table(
        self, identifier: Identifier, location: str, load: Callable[[], Table]
    ) -> Table:
        """The table at ``location`` (:func:`table_from` over this catalog's parsed files)."""
        return table_from(self, self.parsed, identifier, location, load)

    def commit_table(
        self,
        table: Table,
        requirements: tuple[TableRequirement, ...],
        updates: tuple[TableUpdate, ...],
    ) -> CommitTableResponse:
        # The concrete catalog after this mixin (SqlCatalog, GlueCatalog) implements it.
        response = super().commit_table(table, requirements, updates)  # type: ignore[safe-super]
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

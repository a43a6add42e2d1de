"""Loading the home's Iceberg tables for reading, without the catalog's write machinery.

A local query only reads: it needs each table's current metadata file, and a FileIO that
opens local files. pyiceberg's ``SqlCatalog`` (:func:`catalog.iceberg.profiles.local_catalog`) gets
there through SQLAlchemy (~0.4 s of imports) and its default PyArrow FileIO imports
``pyarrow.dataset`` and pandas (~1 s more on first table load), in a process whose whole
budget is ~1.3x the bare imports of DuckDB, pyiceberg, sqlglot and pyarrow. So reads go:

* the metadata location from the catalog's own table (``iceberg_tables``, the schema
  pyiceberg's ``SqlCatalog`` and Spark's ``JdbcCatalog`` share), with :mod:`sqlite3`
  opened read-only, filtered exactly as ``SqlCatalog.load_table`` filters (catalog name,
  namespace, table name, and only TABLE rows);
* the metadata file parsed by pyiceberg (``FromInputFile``), the table built as
  ``SqlCatalog`` builds it, with :class:`views.iceberg_io.LocalFileIO` for local files.

Writes never come here: they keep using ``local_catalog`` (commits need its locking).

:func:`load_table` is how both engines load a table a query reads, from whichever catalog
they have (this one locally, Glue for Athena's ``--as-of``), so a missing table reads the same
on both: what exists, and what to do about it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from catalog.iceberg.names import CATALOG_NAME, NAMESPACE
from catalog.paths import LakehousePaths
from views.errors import UnknownTableError
from views.local_files import local_path

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.typedef import Identifier

__all__ = ["ReadOnlyCatalog", "TableSource", "load_table", "local_path"]


class TableSource(Protocol):
    """What the local engine needs of a catalog (``SqlCatalog`` has both, structurally)."""

    def load_table(self, identifier: str | Identifier) -> Table: ...

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]: ...


def load_table(catalog: TableSource, name: str, *, hint: str) -> Table:
    """``spotify.<name>`` from ``catalog``; a missing one names what exists, then ``hint``.

    ``hint`` is the engine's way to make the table exist (load a day locally, deploy the
    tables on AWS).
    """
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table((NAMESPACE, name))
    except NoSuchTableError as e:
        try:
            tables = [identifier[-1] for identifier in catalog.list_tables(NAMESPACE)]
        except NoSuchNamespaceError:
            tables = []
        from views.parsing import view_definitions  # sqlglot: only on this error

        known = ", ".join(sorted({*tables, *view_definitions()}))
        raise UnknownTableError(
            f"no table or view {NAMESPACE}.{name}; known: {known}. {hint}"
        ) from e


class ReadOnlyCatalog:
    """The home's tables at their current metadata, for reading (see the module docstring)."""

    def __init__(self, paths: LakehousePaths) -> None:
        self.paths = paths

    def _rows(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[str, str | None]]:
        uri = f"{Path(self.paths.catalog_db).resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as connection:
            columns = {row[1] for row in connection.execute("PRAGMA table_info(iceberg_tables)")}
            if not columns:
                return []
            typed = " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)"
            query = sql + (typed if "iceberg_type" in columns else "")
            return list(connection.execute(query, (CATALOG_NAME, *parameters)))

    def metadata_location(self, name: str) -> str | None:
        """``spotify.<name>``'s current metadata file, with sqlite3 only (no pyiceberg):
        what a query needs to find its plan in :mod:`views.plan_cache`."""
        rows = self._rows(
            "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ? "
            "AND table_namespace = ? AND table_name = ?",
            (NAMESPACE, name),
        )
        return rows[0][1] if rows and rows[0][1] else None

    def load_table(self, identifier: str | Identifier) -> Table:
        from pyiceberg.catalog import Catalog
        from pyiceberg.exceptions import NoSuchTableError

        from views.iceberg_io import table_at

        namespace = Catalog.namespace_to_string(Catalog.namespace_from(identifier))
        name = Catalog.table_name_from(identifier)
        rows = self._rows(
            "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ? "
            "AND table_namespace = ? AND table_name = ?",
            (namespace, name),
        )
        if not rows or not rows[0][1]:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{name}")
        return table_at((*Catalog.identifier_to_tuple(namespace), name), rows[0][1])

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        from pyiceberg.catalog import Catalog

        text = Catalog.namespace_to_string(namespace)
        rows = self._rows(
            "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ? "
            "AND table_namespace = ?",
            (text,),
        )
        return [(*Catalog.identifier_to_tuple(text), table) for table, _ in rows]

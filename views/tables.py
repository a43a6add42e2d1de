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
  ``SqlCatalog`` builds it, with :class:`LocalFileIO` for local files.

Writes never come here: they keep using ``local_catalog`` (commits need its locking).

:func:`load_table` is how both engines load a table a query reads, from whichever catalog
they have (this one locally, Glue for Athena's ``--as-of``), so a missing table reads the same
on both: what exists, and what to do about it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile

from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import NAMESPACE
from catalog.paths import LakehousePaths
from views.errors import UnknownTableError
from views.parsing import view_definitions

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.typedef import Identifier

_FILE_SCHEME = "file"


class TableSource(Protocol):
    """What the local engine needs of a catalog (``SqlCatalog`` has both, structurally)."""

    def load_table(self, identifier: str | Identifier) -> Table: ...

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]: ...


def load_table(catalog: TableSource, name: str, *, hint: str) -> Table:
    """``spotify.<name>`` from ``catalog``; a missing one names what exists, then ``hint``.

    ``hint`` is the engine's way to make the table exist (load a day locally, deploy the
    tables on AWS).
    """
    try:
        return catalog.load_table((NAMESPACE, name))
    except NoSuchTableError as e:
        try:
            tables = [identifier[-1] for identifier in catalog.list_tables(NAMESPACE)]
        except NoSuchNamespaceError:
            tables = []
        known = ", ".join(sorted({*tables, *view_definitions()}))
        raise UnknownTableError(
            f"no table or view {NAMESPACE}.{name}; known: {known}. {hint}"
        ) from e


def local_path(location: str) -> str | None:
    """The local path of an Iceberg file location, or ``None`` when it is not on this machine.

    Both spellings of a file URI occur: ``file:///tmp/x`` (pyiceberg) and ``file:/tmp/x``
    (Hadoop's ``Path``, which Spark's writers use); a bare absolute path is local too. The
    path is taken as written, never percent-decoded: Iceberg records paths unencoded.
    """
    if location.startswith("/"):
        return location
    parts = urlsplit(location)
    if parts.scheme == _FILE_SCHEME and parts.netloc in ("", "localhost"):
        return parts.path
    return None


class _LocalInputFile(InputFile):
    def __init__(self, location: str, path: str) -> None:
        super().__init__(location)
        self._path = path

    def __len__(self) -> int:
        return os.path.getsize(self._path)

    def exists(self) -> bool:
        return os.path.exists(self._path)

    def open(self, seekable: bool = True) -> InputStream:
        return open(self._path, "rb")  # the caller closes it (pyiceberg uses it as a context)


class LocalFileIO(FileIO):
    """Read-only FileIO over the local file system (``file://`` or absolute paths).

    pyiceberg uses it to read metadata and manifests (and data files, on the Arrow path);
    a query never writes, so ``new_output`` and ``delete`` refuse.
    """

    def new_input(self, location: str) -> InputFile:
        path = local_path(location)
        if path is None:
            raise ValueError(f"not a local file: {location}")
        return _LocalInputFile(location, path)

    def new_output(self, location: str) -> OutputFile:
        raise PermissionError(f"the local query engine does not write ({location})")

    def delete(self, location: str | InputFile | OutputFile) -> None:
        raise PermissionError(f"the local query engine does not delete ({location})")


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

    def load_table(self, identifier: str | Identifier) -> Table:
        from pyiceberg.catalog import Catalog

        namespace = Catalog.namespace_to_string(Catalog.namespace_from(identifier))
        name = Catalog.table_name_from(identifier)
        rows = self._rows(
            "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ? "
            "AND table_namespace = ? AND table_name = ?",
            (namespace, name),
        )
        if not rows or not rows[0][1]:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{name}")
        return _table((*Catalog.identifier_to_tuple(namespace), name), rows[0][1])

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        from pyiceberg.catalog import Catalog

        text = Catalog.namespace_to_string(namespace)
        rows = self._rows(
            "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ? "
            "AND table_namespace = ?",
            (text,),
        )
        return [(*Catalog.identifier_to_tuple(text), table) for table, _ in rows]


#: One instance for every local table: it holds no state, and pyiceberg keys its manifest
#: cache by FileIO, so sharing it lets later queries of a process reuse what it read.
_LOCAL_IO = LocalFileIO()


@lru_cache(maxsize=16)
def _metadata(metadata_location: str) -> TableMetadata:
    """A metadata file, parsed once per process: Iceberg never rewrites one (a commit writes
    a new file and points the catalog at it), so the location is a sound cache key."""
    from pyiceberg.serializers import FromInputFile

    return FromInputFile.table_metadata(_LOCAL_IO.new_input(metadata_location))


def _table(identifier: Identifier, metadata_location: str) -> Table:
    """The table as ``SqlCatalog`` builds it; a non-local file gets pyiceberg's own FileIO."""
    from pyiceberg.catalog.noop import NoopCatalog
    from pyiceberg.io import load_file_io
    from pyiceberg.serializers import FromInputFile
    from pyiceberg.table import Table

    if local_path(metadata_location) is not None:
        metadata = _metadata(metadata_location)
        local_data = local_path(metadata.location) is not None
        table_io = _LOCAL_IO if local_data else load_file_io(location=metadata.location)
    else:
        io = load_file_io(location=metadata_location)
        metadata = FromInputFile.table_metadata(io.new_input(metadata_location))
        table_io = load_file_io(metadata.properties, location=metadata_location)
    return Table(
        identifier=identifier,
        metadata=metadata,
        metadata_location=metadata_location,
        io=table_io,
        catalog=NoopCatalog("read-only"),
    )

"""The pyiceberg side of the local read path: a read-only local FileIO and the table loader.

Split from :mod:`views.tables` so that importing that module (the catalog read with
sqlite3) costs no pyiceberg: a query whose file plan is cached (:mod:`views.plan_cache`)
never comes here. :func:`table_at` builds the table as ``SqlCatalog`` does, with
:class:`LocalFileIO` for local files (pyiceberg's default PyArrow FileIO imports
``pyarrow.dataset`` and pandas, ~1 s on first use).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile

from views.local_files import local_path

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.typedef import Identifier


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


#: One instance for every local table: it holds no state, and pyiceberg keys its manifest
#: cache by FileIO, so sharing it lets later queries of a process reuse what it read.
_LOCAL_IO = LocalFileIO()


@lru_cache(maxsize=16)
def _metadata(metadata_location: str) -> TableMetadata:
    """A metadata file, parsed once per process: Iceberg never rewrites one (a commit writes
    a new file and points the catalog at it), so the location is a sound cache key."""
    from pyiceberg.serializers import FromInputFile

    return FromInputFile.table_metadata(_LOCAL_IO.new_input(metadata_location))


def table_at(identifier: Identifier, metadata_location: str) -> Table:
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

"""The read-only table path of local queries (views.tables) and the plan cache (views.scan).

Reads skip SQLAlchemy and the PyArrow FileIO for speed; these tests pin that they still
see exactly what the writers' catalog sees, refuse to write, and that nothing cached
outlives a commit.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from pyiceberg.exceptions import NoSuchTableError

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, NAMESPACE
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.iceberg_io import LocalFileIO
from views.local import LocalEngine
from views.tables import ReadOnlyCatalog

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
A = Artist("a" * 22, "Alpha")


def test_reads_the_same_table_as_the_writers_catalog(
    home: LakehousePaths, silver: SilverWriter
) -> None:
    silver.load(D1, {A: 10})
    written = local_catalog(home).load_table(ARTISTS_SILVER.identifier)

    read = ReadOnlyCatalog(home).load_table(ARTISTS_SILVER.identifier)

    assert read.metadata_location == written.metadata_location
    assert read.name() == written.name()
    assert read.metadata == written.metadata
    assert isinstance(read.io, LocalFileIO)
    assert ReadOnlyCatalog(home).list_tables(NAMESPACE) == [ARTISTS_SILVER.identifier]


def test_a_missing_table_is_pyicebergs_error(home: LakehousePaths) -> None:
    with pytest.raises(NoSuchTableError, match=r"spotify\.nothing_here"):
        ReadOnlyCatalog(home).load_table((NAMESPACE, "nothing_here"))


def test_the_read_only_io_refuses_to_write(home: LakehousePaths) -> None:
    io = LocalFileIO()
    target = (home.home / "x.txt").as_uri()
    with pytest.raises(PermissionError):
        io.new_output(target)
    with pytest.raises(PermissionError):
        io.delete(target)
    with pytest.raises(ValueError, match="not a local file"):
        io.new_input("s3://bucket/key")


def test_a_new_commit_is_seen_by_the_next_query_of_the_same_process(
    silver: SilverWriter, engine: LocalEngine
) -> None:
    silver.load(D1, {A: 10})
    sql = "SELECT count(*) AS n, max(followers) AS top FROM artists_silver"
    assert engine.execute(sql).rows == ((1, 10),)

    silver.load(D2, {A: 25})  # a new metadata file: cached metadata and plans do not apply

    assert engine.execute(sql).rows == ((2, 25),)
    assert LocalEngine(silver.paths).execute(sql).rows == ((2, 25),)


def test_a_query_imports_neither_sqlalchemy_nor_pandas(
    silver: SilverWriter, home: LakehousePaths
) -> None:
    """The speed contract of the query path: no catalog ORM, no pandas, no pyarrow.dataset."""
    silver.load(D1, {A: 10})
    code = (
        "import sys\n"
        "from catalog.paths import LakehousePaths\n"
        "from views.open_engine import open_engine\n"
        f"rows = open_engine('local', LakehousePaths.resolve({str(home.home)!r}))"
        ".execute('SELECT count(*) FROM spotify_gold_view').rows\n"
        "assert rows == ((1,),), rows\n"
        "heavy = {'sqlalchemy', 'pandas', 'pyarrow.dataset', 'pyathena', 'fsspec'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"

"""The local engine: name resolution, projection, explicit versions and clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from catalog.errors import LakehouseError
from catalog.iceberg.tags import tag_name
from catalog.iceberg.timetravel import SnapshotNotFoundError
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.errors import QueryError, UnknownTableError
from views.local import LocalEngine
from views.plan import plan_query

ANN = Artist("a1", "Ann")
DAY1, DAY2 = date(2026, 9, 1), date(2026, 9, 2)


def test_empty_table_reads_as_no_rows(engine: LocalEngine) -> None:
    result = engine.execute("SELECT * FROM Spotify_Gold_View")
    assert result.rows == ()
    assert "follower_rank" in result.columns
    assert result.reads[0].snapshot_id is None


@pytest.mark.parametrize(
    "name",
    [
        "artists_silver",
        "spotify.artists_silver",
        "SPOTIFY.Artists_Silver",
        '"spotify"."artists_silver"',
        "awsdatacatalog.spotify.artists_silver",
    ],
)
def test_table_names_resolve_in_spotify(
    silver: SilverWriter, engine: LocalEngine, name: str
) -> None:
    silver.load(DAY1, {ANN: 5})
    assert engine.execute(f"SELECT count(*) AS n FROM {name}").rows == ((1,),)


def test_count_star_reads_one_column_and_ctes_are_not_tables(
    silver: SilverWriter, engine: LocalEngine
) -> None:
    silver.load(DAY1, {ANN: 5})
    sql = "WITH artists_silver AS (SELECT 1 AS x) SELECT x FROM artists_silver"
    assert plan_query(sql).tables == {}
    assert engine.execute(sql).rows == ((1,),)


def test_explicit_versions(silver: SilverWriter, engine: LocalEngine) -> None:
    first = silver.load(DAY1, {ANN: 5})
    silver.load(DAY2, {ANN: 7})
    sql = "SELECT count(*) FROM artists_silver FOR VERSION AS OF {v}"

    assert engine.execute(sql.format(v=first)).rows == ((1,),)
    assert engine.execute(sql.format(v=f"'{tag_name(DAY2)}'")).rows == ((2,),)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    by_time = f"SELECT count(*) FROM artists_silver FOR TIMESTAMP AS OF TIMESTAMP '{now} UTC'"
    assert engine.execute(by_time).rows == ((2,),)
    with pytest.raises(SnapshotNotFoundError, match="spotify-lakehouse snapshots"):
        engine.execute(sql.format(v=12345))
    early = "SELECT 1 FROM artists_silver FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00 UTC'"
    with pytest.raises(SnapshotNotFoundError, match="had no snapshot"):
        engine.execute(early)


def test_a_versioned_table_answers_to_its_own_name(
    silver: SilverWriter, engine: LocalEngine
) -> None:
    """Columns qualified by the table's name still resolve when it is read at a version."""
    first = silver.load(DAY1, {ANN: 5})
    silver.load(DAY2, {ANN: 7})
    sql = (
        "SELECT max(Artists_Silver.followers) AS top, max(now.followers) AS latest "
        f"FROM artists_silver FOR VERSION AS OF {first} CROSS JOIN artists_silver AS now"
    )
    assert engine.execute(sql).rows == ((5, 7),)


def test_a_view_cannot_be_versioned(engine: LocalEngine) -> None:
    with pytest.raises(QueryError, match="use --as-of"):
        engine.execute("SELECT * FROM Spotify_Gold_View FOR VERSION AS OF 1")


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("SELECT * FROM nope", UnknownTableError, "known: artists_silver, spotify_gold_view"),
        ("SELECT * FROM other.artists_silver", UnknownTableError, "outside the 'spotify'"),
        ('SELECT * FROM "artists_silver$nope"', UnknownTableError, r"artists_silver\$snapshots"),
        ('SELECT * FROM "spotify_gold_view$files"', UnknownTableError, "is a view"),
        ("DROP TABLE artists_silver", QueryError, "only queries"),
        ("SELECT 1; SELECT 2", QueryError, "one SQL statement"),
        ("SELECT FROM WHERE (", QueryError, "cannot parse"),
        ("SELECT no_such_column FROM artists_silver", QueryError, "cannot be resolved"),
        ("SELECT x FROM artists_silver WHERE x = 1", QueryError, "Column 'x' cannot be resolved"),
    ],
)
def test_errors_say_what_to_do(
    engine: LocalEngine, sql: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        engine.execute(sql)
    assert isinstance(raised.value, LakehouseError)


def test_a_home_without_catalog_is_an_error(tmp_path: Path) -> None:
    engine = LocalEngine(LakehousePaths.resolve(tmp_path / "missing"))
    with pytest.raises(UnknownTableError, match="no lakehouse catalog"):
        engine.execute("SELECT * FROM Spotify_Gold_View")
    assert not (tmp_path / "missing").exists()


def test_records_have_lower_case_keys(silver: SilverWriter, engine: LocalEngine) -> None:
    silver.load(DAY1, {ANN: 5})
    records = engine.execute("SELECT Name AS Name, FOLLOWERS FROM artists_silver").to_records()
    assert records == [{"name": "Ann", "followers": 5}]

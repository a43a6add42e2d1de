"""The gold view on DuckDB equals the contract recomputed in Python."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlglot

from tests.views.conftest import Artist, SilverWriter
from tests.views.expected import gold_rows
from views.local import LocalEngine
from views.plan import plan_query, view_definitions
from views.sqlfiles import GOLD_VIEW, load_sql, sql_names

ANN = Artist("4YRxDV8wJFPHPTeXepOstw", "Ann")
BO = Artist("06HL4z0CvFAxyc27GXpf02", "Bo")
CY = Artist("6eUKZXaKkcviH0Ku9w2n3V", "Cy")
DAY1 = date(2026, 11, 1)


def _load_history(silver: SilverWriter) -> None:
    """Four load days with a gap (day 3 missing), a loss, a tie and a late-comer."""
    silver.load(DAY1, {ANN: 1_000, BO: 5_000})
    silver.load(DAY1 + timedelta(1), {ANN: 1_300, BO: 4_900, CY: 1_300})
    # outage on day 3: the next gain spans two days
    silver.load(DAY1 + timedelta(3), {ANN: 1_900, BO: 4_700, CY: None})
    silver.load(DAY1 + timedelta(4), {ANN: 2_000, BO: 4_700, CY: 2_000})


def test_gold_view_matches_the_contract(silver: SilverWriter, engine: LocalEngine) -> None:
    _load_history(silver)

    result = engine.execute("SELECT * FROM Spotify_Gold_View ORDER BY date, artist_id")

    assert result.columns == (
        "artist_id",
        "name",
        "date",
        "followers",
        "popularity",
        "followers_gained",
        "days_since_previous",
        "followers_gained_per_day",
        "follower_rank",
    )
    expected = gold_rows(silver.rows())
    assert result.to_records() == expected
    gap = next(r for r in expected if r["artist_id"] == ANN.artist_id and r["date"].day == 4)
    assert (gap["followers_gained"], gap["days_since_previous"]) == (600, 2)
    assert gap["followers_gained_per_day"] == 300.0
    tie = [r["follower_rank"] for r in expected if r["date"].day == 2]
    assert sorted(tie) == [1, 2, 2]


def test_gold_view_types_are_python_values(silver: SilverWriter, engine: LocalEngine) -> None:
    _load_history(silver)
    row = engine.execute(
        "SELECT date, followers_gained_per_day FROM spotify.spotify_gold_view "
        "WHERE followers_gained IS NOT NULL LIMIT 1"
    ).to_records()[0]
    assert isinstance(row["date"], date)
    assert isinstance(row["followers_gained_per_day"], float)


def test_gain_is_ordered_by_date_not_followers(silver: SilverWriter, engine: LocalEngine) -> None:
    """The original defect: LAG ordered by followers turns a loss into a gain."""
    silver.load(DAY1, {BO: 5_000})
    silver.load(DAY1 + timedelta(1), {BO: 4_000})
    rows = engine.execute(
        "SELECT followers_gained FROM Spotify_Gold_View WHERE date = DATE '2026-11-02'"
    ).rows
    assert rows == ((-1_000,),)


def test_view_reads_only_the_columns_it_needs() -> None:
    plan = plan_query("SELECT name FROM Spotify_Gold_View")
    columns = plan.tables["artists_silver"]
    assert columns is not None
    assert {"artist_id", "snapshot_date", "name", "followers", "popularity"} <= columns
    assert not {"genres", "image_url", "fetched_at", "source_file"} & columns
    assert [v.name for v in plan.views] == [GOLD_VIEW]


@pytest.mark.parametrize("name", sql_names())
def test_every_sql_file_translates_to_duckdb(name: str) -> None:
    statements = sqlglot.parse(load_sql(name), read="athena")
    assert len(statements) == 1
    assert statements[0] is not None
    duckdb_sql = statements[0].sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert sqlglot.parse_one(duckdb_sql, read="duckdb") is not None


def test_gold_view_file_defines_the_contract_view() -> None:
    views = view_definitions()
    assert list(views) == [GOLD_VIEW]
    assert views[GOLD_VIEW].qualified_name == "spotify.spotify_gold_view"
    assert "CREATE OR REPLACE VIEW spotify.spotify_gold_view" in views[GOLD_VIEW].athena_sql

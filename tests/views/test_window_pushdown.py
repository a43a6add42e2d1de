"""A filter on the gold view's date, read below its windows, answers as the full read does.

The translator narrows the silver read of a date-filtered gold view (``views.predicates``:
the filtered days, ``LOOKBACK_DAYS`` before them, and the older rows of artists with no row
in those days). Each query here runs twice on the real engine: as written (narrowed) and
with the view behind a subquery, which no filter reaches (the full read, as before). The
history has what makes LAG's previous row hard to find: a gap longer than the lookback, an
artist that leaves the roster, one that joins late, NULL followers and every-other-day
loads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlglot

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from tests.views.expected import gold_rows
from views.local import LocalEngine
from views.plan import plan_query
from views.predicates import LOOKBACK_DAYS, date_windows
from views.sqlfiles import load_sql

ANN = Artist("ann", "Ann")  # every day
BO = Artist("bo", "Bo")  # days 0-5, then back on day 17: a gap longer than the lookback
CY = Artist("cy", "Cy")  # days 0-10, then leaves the roster
DI = Artist("di", "Di")  # joins on day 15
EV = Artist("ev", "Ev")  # every other day, NULL followers on day 12
BASE = date(2026, 10, 1)
DAYS = 21


def _followers(artist: Artist, n: int) -> int | None:
    if artist is EV and n == 12:
        return None
    return 1_000 * (ord(artist.artist_id[0]) - 96) + 7 * n * n


def _present(artist: Artist, n: int) -> bool:
    return {
        ANN: True,
        BO: n <= 5 or n >= 17,
        CY: n <= 10,
        DI: n >= 15,
        EV: n % 2 == 0,
    }[artist]


def _load(silver: SilverWriter, base: date) -> None:
    for n in range(DAYS):
        silver.load(
            base + timedelta(n),
            {a: _followers(a, n) for a in (ANN, BO, CY, DI, EV) if _present(a, n)},
        )


@pytest.fixture(scope="module")
def history_home(tmp_path_factory: pytest.TempPathFactory) -> LakehousePaths:
    """One home for the read-only tests here (no test writes to it)."""
    paths = LakehousePaths.resolve(tmp_path_factory.mktemp("pushdown") / "lakehouse").ensure()
    ensure_table(local_catalog(paths), ARTISTS_SILVER)
    _load(SilverWriter(paths), BASE)
    return paths


@pytest.fixture
def history(history_home: LakehousePaths) -> SilverWriter:
    return SilverWriter(history_home)


@pytest.fixture
def reader(history_home: LakehousePaths) -> LocalEngine:
    return LocalEngine(history_home)


def _day(n: int) -> str:
    return f"DATE '{(BASE + timedelta(n)).isoformat()}'"


#: How the translated SQL reads silver once narrowed (both forms).
_NARROWED = 'FROM "spotify"."artists_silver" WHERE'

FILTERS = [
    f"date = {_day(17)}",  # Bo's first day back: previous row 12 days earlier
    f"date = {_day(15)}",  # Di's first day: no previous row at all
    f"date = {_day(11)}",  # the day after Cy left
    f"date = {_day(0)}",  # the first day: nothing before it
    f"date = {_day(30)}",  # no data
    f"CAST(date AS DATE) = {_day(17)}",
    f"date >= {_day(16)}",
    f"date > {_day(16)}",
    f"date > {_day(12)} AND date <= {_day(18)}",
    f"date BETWEEN {_day(13)} AND {_day(17)}",
    f"date <= {_day(4)}",
    f"date < {_day(6)}",
    f"date >= {_day(17)} AND followers_gained IS NOT NULL",
    f"date >= date_add('day', -3, {_day(20)})",
]


@pytest.mark.parametrize("where", FILTERS)
def test_narrowed_read_equals_full_read(reader: LocalEngine, where: str) -> None:
    narrowed = f"SELECT * FROM Spotify_Gold_View WHERE {where} ORDER BY date, artist_id"
    full = (
        f"SELECT * FROM (SELECT * FROM Spotify_Gold_View) AS g WHERE {where} "
        "ORDER BY date, artist_id"
    )
    assert _NARROWED not in plan_query(full).to_sql("duckdb")
    assert reader.execute(narrowed).rows == reader.execute(full).rows


def test_the_translation_narrows_the_read() -> None:
    """The filters above do reach the silver read (or the comparison proves nothing)."""
    for where in FILTERS:
        sql = plan_query(f"SELECT * FROM Spotify_Gold_View WHERE {where}").to_sql("duckdb")
        assert _NARROWED in sql, where
    top5 = plan_query(load_sql("top_5_most_followed_today")).to_sql("duckdb")
    assert "SEMI JOIN" in top5


def test_a_gap_longer_than_the_lookback_finds_the_older_row(
    history: SilverWriter, reader: LocalEngine
) -> None:
    assert LOOKBACK_DAYS < 17 - 5
    rows = reader.execute(
        f"SELECT artist_id, followers_gained, days_since_previous FROM Spotify_Gold_View "
        f"WHERE date = {_day(17)} ORDER BY artist_id"
    ).to_records()
    bo = next(r for r in rows if r["artist_id"] == BO.artist_id)
    assert bo["days_since_previous"] == 12
    back, before = _followers(BO, 17), _followers(BO, 5)
    assert back is not None
    assert before is not None
    assert bo["followers_gained"] == back - before
    expected = [
        {k: r[k] for k in ("artist_id", "followers_gained", "days_since_previous")}
        for r in gold_rows(history.rows())
        if r["date"] == BASE + timedelta(17)
    ]
    assert rows == sorted(expected, key=lambda r: r["artist_id"])


def test_ranks_of_a_narrowed_day_count_every_artist_of_that_day(
    history: SilverWriter, reader: LocalEngine
) -> None:
    rows = reader.execute(
        f"SELECT artist_id, follower_rank FROM Spotify_Gold_View WHERE date = {_day(18)} "
        "ORDER BY follower_rank, artist_id"
    ).rows
    expected = sorted(
        (r["artist_id"], r["follower_rank"])
        for r in gold_rows(history.rows())
        if r["date"] == BASE + timedelta(18)
    )
    assert sorted(rows) == expected
    assert len(rows) == 4  # Ann, Bo, Di, Ev on an even day


@pytest.mark.parametrize("question", ["top_5_most_followed_today", "top_gainers_7d"])
def test_questions_on_today_equal_the_full_read(
    silver: SilverWriter, engine: LocalEngine, question: str
) -> None:
    _load(silver, datetime.now(UTC).date() - timedelta(DAYS - 1))
    sql = load_sql(question)
    statement = sqlglot.parse_one(sql, read="athena")
    table = statement.find(sqlglot.exp.Table)
    assert table is not None
    table.replace(sqlglot.parse_one("(SELECT * FROM Spotify_Gold_View) AS Spotify_Gold_View"))
    full = statement.sql(dialect="athena")
    assert "SEMI JOIN" in plan_query(sql).to_sql("duckdb")
    assert engine.execute(sql).rows == engine.execute(full).rows


@pytest.mark.parametrize(
    "body",
    [
        "SELECT d, lead(x) OVER (PARTITION BY k ORDER BY d) AS y FROM spotify.t",
        "SELECT d, lag(x, 2) OVER (PARTITION BY k ORDER BY d) AS y FROM spotify.t",
        "SELECT d, lag(x) OVER (PARTITION BY k ORDER BY d DESC) AS y FROM spotify.t",
        "SELECT d, sum(x) OVER (PARTITION BY k ORDER BY d) AS y FROM spotify.t",
        "SELECT d, lag(x) OVER (PARTITION BY k ORDER BY d) AS y FROM spotify.t WHERE x > 0",
        "SELECT d, lag(x) OVER (ORDER BY d) AS y FROM spotify.t",
        "SELECT d + 1 AS d, lag(x) OVER (PARTITION BY k ORDER BY d) AS y FROM spotify.t",
        "SELECT d, count(*) AS y FROM spotify.t GROUP BY d",
        "SELECT a.d, lag(a.x) OVER (PARTITION BY a.k ORDER BY a.d) AS y "
        "FROM spotify.t AS a JOIN spotify.t AS b ON a.k = b.k",
        "SELECT d, lag(x) OVER (PARTITION BY k ORDER BY d) AS y, "
        "lag(x) OVER (PARTITION BY x ORDER BY d) AS z FROM spotify.t",
    ],
)
def test_other_window_shapes_are_not_narrowed(body: str) -> None:
    from views.dialect import typed_tree

    relations = {"t": {"d": "DATE", "k": "VARCHAR", "x": "BIGINT"}}
    typed = typed_tree(sqlglot.parse_one(body, read="athena"), relations)
    assert isinstance(typed, sqlglot.exp.Query)
    assert date_windows(typed, "d") is None


def test_the_gold_view_shape_is_recognised() -> None:
    from views.dialect import typed_tree

    relations = {"t": {"d": "DATE", "k": "VARCHAR", "x": "BIGINT"}}
    body = (
        "WITH p AS (SELECT k, d, x, lag(x) OVER (PARTITION BY k ORDER BY d) AS px FROM "
        "spotify.t) SELECT k, d AS day, x - px AS gain, rank() OVER (PARTITION BY d ORDER "
        "BY x DESC) AS r FROM p"
    )
    typed = typed_tree(sqlglot.parse_one(body, read="athena"), relations)
    assert isinstance(typed, sqlglot.exp.Query)
    found = date_windows(typed, "day")
    assert found is not None
    assert (found.table_name, found.date_column, found.key) == ("t", "d", "k")
    assert date_windows(typed, "gain") is None

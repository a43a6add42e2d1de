"""Every library query in views/sql: local answers equal golden rows computed here.

The golden rows come from :mod:`tests.views.expected` (the gold view recomputed in Python
from the contract) and the per-query rules below, written from each file's header comment,
not from its SQL. The data has gaps, a loss, an artist absent from the latest day, a
single-day artist and days outside the 7- and 30-day windows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.views.conftest import Artist, SilverWriter
from tests.views.expected import gold_rows
from views.local import LocalEngine
from views.plan import parse_athena, plan_query
from views.sqlfiles import (
    ARTISTS_LOST_FOLLOWERS,
    DATA_FRESHNESS,
    POPULARITY_VS_GROWTH,
    QUERY_LIBRARY,
    RANK_CHANGES,
    TOP_GAINERS_7D,
    TOP_GAINERS_30D,
    load_sql,
)

TODAY = datetime.now(UTC).date()
ARTISTS = [Artist(f"id{i:02d}", f"Artist {i}") for i in range(12)]
GAPPY, LOSER, GONE, SOLO = ARTISTS[0], ARTISTS[1], ARTISTS[2], Artist("solo", "Solo")


def _followers(i: int, n: int) -> int:
    """Artist i on day n: growers of different speeds, one that loses now and then."""
    if i == 0:
        return 900_000 + 50_000 * n  # the fastest grower, with the gap
    if i == 1:
        return 5_000_000 - 700 * n + (900 if n % 5 == 0 else 0)
    return 1_000_000 * (i + 1) + (i + 1) * 37 * n * n + 11 * n


@pytest.fixture
def loaded(silver: SilverWriter) -> list[dict[str, Any]]:
    offsets = [40, 33, 31, 29, 20, 12, 9, 7, 6, 4, 3, 1, 0]
    for n in sorted(offsets, reverse=True):
        day = TODAY - timedelta(days=n)
        counts: dict[Artist, int | None] = {}
        for i, artist in enumerate(ARTISTS):
            if artist == GAPPY and n in {7, 6, 4}:
                continue  # an outage for one artist: its next gain spans the gap
            if artist == GONE and n == 0:
                continue  # missing from the latest load
            counts[artist] = _followers(i, 40 - n)
        if n == 0:
            counts[SOLO] = 123
        popularity = {a: 40 + (i * 7 + n) % 50 for i, a in enumerate(ARTISTS)}
        silver.load(day, counts, popularity=popularity)
    return silver.rows()


def _window(gold: list[dict[str, Any]], days: int) -> dict[str, list[dict[str, Any]]]:
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in gold:
        if TODAY - timedelta(days=days) < row["date"] <= TODAY:
            by_artist[row["artist_id"]].append(row)
    return by_artist


def _rate(rows: list[dict[str, Any]]) -> tuple[int | None, int | None, float | None]:
    paired = [r for r in rows if r["followers_gained"] is not None]
    if not paired:
        return None, None, None
    gained = sum(r["followers_gained"] for r in paired)
    days = sum(r["days_since_previous"] for r in paired)
    return gained, days, gained / days


def golden_top_gainers(gold: list[dict[str, Any]], days: int) -> list[tuple[Any, ...]]:
    rows = []
    for artist_id, window in _window(gold, days).items():
        latest = max(window, key=lambda r: r["date"])
        gained, covered, rate = _rate(window)
        rows.append((artist_id, latest["name"], latest["followers"], gained, covered, rate))
    rows.sort(key=lambda r: (r[5] is None, -(r[5] or 0), r[0]))
    return rows[:10]


def golden_rank_changes(gold: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    latest_day = max(r["date"] for r in gold)
    out = []
    for row in gold:
        if row["date"] != latest_day:
            continue
        earlier = [r for r in gold if r["artist_id"] == row["artist_id"] and r["date"] < latest_day]
        previous = max(earlier, key=lambda r: r["date"]) if earlier else None
        previous_rank = previous["follower_rank"] if previous else None
        change = previous_rank - row["follower_rank"] if previous_rank is not None else None
        out.append(
            (
                row["artist_id"],
                row["name"],
                row["date"],
                row["followers"],
                row["follower_rank"],
                previous["date"] if previous else None,
                previous_rank,
                change,
            )
        )
    return sorted(out, key=lambda r: (r[4], r[0]))


def golden_lost(gold: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = [
        (
            r["artist_id"],
            r["name"],
            r["date"],
            r["followers"],
            -r["followers_gained"],
            r["days_since_previous"],
            -r["followers_gained"] / r["days_since_previous"],
        )
        for r in gold
        if r["followers_gained"] is not None and r["followers_gained"] < 0
    ]
    return sorted(out, key=lambda r: (-r[2].toordinal(), -r[4], r[0]))


def golden_popularity(gold: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for artist_id, window in _window(gold, 30).items():
        ordered = sorted(window, key=lambda r: r["date"])
        first, last = ordered[0], ordered[-1]
        _, _, rate = _rate(ordered)
        per_million = None if rate is None else 1e6 * rate / last["followers"]
        out.append(
            (
                artist_id,
                last["name"],
                last["popularity"],
                last["popularity"] - first["popularity"],
                last["followers"],
                rate,
                per_million,
            )
        )
    return sorted(out, key=lambda r: (-r[2], r[0]))


def golden_freshness(silver: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in silver:
        seen = latest.get(row["artist_id"])
        if seen is None or row["snapshot_date"] > seen["snapshot_date"]:
            latest[row["artist_id"]] = row
    overall = max(r["snapshot_date"] for r in silver)
    out = [
        (
            artist_id,
            row["name"],
            row["snapshot_date"],
            None,  # fetched_at: the test writer leaves it empty
            overall,
            (overall - row["snapshot_date"]).days,
            (TODAY - row["snapshot_date"]).days,
        )
        for artist_id, row in latest.items()
    ]
    return sorted(out, key=lambda r: (-r[5], r[0]))


def _same(actual: tuple[tuple[object, ...], ...], expected: list[tuple[Any, ...]]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert len(got) == len(want)
        for value, wanted in zip(got, want, strict=True):
            if isinstance(wanted, float):
                assert value == pytest.approx(wanted, rel=1e-12), (got, want)
            else:
                assert value == wanted, (got, want)


def test_top_gainers_7d(engine: LocalEngine, loaded: list[dict[str, Any]]) -> None:
    result = engine.execute(load_sql(TOP_GAINERS_7D))
    expected = golden_top_gainers(gold_rows(loaded), 7)
    assert result.columns == (
        "artist_id",
        "name",
        "followers",
        "followers_gained",
        "days_covered",
        "followers_gained_per_day",
    )
    _same(result.rows, expected)
    gappy = next(r for r in result.to_records() if r["artist_id"] == GAPPY.artist_id)
    assert gappy["days_covered"] == 9  # its gap after day -9 spans 6 days, then 3 single days
    assert type(gappy["followers_gained"]) is int  # BIGINT, as on Athena (not HUGEINT)


def test_top_gainers_30d(engine: LocalEngine, loaded: list[dict[str, Any]]) -> None:
    _same(engine.execute(load_sql(TOP_GAINERS_30D)).rows, golden_top_gainers(gold_rows(loaded), 30))


def test_rank_changes(engine: LocalEngine, loaded: list[dict[str, Any]]) -> None:
    result = engine.execute(load_sql(RANK_CHANGES))
    _same(result.rows, golden_rank_changes(gold_rows(loaded)))
    assert GONE.artist_id not in result.column("artist_id")
    assert any(change not in (None, 0) for change in result.column("rank_change"))


def test_artists_lost_followers(engine: LocalEngine, loaded: list[dict[str, Any]]) -> None:
    result = engine.execute(load_sql(ARTISTS_LOST_FOLLOWERS))
    expected = golden_lost(gold_rows(loaded))
    assert expected  # the data has losses
    _same(result.rows, expected)
    assert set(result.column("artist_id")) == {LOSER.artist_id}


def test_popularity_vs_growth(engine: LocalEngine, loaded: list[dict[str, Any]]) -> None:
    _same(engine.execute(load_sql(POPULARITY_VS_GROWTH)).rows, golden_popularity(gold_rows(loaded)))


def test_data_freshness(engine: LocalEngine, loaded: list[dict[str, Any]]) -> None:
    result = engine.execute(load_sql(DATA_FRESHNESS))
    _same(result.rows, golden_freshness(loaded))
    assert result.rows[0][0] == GONE.artist_id  # the one behind the latest load sorts first


@pytest.mark.parametrize("name", sorted(QUERY_LIBRARY))
def test_every_library_query_translates(name: str) -> None:
    sql = load_sql(name)
    parsed = parse_athena(sql)
    assert parsed.sql(dialect="athena")  # round-trips as Athena SQL
    duckdb_sql = plan_query(sql).to_sql("duckdb")
    lowered = duckdb_sql.lower()
    assert "max_by(" not in lowered
    assert "min_by(" not in lowered
    assert "date_add('day'" not in lowered
    assert '"spotify".' in lowered  # every table and view qualified in the spotify schema


def test_library_names_run_from_the_cli_argument(
    loaded: list[dict[str, Any]],
    home: Any,
    engine: LocalEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``query NAME`` runs the library file of that name: the CLI's JSON is the file's
    answer, row for row, for every query of the library."""
    import json

    from infra.cli.main import main

    assert set(QUERY_LIBRARY) >= {
        TOP_GAINERS_7D,
        TOP_GAINERS_30D,
        RANK_CHANGES,
        ARTISTS_LOST_FOLLOWERS,
        POPULARITY_VS_GROWTH,
        DATA_FRESHNESS,
    }
    for name in sorted(QUERY_LIBRARY):
        capsys.readouterr()
        main(["--home", str(home.home), "query", name, "--format", "json"])
        printed = json.loads(capsys.readouterr().out)
        expected = engine.execute(load_sql(name))
        assert len(printed) == len(expected.rows), name
        assert [list(r.values()) for r in printed][:1] == [
            [v.isoformat() if isinstance(v, date) else v for v in row] for row in expected.rows[:1]
        ], name

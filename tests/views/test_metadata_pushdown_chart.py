"""Metadata tables as Athena names them, scans that read only what a query needs, the
chart, and ``views deploy`` on the local engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.expressions import AlwaysTrue

import views.local
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tags import tag_name
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.chart import chart_series, write_chart
from views.deploy import deploy_views
from views.errors import AthenaRejectsError
from views.local import LocalEngine
from views.scan import PlannedRead

ANN, BO = Artist("a1", "Ann"), Artist("b2", "Bo")
SEPT, OCT1, OCT2 = date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2)


@pytest.fixture
def three_days(silver: SilverWriter) -> list[int]:
    return [
        silver.load(SEPT, {ANN: 10, BO: 20}),
        silver.load(OCT1, {ANN: 12, BO: 19}),
        silver.load(OCT2, {ANN: 15, BO: 25}),
    ]


def test_metadata_tables(silver: SilverWriter, engine: LocalEngine, three_days: list[int]) -> None:
    snapshots = engine.execute(
        "SELECT snapshot_id, operation, summary['snapshot_date'] AS day "
        'FROM "artists_silver$snapshots" ORDER BY committed_at'
    )
    assert snapshots.column("snapshot_id") == three_days
    assert snapshots.column("day") == [d.isoformat() for d in (SEPT, OCT1, OCT2)]

    history = engine.execute(
        'SELECT snapshot_id, is_current_ancestor FROM spotify."artists_silver$history"'
    )
    assert sorted(history.column("snapshot_id")) == sorted(three_days)
    assert all(history.column("is_current_ancestor"))

    refs = engine.execute('SELECT name, type, snapshot_id FROM "artists_silver$refs" ORDER BY name')
    assert refs.rows == (
        ("main", "BRANCH", three_days[2]),
        (tag_name(SEPT), "TAG", three_days[0]),
        (tag_name(OCT1), "TAG", three_days[1]),
        (tag_name(OCT2), "TAG", three_days[2]),
    )

    partitions = engine.execute(
        'SELECT record_count, file_count, total_size FROM "artists_silver$partitions" '
        "ORDER BY record_count"
    )
    assert partitions.column("record_count") == [2, 4]  # September, October
    assert all(size > 0 for size in partitions.column("total_size"))

    files = engine.execute(
        'SELECT count(*) AS n, sum(record_count) AS rows FROM "artists_silver$files"'
    )
    assert files.rows == ((3, 6),)  # one file per append
    manifests = engine.execute('SELECT count(*) AS n FROM "artists_silver$manifests"')
    assert manifests.rows[0][0] >= 1


def _captured_reads(monkeypatch: pytest.MonkeyPatch) -> list[PlannedRead]:
    reads: list[PlannedRead] = []
    plan = views.local.plan_read

    def spy(*args: Any, **kwargs: Any) -> PlannedRead:
        read = plan(*args, **kwargs)
        reads.append(read)
        return read

    monkeypatch.setattr(views.local, "plan_read", spy)
    return reads


@pytest.mark.parametrize(
    ("where", "expected_rows", "files_read"),
    [
        ("snapshot_date >= DATE '2026-10-01'", 4, 2),
        ("snapshot_date BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'", 4, 2),
        # the file of 2026-10-01 is skipped too: its min/max stats exclude the day
        ("s.snapshot_date = CAST('2026-10-02' AS DATE) AND followers > 0", 2, 1),
        ("snapshot_date IN (DATE '2026-10-01', DATE '2026-10-02') AND artist_id = 'a1'", 2, 2),
        ("snapshot_date > date_add('day', -1, DATE '2026-10-01')", 4, 2),
        ("snapshot_date >= CURRENT_DATE - INTERVAL '3650' DAY", 6, 3),
    ],
)
def test_where_on_snapshot_date_prunes_partitions(
    engine: LocalEngine,
    three_days: list[int],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    expected_rows: int,
    files_read: int,
) -> None:
    reads = _captured_reads(monkeypatch)

    result = engine.execute(f"SELECT count(*) AS n FROM artists_silver s WHERE {where}")

    assert result.rows == ((expected_rows,),)
    (read,) = reads
    assert read.row_filter != AlwaysTrue()
    assert len(read.files) == files_read  # September's partition is never opened
    assert read.arrow is None  # DuckDB reads the Parquet files itself


def test_date_compared_with_a_string_is_refused_as_on_athena(
    engine: LocalEngine, three_days: list[int]
) -> None:
    with pytest.raises(AthenaRejectsError, match=r"Cannot apply operator: date >= varchar\(10\)"):
        engine.execute("SELECT count(*) FROM artists_silver WHERE snapshot_date >= '2026-10-02'")


@pytest.mark.parametrize(
    "sql",
    [
        # a filter on the view must not reach silver: the first day would lose its gain
        "SELECT followers_gained FROM Spotify_Gold_View WHERE date >= DATE '2026-10-01'",
        # OR is not split: it needs every row either side may keep
        "SELECT count(*) FROM artists_silver "
        "WHERE snapshot_date = DATE '2026-10-01' OR followers > 0",
        # a self-join where one side is unfiltered reads everything
        "SELECT count(*) FROM artists_silver a JOIN artists_silver b ON a.artist_id = b.artist_id "
        "WHERE a.snapshot_date = DATE '2026-10-01'",
    ],
)
def test_filters_that_would_change_answers_are_not_pushed(
    engine: LocalEngine, three_days: list[int], monkeypatch: pytest.MonkeyPatch, sql: str
) -> None:
    reads = _captured_reads(monkeypatch)
    engine.execute(sql)
    assert all(read.row_filter == AlwaysTrue() for read in reads)
    assert all(len(read.files) == 3 for read in reads)


def test_view_filter_keeps_the_gain_of_the_first_day_in_range(
    engine: LocalEngine, three_days: list[int]
) -> None:
    result = engine.execute(
        "SELECT artist_id, followers_gained FROM Spotify_Gold_View "
        "WHERE date = DATE '2026-10-01' ORDER BY 1"
    )
    assert result.rows == (("a1", 2), ("b2", -1))


def test_chart_png_and_self_contained_html(
    engine: LocalEngine, three_days: list[int], tmp_path: Path
) -> None:
    series = chart_series(engine, top=1, days=30)
    assert [(s.artist_id, s.dates, s.followers) for s in series] == [
        ("b2", [SEPT, OCT1, OCT2], [20, 19, 25])
    ]
    assert series[0].gained_per_day == [None, -1.0, 6.0]

    files = write_chart(engine, tmp_path / "charts" / "followers.html", top=2, days=2)

    assert files.png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = files.html.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "Ann" in page
    assert "Bo" in page
    with pytest.raises(ValueError, match=r"\.png or \.html"):
        write_chart(engine, tmp_path / "chart.svg")


def test_views_deploy_locally_checks_the_view(home: LakehousePaths, engine: LocalEngine) -> None:
    assert deploy_views(engine, local_catalog(home)) == ["spotify.spotify_gold_view"]

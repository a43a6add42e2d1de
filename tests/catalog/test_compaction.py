"""Month-end compaction through Iceberg's Spark procedure: one sorted file, every answer kept.

Silver is written with pyiceberg as the pipeline writes it (one append and one tag per day),
compacted in the shared SparkSession, then read back through the local engine: the current
answer, every as-of answer and the tags must be exactly what they were.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.compaction import compact_month, ends_a_month, next_month_start
from catalog.iceberg.profiles import CATALOG_NAME, local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.iceberg.tags import SUMMARY_SNAPSHOT_DATE
from catalog.iceberg.timetravel import load_tags
from infra.local.pipeline import LocalPipeline
from tests.bronze_days import artist, write_day
from tests.conftest import SparkLakehouse
from tests.views.conftest import Artist, SilverWriter
from views.local import LocalEngine

pytestmark = pytest.mark.spark

ARTISTS = [Artist(f"a{n}", f"Artist {n}") for n in (3, 1, 2)]
OCTOBER = [date(2026, 10, 29) + timedelta(days=n) for n in range(3)]  # 29, 30, 31
NOVEMBER = date(2026, 11, 1)
TABLE = f"{CATALOG_NAME}.{ARTISTS_SILVER.qualified_name}"
QUERY = "SELECT artist_id, date, followers, followers_gained FROM Spotify_Gold_View ORDER BY 2, 1"


def _month_files(silver: SilverWriter, month: date) -> list[str]:
    return [
        task.file.file_path
        for task in silver.table.scan(
            row_filter=f"snapshot_date >= '{month}' AND snapshot_date < '{next_month_start(month)}'"
        ).plan_files()
    ]


def test_a_month_becomes_one_file_sorted_by_artist_and_no_answer_changes(
    lakehouse: SparkLakehouse,
) -> None:
    ensure_table(local_catalog(lakehouse.paths), ARTISTS_SILVER)
    silver = SilverWriter(lakehouse.paths)
    for n, day in enumerate([*OCTOBER, NOVEMBER]):
        silver.load(day, {a: 1000 * (i + 1) + n for i, a in enumerate(ARTISTS)})
    engine = LocalEngine(lakehouse.paths)
    as_of = [*OCTOBER, NOVEMBER]
    before = {d: engine.execute(QUERY, as_of=d).rows for d in as_of}
    current = engine.execute(QUERY).rows
    tags = dict(silver.table.metadata.refs)
    assert len(_month_files(silver, OCTOBER[0])) == 3

    done = compact_month(lakehouse.spark, TABLE, OCTOBER[1])

    assert (done.month, done.rewritten_files, done.added_files) == (date(2026, 10, 1), 3, 1)
    table = silver.table
    (october,) = _month_files(silver, OCTOBER[0])
    assert len(_month_files(silver, NOVEMBER)) == 1  # the open month is left alone
    rows = table.scan(row_filter=f"snapshot_date < '{NOVEMBER}'").to_arrow().to_pylist()
    keys = [(r["artist_id"], r["snapshot_date"]) for r in rows]
    assert len(keys) == 9
    assert keys == sorted(keys), "one file, sorted by artist then day"
    snapshot = table.current_snapshot()
    assert snapshot is not None
    assert snapshot.summary is not None
    assert snapshot.summary.operation.value == "replace"
    assert SUMMARY_SNAPSHOT_DATE not in snapshot.summary.additional_properties
    assert dict(table.metadata.refs).keys() == tags.keys()
    assert {n: r.snapshot_id for n, r in table.metadata.refs.items() if n != "main"} == {
        n: r.snapshot_id for n, r in tags.items() if n != "main"
    }
    engine = LocalEngine(lakehouse.paths)
    assert engine.execute(QUERY).rows == current
    assert {d: engine.execute(QUERY, as_of=d).rows for d in as_of} == before
    assert october.endswith(".parquet")

    again = compact_month(lakehouse.spark, TABLE, OCTOBER[0])
    assert not again.committed
    assert silver.table.current_snapshot() == snapshot, "a compact month is left alone"


def test_a_backfill_compacts_each_month_it_finishes(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    for n, day in enumerate([*OCTOBER, NOVEMBER]):
        write_day(store, day, [[artist(i, followers=1_000 * i + n) for i in (3, 1, 2)]])
    with LocalPipeline(lakehouse.paths) as pipeline:
        done = pipeline.backfill([*OCTOBER, NOVEMBER])
    compacted = {r.snapshot_date: r.compaction for r in done.transforms if r.compaction}
    assert list(compacted) == [OCTOBER[-1]], "only the day that ends a month"
    assert (compacted[OCTOBER[-1]].rewritten_files, compacted[OCTOBER[-1]].added_files) == (3, 1)
    assert "compact" in done.transforms[2].timings
    silver = SilverWriter(lakehouse.paths)
    assert len(_month_files(silver, OCTOBER[0])) == 1
    assert len(_month_files(silver, NOVEMBER)) == 1
    assert [r.write for r in done.transforms] == ["append"] * 4
    assert len({t.day for t in load_tags(silver.table)}) == 4


@pytest.mark.parametrize(
    ("day", "ends"),
    [
        (date(2026, 10, 31), True),
        (date(2026, 10, 30), False),
        (date(2026, 2, 28), True),
        (date(2028, 2, 28), False),
        (date(2028, 2, 29), True),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),
    ],
)
def test_the_last_day_of_a_month_ends_it(day: date, ends: bool) -> None:
    assert ends_a_month(day) is ends


def test_the_next_month_starts_on_its_first_day() -> None:
    assert next_month_start(date(2026, 1, 31)) == date(2026, 2, 1)
    assert next_month_start(date(2026, 12, 1)) == date(2027, 1, 1)

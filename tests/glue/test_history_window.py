"""The history window a range carries from day to day is exactly what a fresh read of silver
gives, day by day, through the real loads: a local backfill, the Glue job's range mode with
a re-load (a MERGE) in it, a month compaction and a commit made by someone else between two
days, an append that landed on someone else's commit, a refused day, and a roster that
changes (an artist joining, one leaving and coming back, a count missing).

Every time a load asks its :class:`glue.history.HistoryWindow` for a day's history, the
test also reads it with :func:`glue.history.read_history` from the same silver table and
requires the two equal; and it counts the reads, so a window that re-read every day (or
never) fails too.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.table.snapshots import Operation

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.compaction import compact_month
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_tables
from expectations.cross_day import SilverHistory
from expectations.suites import QualitySettings
from glue.days import load_range
from glue.history import HistoryWindow, read_history
from glue.transform import JobContext, spark_table_name, transform_day
from infra.local.pipeline import LocalPipeline
from tests.bronze_days import artist, write_day
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

FIRST = date(2026, 3, 1)  # no month end in the range: no compaction, no JVM for first loads


def day_of(n: int) -> date:
    return FIRST + timedelta(days=n - 1)


def roster(n: int) -> list[int]:
    """Artists of day n: 1-5, artist 6 from day 3 on, artist 2 away on days 5-8."""
    artists = [1, 2, 3, 4, 5] + ([6] if n >= 3 else [])
    return [a for a in artists if not (a == 2 and 5 <= n <= 8)]


def count(a: int, n: int, bump: int = 0) -> int | None:
    if (a, n) == (3, 4):
        return None  # no count: quarantined, not loaded
    return 1_000_000 * a + n * (100 * a + n % 3 * 10) + bump


def write(store: LocalBronzeStore, n: int, *, run_id: str = "run-1", bump: int = 0) -> None:
    records = []
    for a in roster(n):
        followers = count(a, n, bump)
        record = artist(a, followers=followers)
        if followers is None:
            record["followers"] = {"href": None, "total": None}
        records.append(record)
    write_day(store, day_of(n), [records], run_id=run_id, replace=run_id != "run-1")


@pytest.fixture
def compared(lakehouse: SparkLakehouse, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each history a window answers, checked against a fresh read: (day, reads so far)."""
    seen: list[Any] = []
    real = HistoryWindow.history
    catalog = local_catalog(lakehouse.paths)

    def checked(self: HistoryWindow, silver: Any, day: date, *, min_gains: int) -> SilverHistory:
        carried = real(self, silver, day, min_gains=min_gains)
        fresh = read_history(catalog, day, table=silver, min_gains=min_gains)
        assert carried == fresh, day
        assert carried.previous == fresh.previous, day
        seen.append((day, self.reads))
        return carried

    monkeypatch.setattr(HistoryWindow, "history", checked)
    return seen


def test_the_carried_window_is_a_fresh_read_every_day(
    lakehouse: SparkLakehouse, compared: list[Any]
) -> None:
    paths = lakehouse.paths
    store = LocalBronzeStore(paths.bronze)
    for n in range(1, 15):
        write(store, n)

    # A local backfill of days 1-8: silver is read for the first day only.
    with LocalPipeline(paths) as pipeline:
        done = pipeline.backfill([day_of(n) for n in range(1, 9)])
    assert [r.write for r in done.transforms] == ["append"] * 8
    assert done.transforms[3].quarantined == 1  # artist 3's missing count
    assert compared == [(day_of(n), 1) for n in range(1, 9)]
    assert "history" in done.transforms[1].timings
    compared.clear()

    # The Glue job's range mode over days 6-11, day 6 re-ingested with other counts: day 6
    # is read (the range's first day) and re-loaded with a MERGE; days 7-8 are skipped
    # (loaded from their current run); day 9 reads again (silver is the MERGE's, not the
    # window's); days 10-11 are carried.
    write(store, 6, run_id="run-2", bump=7)
    context = JobContext(
        catalog=local_catalog(paths),
        reports=pipeline.context.reports,
        settings=QualitySettings(),
    )
    outcome = load_range(lambda: lakehouse.spark, store, [day_of(n) for n in range(6, 12)], context)
    assert outcome.failed is None
    assert outcome.skipped == [day_of(7), day_of(8)]
    assert [d.result.write for d in outcome.days if d.result is not None] == [
        "merge",
        "append",
        "append",
        "append",
    ]
    assert compared == [(day_of(6), 1), (day_of(9), 2), (day_of(10), 2), (day_of(11), 2)]
    compared.clear()

    # Days 12-14 loaded one by one with one window. After day 12 March is compacted (a
    # ``replace`` snapshot: no row changes, day 13 keeps what it carries); between 13 and 14
    # someone else commits to silver (a row of day 10 for an artist of their own), which
    # day 14 must see.
    window = HistoryWindow()
    transform_day(lambda: lakehouse.spark, store, day_of(12), context, history=window)
    compacted = compact_month(lakehouse.spark, spark_table_name(ARTISTS_SILVER), day_of(12))
    assert compacted.rewritten_files > 1
    silver = context.catalog.load_table(ARTISTS_SILVER.identifier)
    assert silver.current_snapshot().summary.operation == Operation.REPLACE  # type: ignore[union-attr]
    transform_day(lambda: lakehouse.spark, store, day_of(13), context, history=window)
    silver = context.catalog.load_table(ARTISTS_SILVER.identifier)
    foreign: dict[str, Any] = {name: None for name in ARTISTS_SILVER.column_names}
    foreign.update(
        artist_id=f"{99:022d}", snapshot_date=day_of(10), name="Foreign", followers=5_000
    )
    silver.append(pa.Table.from_pylist([foreign], schema=silver.schema().as_arrow()))
    transform_day(lambda: lakehouse.spark, store, day_of(14), context, history=window)
    assert compared == [(day_of(12), 1), (day_of(13), 1), (day_of(14), 2)]
    assert f"{99:022d}" in read_history(context.catalog, day_of(15)).artists


def test_our_append_on_top_of_another_commit_is_read_again(
    lakehouse: SparkLakehouse, compared: list[Any]
) -> None:
    """A load whose append lands on a commit made after its history was read (its retry
    after a conflict): the window cannot vouch for what that commit changed, so the next
    day reads silver, and finds the other writer's row."""
    catalog = local_catalog(lakehouse.paths)
    ensure_tables(catalog)
    silver = catalog.load_table(ARTISTS_SILVER.identifier)
    schema = silver.schema().as_arrow()

    def rows(n: int, artists: list[int]) -> list[dict[str, Any]]:
        made = []
        for a in artists:
            row: dict[str, Any] = {name: None for name in ARTISTS_SILVER.column_names}
            row.update(artist_id=f"{a:022d}", snapshot_date=day_of(n), followers=count(a, n))
            made.append(row)
        return made

    silver.append(pa.Table.from_pylist(rows(1, [1, 2]), schema=schema))
    window = HistoryWindow()
    window.history(catalog.load_table(ARTISTS_SILVER.identifier), day_of(2), min_gains=1)
    silver = catalog.load_table(ARTISTS_SILVER.identifier)
    silver.append(pa.Table.from_pylist(rows(1, [7]), schema=schema))  # someone else
    ours = rows(2, [1, 2])
    silver.append(pa.Table.from_pylist(ours, schema=schema))
    window.loaded(day_of(2), ours, silver.metadata.current_snapshot_id)
    history = window.history(catalog.load_table(ARTISTS_SILVER.identifier), day_of(3), min_gains=1)
    assert compared == [(day_of(2), 1), (day_of(3), 2)]
    assert f"{7:022d}" in history.artists


def test_a_refused_day_keeps_the_window_and_its_retry_reads_nothing(
    lakehouse: SparkLakehouse, compared: list[Any]
) -> None:
    """No commit, no change: the same day asked again is answered from the window."""
    from glue.transform import NoValidRowsError

    paths = lakehouse.paths
    store = LocalBronzeStore(paths.bronze)
    for n in range(1, 4):
        write(store, n)
    write_day(store, day_of(4), [[artist(1, followers=-5)]])  # no row passes
    context = JobContext(
        catalog=local_catalog(paths),
        reports=LocalPipeline(paths).context.reports,
        settings=QualitySettings(),
    )
    window = HistoryWindow()
    for n in range(1, 4):
        transform_day(lambda: lakehouse.spark, store, day_of(n), context, history=window)
    for _ in range(2):
        with pytest.raises(NoValidRowsError):
            transform_day(lambda: lakehouse.spark, store, day_of(4), context, history=window)
    assert compared == [(day_of(n), 1) for n in (1, 2, 3, 4, 4)]

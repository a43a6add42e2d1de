"""Month-end compaction: a finished month of silver rewritten as one file sorted by artist.

A day's first load is one append, so a month of loads is ~30 data files of one day each.
Once the month is over, no daily load adds to it any more (a late re-load may, and the next
compaction folds it in), so its files are rewritten once, sorted by ``artist_id`` then
``snapshot_date``: consecutive rows then share the artist's name, genres and URLs, which
Parquet's dictionary and run-length encodings store once. Measured on a 10,000-artist
silver (75 days, DuckDB on the files, same session): 45.7 MB of daily files became 6.4 MB
(7.1x smaller: 7x fewer bytes for Athena to bill and S3 to store), the gains query ran at
0.98x and the latest-day top-5 at 0.29x the time of the daily files, where sorting by date
instead gave 10.4 MB and no read gain. A full month is ~300,000 rows at 10,000 artists, a
few seconds of one Spark job, once a month.

The rewrite is Iceberg's own ``rewrite_data_files`` procedure (sort strategy), not a delete
and an append: its commit is a ``replace`` (the data did not change) and carries no
``snapshot_date``, so the time-travel rule ignores it, and the tagged snapshots keep their
own files, so no as-of answer changes (``maintain``'s snapshot expiry frees the daily files
once no retained tag needs them). ``min-input-files`` 2 makes it idempotent: a month that is
already one file is left alone, and a re-run commits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Sort of a compacted month: artist first (what compresses, and what the gold view's
#: ``PARTITION BY artist_id`` window reads in order), then day.
MONTH_SORT_ORDER: Final = "artist_id ASC NULLS LAST, snapshot_date ASC NULLS LAST"
#: A month of fewer files than this is left alone (one file is already compact).
DEFAULT_MIN_INPUT_FILES: Final = 2


@dataclass(frozen=True)
class MonthCompaction:
    """What compacting one month did (zeroes: it was compact already, no commit)."""

    month: date  # the month's first day
    rewritten_files: int
    added_files: int
    rewritten_bytes: int

    @property
    def committed(self) -> bool:
        return self.rewritten_files > 0


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return (month_start(day) + timedelta(days=32)).replace(day=1)


def ends_a_month(day: date) -> bool:
    """True for the last day of a month: once it is loaded, the month is complete."""
    return (day + timedelta(days=1)).month != day.month


def compact_month(
    spark: SparkSession,
    table: str,
    month: date,
    *,
    min_input_files: int = DEFAULT_MIN_INPUT_FILES,
) -> MonthCompaction:
    """Rewrite ``month``'s data files of ``table`` (``catalog.namespace.name``) sorted by
    :data:`MONTH_SORT_ORDER`; no commit when the month has fewer than ``min_input_files``."""
    catalog, _, name = table.partition(".")
    first, after = month_start(month), next_month_start(month)
    where = f"snapshot_date >= '{first.isoformat()}' AND snapshot_date < '{after.isoformat()}'"
    rows = spark.sql(
        f"CALL {catalog}.system.rewrite_data_files(table => '{name}', strategy => 'sort', "
        f"sort_order => '{MONTH_SORT_ORDER}', where => \"{where}\", "
        f"options => map('min-input-files', '{min_input_files}'))"
    ).collect()
    found = rows[0].asDict() if rows else {}
    return MonthCompaction(
        month=first,
        rewritten_files=int(found.get("rewritten_data_files_count") or 0),
        added_files=int(found.get("added_data_files_count") or 0),
        rewritten_bytes=int(found.get("rewritten_bytes_count") or 0),
    )

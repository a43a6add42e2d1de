"""Silver's recent history for a day's cross-day checks: read once, then carried.

The cross-day checks (:mod:`expectations.cross_day`) need, for the day D being validated,
each artist's rows of the last :data:`~expectations.suites.HISTORY_WINDOW_DAYS` days and
the latest day loaded before D. All of it comes from one scan of silver:

* filtered on ``snapshot_date`` in ``[D - window, D)``: silver is partitioned by month of
  ``snapshot_date``, so Iceberg prunes every data file of other months from its metadata
  (partition values and column bounds) without opening them: the read is one or two
  months' files whatever the table's age;
* three columns (``artist_id``, ``snapshot_date``, ``followers``), read from Parquet alone.

So the cost does not grow with history: about 31 days x the roster (600 rows for 20
artists, 310,000 for 10,000, three narrow columns). The same rows give the day-over-day
bound its previous counts (:attr:`expectations.cross_day.SilverHistory.previous`, the
:data:`~expectations.suites.PREVIOUS_SNAPSHOT_LOOKBACK_DAYS` lookback), so a day that
reads its history needs no other read of silver before validation.

A range does not even read that much each day: :class:`HistoryWindow` carries the window
from one day to the next (a scan of 310,000 rows cost ~0.3 s a day at 10,000 artists, the
carried window ~0.01 s), and reads silver again only when silver is not what the range's
own loads left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from catalog.iceberg.tables import ARTISTS_SILVER, TableDefinition
from expectations.cross_day import (
    HISTORY_FIELDS,
    HistoryMatrix,
    SilverHistory,
    summarize_matrix,
    window_start,
)
from expectations.suites import DEFAULT_MIN_GAIN_HISTORY, HISTORY_WINDOW_DAYS

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table


def history_filter(day: date, window_days: int = HISTORY_WINDOW_DAYS) -> BooleanExpression:
    """``snapshot_date`` in ``[day - window_days, day)``: the window, and nothing of ``day``
    itself (a re-load's own earlier rows are not its history)."""
    return _days_filter(window_start(day, window_days), day)


def _days_filter(start: date, end: date) -> BooleanExpression:
    """``snapshot_date`` in ``[start, end)``."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan, Reference
    from pyiceberg.expressions.literals import literal

    column = Reference("snapshot_date")
    return And(
        GreaterThanOrEqual(term=column, value=literal(start.isoformat())),
        LessThan(term=column, value=literal(end.isoformat())),
    )


def read_window(table: Table, start: date, end: date) -> HistoryMatrix:
    """Silver's rows of ``[start, end)``, as ``table`` holds them, as a matrix: one scan of
    :data:`HISTORY_FIELDS` filtered on ``snapshot_date`` (the months outside pruned)."""
    if table.metadata.current_snapshot_id is None:  # a table never written: no history
        return HistoryMatrix.empty(start, end)
    rows = table.scan(
        row_filter=_days_filter(start, end), selected_fields=HISTORY_FIELDS
    ).to_arrow()
    return HistoryMatrix.from_table(rows, start, end)


def read_history(
    catalog: Catalog,
    day: date,
    *,
    definition: TableDefinition = ARTISTS_SILVER,
    table: Table | None = None,
    min_gains: int = DEFAULT_MIN_GAIN_HISTORY,
    window_days: int = HISTORY_WINDOW_DAYS,
) -> SilverHistory:
    """The history of ``day`` in silver (:class:`expectations.cross_day.SilverHistory`),
    read now (a range carries it instead: :class:`HistoryWindow`).

    ``table``: silver as just read (no catalog read then); ``min_gains``: the fewest daily
    gains a trailing median is taken from
    (:attr:`expectations.suites.CrossDaySettings.min_gain_history`). A table with no row in
    the window gives an empty history: every cross-day check then compares with nothing.
    """
    silver = table if table is not None else catalog.load_table(definition.identifier)
    matrix = read_window(silver, window_start(day, window_days), day)
    return summarize_matrix(matrix, day, min_gains=min_gains, window_days=window_days)


class HistoryWindow:
    """Silver's history window carried across the days a range loads, one owner: the range's
    loop (:meth:`infra.local.pipeline.LocalPipeline.backfill`, :func:`glue.days.load_range`).

    Day D+1's window is day D's minus the day that left it plus the rows day D just loaded,
    which the load knows (:meth:`loaded`, called with the rows a first load appended). So
    a range reads silver once, then only when silver is not the table our own loads left:

    * the window is trusted only while silver's current snapshot is the one the carried
      rows describe: the snapshot read, or our own append on top of it (its parent checked
      against the snapshot before it, so a concurrent commit in between is caught), or
      compactions (``replace`` snapshots, which by the Iceberg spec change no row) on top of
      either. Someone else's commit, a re-load's MERGE, a delete-day, another table under
      the same name: read again;
    * the carried rows must cover the day's window (the first day of a range, a day after a
      gap, a re-load of an earlier day read again).

    What :meth:`history` answers is therefore exactly what :func:`read_history` would read
    (``tests/glue/test_history_window.py`` compares them day by day through real loads), at
    a cost in proportion to the roster instead of a scan of the window: ~0.3 s less per day
    at 10,000 artists.
    """

    def __init__(self, *, window_days: int = HISTORY_WINDOW_DAYS) -> None:
        self.window_days = window_days
        self._matrix: HistoryMatrix | None = None
        self._table_uuid: object = None
        #: The silver snapshot the carried rows are (None: a table never written).
        self._snapshot: int | None = None
        #: After our append: the snapshot it must have been committed on (checked lazily,
        #: from the next day's table metadata).
        self._appended_onto: list[int | None] = []
        #: How many times silver was read (for tests and the logs).
        self.reads = 0

    def history(
        self,
        silver: Table,
        day: date,
        *,
        min_gains: int = DEFAULT_MIN_GAIN_HISTORY,
    ) -> SilverHistory:
        """The history of ``day`` in ``silver`` (as just read): carried, or read now."""
        start = window_start(day, self.window_days)
        matrix = self._matrix
        if matrix is None or not self._holds(silver, start, day):
            matrix = read_window(silver, start, day)
            self.reads += 1
            self._table_uuid = silver.metadata.table_uuid
            self._snapshot = silver.metadata.current_snapshot_id
            self._appended_onto = []
        self._matrix = matrix.since(start)
        return summarize_matrix(
            self._matrix, day, min_gains=min_gains, window_days=self.window_days
        )

    def loaded(
        self,
        day: date,
        rows: Sequence[Mapping[str, Any]],
        snapshot_id: int | None,
    ) -> None:
        """Our load appended ``rows`` as the first rows of ``day`` in the commit
        ``snapshot_id``: the carried window now holds them. A day the window cannot take (it
        already has rows of it, or lies beyond the day after the window) is forgotten: the
        next day reads silver."""
        matrix = self._matrix
        if (
            matrix is None
            or snapshot_id is None
            or not matrix.start <= day <= matrix.end
            or day in matrix.loads
        ):
            self.forget()
            return
        self._matrix = matrix.with_day(
            day, [r.get("artist_id") for r in rows], [r.get("followers") for r in rows]
        )
        self._appended_onto = [self._snapshot]
        self._snapshot = snapshot_id

    def forget(self) -> None:
        """Drop what is carried: the next day reads silver."""
        self._matrix = None
        self._appended_onto = []

    def _holds(self, silver: Table, start: date, day: date) -> bool:
        """Whether the carried rows are silver's rows of ``[start, day)`` as ``silver`` is."""
        from pyiceberg.table.snapshots import Operation

        matrix = self._matrix
        if matrix is None or silver.metadata.table_uuid != self._table_uuid:
            return False
        if matrix.start > start or matrix.end < day:
            return False
        current = silver.metadata.current_snapshot_id
        while current != self._snapshot:  # compactions on top of what we know change no row
            snapshot = silver.metadata.snapshot_by_id(current) if current is not None else None
            if (
                snapshot is None
                or snapshot.summary is None
                or snapshot.summary.operation != Operation.REPLACE
            ):
                return False
            current = snapshot.parent_snapshot_id
        if self._appended_onto:
            ours = (
                silver.metadata.snapshot_by_id(self._snapshot)
                if self._snapshot is not None
                else None
            )
            if ours is None or ours.parent_snapshot_id != self._appended_onto[0]:
                return False
            self._appended_onto = []
        self._snapshot = silver.metadata.current_snapshot_id
        return True

"""Silver's recent history for a day's cross-day checks: one small pyiceberg read per day.

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
bound its previous counts (:attr:`expectations.cross_day.SilverHistory.previous`, the same
31-day lookback as :func:`glue.transform.previous_counts`), so a day that reads its history
needs no other read of silver before validation.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from catalog.iceberg.tables import ARTISTS_SILVER, TableDefinition
from expectations.cross_day import (
    HISTORY_FIELDS,
    SilverHistory,
    summarize_history,
    summarize_history_table,
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
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan, Reference
    from pyiceberg.expressions.literals import literal

    column = Reference("snapshot_date")
    return And(
        GreaterThanOrEqual(term=column, value=literal(window_start(day, window_days).isoformat())),
        LessThan(term=column, value=literal(day.isoformat())),
    )


def read_history(
    catalog: Catalog,
    day: date,
    *,
    definition: TableDefinition = ARTISTS_SILVER,
    table: Table | None = None,
    min_gains: int = DEFAULT_MIN_GAIN_HISTORY,
    window_days: int = HISTORY_WINDOW_DAYS,
) -> SilverHistory:
    """The history of ``day`` in silver (:class:`expectations.cross_day.SilverHistory`).

    ``table``: silver as just read (no catalog read then); ``min_gains``: the fewest daily
    gains a trailing median is taken from
    (:attr:`expectations.suites.CrossDaySettings.min_gain_history`). A table with no row in
    the window gives an empty history: every cross-day check then compares with nothing.
    """
    silver = table if table is not None else catalog.load_table(definition.identifier)
    if silver.metadata.current_snapshot_id is None:  # a table never written: no history
        return summarize_history((), day, min_gains=min_gains, window_days=window_days)
    rows = silver.scan(
        row_filter=history_filter(day, window_days), selected_fields=HISTORY_FIELDS
    ).to_arrow()
    return summarize_history_table(rows, day, min_gains=min_gains, window_days=window_days)

"""Cross-day checks: what a day must satisfy against silver's recent history.

The day-over-day bound (``follower_change_within_bound``) compares each artist with its
previous count only. These checks need more history: silver's trailing window
(:data:`~expectations.suites.HISTORY_WINDOW_DAYS` days before the day, one pyiceberg scan:
:func:`glue.history.read_history`; a range reads it once and carries it from day to day:
:class:`glue.history.HistoryWindow`), held as an artists x days :class:`HistoryMatrix` and
summarized here column-wise (:func:`summarize_matrix`; tested without a table through
:func:`summarize_history`). The per-artist values of the day's rows are column-wise too
(:meth:`ArtistColumns.check_values`), so nothing of a day's checks costs more with 31 days
of history than with one:

* ``follower_gain_within_trailing_median`` (per artist): the day's gain per day since the
  artist's previous row, in absolute value, at most N times the median absolute daily gain
  of the artist's last :data:`~expectations.suites.TRAILING_GAIN_DAYS` days (the median
  floored at :data:`~expectations.suites.MIN_MEDIAN_GAIN`); skipped with fewer than M gains.
* ``day_gap_within_bound`` (per artist): the artist's previous row at most K days back.
* ``roster_not_shrinking`` (the day): the day's distinct artists at least (1 - X) times the
  previous load's.
* ``row_count_near_previous_load`` (the day): the day's rows within Y of the previous load's.

They are ordinary expectations of the silver suite (:func:`expectations.suites.
silver_expectations`), run by Great Expectations on the same check frame, so their results
reach ``dq_results``, the HTML report and ``spotify-lakehouse quality`` by the one path every
other check takes. The per-artist ones read two check-only columns the frame computes from
the history (``gain_to_trailing_median``, ``days_since_previous``); the day-level ones are
table-level expectations whose bounds are parameters computed from the previous load
(:meth:`expectations.suites.CrossDaySettings.day_parameters`). Severity is a setting:
``critical`` quarantines the row (per artist) or refuses the day (day level:
:func:`expectations.quarantine.judge` quarantines every record), ``warning`` records only.

When they run, and why not write-audit-publish
-----------------------------------------------
The issue asks for the checks "on the merged result before the tag moves" and suggests
Iceberg's write-audit-publish (stage the MERGE on a branch, audit the branch, fast-forward
main). They run instead on the rows about to be loaded, against silver's history, *before*
the day's one commit (the append or MERGE whose catalog commit also moves ``snapshot-D``).
For these checks that is the same as auditing the merged result:

* a load of day D changes only rows of date D, and the history the checks read is the days
  before D, which the load does not touch: audited before or after, it is the same history;
* after the load, silver's day D is exactly the day's rows that passed (a re-load also
  keeps the previous row of an artist whose new record failed, which the report lists as
  kept), so a check of "the merged day" is a check of those rows. The per-artist checks are
  computed row by row from the same values; the day-level checks count the day's records
  as delivered, whose difference from the loaded rows is the quarantined records, each
  already a failure of a critical check of its own;
* a critical failure keeps the row (or the day) out *before* anything is written, which is
  what an audit that refuses to publish achieves, with nothing to roll back.

Write-audit-publish was not chosen because it costs more and gives these checks nothing.
Today a first load is one catalog commit (the append with ``snapshot-D`` in it) and a
re-load a MERGE plus its tag. Staged, every load would be: create the branch, commit the
load on it, audit, then move main to it with the tag and drop the branch: at least two
catalog commits more per load (main still gets one snapshot: the branch's), a ref created
and dropped each time, and each step a new chance to conflict with a concurrent writer and
its own retry to write. pyiceberg 0.12 (pinned here) can write
to a branch (``append``, ``overwrite``, ``delete`` and ``upsert`` take ``branch=``), but
it has no fast-forward (``ManageSnapshots`` offers create/remove branch or tag, rollback and
``set_current_snapshot``), so publishing would be our own "main is still the branch's
parent" check followed by ``set_current_snapshot``, new conflict handling for each of the
two engines (the MERGE is Spark's). Auditing first also keeps the time-travel rule simple:
no snapshot of an unaudited load ever exists, on any ref, for a tag to point at.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from expectations.frame import PreviousCount, change_since
from expectations.suites import (
    HISTORY_WINDOW_DAYS,
    MIN_MEDIAN_GAIN,
    PARAM_MAX_ROWS_NEAR_PREVIOUS,
    PARAM_MIN_ARTISTS,
    PARAM_MIN_ROWS_NEAR_PREVIOUS,
    ROSTER_NOT_SHRINKING,
    ROW_COUNT_NEAR_PREVIOUS_LOAD,
    TRAILING_GAIN_DAYS,
)

#: The silver columns the history read selects (nothing else is read).
HISTORY_FIELDS = ("artist_id", "snapshot_date", "followers")


@dataclass(frozen=True)
class ArtistHistory:
    """One artist's recent history in silver, as the per-artist checks need it."""

    #: The artist's latest row before the day within the window (None: no row there).
    previous: PreviousCount | None
    #: Median absolute daily gain over the trailing days; None with fewer gains than M.
    median_gain: float | None
    #: Daily gains the median was taken over (whether or not there were M of them).
    gains: int = 0

    def gain_to_trailing_median(self, followers: object, day: date) -> float | None:
        """The day's absolute gain per day against the trailing median gain (the
        ``gain_to_trailing_median`` check column); None where the check does not apply (no
        previous row, too little history, no integer count). Infinite for a count too large
        for a float: that record fails ``followers_in_range`` anyway, and the day must not
        crash on the division."""
        previous = self.previous
        if (
            previous is None
            or self.median_gain is None
            or not isinstance(followers, int)
            or isinstance(followers, bool)
            or previous.snapshot_date >= day
        ):
            return None
        try:
            gain = abs(followers - previous.followers) / (day - previous.snapshot_date).days
        except OverflowError:
            return math.inf
        return gain / max(self.median_gain, MIN_MEDIAN_GAIN)

    def days_since_previous(self, day: date) -> int | None:
        """Days from the previous row to ``day`` (the ``days_since_previous`` check column);
        None when the window has no row of the artist (new, or back after longer than the
        window: compared with nothing, like the day-over-day bound)."""
        if self.previous is None or self.previous.snapshot_date >= day:
            return None
        return (day - self.previous.snapshot_date).days


@dataclass(frozen=True)
class PreviousLoad:
    """The latest day before the day that silver has rows of (within the window)."""

    snapshot_date: date
    rows: int
    artists: int


@dataclass(frozen=True)
class SilverHistory:
    """What the cross-day checks of one day know of the days before it."""

    day: date
    #: First day read (inclusive); the window ends the day before :attr:`day`.
    window_start: date
    artists: Mapping[str, ArtistHistory] = field(default_factory=dict)
    previous_load: PreviousLoad | None = None

    @property
    def previous(self) -> dict[str, PreviousCount]:
        """Each artist's latest count in the window: what ``follower_change_within_bound``
        compares with (the :data:`~expectations.suites.PREVIOUS_SNAPSHOT_LOOKBACK_DAYS`
        lookback, the same window)."""
        return {a: h.previous for a, h in self.artists.items() if h.previous is not None}


def window_start(day: date, window_days: int = HISTORY_WINDOW_DAYS) -> date:
    """The first day of the history window of ``day``."""
    return day - timedelta(days=window_days)


def summarize_history(
    rows: Iterable[Mapping[str, Any]],
    day: date,
    *,
    min_gains: int,
    window_days: int = HISTORY_WINDOW_DAYS,
) -> SilverHistory:
    """The history of ``day`` from rows of silver (``artist_id``, ``snapshot_date``,
    ``followers``; rows outside ``[day - window_days, day)`` ignored): the rows as an Arrow
    table, then :func:`summarize_history_table`, the one place the rule is computed."""
    import pyarrow as pa

    table = pa.Table.from_pylist(
        [{name: row[name] for name in HISTORY_FIELDS} for row in rows], schema=_history_schema()
    )
    return summarize_history_table(table, day, min_gains=min_gains, window_days=window_days)


def _history_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [("artist_id", pa.string()), ("snapshot_date", pa.date32()), ("followers", pa.int64())]
    )


#: ``date32`` counts days from 1970-01-01; ``date.fromordinal`` from 0001-01-01.
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def _day_number(day: date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


def summarize_history_table(
    table: Any,
    day: date,
    *,
    min_gains: int,
    window_days: int = HISTORY_WINDOW_DAYS,
) -> SilverHistory:
    """The history of ``day`` from an Arrow table of silver's :data:`HISTORY_FIELDS`.

    An artist's daily gains are taken between its consecutive rows (per day between them,
    so a two-day gap counts as two days), for gains ending on one of the
    :data:`TRAILING_GAIN_DAYS` days before ``day``; the median is of their absolute values
    (the mean of the two middle ones for an even count, as :func:`statistics.median`). The
    artist's previous count is its latest row with a count; a day given twice for an artist
    keeps its last row. The previous load is the latest day in the window with rows (with or
    without a count): its row count and distinct artists.

    The rows become a :class:`HistoryMatrix` (artists x days), summarized by
    :func:`summarize_matrix`, the one place the rule is computed: the same matrix is what a
    range carries from day to day (:class:`glue.history.HistoryWindow`).
    ``tests/expectations/test_cross_day.py`` holds it equal to a row-by-row statement of the
    same rule on random histories.
    """
    start = window_start(day, window_days)
    return summarize_matrix(
        HistoryMatrix.from_table(table, start, day),
        day,
        min_gains=min_gains,
        window_days=window_days,
    )


@dataclass(frozen=True, eq=False)
class HistoryMatrix:
    """Silver's rows of the days ``[start, end)`` as a dense artists x days matrix: what the
    cross-day checks of any day whose window lies inside it need, and what a range carries
    from one day to the next (a day loaded is a column added, the day that left the window a
    column dropped: work in proportion to the roster, never to the history).

    Why dense: the window is at most :data:`HISTORY_WINDOW_DAYS` days and the roster is
    fixed, so the matrix is nearly full (310,000 cells for 10,000 artists), and every step
    of the rule (latest count, gains between consecutive counted days, their median) is a
    numpy operation along the day axis, with no sort of the window's rows per day.
    """

    start: date
    #: The artist of each matrix row (artists with at least one counted row, or who had one
    #: in a day the matrix has since dropped).
    ids: tuple[str, ...]
    #: ``followers[i, j]``: artist i's count on ``start + j`` (meaningless where not counted).
    followers: Any
    #: ``counted[i, j]``: artist i has a row with a count on ``start + j``.
    counted: Any
    #: Each day with rows (a count or not): its row count and distinct artists.
    loads: Mapping[date, tuple[int, int]] = field(default_factory=dict)

    @property
    def end(self) -> date:
        """The first day after the matrix (exclusive end)."""
        return self.start + timedelta(days=int(self.counted.shape[1]))

    @classmethod
    def empty(cls, start: date, end: date) -> HistoryMatrix:
        import numpy as np

        days = (end - start).days
        return cls(start, (), np.zeros((0, days), np.int64), np.zeros((0, days), bool), {})

    @classmethod
    def from_table(cls, table: Any, start: date, end: date) -> HistoryMatrix:
        """The matrix of the rows of ``table`` (:data:`HISTORY_FIELDS`) in ``[start, end)``;
        rows without an artist are ignored; a day given twice for an artist keeps its last
        counted row."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        dates = table.column("snapshot_date")
        keep = pc.and_(
            pc.is_valid(table.column("artist_id")),
            pc.and_(pc.greater_equal(dates, pa.scalar(start)), pc.less(dates, pa.scalar(end))),
        )
        rows = table.filter(pc.fill_null(keep, False))
        if rows.num_rows == 0:
            return cls.empty(start, end)
        per_day = rows.group_by("snapshot_date").aggregate(
            [("artist_id", "count"), ("artist_id", "count_distinct")]
        )
        loads = {
            d: (int(n), int(k))
            for d, n, k in zip(
                per_day.column("snapshot_date").to_pylist(),
                per_day.column("artist_id_count").to_pylist(),
                per_day.column("artist_id_count_distinct").to_pylist(),
                strict=True,
            )
        }
        counted_rows = rows.filter(pc.is_valid(rows.column("followers")))
        encoded = pc.dictionary_encode(counted_rows.column("artist_id")).combine_chunks()
        ids: list[str] = encoded.dictionary.to_pylist()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        days = counted_rows.column("snapshot_date").cast(pa.int32()).to_numpy().astype(
            np.int64
        ) - _day_number(start)
        values = counted_rows.column("followers").cast(pa.int64()).to_numpy()
        width = (end - start).days
        # The last row of each (artist, day) in input order: first of the reversed rows.
        cell = codes * width + days
        _, first_reversed = np.unique(cell[::-1], return_index=True)
        last = cell.size - 1 - first_reversed
        followers = np.zeros((len(ids), width), np.int64)
        counted = np.zeros((len(ids), width), bool)
        followers[codes[last], days[last]] = values[last]
        counted[codes[last], days[last]] = True
        return cls(start, tuple(ids), followers, counted, loads)

    def with_day(
        self, day: date, artist_ids: Sequence[str | None], followers: Sequence[object]
    ) -> HistoryMatrix:
        """The matrix once ``day`` holds exactly these rows (``day`` had no row before, as
        for a first load): a column for ``day`` added at the end when ``day`` is
        :attr:`end`, new artists added as rows. Rows without an artist are ignored, a
        count that is not an integer is not counted, as in :meth:`from_table`."""
        import numpy as np

        if not self.start <= day <= self.end or day in self.loads:
            raise ValueError(f"{day} is not a new day of the matrix {self.start}..{self.end}")
        followers_m, counted_m = self.followers, self.counted
        if day == self.end:
            followers_m = np.concatenate(
                [followers_m, np.zeros((followers_m.shape[0], 1), np.int64)], axis=1
            )
            counted_m = np.concatenate([counted_m, np.zeros((counted_m.shape[0], 1), bool)], axis=1)
        else:
            followers_m, counted_m = followers_m.copy(), counted_m.copy()
        index = {a: i for i, a in enumerate(self.ids)}
        ids = list(self.ids)
        rows_of_day = 0
        artists_of_day: set[str] = set()
        cells: dict[int, int] = {}
        for artist, count in zip(artist_ids, followers, strict=True):
            if artist is None:
                continue
            rows_of_day += 1
            artists_of_day.add(artist)
            if count is None:
                continue
            position = index.get(artist)
            if position is None:
                position = index[artist] = len(ids)
                ids.append(artist)
            cells[position] = int(count)  # type: ignore[call-overload]
        grow = len(ids) - followers_m.shape[0]
        if grow:
            followers_m = np.concatenate(
                [followers_m, np.zeros((grow, followers_m.shape[1]), np.int64)]
            )
            counted_m = np.concatenate([counted_m, np.zeros((grow, counted_m.shape[1]), bool)])
        column = (day - self.start).days
        if cells:
            where = np.fromiter(cells.keys(), np.int64, len(cells))
            followers_m[where, column] = np.fromiter(cells.values(), np.int64, len(cells))
            counted_m[where, column] = True
        loads = dict(self.loads)
        if rows_of_day:
            loads[day] = (rows_of_day, len(artists_of_day))
        return HistoryMatrix(self.start, tuple(ids), followers_m, counted_m, loads)

    def since(self, start: date) -> HistoryMatrix:
        """The matrix without the days before ``start`` (the days that left the window)."""
        drop = (start - self.start).days
        if drop <= 0:
            return self
        keep_rows = self.counted[:, drop:].any(axis=1)
        return HistoryMatrix(
            start,
            tuple(a for a, kept in zip(self.ids, keep_rows.tolist(), strict=True) if kept),
            self.followers[keep_rows, drop:],
            self.counted[keep_rows, drop:],
            {d: v for d, v in self.loads.items() if d >= start},
        )


def summarize_matrix(
    matrix: HistoryMatrix,
    day: date,
    *,
    min_gains: int,
    window_days: int = HISTORY_WINDOW_DAYS,
) -> SilverHistory:
    """The history of ``day`` (the rule at :func:`summarize_history_table`) from a matrix
    holding at least the window ``[day - window_days, day)``: numpy along the day axis,
    ~10 ms for 10,000 artists x 31 days, whatever the table's age."""
    import numpy as np

    start = window_start(day, window_days)
    if matrix.start > start or matrix.end < day:
        raise ValueError(f"the matrix {matrix.start}..{matrix.end} does not hold {start}..{day}")
    first, stop = (start - matrix.start).days, (day - matrix.start).days
    loads = [d for d in matrix.loads if start <= d < day]
    previous_load = None
    if loads:
        latest = max(loads)
        previous_load = PreviousLoad(latest, *matrix.loads[latest])
    counted = matrix.counted[:, first:stop]
    present = counted.any(axis=1)
    if not present.any():
        return SilverHistory(day, start, {}, previous_load)
    counted = counted[present]
    followers = matrix.followers[present, first:stop]
    ids = [a for a, p in zip(matrix.ids, present.tolist(), strict=True) if p]
    width = counted.shape[1]
    columns = np.arange(width)
    # The latest counted column at or before each column (-1: none yet).
    counted_at = np.maximum.accumulate(np.where(counted, columns, -1), axis=1)
    before = np.concatenate([np.full((counted.shape[0], 1), -1), counted_at[:, :-1]], axis=1)
    trail_from = (day - timedelta(days=TRAILING_GAIN_DAYS) - start).days
    pair = counted & (before >= 0) & (columns >= trail_from)
    earlier = np.take_along_axis(followers, np.maximum(before, 0), axis=1)
    spans = np.where(pair, columns - before, 1)
    gains = np.where(pair, np.abs(followers - earlier) / spans, np.nan)
    gains.sort(axis=1)  # NaN last: each artist's n gains first, in order
    count = pair.sum(axis=1)
    rows = np.arange(count.size)
    low = np.take_along_axis(gains, np.maximum(count - 1, 0)[:, None] // 2, axis=1)[:, 0]
    high = np.take_along_axis(gains, np.minimum(count // 2, width - 1)[:, None], axis=1)[:, 0]
    median = np.where((count > 0) & (count >= min_gains), (low + high) / 2, np.nan)
    last = counted_at[:, -1]
    artists = ArtistColumns(
        ids,
        previous_day=last + _day_number(start),
        previous_followers=followers[rows, last],
        median_gain=median,
        gains=count,
    )
    return SilverHistory(day, start, artists, previous_load)


#: Largest count (in magnitude, this one and the previous) the column-wise cross-day values
#: take: the difference of two such counts is at most 2**53, exact in float64, so each
#: division is rounded once, as Python's ``int / int`` is.
_EXACT: Final = 2**52


class ArtistColumns(Mapping[str, ArtistHistory]):
    """Every artist's :class:`ArtistHistory`, held as columns (what
    :func:`summarize_matrix` computes): a mapping for whoever reads one artist, and
    :meth:`check_values` for the day's candidates at once (the check frame's cross-day
    columns, column-wise instead of a method call per row)."""

    def __init__(
        self,
        ids: Sequence[str],
        *,
        previous_day: Any,
        previous_followers: Any,
        median_gain: Any,
        gains: Any,
    ) -> None:
        self._ids = list(ids)
        self._index = {a: i for i, a in enumerate(self._ids)}
        self.previous_day = previous_day
        self.previous_followers = previous_followers
        self.median_gain = median_gain
        self.gains = gains

    def __getitem__(self, artist: str) -> ArtistHistory:
        i = self._index[artist]
        median = float(self.median_gain[i])
        return ArtistHistory(
            previous=PreviousCount(
                date.fromordinal(_EPOCH_ORDINAL + int(self.previous_day[i])),
                int(self.previous_followers[i]),
            ),
            median_gain=None if math.isnan(median) else median,
            gains=int(self.gains[i]),
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, artist: object) -> bool:
        return artist in self._index

    def check_values(
        self, artist_ids: Sequence[str | None], followers: Sequence[object], day: date
    ) -> tuple[list[float | None], list[float | None], list[int | None]]:
        """For each candidate (its artist and count as received): ``followers_change_per_day``,
        ``gain_to_trailing_median`` and ``days_since_previous``, exactly as
        :func:`expectations.frame.change_per_day`, :meth:`ArtistHistory.
        gain_to_trailing_median` and :meth:`ArtistHistory.days_since_previous` give them
        one row at a time (a property test holds them equal). Counts that are not plain
        integers of at most 2**53, or whose previous count is not, take that row-at-a-time
        path; the rest are numpy."""
        import numpy as np

        size = len(artist_ids)
        if not self._ids:
            return [None] * size, [None] * size, [None] * size
        at = np.fromiter(
            (self._index.get(a, -1) if a is not None else -1 for a in artist_ids), np.int64, size
        )
        known = at >= 0
        where = np.maximum(at, 0)
        previous_day = np.where(known, self.previous_day[where], 0)
        previous_count = np.where(known, self.previous_followers[where], 0)
        median = np.where(known, self.median_gain[where], np.nan)
        plain = np.fromiter(
            (type(f) is int and -_EXACT <= f <= _EXACT for f in followers), bool, size
        )
        count = np.fromiter(
            (f if p else 0 for f, p in zip(followers, plain.tolist(), strict=True)),
            np.int64,
            size,
        )
        day_number = _day_number(day)
        span = day_number - previous_day
        fast = known & plain & (np.abs(previous_count) <= _EXACT) & (span > 0)
        spans = np.where(fast, span, 1)
        moved = np.abs(count - previous_count)
        change = moved / np.maximum(previous_count, 1) / spans
        ratio = (
            moved / spans / np.maximum(np.nan_to_num(median, nan=MIN_MEDIAN_GAIN), MIN_MEDIAN_GAIN)
        )
        change_out: list[float | None] = [None] * size
        ratio_out: list[float | None] = [None] * size
        gap_out: list[int | None] = [None] * size
        has_median = ~np.isnan(median)
        for i, value in zip(np.flatnonzero(fast).tolist(), change[fast].tolist(), strict=True):
            change_out[i] = value
        with_ratio = fast & has_median
        for i, value in zip(
            np.flatnonzero(with_ratio).tolist(), ratio[with_ratio].tolist(), strict=True
        ):
            ratio_out[i] = value
        gap = known & (span > 0)
        for i, value in zip(np.flatnonzero(gap).tolist(), span[gap].tolist(), strict=True):
            gap_out[i] = value
        for i in np.flatnonzero(known & ~fast).tolist():  # the rare rows: one at a time
            artist = self[artist_ids[i]]  # type: ignore[index]
            change_out[i] = change_since(followers[i], artist.previous, day)
            ratio_out[i] = artist.gain_to_trailing_median(followers[i], day)
        return change_out, ratio_out, gap_out


def with_basis(
    name: str, observed: Any, previous: PreviousLoad | None, parameters: Mapping[str, Any]
) -> Any:
    """The observed value of a day-level cross-day check, with what it was compared with
    (the previous load's day and count, the bounds), for the report and ``dq_results``.
    Unchanged for any other check, or when no previous load was found (nothing compared)."""
    if previous is None:
        return observed
    if name == ROSTER_NOT_SHRINKING:
        return {
            "artists": observed,
            "previous_load": previous.snapshot_date.isoformat(),
            "previous_artists": previous.artists,
            "min_artists": parameters.get(PARAM_MIN_ARTISTS),
        }
    if name == ROW_COUNT_NEAR_PREVIOUS_LOAD:
        return {
            "rows": observed,
            "previous_load": previous.snapshot_date.isoformat(),
            "previous_rows": previous.rows,
            "min_rows": parameters.get(PARAM_MIN_ROWS_NEAR_PREVIOUS),
            "max_rows": parameters.get(PARAM_MAX_ROWS_NEAR_PREVIOUS),
        }
    return observed

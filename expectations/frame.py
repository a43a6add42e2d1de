"""What the suites look at: one validation row per candidate record, one per bronze part.

A candidate is a record of the day flattened to the silver columns *without* dropping it
when a field is wrong: validation, not flattening, decides what is loaded, so every bad
record is seen, named and kept. A few columns exist only to be checked:

* ``followers_json_type``: the JSON type of ``followers.total`` as received (``None`` when
  absent), because the typed ``followers`` column cannot tell 1.5 from missing;
* ``followers_change_per_day``: relative change against the artist's previous count in
  silver, divided by the days between (so a gap after an outage is not one day's jump);
* ``backdated``: the manifest says the fetch was filed under a past day on purpose;
* ``unstorable_text``: the fields whose text held a lone surrogate (legal JSON that UTF-8
  cannot encode), comma-separated, ``None`` when there are none. The frame holds such text
  escaped (:func:`storable_values`), so Arrow, Spark and the quarantine can store it;
* ``gain_to_trailing_median`` and ``days_since_previous``: the per-artist cross-day values
  (:mod:`expectations.cross_day`), ``None`` without the history that decides them.

The silver columns themselves, names and types, come from
:data:`catalog.iceberg.tables.ARTISTS_SILVER`
(so the check frame types ``popularity`` as the table's ``int``); only the columns above are
spelled here.

The same rows become a pandas frame or a Spark frame (the suites are the same), each with
the row id column GX reports failing rows by.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
)

from catalog.bronze.payload import is_storable_text, record_text, storable_text
from catalog.iceberg.tables import ARTISTS_SILVER
from expectations.suites import ROW_ID

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]
    from pyspark.sql import DataFrame, SparkSession

    from expectations.cross_day import SilverHistory

Column = tuple[str, IcebergType]

#: Longest raw record kept in quarantine (characters). Spotify artist objects are ~1 KB;
#: anything far larger is garbage whose head is enough to see what went wrong.
MAX_RAW_CHARS: Final = 16_000

#: Columns computed only for checking (not in silver), with their types.
CHECK_ONLY_COLUMNS: Final[tuple[Column, ...]] = (
    ("followers_json_type", StringType()),
    ("followers_change_per_day", DoubleType()),
    ("backdated", BooleanType()),
    ("unstorable_text", StringType()),
    ("gain_to_trailing_median", DoubleType()),
    ("days_since_previous", IntegerType()),
)
#: Columns of the silver validation rows, with their Iceberg types: the row id, every silver
#: column exactly as :data:`catalog.iceberg.tables.ARTISTS_SILVER` defines it, the
#: check-only columns.
SILVER_CHECK_COLUMNS: Final[tuple[Column, ...]] = (
    (ROW_ID, LongType()),
    *((f.name, f.field_type) for f in ARTISTS_SILVER.schema.fields),
    *CHECK_ONLY_COLUMNS,
)
#: Smallest and largest value of each integer type.
_INTEGER_RANGES: Final[dict[type[IcebergType], tuple[int, int]]] = {
    IntegerType: (-(2**31), 2**31 - 1),
    LongType: (-(2**63), 2**63 - 1),
}
#: Silver's integer columns: (position among the silver columns, its type's range).
_SILVER_INTEGERS: Final = tuple(
    (index, _INTEGER_RANGES[type(f.field_type)])
    for index, f in enumerate(ARTISTS_SILVER.schema.fields)
    if type(f.field_type) in _INTEGER_RANGES
)
#: Nullable integer columns: pandas needs its ``Int64`` dtype to keep them integers (a
#: check-only one too, so a failing day gap is reported as 5, not 5.0).
_INTEGER_COLUMNS: Final = (
    *(f.name for f in ARTISTS_SILVER.schema.fields if type(f.field_type) in _INTEGER_RANGES),
    "days_since_previous",
)


@dataclass(frozen=True)
class Candidate:
    """One record of the day, flattened but not yet judged."""

    row_id: int  # position in the day (part order, then record order): stable on re-runs
    row: dict[str, Any]  # the silver columns, ``None`` where the record had no usable value
    record: Any  # the record as decoded from bronze
    source_file: str
    followers_json_type: str | None
    #: Fields whose text held a lone surrogate as received (now escaped in ``row``).
    unstorable_fields: tuple[str, ...] = ()

    @cached_property
    def raw(self) -> str:
        """The record's JSON text for the quarantine and the report (keys sorted, lone
        surrogates escaped, at most :data:`MAX_RAW_CHARS`). Made on first use: only the few
        records that fail or warn need it, and encoding every record of a 10,000-artist day
        cost 0.25 s of CPU for text nobody read."""
        return record_text(self.record, MAX_RAW_CHARS)

    @property
    def artist_id(self) -> str | None:
        value = self.row.get("artist_id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PreviousCount:
    """An artist's latest silver count before the day being validated."""

    snapshot_date: date
    followers: int


def _storable(value: Any) -> tuple[Any, bool]:
    """``value`` with its text made storable, and whether anything had to be escaped."""
    if isinstance(value, str):
        return (value, True) if is_storable_text(value) else (storable_text(value), False)
    if isinstance(value, list):
        items = [_storable(item) for item in value]
        return [item for item, _ in items], all(ok for _, ok in items)
    return value, True


def storable_values(row: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``row`` with every string (lists of strings included) made storable
    (:func:`catalog.bronze.payload.storable_text`), and the names of the fields that were not.

    A lone surrogate is legal JSON but no UTF-8: left in, it crashes pandas' Arrow strings,
    Spark and Parquet, and with them the whole day. Escaped, the record stays visible; named,
    it fails ``text_is_valid_unicode`` and is quarantined instead of loaded.
    """
    unstorable = tuple(name for name, value in row.items() if not _is_storable(value))
    if not unstorable:  # the common case: checked, nothing built (``row`` itself comes back)
        return row, ()
    return {name: _storable(value)[0] for name, value in row.items()}, unstorable


def _is_storable(value: Any) -> bool:
    if isinstance(value, str):
        return is_storable_text(value)
    if isinstance(value, list):
        return all(_is_storable(item) for item in value)
    return True


def change_per_day(
    candidate: Candidate, day: date, previous: Mapping[str, PreviousCount]
) -> float | None:
    """Relative follower change per day against the previous count, ``None`` if unknown.

    Infinite for a count too large for a float (JSON integers have no bound): that record
    fails ``followers_in_range`` anyway, and the day must not crash on the division.
    """
    return change_since(
        candidate.row.get("followers"), previous.get(candidate.artist_id or ""), day
    )


def change_since(followers: object, before: PreviousCount | None, day: date) -> float | None:
    """The rule of :func:`change_per_day` for one count and its previous count (the
    column-wise cross-day summary, :mod:`expectations.cross_day`, applies it too)."""
    if before is None or not isinstance(followers, int) or before.snapshot_date >= day:
        return None
    days = (day - before.snapshot_date).days
    try:
        return abs(followers - before.followers) / max(before.followers, 1) / days
    except OverflowError:
        return math.inf


@runtime_checkable
class ColumnWiseHistory(Protocol):
    """Artists' histories that compute the check frame's cross-day values for many rows at
    once (:class:`expectations.cross_day.ArtistColumns`; named here, not imported: that
    module builds on this one)."""

    def check_values(
        self, artist_ids: Sequence[str | None], followers: Sequence[object], day: date
    ) -> tuple[list[float | None], list[float | None], list[int | None]]: ...


def silver_check_rows(
    candidates: Sequence[Candidate],
    *,
    day: date,
    previous: Mapping[str, PreviousCount] | None = None,
    backdated: bool,
    history: SilverHistory | None = None,
) -> list[tuple[Any, ...]]:
    """The validation rows, in :data:`SILVER_CHECK_COLUMNS` order.

    ``history`` (:class:`glue.history.HistoryWindow`, :func:`glue.history.read_history`)
    gives the cross-day columns and, without ``previous``, the previous counts
    ``followers_change_per_day`` compares with. A history summarized from silver holds its
    artists as columns (:class:`ColumnWiseHistory`): the three values are then computed for
    all candidates at once, the same values a row at a time would give (~0.03 s of Python
    per 10,000 rows saved, and no cost that grows with the history). Without history the
    cross-day columns are ``None`` and the per-artist cross-day checks hold for every row.

    An integer too large for its column's type is clamped to the type's bound, so the frame
    can hold it (Spark refuses it otherwise) and it still fails the same range check; the
    quarantined raw record keeps the value as received. Text is made storable and the
    fields that held a lone surrogate are named in ``unstorable_text`` (also for a candidate
    not built by :func:`glue.rows.day_rows`, which escapes them already).
    """
    names = ARTISTS_SILVER.column_names
    known = history.artists if history is not None else {}
    columns = None
    if isinstance(known, ColumnWiseHistory):
        columns = known.check_values(
            [c.artist_id for c in candidates], [c.row.get("followers") for c in candidates], day
        )
    # The history's own previous counts: the column-wise change, unless others are given.
    own_previous = previous is None and columns is not None
    if previous is None:
        previous = history.previous if history is not None and columns is None else {}
    rows: list[tuple[Any, ...]] = []
    for position, c in enumerate(candidates):
        row, unstorable = storable_values(c.row)
        values = [row.get(name) for name in names]
        for index, (low, high) in _SILVER_INTEGERS:
            value = values[index]
            if isinstance(value, int) and not low <= value <= high:
                values[index] = low if value < low else high
        if columns is not None:
            ratio, gap = columns[1][position], columns[2][position]
            change = columns[0][position] if own_previous else change_per_day(c, day, previous)
        else:
            artist = known.get(c.artist_id or "")
            change = change_per_day(c, day, previous)
            ratio = artist.gain_to_trailing_median(c.row.get("followers"), day) if artist else None
            gap = artist.days_since_previous(day) if artist else None
        rows.append(
            (
                c.row_id,
                *values,
                c.followers_json_type,
                change,
                backdated,
                ",".join(dict.fromkeys((*c.unstorable_fields, *unstorable))) or None,
                ratio,
                gap,
            )
        )
    return rows


def pandas_frame(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """A pandas frame indexed by the row id (GX on pandas reports failing rows by index).

    Integer columns are built as ``Int64`` from the Python values themselves: letting pandas
    infer first turns a column with a null into float64, where a clamped 2**63 - 1 is no
    longer an integer and the cast to ``Int64`` raises (the whole day with it).
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for name in _INTEGER_COLUMNS:
        if name in frame.columns:
            position = list(columns).index(name)
            frame[name] = pd.array([row[position] for row in rows], dtype="Int64")
    if ROW_ID in frame.columns:
        frame = frame.set_index(ROW_ID, drop=False)
    return frame


def spark_frame(spark: SparkSession, rows: Sequence[tuple[Any, ...]]) -> DataFrame:
    """The silver validation rows as a Spark frame (for days above the pandas threshold).

    Its types are the table's (:func:`catalog.runtime.spark.spark_schema`), every column nullable:
    a candidate may lack any value, even a key.
    """
    from catalog.runtime.spark import spark_schema

    fields = (
        NestedField(field_id, name, kind, required=False)
        for field_id, (name, kind) in enumerate(SILVER_CHECK_COLUMNS, start=_CHECK_FIELD_IDS)
    )
    return spark.createDataFrame(list(rows), schema=spark_schema(Schema(*fields)))


#: First field id of the check frame's schema: above every id silver uses (list elements
#: included), so the ids stay unique.
_CHECK_FIELD_IDS: Final = 1000


@dataclass(frozen=True)
class PartCheck:
    """What bronze holds for one manifest-listed part, next to what the manifest says."""

    key: str
    sha256_listed: str
    sha256_actual: str | None  # None: the part is missing
    records_listed: int
    records_found: int | None  # None: missing or unparsable
    parses: bool
    problem: str = ""  # why it does not parse, or that it is missing

    def as_row(self, row_id: int) -> tuple[Any, ...]:
        return (
            row_id,
            self.key,
            self.sha256_listed,
            self.sha256_actual,
            self.records_listed,
            self.records_found,
            self.parses,
        )


#: Columns of the bronze validation rows (:meth:`PartCheck.as_row`).
BRONZE_CHECK_COLUMNS: Final = (
    ROW_ID,
    "part",
    "sha256_listed",
    "sha256_actual",
    "records_listed",
    "records_found",
    "parses",
)

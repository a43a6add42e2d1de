"""The validation frames: silver columns from the table definition, plus check-only ones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pyiceberg.types import BooleanType, DoubleType, IntegerType, LongType, StringType

from catalog.iceberg.tables import ARTISTS_SILVER
from expectations.frame import (
    CHECK_ONLY_COLUMNS,
    SILVER_CHECK_COLUMNS,
    Candidate,
    pandas_frame,
    silver_check_rows,
)
from expectations.suites import ROW_ID

DAY = date(2026, 11, 1)


def candidate(row_id: int = 0, **overrides: Any) -> Candidate:
    row: dict[str, Any] = {
        "artist_id": "4YRxDV8wJFPHPTeXepOstw",
        "snapshot_date": DAY,
        "name": "Arijit Singh",
        "followers": 1_000,
        "popularity": 50,
        "genres": ["filmi"],
        "image_url": None,
        "spotify_url": None,
        "fetched_at": datetime(2026, 11, 1, 6, tzinfo=UTC),
        "run_id": "r",
        "source_file": "p0",
    }
    row.update(overrides)
    return Candidate(row_id, row, {}, "p0", "integer")


def test_the_silver_columns_and_types_are_the_tables() -> None:
    names = [name for name, _ in SILVER_CHECK_COLUMNS]
    silver = ARTISTS_SILVER.column_names
    assert names == [ROW_ID, *silver, *(name for name, _ in CHECK_ONLY_COLUMNS)]
    kinds = dict(SILVER_CHECK_COLUMNS)
    for field in ARTISTS_SILVER.schema.fields:
        assert kinds[field.name] == field.field_type
    assert kinds["popularity"] == IntegerType()  # as the table has it, not bigint
    assert kinds["followers"] == LongType()
    assert dict(CHECK_ONLY_COLUMNS) == {
        "followers_json_type": StringType(),
        "followers_change_per_day": DoubleType(),
        "backdated": BooleanType(),
        "unstorable_text": StringType(),
        "gain_to_trailing_median": DoubleType(),
        "days_since_previous": IntegerType(),
    }


def test_rows_follow_the_column_order() -> None:
    (row,) = silver_check_rows([candidate(3)], day=DAY, previous={}, backdated=True)
    columns = [name for name, _ in SILVER_CHECK_COLUMNS]
    values = dict(zip(columns, row, strict=True))
    assert values[ROW_ID] == 3
    assert values["popularity"] == 50
    assert values["genres"] == ["filmi"]
    assert values["followers_json_type"] == "integer"
    assert values["followers_change_per_day"] is None
    assert values["backdated"] is True


def test_an_integer_too_large_for_its_column_is_clamped_so_it_still_fails_its_range() -> None:
    rows = silver_check_rows(
        [candidate(0, popularity=10**12, followers=10**30), candidate(1, popularity=-(10**12))],
        day=DAY,
        previous={},
        backdated=False,
    )
    columns = [name for name, _ in SILVER_CHECK_COLUMNS]
    first, second = (dict(zip(columns, r, strict=True)) for r in rows)
    assert first["popularity"] == 2**31 - 1
    assert first["followers"] == 2**63 - 1
    assert second["popularity"] == -(2**31)


def test_the_pandas_frame_keeps_integer_columns_nullable_integers() -> None:
    rows = silver_check_rows(
        [candidate(0), candidate(1, followers=None, popularity=None)],
        day=DAY,
        previous={},
        backdated=False,
    )
    frame = pandas_frame([name for name, _ in SILVER_CHECK_COLUMNS], rows)
    assert str(frame["followers"].dtype) == "Int64"
    assert str(frame["popularity"].dtype) == "Int64"
    assert frame["popularity"].isna().tolist() == [False, True]
    assert list(frame.index) == [0, 1]

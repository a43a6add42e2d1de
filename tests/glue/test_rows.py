"""Flattening raw answers to silver rows: pure functions, no Spark."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from catalog.bronze.layout import ManifestPart
from catalog.bronze.payload import record_count
from catalog.iceberg.tables import ARTISTS_SILVER
from glue.rows import MalformedPartError, day_rows, fetch_order, part_records, silver_row
from tests.bronze_days import artist

DAY = date(2026, 11, 1)


def part(key: str = "p0", fetched_at: str = "2026-11-01T06:00:00+00:00") -> ManifestPart:
    return ManifestPart(key=key, sha256="x", bytes=0, records=0, fetched_at=fetched_at)


def test_silver_row_has_exactly_the_table_columns() -> None:
    row = silver_row(artist(3), day=DAY, run_id="r", part=part())
    assert list(row) == ARTISTS_SILVER.column_names
    assert row["followers"] == 3_000_000
    assert row["image_url"] == "https://i.scdn.co/image/3-large"  # the largest image
    assert row["fetched_at"] == datetime(2026, 11, 1, 6, tzinfo=UTC)
    assert row["source_file"] == "p0"


def test_both_answer_shapes_parse_and_nulls_are_not_records() -> None:
    batch = json.dumps({"artists": [artist(1), None, 42]}).encode()
    single = json.dumps(artist(2)).encode()
    assert part_records(batch, "b") == [artist(1), 42]
    assert len(part_records(batch, "b")) == record_count(batch) == 2  # the manifest's count
    assert part_records(single, "s")[0]["id"] == artist(2)["id"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"error": {"status": 500}}'])
def test_a_body_that_is_not_an_artists_answer_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedPartError, match="bronze part p"):
        part_records(body, "p")


def test_unknown_fields_are_ignored_and_bad_types_do_not_become_numbers() -> None:
    obj = artist(4, followers=True, popularity="high", new_field={"x": 1})
    row = silver_row(obj, day=DAY, run_id="r", part=part())
    assert row["followers"] is None
    assert row["popularity"] is None


def test_every_record_becomes_a_candidate_with_its_raw_json() -> None:
    good, no_id, no_followers = artist(1), artist(2, id=None), artist(3)
    del no_followers["followers"]
    body = json.dumps({"artists": [good, no_id, no_followers, None, 42]}).encode()
    candidates = day_rows([(part(), body)], day=DAY, run_id="r").candidates
    assert [c.row_id for c in candidates] == [0, 1, 2, 3]  # the null (unknown id) is no record
    assert [c.artist_id for c in candidates] == [good["id"], None, no_followers["id"], None]
    assert [c.followers_json_type for c in candidates] == ["integer", "integer", None, None]
    assert json.loads(candidates[2].raw) == no_followers
    assert candidates[3].raw == "42"


def test_followers_type_tells_a_fraction_from_a_missing_count() -> None:
    body = json.dumps({"artists": [artist(1, followers=1.5), artist(2, followers="12")]})
    candidates = day_rows([(part(), body.encode())], day=DAY, run_id="r").candidates
    assert [c.followers_json_type for c in candidates] == ["number", "string"]
    assert [c.row["followers"] for c in candidates] == [None, None]


def test_snapshot_date_comes_from_the_folder_the_part_is_filed_under() -> None:
    filed = part("spotify/artists/snapshot_date=2026-10-31/run_id=r/part-00000.json")
    assert silver_row(artist(1), day=DAY, run_id="r", part=filed)["snapshot_date"] == date(
        2026, 10, 31
    )


def test_the_latest_fetch_ranks_first_among_duplicates() -> None:
    early = json.dumps({"artists": [artist(1, followers=10)]}).encode()
    late = json.dumps({"artists": [artist(1, followers=20)]}).encode()
    candidates = day_rows(
        [
            (part("late", "2026-11-01T07:00:00+00:00"), late),
            (part("early", "2026-11-01T06:00:00+00:00"), early),
        ],
        day=DAY,
        run_id="r",
    ).candidates
    assert max(candidates, key=fetch_order).row["followers"] == 20


def test_a_column_added_to_the_table_is_flattened_as_null(monkeypatch: pytest.MonkeyPatch) -> None:
    # silver_row follows the table definition, not a column list of its own.
    columns = [*ARTISTS_SILVER.column_names, "label"]
    monkeypatch.setattr(type(ARTISTS_SILVER), "column_names", property(lambda _: columns))
    row = silver_row(artist(1), day=DAY, run_id="r", part=part())
    assert list(row) == columns
    assert row["label"] is None

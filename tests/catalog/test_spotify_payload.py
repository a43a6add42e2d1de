"""The Spotify answer shapes, shared by ingest's manifest, the transform and the checks."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from catalog.bronze.payload import (
    ARTIST_ID_LENGTH,
    ARTIST_ID_REGEX,
    BASE62,
    NotAnArtistsAnswerError,
    answer_entries,
    artist_objects,
    followers_total,
    is_artist_id,
    json_type,
    offers_followers,
    record_count,
    records,
)

TAYLOR = "06HL4z0CvFAxyc27GXpf02"


def artist(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": TAYLOR, "name": "Taylor Swift", "followers": {"total": 5}}
    body.update(overrides)
    return body


def test_a_batch_answer_and_a_single_artist_answer() -> None:
    batch = json.dumps({"artists": [artist(), None]}).encode()
    single = json.dumps(artist()).encode()
    assert answer_entries(batch) == [artist(), None]
    assert records(batch) == [artist()]
    assert records(single) == [artist()]
    assert record_count(batch) == record_count(single) == 1


def test_every_non_null_entry_is_a_record_and_only_objects_are_artist_objects() -> None:
    # One definition of "a record": the manifest and the bronze check both count 4 here,
    # and the transform quarantines the three broken ones.
    body = json.dumps({"artists": [artist(), None, 42, "n/a", {"name": "no id"}]}).encode()
    assert record_count(body) == 4
    assert records(body) == [artist(), 42, "n/a", {"name": "no id"}]
    assert artist_objects(body) == [artist(), {"name": "no id"}]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"error": {"status": 500}}', b'{"id": "x", "error": {}}', b"{}"],
)
def test_anything_else_is_not_an_artists_answer(body: bytes) -> None:
    with pytest.raises(NotAnArtistsAnswerError):
        record_count(body)
    assert artist_objects(body) == []  # looking at it finds nothing, without raising


@pytest.mark.parametrize(
    ("followers", "total"),
    [
        ({"href": None, "total": 12}, 12),
        ({"total": 0}, 0),
        ({"total": True}, None),  # a JSON true is not a count (bool is an int in Python)
        ({"total": 1.5}, None),
        ({"total": "12"}, None),
        ({"total": None}, None),
        ({}, None),
        (None, None),
        ("12", None),
    ],
)
def test_followers_total_is_an_integer_or_none(followers: Any, total: int | None) -> None:
    assert followers_total(artist(followers=followers)) == total
    assert followers_total(42) is None


def test_offers_followers_is_about_the_field_not_its_value() -> None:
    assert offers_followers(artist(followers={"total": "n/a"}))
    assert not offers_followers({"id": TAYLOR, "name": "Dev Mode"})
    assert not offers_followers(42)


def test_json_type_names() -> None:
    values = [None, True, 3, 1.5, "s", [1], {"a": 1}]
    names = [None, "boolean", "integer", "number", "string", "array", "object"]
    assert [json_type(v) for v in values] == names


def test_the_artist_id_pattern() -> None:
    assert is_artist_id(TAYLOR)
    assert len(TAYLOR) == ARTIST_ID_LENGTH
    assert is_artist_id(BASE62[:ARTIST_ID_LENGTH])
    for bad in (TAYLOR[:-1], TAYLOR + "a", TAYLOR[:-1] + "!", TAYLOR + "\n", 42, None):
        assert not is_artist_id(bad)
    # The same anchored pattern is what the data-quality regex expectation uses.
    assert re.search(ARTIST_ID_REGEX, TAYLOR)
    assert not re.search(ARTIST_ID_REGEX, "x" + TAYLOR)

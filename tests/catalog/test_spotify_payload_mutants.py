"""What the payload parser says when a body is not an artists answer, and its edge cases.

Written against mutmut's survivors (docs/mutation-testing.md); the rules themselves are in
``tests/catalog/test_spotify_payload.py``.
"""

from __future__ import annotations

import json

import pytest

from catalog.bronze.payload import (
    NotAnArtistsAnswerError,
    answer_entries,
    artist_objects,
    json_int,
    raw_followers_total,
    records,
)


def test_a_body_that_is_not_json_says_so() -> None:
    with pytest.raises(NotAnArtistsAnswerError) as raised:
        answer_entries(b"{oops")
    assert str(raised.value).startswith("not JSON: Expecting property name")
    assert isinstance(raised.value.__cause__, ValueError)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "body",
    [b'{"artists": "none"}', b'{"error": {"status": 401}}', b'{"id": "x", "error": 1}', b"[]"],
)
def test_other_json_is_named_for_what_was_expected(body: bytes) -> None:
    with pytest.raises(NotAnArtistsAnswerError) as raised:
        answer_entries(body)
    assert str(raised.value) == "neither {'artists': [...]} nor an artist object"


def test_entries_are_a_copy_of_the_batch() -> None:
    body = json.dumps({"artists": [None, {"id": "a"}], "next": None}).encode()
    entries = answer_entries(body)
    assert entries == [None, {"id": "a"}]
    assert records(body) == [{"id": "a"}]
    assert answer_entries(b'{"id": "a", "name": "n"}') == [{"id": "a", "name": "n"}]
    assert answer_entries(b'{"artists": []}') == []


def test_raw_followers_total_is_kept_as_decoded() -> None:
    assert raw_followers_total({"followers": {"total": "12"}}) == "12"
    assert raw_followers_total({"followers": {"total": 1.5}}) == 1.5
    assert raw_followers_total({"followers": 12}) is None
    assert raw_followers_total(["followers"]) is None


def test_json_int_refuses_bools_and_fractions() -> None:
    assert json_int(0) == 0
    assert json_int(-3) == -3
    assert json_int(False) is None
    assert json_int(2.0) is None


def test_artist_objects_skip_what_is_not_an_object() -> None:
    body = json.dumps({"artists": [[1], {"id": "a"}, 3]}).encode()
    assert artist_objects(body) == [{"id": "a"}]

"""Legal JSON that Python's plain decoder refuses is an answer, not a cut connection.

The retry rule "a Web API 200 whose body is not JSON is retried" must not retry (six times,
then fail the day) an answer with an integer longer than Python converts (4300 digits) or
nested deeper than its decoder follows: both are what Spotify (or a proxy) sent; the payload
parser then quarantines the record or refuses the part.
"""

from __future__ import annotations

from catalog.bronze.payload import record_count
from ingest.retry import is_json

HUGE = b'{"artists": [{"id": "0000000000000000000001", "followers": {"total": ' + b"9" * 5000
DEEP = b"[" * 100_000 + b"]" * 100_000


def test_an_integer_of_any_length_is_json_and_a_record() -> None:
    body = HUGE + b"}}]}"
    assert is_json(body)
    assert record_count(body) == 1


def test_nesting_deeper_than_the_decoder_is_json_not_a_retry() -> None:
    assert is_json(DEEP)


def test_a_cut_body_is_still_not_json() -> None:
    assert not is_json(HUGE)  # the same answer, cut before its end
    assert not is_json(b"<html>bad gateway</html>")

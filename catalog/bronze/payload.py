"""The shapes of Spotify's artist answers, defined once for ingest, the Glue job and the checks.

Spotify answers ``GET /artists?ids=...`` with ``{"artists": [...]}`` (``null`` for an unknown
id) and ``GET /artists/{id}`` with one artist object. Ingest counts what an answer holds for
the day's manifest, the transform counts the same parts again to check bronze against that
manifest, and both read ``followers.total``: the rules live here so the two counts cannot
disagree and a day is never refused because two modules define "a record" differently.

A *record* is every non-``null`` entry of an answer, however broken (a number, a string, an
object without an ``id``): the transform turns each into a candidate row and the
data-quality suite quarantines what is wrong. ``null`` entries are not records: they are
Spotify's answer for an unknown id, and the manifest names those ids in ``missing_ids``.

Pure Python on purpose (no pyiceberg, no Spark): the ingest Lambda imports it too.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Final, TypeGuard

#: The characters of a Spotify id (base 62), in the order synthetic ids use them.
BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Spotify artist ids are 22 base-62 characters.
ARTIST_ID_LENGTH: Final = 22
#: The artist-id pattern, anchored: for :func:`is_artist_id` and for the data-quality regex
#: expectation (which matches with search semantics on pandas and Spark alike).
ARTIST_ID_REGEX: Final = r"^[0-9A-Za-z]{22}$"
_ARTIST_ID: Final = re.compile(ARTIST_ID_REGEX)


def is_artist_id(value: object) -> TypeGuard[str]:
    """True for a well-formed Spotify artist id (22 base-62 characters)."""
    return isinstance(value, str) and _ARTIST_ID.fullmatch(value) is not None


class NotAnArtistsAnswerError(ValueError):
    """A body is neither ``{"artists": [...]}`` nor one artist object (or is not JSON)."""


def _bounded_int(literal: str) -> int | float:
    """A JSON integer literal as an ``int``; one longer than Python converts
    (:func:`sys.get_int_max_str_digits`, 4300 digits by default) as a signed infinity.

    Such a number is legal JSON but no count: read as infinity it is a JSON ``number`` to
    the checks (``followers_integer`` fails, the record is quarantined) instead of a
    ``ValueError`` that would refuse the whole part. Bronze keeps its digits, byte for byte.
    """
    limit = sys.get_int_max_str_digits()
    if limit and len(literal.lstrip("-")) > limit:
        return float("-inf") if literal.startswith("-") else float("inf")
    return int(literal)


def _decode(body: bytes) -> Any:
    """``json.loads``, except that legal JSON never raises: an integer too long for Python
    becomes infinity (retried only then: the plain decoder is faster) and nesting too deep
    for the decoder's recursion is reported as not an artists answer."""
    try:
        try:
            return json.loads(body)
        except ValueError:
            return json.loads(body, parse_int=_bounded_int)
    except RecursionError as e:
        raise NotAnArtistsAnswerError("JSON nested deeper than the decoder can follow") from e
    except ValueError as e:
        raise NotAnArtistsAnswerError(f"not JSON: {e}") from e


def is_json(body: bytes) -> bool:
    """True when ``body`` is JSON (any shape), decoded as :func:`answer_entries` decodes it:
    an integer of any length is JSON; nesting too deep for Python's decoder counts as JSON
    too (it is what was sent, not a cut connection, and is refused as no artists answer)."""
    try:
        _decode(body)
    except NotAnArtistsAnswerError as e:
        return isinstance(e.__cause__, RecursionError)
    return True


def answer_entries(body: bytes) -> list[Any]:
    """Every entry of an artists answer, as decoded: the batch list as sent (``null`` for an
    unknown id included), or ``[obj]`` for a single-artist answer.

    Raises :class:`NotAnArtistsAnswerError` for anything else: malformed JSON, an error body
    (``{"error": {...}}``), a bare list, nesting deeper than Python's recursion limit.
    """
    payload = _decode(body)
    if isinstance(payload, dict) and isinstance(payload.get("artists"), list):
        return list(payload["artists"])
    if isinstance(payload, dict) and "id" in payload and "error" not in payload:
        return [payload]
    raise NotAnArtistsAnswerError("neither {'artists': [...]} nor an artist object")


def records(body: bytes) -> list[Any]:
    """The records of an answer: its non-``null`` entries (see the module docstring).

    Raises :class:`NotAnArtistsAnswerError` when the body is not an artists answer.
    """
    return [entry for entry in answer_entries(body) if entry is not None]


def record_count(body: bytes) -> int:
    """How many records an answer holds: the count a manifest lists for the part, and the
    count the transform's bronze check expects to find in it.

    Raises :class:`NotAnArtistsAnswerError` when the body is not an artists answer.
    """
    return len(records(body))


def artist_objects(body: bytes) -> list[dict[str, Any]]:
    """The records that are JSON objects; empty for a body that is not an artists answer.

    For looking at what an answer says (followers, ids); counting uses :func:`record_count`.
    """
    try:
        found = records(body)
    except NotAnArtistsAnswerError:
        return []
    return [entry for entry in found if isinstance(entry, dict)]


def json_int(value: Any) -> int | None:
    """``value`` if it is a JSON integer, else ``None``: a JSON ``true`` (a Python bool is an
    int) or ``1.5`` is not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def json_type(value: Any) -> str | None:
    """The JSON type name of a decoded value (``None`` for null or absent)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def raw_followers_total(obj: Any) -> Any:
    """``followers.total`` exactly as decoded; ``None`` when the record has none."""
    followers = obj.get("followers") if isinstance(obj, dict) else None
    return followers.get("total") if isinstance(followers, dict) else None


def followers_total(obj: Any) -> int | None:
    """The record's follower count: ``followers.total`` if it is a JSON integer, else ``None``
    (absent, ``null``, a bool, a fraction, a string)."""
    return json_int(raw_followers_total(obj))


def offers_followers(obj: Any) -> bool:
    """True when the record has a ``followers`` field at all: what the app may read.

    Development Mode objects lack the field; an object whose ``followers.total`` is present
    but malformed still shows the app can read followers (that object is a data problem,
    quarantined by the transform, not a capability problem).
    """
    return isinstance(obj, dict) and obj.get("followers") is not None


#: Unicode's surrogate code points. JSON may escape one alone (``"\\ud83c"``, legal JSON);
#: decoded, it is a Python ``str`` that UTF-8 (Arrow, Parquet, Spark, files) cannot encode.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
#: Stored in place of a record too deeply nested to encode again (bronze keeps its bytes).
UNENCODABLE_RECORD: Final = '"<record nested too deeply to re-encode; see its bronze part>"'


def is_storable_text(value: str) -> bool:
    """True when ``value`` encodes to UTF-8: it holds no lone surrogate."""
    return value.isascii() or _SURROGATE.search(value) is None


def storable_text(value: str) -> str:
    """``value`` with every lone surrogate written as its JSON escape (``\\ud83c``): text
    any store accepts and a reader can still see, the same string when already storable."""
    if is_storable_text(value):
        return value
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def record_text(record: Any, max_chars: int) -> str:
    """A record as JSON text that can be stored: keys sorted, non-ASCII kept readable, lone
    surrogates escaped (so the text is still JSON and decodes to the same record), cut to
    ``max_chars``. Never raises: a record nested too deeply to encode again is a note."""
    try:
        text = json.dumps(record, sort_keys=True, ensure_ascii=False)
    except (RecursionError, ValueError):
        return UNENCODABLE_RECORD
    return storable_text(text)[:max_chars]

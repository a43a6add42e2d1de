"""Reading Spotify answers just enough to describe them: records, missing ids, followers.

Ingest never reshapes what Spotify sent (bronze keeps the bytes); it only counts what is
there for the manifest and decides whether the app can read followers. That decision looks
at the content of the answers, never at the calendar: Spotify has changed who gets
``followers`` more than once, so only the payload tells.

The answer shapes, what counts as a record and how ``followers.total`` is read are defined
once, in :mod:`catalog.bronze.payload`, which the transform's bronze check uses too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from catalog.bronze.payload import (
    NotAnArtistsAnswerError,
    artist_objects,
    offers_followers,
    record_count,
)
from ingest.client import RawResponse


@dataclass(frozen=True)
class AnswerSummary:
    """What one answer holds, for the manifest and the followers check."""

    #: :func:`catalog.bronze.payload.record_count` of the body (``null`` entries for
    #: unknown ids not counted); 0 for an answer that is not an artists answer.
    records: int
    missing_ids: tuple[str, ...]  # requested ids the answer has no object for
    #: True if some object has a ``followers`` field; False if objects exist but none has
    #: it; None when there is no object to judge by (all unknown, or not JSON).
    followers_available: bool | None


def summarize(response: RawResponse) -> AnswerSummary:
    """Describe one answer. A 404 for a single id counts that id as missing."""
    if response.status == 200:
        objects = artist_objects(response.body)
        try:
            records = record_count(response.body)
        except NotAnArtistsAnswerError:
            records = 0  # kept as sent; the transform's bronze check refuses the part
    else:
        objects, records = [], 0
    returned = {obj.get("id") for obj in objects}
    missing = tuple(i for i in response.requested_ids if i not in returned)
    available = any(offers_followers(o) for o in objects) if objects else None
    return AnswerSummary(records=records, missing_ids=missing, followers_available=available)


def combine_followers(verdicts: Iterable[bool | None]) -> bool | None:
    """Followers are available if any answer shows them; unknown if no answer could tell."""
    seen = [v for v in verdicts if v is not None]
    return any(seen) if seen else None

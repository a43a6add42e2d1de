"""Reading Spotify answers just enough to describe them: records, missing ids, followers.

Ingest never reshapes what Spotify sent (bronze keeps the bytes); it only counts what is
there for the manifest and decides whether the app can read followers. That decision looks
at the content of the answers, never at the calendar: Spotify has changed who gets
``followers`` more than once, so only the payload tells.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ingest.client import RawResponse


@dataclass(frozen=True)
class AnswerSummary:
    """What one answer holds, for the manifest and the followers check."""

    records: int  # artist objects (``null`` entries for unknown ids not counted)
    missing_ids: tuple[str, ...]  # requested ids the answer has no object for
    #: True if some object has an integer ``followers.total``; False if objects exist but
    #: none has it; None when there is no object to judge by (all unknown, or not JSON).
    followers_available: bool | None


def artist_objects(body: bytes) -> list[dict[str, Any]]:
    """The artist objects in a batch answer (``{"artists": [...]}``) or a single-artist
    answer; empty for anything else (error bodies, malformed JSON)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    if isinstance(payload, dict) and isinstance(payload.get("artists"), list):
        return [a for a in payload["artists"] if isinstance(a, dict)]
    if isinstance(payload, dict) and "id" in payload and "error" not in payload:
        return [payload]
    return []


def has_followers(obj: dict[str, Any]) -> bool:
    """True when the object carries a follower count (``followers.total`` an integer)."""
    followers = obj.get("followers")
    if not isinstance(followers, dict):
        return False
    total = followers.get("total")
    return isinstance(total, int) and not isinstance(total, bool)


def offers_followers(obj: dict[str, Any]) -> bool:
    """True when the object has a ``followers`` field at all: what the app may read.

    Development Mode objects lack the field; an object whose ``followers.total`` is present
    but malformed still shows the app can read followers (that object is a data problem,
    quarantined by the transform, not a capability problem).
    """
    return obj.get("followers") is not None


def summarize(response: RawResponse) -> AnswerSummary:
    """Describe one answer. A 404 for a single id counts that id as missing."""
    objects = artist_objects(response.body) if response.status == 200 else []
    returned = {obj.get("id") for obj in objects}
    missing = tuple(i for i in response.requested_ids if i not in returned)
    available = any(offers_followers(o) for o in objects) if objects else None
    return AnswerSummary(records=len(objects), missing_ids=missing, followers_available=available)


def combine_followers(verdicts: Iterable[bool | None]) -> bool | None:
    """Followers are available if any answer shows them; unknown if no answer could tell."""
    seen = [v for v in verdicts if v is not None]
    return any(seen) if seen else None

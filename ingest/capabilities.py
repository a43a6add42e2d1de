"""What a Spotify app can read, found by asking, never by the calendar.

One token, one artist: the answer shows whether the app may use the batch endpoint
(``GET /artists``) and whether artist objects carry ``followers`` and ``popularity``.
Spotify has moved these between app modes more than once (February and March 2026), so the
only reliable test is the payload. Used by ``spotify-lakehouse doctor``; the day's ingest
makes the same classification from its preflight answer (:mod:`ingest.pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from catalog.bronze.payload import artist_objects, followers_total, offers_followers
from ingest.client import SpotifyClient

#: The artist the probe asks for (Taylor Swift, of the default roster).
PROBE_ARTIST_ID: Final = "06HL4z0CvFAxyc27GXpf02"


@dataclass(frozen=True)
class AppCapabilities:
    """The probe's findings. ``None`` means the probe could not tell (unknown artist)."""

    artist_id: str
    batch_endpoint: bool | None
    followers: bool | None
    popularity: bool | None
    artist_name: str | None = None
    followers_total: int | None = None


def probe(
    client: SpotifyClient,
    artist_id: str = PROBE_ARTIST_ID,
    *,
    simulated_date: date | None = None,
) -> AppCapabilities:
    """Fetch ``artist_id`` once and classify what the answer contains."""
    objects = [
        obj
        for answer in client.fetch_artists([artist_id], simulated_date=simulated_date)
        if answer.status == 200
        for obj in artist_objects(answer.body)
    ]
    if not objects:
        return AppCapabilities(artist_id, client.batch_available, None, None)
    obj = objects[0]
    name = obj.get("name")
    return AppCapabilities(
        artist_id=artist_id,
        batch_endpoint=client.batch_available,
        followers=offers_followers(obj),
        popularity=obj.get("popularity") is not None,
        artist_name=name if isinstance(name, str) else None,
        followers_total=followers_total(obj),
    )

"""From raw bronze bodies to candidate silver rows: parsing and flattening, no judging.

Pure Python on purpose: a day is at most a few thousand small JSON bodies, which the driver
parses faster than Spark can plan a JSON scan, and the same code runs on Glue and locally.
Anything the API may add later (a new optional field) is simply not read here: it stays in
bronze, byte for byte, and never breaks the job.

Every artist record becomes a :class:`expectations.frame.Candidate`, however broken: the
data-quality suite decides what loads, and what does not is quarantined with its raw JSON.
Only ``null`` entries (Spotify's answer for an unknown id, named in the manifest's
``missing_ids``) are not records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from catalog.bronze import ManifestPart
from expectations.frame import Candidate, json_type

#: Longest raw record kept in quarantine (characters). Spotify artist objects are ~1 KB;
#: anything far larger is garbage whose head is enough to see what went wrong.
MAX_RAW_CHARS: Final = 16_000


class MalformedPartError(Exception):
    """A bronze part is not a Spotify artists answer (``{"artists": [...]}`` or one artist)."""


def artist_objects(body: bytes, source: str) -> list[Any]:
    """The artist objects of one raw body: the batch answer or a single-artist answer.

    ``null`` entries (Spotify's answer for an unknown id) are kept as ``None`` so counts
    match the manifest; callers skip them.
    """
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise MalformedPartError(f"bronze part {source} is not JSON: {e}") from e
    if isinstance(payload, dict) and isinstance(payload.get("artists"), list):
        return list(payload["artists"])
    if isinstance(payload, dict) and "id" in payload:
        return [payload]
    raise MalformedPartError(
        f"bronze part {source} is neither {{'artists': [...]}} nor an artist object"
    )


def _largest_image(images: Any) -> str | None:
    if not isinstance(images, list):
        return None
    sized = [i for i in images if isinstance(i, dict) and isinstance(i.get("url"), str)]
    if not sized:
        return None
    best = max(sized, key=lambda i: (i.get("width") or 0) * (i.get("height") or 0))
    url: str = best["url"]
    return url


def _int_or_none(value: Any) -> int | None:
    # bool is an int in Python; a JSON true is not a follower count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def day_of_key(key: str) -> date | None:
    """The day a bronze key is filed under (its ``snapshot_date=D`` folder), if any."""
    for segment in key.split("/"):
        if segment.startswith("snapshot_date="):
            try:
                return date.fromisoformat(segment.removeprefix("snapshot_date="))
            except ValueError:
                return None
    return None


def silver_row(obj: Any, *, day: date, run_id: str, part: ManifestPart) -> dict[str, Any]:
    """Flatten one Spotify artist object to the silver columns (names from the table).

    A field of the wrong type becomes ``None`` (a JSON ``true`` is not a follower count);
    ``snapshot_date`` is the day the part is filed under, which the suite checks against
    the day being loaded.
    """
    obj = obj if isinstance(obj, dict) else {}
    followers = obj.get("followers")
    genres = obj.get("genres")
    urls = obj.get("external_urls")
    return {
        "artist_id": _str_or_none(obj.get("id")),
        "snapshot_date": day_of_key(part.key) or day,
        "name": _str_or_none(obj.get("name")),
        "followers": _int_or_none(followers.get("total")) if isinstance(followers, dict) else None,
        "popularity": _int_or_none(obj.get("popularity")),
        "genres": [g for g in genres if isinstance(g, str)] if isinstance(genres, list) else None,
        "image_url": _largest_image(obj.get("images")),
        "spotify_url": urls.get("spotify") if isinstance(urls, dict) else None,
        "fetched_at": datetime.fromisoformat(part.fetched_at) if part.fetched_at else None,
        "run_id": run_id,
        "source_file": part.key,
    }


def _followers_type(obj: Any) -> str | None:
    followers = obj.get("followers") if isinstance(obj, dict) else None
    return json_type(followers.get("total")) if isinstance(followers, dict) else None


@dataclass
class DayRows:
    """The candidate rows of one day, in bronze order (part, then record)."""

    candidates: list[Candidate]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The candidates' silver columns (unjudged: for benchmarks and diagnostics)."""
        return [c.row for c in self.candidates]


def day_rows(bodies: Iterable[tuple[ManifestPart, bytes]], *, day: date, run_id: str) -> DayRows:
    """Flatten every record of every listed part into a candidate with a stable row id."""
    candidates: list[Candidate] = []
    for part, body in bodies:
        for obj in artist_objects(body, part.key):
            if obj is None:
                continue  # unknown id: the manifest's missing_ids names it
            candidates.append(
                Candidate(
                    row_id=len(candidates),
                    row=silver_row(obj, day=day, run_id=run_id, part=part),
                    raw=json.dumps(obj, sort_keys=True)[:MAX_RAW_CHARS],
                    source_file=part.key,
                    followers_json_type=_followers_type(obj),
                )
            )
    return DayRows(candidates)


_NEVER: Final = datetime.min.replace(tzinfo=UTC)


def fetch_order(candidate: Candidate) -> tuple[datetime, str, int]:
    """Rank of a copy among an artist's duplicates: the latest fetch wins (deterministic)."""
    fetched: datetime | None = candidate.row.get("fetched_at")
    return (fetched or _NEVER, candidate.source_file, candidate.row_id)

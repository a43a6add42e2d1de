"""From raw bronze bodies to silver rows: parsing, flattening, de-duplication.

Pure Python on purpose: a day is at most a few thousand small JSON bodies, which the driver
parses faster than Spark can plan a JSON scan, and the same code runs on Glue and locally.
Anything the API may add later (a new optional field) is simply not read here: it stays in
bronze, byte for byte, and never breaks the job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from catalog.bronze import ManifestPart


class MalformedPartError(Exception):
    """A bronze part is not a Spotify artists answer (``{"artists": [...]}`` or one artist)."""


@dataclass(frozen=True)
class RejectedRecord:
    """A record that cannot become a silver row, with the reason; it stays in bronze."""

    source_file: str
    reason: str
    raw: str


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


def silver_row(
    obj: dict[str, Any], *, day: date, run_id: str, part: ManifestPart
) -> dict[str, Any]:
    """Flatten one Spotify artist object to the silver columns (names from the table)."""
    followers = obj.get("followers")
    genres = obj.get("genres")
    urls = obj.get("external_urls")
    return {
        "artist_id": obj.get("id") if isinstance(obj.get("id"), str) else None,
        "snapshot_date": day,
        "name": obj.get("name") if isinstance(obj.get("name"), str) else None,
        "followers": _int_or_none(followers.get("total")) if isinstance(followers, dict) else None,
        "popularity": _int_or_none(obj.get("popularity")),
        "genres": [g for g in genres if isinstance(g, str)] if isinstance(genres, list) else None,
        "image_url": _largest_image(obj.get("images")),
        "spotify_url": urls.get("spotify") if isinstance(urls, dict) else None,
        "fetched_at": datetime.fromisoformat(part.fetched_at) if part.fetched_at else None,
        "run_id": run_id,
        "source_file": part.key,
    }


def _structural_problem(row: dict[str, Any]) -> str | None:
    """The reason a row cannot be loaded at all, before any data-quality suite runs."""
    if not row["artist_id"]:
        return "artist object has no string 'id'"
    if row["followers"] is None:
        return "artist object has no integer 'followers.total'"
    return None


@dataclass
class DayRows:
    """The rows of one day, ready to merge, and what was set aside."""

    rows: list[dict[str, Any]]
    rejected: list[RejectedRecord]
    duplicates: int = 0


def day_rows(bodies: Iterable[tuple[ManifestPart, bytes]], *, day: date, run_id: str) -> DayRows:
    """Flatten every listed part and keep one row per artist_id.

    When an artist appears twice in a day (a roster listing it twice, or a fallback fetch),
    the later fetch wins: it is the fresher answer, and the choice is deterministic.
    """
    latest: dict[str, dict[str, Any]] = {}
    rejected: list[RejectedRecord] = []
    duplicates = 0
    for part, body in bodies:
        for obj in artist_objects(body, part.key):
            if obj is None:
                continue  # unknown id: the manifest's missing_ids names it
            if not isinstance(obj, dict):
                rejected.append(RejectedRecord(part.key, "not a JSON object", json.dumps(obj)))
                continue
            row = silver_row(obj, day=day, run_id=run_id, part=part)
            problem = _structural_problem(row)
            if problem:
                rejected.append(RejectedRecord(part.key, problem, json.dumps(obj)[:4000]))
                continue
            key = row["artist_id"]
            if key in latest:
                duplicates += 1
                if _fetch_order(row) < _fetch_order(latest[key]):
                    continue
            latest[key] = row
    return DayRows(
        rows=sorted(latest.values(), key=lambda r: r["artist_id"]),
        rejected=rejected,
        duplicates=duplicates,
    )


_NEVER = datetime.min.replace(tzinfo=UTC)


def _fetch_order(row: dict[str, Any]) -> tuple[datetime, str]:
    fetched: datetime | None = row["fetched_at"]
    return (fetched or _NEVER, row["source_file"])

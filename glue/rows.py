"""From raw bronze bodies to candidate silver rows: parsing and flattening, no judging.

Pure Python on purpose: a day is at most a few thousand small JSON bodies, which the driver
parses faster than Spark can plan a JSON scan, and the same code runs on Glue and locally.
Anything the API may add later (a new optional field) is simply not read here: it stays in
bronze, byte for byte, and never breaks the job.

Every artist record becomes a :class:`expectations.frame.Candidate`, however broken: the
data-quality suite decides what loads, and what does not is quarantined with its raw JSON.
What a record is (every non-``null`` entry of an answer) and how ``followers.total`` is
read are defined once, in :mod:`catalog.bronze.payload`, shared with ingest's manifest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from catalog.bronze.layout import ManifestPart, day_of_key
from catalog.bronze.payload import (
    NotAnArtistsAnswerError,
    followers_total,
    json_int,
    json_type,
    raw_followers_total,
    records,
)
from catalog.iceberg.tables import ARTISTS_SILVER
from expectations.frame import Candidate, storable_values


class MalformedPartError(Exception):
    """A bronze part is not a Spotify artists answer (``{"artists": [...]}`` or one artist)."""


def part_records(body: bytes, source: str) -> list[Any]:
    """The records of one bronze part's body (batch or single-artist answer), in answer order;
    :class:`MalformedPartError` when it is not an artists answer.

    Records are defined once, in :func:`catalog.bronze.payload.records`: every non-``null``
    entry, whatever its type (a broken one becomes a candidate and is quarantined). ``null``
    entries (Spotify's answer for an unknown id) are not records; the manifest's
    ``missing_ids`` names them. ``len()`` of the result is the part's record count, the
    same number ingest wrote in the manifest (:func:`catalog.bronze.payload.record_count`).
    """
    try:
        return records(body)
    except NotAnArtistsAnswerError as e:
        raise MalformedPartError(f"bronze part {source} is {e}") from e


def _largest_image(images: Any) -> str | None:
    if not isinstance(images, list):
        return None
    sized = [i for i in images if isinstance(i, dict) and isinstance(i.get("url"), str)]
    if not sized:
        return None
    best = max(
        sized, key=lambda i: (json_int(i.get("width")) or 0) * (json_int(i.get("height")) or 0)
    )
    url: str = best["url"]
    return url


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def silver_row(
    obj: Any,
    *,
    day: date,
    run_id: str,
    part: ManifestPart,
    filed: PartFiling | None = None,
) -> dict[str, Any]:
    """Flatten one Spotify artist record to exactly the silver columns, in table order.

    The column list is :data:`catalog.iceberg.tables.ARTISTS_SILVER`'s; a column this function does
    not read from the payload (one added to the table later) is ``None``. A field of the
    wrong type becomes ``None`` (a JSON ``true`` is not a follower count); ``snapshot_date``
    is the day the part is filed under, which the suite checks against the day being loaded.
    Text is as decoded: it may hold a lone surrogate (:func:`day_rows` makes it storable).
    """
    obj = obj if isinstance(obj, dict) else {}
    filed = filed or PartFiling.of(part, day)
    genres = obj.get("genres")
    urls = obj.get("external_urls")
    values: dict[str, Any] = {
        "artist_id": _str_or_none(obj.get("id")),
        "snapshot_date": filed.day,
        "name": _str_or_none(obj.get("name")),
        "followers": followers_total(obj),
        "popularity": json_int(obj.get("popularity")),
        "genres": [g for g in genres if isinstance(g, str)] if isinstance(genres, list) else None,
        "image_url": _largest_image(obj.get("images")),
        "spotify_url": _str_or_none(urls.get("spotify")) if isinstance(urls, dict) else None,
        "fetched_at": filed.fetched_at,
        "run_id": run_id,
        "source_file": part.key,
    }
    return {name: values.get(name) for name in ARTISTS_SILVER.column_names}


@dataclass(frozen=True)
class PartFiling:
    """What every record of a part shares: the day the part is filed under and its fetch
    time, worked out once per part (50 records) instead of once per record."""

    day: date
    fetched_at: datetime | None

    @classmethod
    def of(cls, part: ManifestPart, day: date) -> PartFiling:
        fetched = datetime.fromisoformat(part.fetched_at) if part.fetched_at else None
        return cls(day_of_key(part.key) or day, fetched)


@dataclass
class DayRows:
    """The candidate rows of one day, in bronze order (part, then record)."""

    candidates: list[Candidate]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The candidates' silver columns (unjudged: for benchmarks and diagnostics)."""
        return [c.row for c in self.candidates]


def day_rows(bodies: Iterable[tuple[ManifestPart, bytes]], *, day: date, run_id: str) -> DayRows:
    """:func:`records_to_rows` of each part's body, decoded by :func:`part_records`."""
    decoded = ((part, part_records(body, part.key)) for part, body in bodies)
    return records_to_rows(decoded, day=day, run_id=run_id)


def records_to_rows(
    parts: Iterable[tuple[ManifestPart, list[Any]]], *, day: date, run_id: str
) -> DayRows:
    """Flatten every record of every listed part (as :func:`part_records` decoded it) into
    a candidate with a stable row id. The transform decodes each part once, for the bronze
    check's record count and for these rows (decoding a 10,000-artist day twice was 0.1 s).

    Every value a candidate holds can be stored: text with a lone surrogate (legal JSON,
    not encodable as UTF-8) is escaped and the fields it was in are named on the candidate,
    which fails the ``text_is_valid_unicode`` expectation and is quarantined; the raw record
    is its JSON text with the surrogates escaped (:attr:`expectations.frame.Candidate.raw`,
    made only for the candidates that are quarantined or warned).
    """
    candidates: list[Candidate] = []
    for part, found in parts:
        filed = PartFiling.of(part, day)
        for obj in found:
            row = silver_row(obj, day=day, run_id=run_id, part=part, filed=filed)
            row, unstorable = storable_values(row)
            candidates.append(
                Candidate(
                    row_id=len(candidates),
                    row=row,
                    record=obj,
                    source_file=part.key,
                    followers_json_type=json_type(raw_followers_total(obj)),
                    unstorable_fields=unstorable,
                )
            )
    return DayRows(candidates)


_NEVER: Final = datetime.min.replace(tzinfo=UTC)


def fetch_order(candidate: Candidate) -> tuple[datetime, str, int]:
    """Rank of a copy among an artist's duplicates: the latest fetch wins (deterministic)."""
    fetched: datetime | None = candidate.row.get("fetched_at")
    return (fetched or _NEVER, candidate.source_file, candidate.row_id)

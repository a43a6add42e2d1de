"""Write bronze days through the real store, for tests of the stages after ingest."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from catalog.bronze.layout import BronzeStore, Manifest, ManifestPart, part_key, sha256_hex


def artist(index: int, followers: Any = None, **overrides: Any) -> dict[str, Any]:
    """A Spotify-shaped artist object with a valid 22-character id."""
    body: dict[str, Any] = {
        "id": f"{index:022d}",
        "name": f"Artist {index}",
        "followers": {"href": None, "total": 1_000_000 * index if followers is None else followers},
        "popularity": 50 + index % 50,
        "genres": ["pop", f"genre-{index}"],
        "images": [
            {"url": f"https://i.scdn.co/image/{index}-small", "height": 64, "width": 64},
            {"url": f"https://i.scdn.co/image/{index}-large", "height": 640, "width": 640},
        ],
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{index:022d}"},
        "href": f"https://api.spotify.com/v1/artists/{index:022d}",
        "type": "artist",
        "uri": f"spotify:artist:{index:022d}",
    }
    body.update(overrides)
    return body


def write_day(
    store: BronzeStore,
    day: date,
    parts: list[list[Any]],
    *,
    run_id: str = "run-1",
    followers_available: bool = True,
    replace: bool = False,
    fetched_at: datetime | None = None,
) -> Manifest:
    """Write each list of artist objects as one batch answer, then the manifest, last."""
    fetched = (fetched_at or datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)).isoformat()
    listed = []
    for index, objects in enumerate(parts):
        body = json.dumps({"artists": objects}).encode()
        key = part_key(day, run_id, index)
        store.put_new(key, body)
        listed.append(
            ManifestPart(
                key=key,
                sha256=sha256_hex(body),
                bytes=len(body),
                records=sum(o is not None for o in objects),
                url="http://127.0.0.1/v1/artists",
                fetched_at=fetched,
            )
        )
    manifest = Manifest(
        snapshot_date=day,
        run_id=run_id,
        completed_at=datetime.now(UTC).isoformat(),
        source="simulator",
        parts=tuple(listed),
        followers_available=followers_available,
        roster_size=sum(len(p) for p in parts),
    )
    store.put_manifest(manifest, replace=replace)
    return manifest

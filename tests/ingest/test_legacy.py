"""import-legacy: the original project's YYYY-MM-DD/<artist name> history -> bronze days."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.bronze.layout import BronzeStore, envelope_key
from catalog.bronze.local import LocalBronzeStore
from catalog.bronze.s3 import S3BronzeStore
from glue.rows import day_rows
from ingest.errors import LegacySourceError
from ingest.legacy import FolderSource, import_legacy, open_legacy_source

DAYS = (date(2023, 5, 1), date(2023, 5, 2))
ARTISTS = {"06HL4z0CvFAxyc27GXpf02": "Taylor Swift", "3TVXtAsR1Inumwj472S9r4": "Drake"}


def legacy_body(artist_id: str, name: str, day: date) -> bytes:
    total = 90_000_000 + day.day * 1000 + len(name)
    obj = {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "followers": {"href": None, "total": total},
        "genres": ["pop"],
        "id": artist_id,
        "images": [],
        "name": name,
        "popularity": 95,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }
    return json.dumps(obj).encode()


def history() -> dict[str, bytes]:
    """The original bucket's keys: two days of two artists, plus things to skip."""
    objects = {
        f"{day.isoformat()}/{name}": legacy_body(artist_id, name, day)
        for day in DAYS
        for artist_id, name in ARTISTS.items()
    }
    objects["2023-05-02/Broken Artist"] = b"<html>not json</html>"
    objects["README.txt"] = b"notes"
    objects["2023-13-45/Nobody"] = b"{}"  # not a date
    return objects


def check_imported(store: BronzeStore) -> None:
    assert store.days() == list(DAYS)
    for day in DAYS:
        manifest = store.read_manifest(day)
        assert manifest is not None
        assert manifest.source == "legacy-import"
        assert manifest.extra["imported"] is True
        assert manifest.followers_available
        assert manifest.record_count == 2
        bodies = [(part, store.read_part(part)) for part in manifest.parts]
        # Byte for byte: the original objects, in key order (Drake < Taylor Swift).
        assert [b for _, b in bodies] == [
            legacy_body("3TVXtAsR1Inumwj472S9r4", "Drake", day),
            legacy_body("06HL4z0CvFAxyc27GXpf02", "Taylor Swift", day),
        ]
        envelope = json.loads(store.get(envelope_key(manifest.parts[0].key)))
        assert envelope["legacy_key"] == f"{day.isoformat()}/Drake"
        assert envelope["run_id"] == manifest.run_id
        # The Glue row parser turns these single-artist bodies into silver rows.
        rows = day_rows(bodies, day=day, run_id=manifest.run_id)
        assert sorted(r["name"] for r in rows.rows) == ["Drake", "Taylor Swift"]
        assert all(r["fetched_at"] is not None for r in rows.rows)
    second = store.read_manifest(DAYS[1])
    assert second is not None
    assert second.extra["skipped_keys"] == ["2023-05-02/Broken Artist"]


def write_folder(root: Path) -> None:
    for key, body in history().items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    taken = (root / "2023-05-01" / "Drake").stat()
    os.utime(root / "2023-05-01" / "Drake", (taken.st_atime, 1682928000))  # 2023-05-01 08:00


def test_a_folder_is_imported_day_by_day_and_idempotently(tmp_path: Path) -> None:
    write_folder(tmp_path / "old")
    store = LocalBronzeStore(tmp_path / "bronze")
    report = import_legacy(open_legacy_source(str(tmp_path / "old")), store)
    assert [(d.day, d.status, d.records) for d in report.days] == [
        (DAYS[0], "imported", 2),
        (DAYS[1], "imported", 2),
    ]
    assert report.ignored_keys == ["2023-13-45/Nobody", "README.txt"]
    check_imported(store)
    manifest = store.read_manifest(DAYS[0])
    assert manifest is not None
    assert manifest.parts[0].fetched_at == "2023-05-01T08:00:00+00:00"  # the file's mtime

    keys_before = store.list_keys("spotify/")
    again = import_legacy(FolderSource(tmp_path / "old"), store)
    assert [d.status for d in again.days] == ["already_complete", "already_complete"]
    assert store.list_keys("spotify/") == keys_before  # nothing written twice

    forced = import_legacy(FolderSource(tmp_path / "old"), store, force=True)
    assert [d.status for d in forced.days] == ["imported", "imported"]
    replaced = store.read_manifest(DAYS[0])
    assert replaced is not None
    assert replaced.run_id != manifest.run_id


def test_a_day_with_nothing_usable_gets_no_manifest(tmp_path: Path) -> None:
    (tmp_path / "old" / "2023-06-01").mkdir(parents=True)
    (tmp_path / "old" / "2023-06-01" / "Someone").write_bytes(b'{"error": "gone"}')
    store = LocalBronzeStore(tmp_path / "bronze")
    report = import_legacy(FolderSource(tmp_path / "old"), store)
    assert [d.status for d in report.days] == ["nothing_usable"]
    assert store.days() == []


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LegacySourceError, match="not a folder"):
        open_legacy_source(str(tmp_path / "nowhere"))


def test_an_s3_history_is_imported_into_s3_bronze(aws: str) -> None:
    s3: Any = boto3.client("s3")
    s3.create_bucket(Bucket="original-project")
    for key, body in history().items():
        s3.put_object(Bucket="original-project", Key=f"spotify/{key}", Body=body)
    s3.create_bucket(Bucket="lakehouse-data")
    store = S3BronzeStore("lakehouse-data", "bronze/", client=s3)
    source = open_legacy_source("s3://original-project/spotify")
    report = import_legacy(source, store)
    assert [d.status for d in report.days] == ["imported", "imported"]
    check_imported(store)
    manifest = store.read_manifest(DAYS[0])
    assert manifest is not None
    assert manifest.parts[0].url == "s3://original-project/spotify/2023-05-01/Drake"
    again = import_legacy(source, store)
    assert [d.status for d in again.days] == ["already_complete", "already_complete"]


def test_an_unreadable_bucket_is_a_clear_error(aws: str, tmp_path: Path) -> None:
    with pytest.raises(LegacySourceError, match="cannot list") as caught:
        import_legacy(open_legacy_source("s3://no-such-bucket"), LocalBronzeStore(tmp_path))
    assert caught.value.__cause__ is not None

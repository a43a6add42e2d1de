"""``import-legacy``: the original project's history -> bronze, one completed day at a time.

The original project stored one JSON artist object per key ``YYYY-MM-DD/<artist name>`` in
its bucket; for its users that is the only history there is. Each such day becomes a normal
bronze day (one part per object, byte for byte, with its envelope, then the manifest) whose
manifest says ``source: "legacy-import"``, so ``backfill`` loads it like any other day (the
Glue row parser accepts single-artist bodies).

* Idempotent: a day that already has a manifest is left alone (``--force`` replaces it,
  keeping the old manifest as every forced replace does). Re-running an import after a
  failure completes the days that are missing and touches nothing else.
* ``fetched_at`` of a part is the object's last-modified time, the best record of when the
  original project fetched it (``aws s3 sync`` keeps it as the file's mtime).
* Keys that do not look like ``YYYY-MM-DD/<name>`` are ignored and counted; objects that
  are not a JSON artist object are skipped, named in the report and in the manifest's
  ``extra.skipped_keys``. A day with no usable object gets no manifest.
"""

from __future__ import annotations

import json
import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from catalog.bronze.layout import (
    BronzeStore,
    Manifest,
    ManifestPart,
    envelope_key,
    part_key,
    sha256_hex,
)
from catalog.bronze.payload import NotAnArtistsAnswerError, offers_followers, records
from catalog.bronze.s3 import S3_CLIENT_CONFIG
from ingest.answers import combine_followers
from ingest.errors import LegacySourceError
from ingest.pipeline import new_run_id

log = logging.getLogger(__name__)

#: ``YYYY-MM-DD/<artist name>``; the name may itself contain slashes ("AC/DC").
LEGACY_KEY_PATTERN: Final = re.compile(r"(?P<day>\d{4}-\d{2}-\d{2})/(?P<name>.+)")
LEGACY_SOURCE: Final = "legacy-import"
MAX_LOGGED_KEYS: Final = 10


@dataclass(frozen=True)
class LegacyObject:
    """One object of the original project's history, not yet read."""

    key: str  # relative to the source root: YYYY-MM-DD/<artist name>
    uri: str  # where it lives, for the envelope
    modified: datetime  # UTC
    version: str  # ETag (S3) or size and mtime (folder): identifies what was read

    @property
    def day(self) -> date:
        match = LEGACY_KEY_PATTERN.fullmatch(self.key)
        if match is None:  # pragma: no cover - sources only list matching keys
            raise ValueError(f"not a legacy key: {self.key!r}")
        return date.fromisoformat(match["day"])


class LegacySource(ABC):
    """Where the original history lives: a folder or an S3 bucket (with a prefix)."""

    location: str

    @abstractmethod
    def keys(self) -> list[tuple[str, str, datetime, str]]:
        """Every object as (relative key, uri, last modified UTC, version)."""

    @abstractmethod
    def read(self, obj: LegacyObject) -> bytes: ...

    def objects(self) -> tuple[list[LegacyObject], list[str]]:
        """The objects whose key is a legacy day key, sorted by key; and the other keys."""
        found: list[LegacyObject] = []
        ignored: list[str] = []
        for key, uri, modified, version in self.keys():
            match = LEGACY_KEY_PATTERN.fullmatch(key)
            if match is None or not _is_date(match["day"]):
                ignored.append(key)
                continue
            found.append(LegacyObject(key, uri, modified, version))
        return sorted(found, key=lambda o: o.key), sorted(ignored)


class FolderSource(LegacySource):
    """The history as files: ``<root>/YYYY-MM-DD/<artist name>``."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise LegacySourceError(
                f"legacy source {root} is not a folder; pass the folder that holds the "
                "YYYY-MM-DD folders, or s3://bucket[/prefix]"
            )
        self.root = root
        self.location = str(root)

    def keys(self) -> list[tuple[str, str, datetime, str]]:
        found = []
        for path in self.root.rglob("*"):
            if not path.is_file() or path.name.startswith("."):
                continue
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            version = f"{stat.st_size}-{stat.st_mtime_ns}"
            found.append((path.relative_to(self.root).as_posix(), path.as_uri(), modified, version))
        return found

    def read(self, obj: LegacyObject) -> bytes:
        try:
            return (self.root / obj.key).read_bytes()
        except OSError as e:
            raise LegacySourceError(f"cannot read legacy object {obj.uri}: {e}") from e


class S3Source(LegacySource):
    """The history in the original project's bucket: ``s3://bucket/[prefix/]YYYY-MM-DD/<name>``."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"
        self._s3: Any = client or boto3.client("s3", config=S3_CLIENT_CONFIG)

    def keys(self) -> list[tuple[str, str, datetime, str]]:
        found = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key: str = item["Key"]
                    if key.endswith("/"):
                        continue  # a "folder" placeholder object
                    modified: datetime = item["LastModified"].astimezone(UTC)
                    uri = f"s3://{self.bucket}/{key}"
                    found.append((key.removeprefix(self.prefix), uri, modified, item["ETag"]))
        except (ClientError, BotoCoreError) as e:
            raise LegacySourceError(
                f"cannot list the legacy history in {self.location}: {e}; check the bucket "
                "name and that this identity may list and read it"
            ) from e
        return found

    def read(self, obj: LegacyObject) -> bytes:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + obj.key)
            body: bytes = answer["Body"].read()
        except (ClientError, BotoCoreError) as e:
            raise LegacySourceError(f"cannot read legacy object {obj.uri}: {e}") from e
        return body


def open_legacy_source(spec: str, *, s3_client: Any = None) -> LegacySource:
    """A folder path, or ``s3://bucket[/prefix]``."""
    parts = urlsplit(spec)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise LegacySourceError(f"legacy source {spec!r} names no bucket")
        return S3Source(parts.netloc, parts.path, client=s3_client)
    return FolderSource(Path(os.path.expanduser(spec)).absolute())  # its keys become file URIs


@dataclass(frozen=True)
class ImportedDay:
    """What happened to one day of the history."""

    day: date
    status: Literal["imported", "already_complete", "nothing_usable"]
    run_id: str = ""
    records: int = 0
    followers_available: bool = True
    skipped_keys: tuple[str, ...] = ()  # objects that are not a JSON artist object


@dataclass
class ImportReport:
    """The whole import: one entry per day found, and the keys that were not day keys."""

    source: str
    days: list[ImportedDay] = field(default_factory=list)
    ignored_keys: list[str] = field(default_factory=list)

    @property
    def imported(self) -> list[ImportedDay]:
        return [d for d in self.days if d.status == "imported"]


def import_legacy(
    source: LegacySource,
    store: BronzeStore,
    *,
    force: bool = False,
    on_day: Callable[[ImportedDay, int], object] | None = None,
) -> ImportReport:
    """Bring every day of ``source`` into ``store`` (see the module docstring); ``on_day``
    hears of each day as it is done, with the number of days found (a command's progress)."""
    objects, ignored = source.objects()
    report = ImportReport(source=source.location, ignored_keys=ignored)
    if ignored:
        shown = ", ".join(ignored[:MAX_LOGGED_KEYS])
        log.warning(
            "ignored %d key(s) of %s that are not YYYY-MM-DD/<artist name>: %s",
            len(ignored),
            source.location,
            shown,
        )
    days = [(day, list(group)) for day, group in groupby(objects, key=lambda o: o.day)]
    for day, group in days:
        report.days.append(_import_day(source, store, day, group, force=force))
        if on_day is not None:
            on_day(report.days[-1], len(days))
    return report


def _import_day(
    source: LegacySource,
    store: BronzeStore,
    day: date,
    objects: Iterable[LegacyObject],
    *,
    force: bool,
) -> ImportedDay:
    existing = store.read_manifest(day)
    if existing is not None and not force:
        log.info("%s is already complete in bronze (run %s); skipped", day, existing.run_id)
        return ImportedDay(
            day,
            "already_complete",
            existing.run_id,
            existing.record_count,
            existing.followers_available,
        )
    run_id = new_run_id()
    parts: list[ManifestPart] = []
    skipped: list[str] = []
    verdicts: list[bool | None] = []
    for obj in objects:
        body = source.read(obj)
        try:
            found = records(body)
        except NotAnArtistsAnswerError:
            found = []
        # Exactly one record, an artist object: the manifest's count of 1 is then the same
        # count the transform's bronze check finds (catalog.bronze.payload.record_count).
        artist = found[0] if len(found) == 1 else None
        if not isinstance(artist, dict) or not isinstance(artist.get("id"), str):
            skipped.append(obj.key)
            continue
        verdicts.append(offers_followers(artist))
        key = part_key(day, run_id, len(parts))
        fetched_at = obj.modified.isoformat()
        store.put_new(key, body)
        envelope = _envelope(obj, run_id, day, fetched_at, artist["id"])
        store.put_new(envelope_key(key), json.dumps(envelope, indent=2).encode())
        parts.append(
            ManifestPart(
                key=key,
                sha256=sha256_hex(body),
                bytes=len(body),
                records=1,
                url=obj.uri,
                status=200,
                fetched_at=fetched_at,
            )
        )
    if skipped:
        log.warning(
            "%s: skipped %d legacy object(s) that are not a JSON artist object: %s",
            day,
            len(skipped),
            ", ".join(skipped[:MAX_LOGGED_KEYS]),
        )
    if not parts:
        return ImportedDay(day, "nothing_usable", skipped_keys=tuple(skipped))
    available = combine_followers(verdicts) is True
    manifest = Manifest(
        snapshot_date=day,
        run_id=run_id,
        completed_at=datetime.now(UTC).isoformat(),
        source=LEGACY_SOURCE,
        parts=tuple(parts),
        followers_available=available,
        backdated=False,
        roster_size=len(parts) + len(skipped),
        missing_ids=(),
        api_url="",
        extra={"imported": True, "imported_from": source.location, "skipped_keys": skipped},
    )
    store.put_manifest(manifest, replace=force and existing is not None)
    log.info("%s: imported %d artists from %s (run %s)", day, len(parts), source.location, run_id)
    return ImportedDay(day, "imported", run_id, len(parts), available, tuple(skipped))


def _envelope(
    obj: LegacyObject, run_id: str, day: date, fetched_at: str, artist_id: str
) -> dict[str, Any]:
    return {
        "url": obj.uri,
        "status": 200,
        "fetched_at": fetched_at,
        "request_id": f"legacy:{obj.version}",
        "run_id": run_id,
        "snapshot_date": day.isoformat(),
        "requested_ids": [artist_id],
        "legacy_key": obj.key,
        "source": LEGACY_SOURCE,
    }


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True

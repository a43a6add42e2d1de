"""The bronze layer: raw Spotify answers, byte for byte, one folder per UTC day.

Layout (keys are relative to the bronze root: ``<home>/bronze/`` locally, ``s3://bucket/bronze/``
on AWS)::

    spotify/artists/snapshot_date=D/run_id=R/part-00000.json       raw response body
    spotify/artists/snapshot_date=D/run_id=R/part-00000.meta.json  its envelope
    spotify/artists/snapshot_date=D/_manifest.json                  written last
    spotify/_runs/snapshot_date=D/<run id>.json                      an ingest Lambda's run record

A day without a manifest is incomplete and is never transformed; the transform reads only
the parts the manifest lists, and checks their sha256. Parts are written once and never
overwritten or deleted: a re-run writes a new ``run_id=`` folder beside the old one.

Run records (:func:`run_record_key`) sit outside the artists dataset on purpose: nothing that
lists a day's parts or manifests (the transform, ``days()``, ``gaps``) ever sees them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Final, Literal

#: Prefix of the artists dataset under the bronze root.
DATASET_PREFIX: Final = "spotify/artists"
MANIFEST_NAME: Final = "_manifest.json"
#: Prefix of the run records the ingest Lambda leaves for the Glue job to fold into
#: ``spotify.pipeline_runs`` (:mod:`catalog.iceberg.run_log`), one folder per day.
RUN_RECORDS_PREFIX: Final = "spotify/_runs"
MANIFEST_VERSION: Final = 1

Source = Literal["spotify", "simulator", "legacy-import"]


class BronzeError(Exception):
    """Base class of bronze-layer errors."""


class PartExistsError(BronzeError):
    """A part key is already taken: parts are immutable, pick a new run id."""


class ManifestExistsError(BronzeError):
    """The day already has a manifest; pass ``replace=True`` (``--force``) to supersede it."""


class ManifestConflictError(BronzeError):
    """The manifest changed between read and replace (another run completed the day), or a
    concurrent write of it kept the store from saying whether the day is complete."""


class ManifestInvalidError(BronzeError):
    """The manifest cannot be parsed or does not describe its parts."""


class PartIntegrityError(BronzeError):
    """A part listed in the manifest is missing or its sha256 does not match."""


def day_prefix(day: date) -> str:
    """Key prefix of one day's folder."""
    return f"{DATASET_PREFIX}/snapshot_date={day.isoformat()}"


def day_of_key(key: str) -> date | None:
    """The day a key is filed under (its ``snapshot_date=D`` folder); ``None`` for a key
    outside any day folder or with a folder name that is not a day."""
    for segment in key.split("/"):
        if segment.startswith("snapshot_date="):
            try:
                return date.fromisoformat(segment.removeprefix("snapshot_date="))
            except ValueError:
                return None
    return None


def manifest_key(day: date) -> str:
    return f"{day_prefix(day)}/{MANIFEST_NAME}"


def run_records_prefix(day: date) -> str:
    """Key prefix of the run records filed under ``day`` (the day a run was asked for)."""
    return f"{RUN_RECORDS_PREFIX}/snapshot_date={day.isoformat()}/"


def run_record_key(day: date, run_id: str) -> str:
    """Where one run's record is kept: written once, never replaced (its own run id)."""
    return f"{run_records_prefix(day)}{run_id}.json"


def part_key(day: date, run_id: str, index: int) -> str:
    return f"{day_prefix(day)}/run_id={run_id}/part-{index:05d}.json"


def unreadable_manifest_key(day: date, raw: bytes) -> str:
    """Where the bytes of an unreadable manifest are kept when a forced re-ingest replaces
    it: beside it, named by their sha256 (the same bytes are kept once)."""
    return f"{day_prefix(day)}/_manifest.unreadable-{sha256_hex(raw)[:16]}.json"


def envelope_key(part: str) -> str:
    """Key of the envelope that sits beside a part."""
    return part.removesuffix(".json") + ".meta.json"


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class ManifestPart:
    """One part the day's manifest vouches for."""

    key: str  # relative to the bronze root
    sha256: str
    bytes: int
    records: int  # artist objects in the body (nulls for unknown ids not counted)
    url: str = ""
    status: int = 200
    fetched_at: str = ""  # ISO-8601 UTC, when the response arrived


@dataclass(frozen=True)
class Manifest:
    """The record that completes a day: which run, which parts, what the app could read."""

    snapshot_date: date
    run_id: str
    completed_at: str  # ISO-8601 UTC
    source: Source
    parts: tuple[ManifestPart, ...]
    followers_available: bool = True
    backdated: bool = False
    roster_size: int = 0
    missing_ids: tuple[str, ...] = ()
    api_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def record_count(self) -> int:
        return sum(p.records for p in self.parts)

    def to_json(self) -> bytes:
        body = asdict(self)
        body["snapshot_date"] = self.snapshot_date.isoformat()
        body["manifest_version"] = MANIFEST_VERSION
        body["record_count"] = self.record_count
        return json.dumps(body, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw)
            parts = tuple(ManifestPart(**p) for p in body["parts"])
            return cls(
                snapshot_date=date.fromisoformat(body["snapshot_date"]),
                run_id=body["run_id"],
                completed_at=body["completed_at"],
                source=body["source"],
                parts=parts,
                followers_available=bool(body.get("followers_available", True)),
                backdated=bool(body.get("backdated", False)),
                roster_size=int(body.get("roster_size", 0)),
                missing_ids=tuple(body.get("missing_ids", ())),
                api_url=body.get("api_url", ""),
                extra=dict(body.get("extra", {})),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ManifestInvalidError(f"unreadable bronze manifest: {e}") from e


class BronzeStore(ABC):
    """Where bronze objects live. One implementation per store (local folder, S3).

    Implementations must make :meth:`put_new` fail instead of overwriting, and
    :meth:`put_manifest` atomic with respect to a concurrent run of the same day.
    """

    #: Human-readable location of the bronze root, for messages.
    location: str

    @abstractmethod
    def put_new(self, key: str, body: bytes) -> None:
        """Write ``body`` at ``key``; raise :class:`PartExistsError` if the key exists."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """Read an object; raise :class:`FileNotFoundError` if it is absent."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""

    @abstractmethod
    def put_manifest(self, manifest: Manifest, *, replace: bool = False) -> None:
        """Complete the day. Without ``replace``, fail with :class:`ManifestExistsError` if the
        day is already complete; with it, supersede the current manifest (kept by versioning
        on S3, as ``_manifest.<completed_at>.json`` locally)."""

    def read_manifest(self, day: date) -> Manifest | None:
        """The day's manifest, or ``None`` when the day is incomplete (never transformed).

        :class:`ManifestInvalidError` when it exists but cannot be read as one (a disk fault,
        a hand edit): ``ingest --force`` replaces it (:meth:`set_aside_unreadable_manifest`).
        """
        key = manifest_key(day)
        try:
            raw = self.get(key)
        except FileNotFoundError:
            return None
        try:
            return Manifest.from_json(raw)
        except ManifestInvalidError as e:
            raise ManifestInvalidError(f"{e} ({self.location.rstrip('/')}/{key})") from e

    def set_aside_unreadable_manifest(self, day: date) -> str | None:
        """Copy the bytes of ``day``'s manifest beside it when they are not a manifest, so a
        forced re-ingest may replace it without losing them; the copy's key, or ``None``
        when the manifest is absent or readable (nothing to keep aside).

        The copy is written like a part (never overwriting; the same bytes are kept once)
        and nothing is deleted. On S3 the read also records the ETag that the replace's
        ``If-Match`` is conditional on, so bytes changed since are never clobbered.
        """
        try:
            raw = self.get(manifest_key(day))
        except FileNotFoundError:
            return None
        try:
            Manifest.from_json(raw)
        except ManifestInvalidError:
            keep = unreadable_manifest_key(day, raw)
            with contextlib.suppress(PartExistsError):  # kept by an earlier attempt
                self.put_new(keep, raw)
            return keep
        return None

    def read_part(self, part: ManifestPart) -> bytes:
        """Read a manifest-listed part and check it is the one the manifest vouches for."""
        try:
            body = self.get(part.key)
        except FileNotFoundError as e:
            raise PartIntegrityError(
                f"bronze part {part.key} is listed in the manifest but missing from "
                f"{self.location}; re-ingest the day with --force"
            ) from e
        digest = sha256_hex(body)
        if digest != part.sha256 or len(body) != part.bytes:
            raise PartIntegrityError(
                f"bronze part {part.key} does not match its manifest "
                f"(sha256 {digest[:12]}..., expected {part.sha256[:12]}...); "
                "re-ingest the day with --force"
            )
        return body

    def days(self) -> list[date]:
        """Days that have a manifest (complete days), in order."""
        found: set[date] = set()
        for key in self.list_keys(DATASET_PREFIX + "/"):
            if key.endswith("/" + MANIFEST_NAME):
                folder = key.split("/")[-2]
                found.add(date.fromisoformat(folder.removeprefix("snapshot_date=")))
        return sorted(found)

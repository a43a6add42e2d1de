"""Issue 9, item 1: a forced re-ingest replaces an unreadable ``_manifest.json`` (both stores),
keeping its bytes beside it; without ``--force`` the error names the way out."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from catalog.bronze.layout import (
    BronzeStore,
    ManifestInvalidError,
    manifest_key,
    unreadable_manifest_key,
)
from catalog.bronze.local import LocalBronzeStore
from catalog.bronze.s3 import S3BronzeStore
from ingest.client import SpotifyClient
from ingest.pipeline import ingest_day
from ingest.roster import Roster
from tests.conftest import FROZEN_TODAY

pytestmark = pytest.mark.usefixtures("frozen_today")
DAY = FROZEN_TODAY - timedelta(days=3)
GARBAGE = b'{"run_id": "r1", "parts": [trunc\x00\xff'
BUCKET = "lakehouse-unreadable"


def ingest(store: BronzeStore, client: SpotifyClient, roster: Roster, *, force: bool) -> Any:
    return ingest_day(
        DAY,
        store=store,
        client=client,
        roster=roster,
        source="simulator",
        allow_backdated=False,
        force=force,
        today=FROZEN_TODAY,
    )


def damage(store: BronzeStore, write: Any) -> None:
    """Ingest the day, then put garbage where its manifest is."""
    write(manifest_key(DAY), GARBAGE)
    with pytest.raises(ManifestInvalidError):
        store.read_manifest(DAY)


def check_forced_reingest(
    store: BronzeStore, client: SpotifyClient, roster: Roster, read: Any
) -> None:
    with pytest.raises(ManifestInvalidError, match="with --force") as refused:
        ingest(store, client, roster, force=False)
    assert manifest_key(DAY) in str(refused.value)
    result = ingest(store, client, roster, force=True)
    assert not result.already_complete
    manifest = store.read_manifest(DAY)
    assert manifest is not None
    assert manifest.run_id == result.run_id
    assert read(unreadable_manifest_key(DAY, GARBAGE)) == GARBAGE  # kept, never deleted
    assert store.days() == [DAY]
    # A second damage with the same bytes and another forced run: still one copy, no error.
    again = ingest(store, client, roster, force=True)
    assert again.run_id != result.run_id


def test_local_forced_reingest_replaces_an_unreadable_manifest(
    store: LocalBronzeStore, client: SpotifyClient, large_roster: Roster
) -> None:
    roster = Roster(large_roster.artists[:3], origin="test")
    ingest(store, client, roster, force=False)

    def write(key: str, body: bytes) -> None:
        (store.root / key).write_bytes(body)

    damage(store, write)
    check_forced_reingest(store, client, roster, lambda key: (store.root / key).read_bytes())


def test_s3_forced_reingest_replaces_an_unreadable_manifest(
    aws: str, client: SpotifyClient, large_roster: Roster
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    store = S3BronzeStore(BUCKET, "bronze/", client=s3)
    roster = Roster(large_roster.artists[:3], origin="test")
    ingest(store, client, roster, force=False)

    def write(key: str, body: bytes) -> None:
        s3.put_object(Bucket=BUCKET, Key="bronze/" + key, Body=body)

    damage(store, write)

    def read(key: str) -> bytes:
        body: bytes = s3.get_object(Bucket=BUCKET, Key="bronze/" + key)["Body"].read()
        return body

    # A fresh store (another process): it has seen no ETag before the forced run.
    check_forced_reingest(S3BronzeStore(BUCKET, "bronze/", client=s3), client, roster, read)
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="bronze/" + manifest_key(DAY))
    assert len(versions["Versions"]) >= 3  # versioning keeps every earlier manifest too


def test_a_readable_manifest_is_not_set_aside(store: LocalBronzeStore) -> None:
    assert store.set_aside_unreadable_manifest(date(2026, 1, 1)) is None

"""S3BronzeStore against moto's HTTP server: conditional writes, forced replace, no deletes."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.bronze import (
    BronzeError,
    LocalBronzeStore,
    Manifest,
    ManifestConflictError,
    ManifestExistsError,
    ManifestPart,
    PartExistsError,
    manifest_key,
    part_key,
    sha256_hex,
)
from catalog.bronze_s3 import BronzeAccessError, S3BronzeStore, open_bronze_store

BUCKET = "lakehouse-data"
DAY = date(2026, 11, 24)


@pytest.fixture
def s3(aws: str) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def bronze(s3: Any) -> S3BronzeStore:
    return S3BronzeStore(BUCKET, "bronze/", client=s3)


def manifest(run_id: str, body: bytes = b'{"artists": []}') -> Manifest:
    key = part_key(DAY, run_id, 0)
    part = ManifestPart(key=key, sha256=sha256_hex(body), bytes=len(body), records=0)
    return Manifest(DAY, run_id, "2026-11-24T06:00:00+00:00", "spotify", (part,))


def test_parts_are_written_once_under_the_prefix(s3: Any, bronze: S3BronzeStore) -> None:
    key = part_key(DAY, "r1", 0)
    bronze.put_new(key, b'{"artists": []}')
    assert bronze.get(key) == b'{"artists": []}'
    assert bronze.exists(key)
    assert not bronze.exists(part_key(DAY, "r1", 1))
    assert s3.get_object(Bucket=BUCKET, Key="bronze/" + key)["Body"].read() == b'{"artists": []}'
    with pytest.raises(PartExistsError) as caught:
        bronze.put_new(key, b"other")
    assert caught.value.__cause__ is not None  # raised from the botocore error
    assert bronze.get(key) == b'{"artists": []}'
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="bronze/" + key)["Versions"]
    assert len(versions) == 1  # never overwritten


def test_missing_objects_and_listing(bronze: S3BronzeStore) -> None:
    with pytest.raises(FileNotFoundError):
        bronze.get("spotify/artists/nothing.json")
    assert bronze.read_manifest(DAY) is None
    for index in (1, 0):
        bronze.put_new(part_key(DAY, "r1", index), b"{}")
    assert bronze.list_keys("spotify/") == [part_key(DAY, "r1", 0), part_key(DAY, "r1", 1)]


def test_the_manifest_completes_a_day_once(bronze: S3BronzeStore) -> None:
    bronze.put_manifest(manifest("r1"))
    read = bronze.read_manifest(DAY)
    assert read is not None
    assert read.run_id == "r1"
    assert bronze.days() == [DAY]
    with pytest.raises(ManifestExistsError, match="--force"):
        bronze.put_manifest(manifest("r2"))
    again = bronze.read_manifest(DAY)
    assert again is not None
    assert again.run_id == "r1"


def test_of_two_concurrent_completions_exactly_one_wins(s3: Any) -> None:
    stores = [S3BronzeStore(BUCKET, "bronze/", client=s3) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(store: S3BronzeStore, run_id: str) -> None:
        assert store.read_manifest(DAY) is None  # both saw an incomplete day
        barrier.wait()
        try:
            store.put_manifest(manifest(run_id))
            outcomes.append("won")
        except ManifestExistsError:
            outcomes.append("lost")

    threads = [
        threading.Thread(target=complete, args=(store, f"r{i}")) for i, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]


def test_forced_replace_uses_if_match_and_versioning_keeps_the_old_one(
    s3: Any, bronze: S3BronzeStore
) -> None:
    bronze.put_manifest(manifest("r1"))
    assert bronze.read_manifest(DAY) is not None
    bronze.put_manifest(manifest("r2"), replace=True)
    current = bronze.read_manifest(DAY)
    assert current is not None
    assert current.run_id == "r2"
    key = "bronze/" + manifest_key(DAY)
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    assert len(versions) == 2


def test_a_replace_after_someone_else_replaced_is_a_conflict(s3: Any) -> None:
    first = S3BronzeStore(BUCKET, "bronze/", client=s3)
    other = S3BronzeStore(BUCKET, "bronze/", client=s3)
    first.put_manifest(manifest("r1"))
    assert first.read_manifest(DAY) is not None  # first remembers r1's ETag
    other.put_manifest(manifest("r2"), replace=True)  # meanwhile another forced run
    with pytest.raises(ManifestConflictError, match="changed while run r3") as caught:
        first.put_manifest(manifest("r3"), replace=True)
    assert caught.value.__cause__ is not None
    current = other.read_manifest(DAY)
    assert current is not None
    assert current.run_id == "r2"


def test_a_replace_of_a_day_seen_incomplete_that_got_completed_is_a_conflict(s3: Any) -> None:
    late = S3BronzeStore(BUCKET, "bronze/", client=s3)
    assert late.read_manifest(DAY) is None
    S3BronzeStore(BUCKET, "bronze/", client=s3).put_manifest(manifest("r1"))
    with pytest.raises(ManifestConflictError):
        late.put_manifest(manifest("r2"), replace=True)


def test_read_part_checks_the_sha256(bronze: S3BronzeStore) -> None:
    m = manifest("r1")
    bronze.put_new(m.parts[0].key, b'{"artists": []}')
    assert bronze.read_part(m.parts[0]) == b'{"artists": []}'


def test_aws_errors_become_bronze_errors(s3: Any) -> None:
    missing = S3BronzeStore("no-such-bucket", client=s3)
    with pytest.raises(BronzeAccessError, match="no-such-bucket") as caught:
        missing.put_new(part_key(DAY, "r1", 0), b"{}")
    assert caught.value.__cause__ is not None
    with pytest.raises(BronzeAccessError):
        missing.list_keys("spotify/")


def test_open_bronze_store_by_uri(aws: str, tmp_path: Path) -> None:
    local = open_bronze_store(str(tmp_path / "b"))
    assert isinstance(local, LocalBronzeStore)
    assert local.root == tmp_path / "b"
    from_file_uri = open_bronze_store((tmp_path / "c").as_uri())
    assert isinstance(from_file_uri, LocalBronzeStore)
    assert from_file_uri.root == tmp_path / "c"
    remote = open_bronze_store("s3://bucket/bronze")
    assert isinstance(remote, S3BronzeStore)
    assert (remote.bucket, remote.prefix, remote.location) == (
        "bucket",
        "bronze/",
        "s3://bucket/bronze/",
    )
    root = open_bronze_store("s3://bucket")
    assert isinstance(root, S3BronzeStore)
    assert root.prefix == ""
    with pytest.raises(BronzeError, match="names no bucket"):
        open_bronze_store("s3:///prefix")
    with pytest.raises(BronzeError, match="expected a folder"):
        open_bronze_store("gs://bucket/bronze")

"""S3BronzeStore against moto's HTTP server: conditional writes, forced replace, no deletes."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.bronze.layout import (
    BronzeError,
    Manifest,
    ManifestConflictError,
    ManifestExistsError,
    ManifestPart,
    PartExistsError,
    PartIntegrityError,
    manifest_key,
    part_key,
    sha256_hex,
)
from catalog.bronze.local import LocalBronzeStore
from catalog.bronze.open_store import open_bronze_store
from catalog.bronze.s3 import BronzeAccessError, S3BronzeStore
from tests.ingest.conftest import ManifestPuts, conflict_answer

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


def test_of_two_concurrent_completions_exactly_one_wins(
    s3: Any, manifest_puts: ManifestPuts
) -> None:
    stores = [S3BronzeStore(BUCKET, "bronze/", client=s3) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=30)
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
        thread.join(timeout=60)
    assert sorted(outcomes) == ["lost", "won"]
    assert manifest_puts.conditions == ["If-None-Match: *", "If-None-Match: *"]


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
    # Same length, other bytes: only the digest can tell them apart.
    tampered = ManifestPart(
        key=part_key(DAY, "r2", 0),
        sha256=m.parts[0].sha256,
        bytes=m.parts[0].bytes,
        records=0,
    )
    bronze.put_new(tampered.key, b'{"artists": {}}')
    assert len(b'{"artists": {}}') == tampered.bytes
    with pytest.raises(PartIntegrityError, match="does not match its manifest"):
        bronze.read_part(tampered)
    # Same digest claimed, other length: the size is checked too.
    short = ManifestPart(key=m.parts[0].key, sha256=m.parts[0].sha256, bytes=1, records=0)
    with pytest.raises(PartIntegrityError, match="does not match its manifest"):
        bronze.read_part(short)
    missing = ManifestPart(key=part_key(DAY, "r3", 0), sha256="0" * 64, bytes=2, records=0)
    with pytest.raises(PartIntegrityError, match="missing"):
        bronze.read_part(missing)


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


# S3's 409 ConditionalRequestConflict: another conditional write of the key is in flight ---


def conflict_store(s3: Any, pauses: list[float], on_pause: Any = None) -> S3BronzeStore:
    """A store whose 409 pauses are recorded (and may act) instead of slept."""

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if on_pause is not None:
            on_pause()

    return S3BronzeStore(
        BUCKET, "bronze/", client=s3, sleep=sleep, conflict_retry_delays=(0.2, 0.5)
    )


def first_answers(*answers: Any) -> Any:
    """A manifest hook that answers the first requests itself, then lets moto answer."""
    queue = list(answers)

    def hook(condition: str) -> Any:
        return queue.pop(0) if queue else None

    return hook


def test_a_409_is_retried_and_completes_the_day_when_the_other_write_failed(
    s3: Any, manifest_puts: ManifestPuts
) -> None:
    manifest_puts.hook = first_answers(conflict_answer())  # the other write then fails
    pauses: list[float] = []
    store = conflict_store(s3, pauses)

    store.put_manifest(manifest("r1"))

    assert manifest_puts.conditions == ["If-None-Match: *", "If-None-Match: *"]
    assert pauses == [0.2]
    read = store.read_manifest(DAY)
    assert read is not None
    assert read.run_id == "r1"


def test_a_409_then_the_other_write_completing_the_day_is_already_complete(
    s3: Any, manifest_puts: ManifestPuts
) -> None:
    manifest_puts.hook = first_answers(conflict_answer())
    other = S3BronzeStore(BUCKET, "bronze/", client=s3)
    pauses: list[float] = []
    store = conflict_store(s3, pauses, on_pause=lambda: other.put_manifest(manifest("r0")))

    with pytest.raises(ManifestExistsError, match="already complete"):
        store.put_manifest(manifest("r1"))

    assert pauses == [0.2]
    read = store.read_manifest(DAY)
    assert read is not None
    assert read.run_id == "r0"


def test_a_409_that_outlasts_the_retries_is_a_conflict_not_a_completed_day(
    s3: Any, manifest_puts: ManifestPuts
) -> None:
    manifest_puts.hook = lambda condition: conflict_answer()
    pauses: list[float] = []
    store = conflict_store(s3, pauses)

    with pytest.raises(ManifestConflictError, match="409 ConditionalRequestConflict") as caught:
        store.put_manifest(manifest("r1"))

    assert not isinstance(caught.value, ManifestExistsError)
    assert "not known to be complete" in str(caught.value)
    assert caught.value.__cause__ is not None
    assert pauses == [0.2, 0.5]
    assert len(manifest_puts.conditions) == 3
    assert store.read_manifest(DAY) is None


def test_a_forced_replace_keeps_its_if_match_across_a_409(
    s3: Any, manifest_puts: ManifestPuts
) -> None:
    pauses: list[float] = []
    store = conflict_store(s3, pauses)
    store.put_manifest(manifest("r1"))
    assert store.read_manifest(DAY) is not None
    manifest_puts.conditions.clear()
    manifest_puts.hook = first_answers(conflict_answer())

    store.put_manifest(manifest("r2"), replace=True)

    first, second = manifest_puts.conditions
    assert first == second
    assert first.startswith("If-Match: ")
    current = store.read_manifest(DAY)
    assert current is not None
    assert current.run_id == "r2"

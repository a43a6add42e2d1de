"""S3BronzeStore's requests and error translation, checked call by call without a server.

botocore's ``Stubber`` sits in a real S3 client: every request the store makes is validated
against the S3 API model and compared with the exact parameters expected here (conditional
headers included), and every answer, error codes and HTTP statuses included, is one S3
gives. ``tests/ingest/test_bronze_s3.py`` runs the same store against moto's server; this
module pins down what mutmut showed those tests leave open (docs/mutation-testing.md).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from catalog.bronze.layout import (
    BronzeError,
    Manifest,
    ManifestConflictError,
    ManifestExistsError,
    PartExistsError,
    manifest_key,
)
from catalog.bronze.local import LocalBronzeStore
from catalog.bronze.open_store import open_bronze_store
from catalog.bronze.s3 import (
    CONFLICT_CODES,
    DEFAULT_PREFIX,
    JSON_CONTENT_TYPE,
    NOT_FOUND_CODES,
    PRECONDITION_CODES,
    S3_CLIENT_CONFIG,
    BronzeAccessError,
    S3BronzeStore,
)

BUCKET = "data-bucket"
DAY = date(2026, 3, 7)
MKEY = manifest_key(DAY)
PART = "spotify/artists/snapshot_date=2026-03-07/run_id=r1/part-00000.json"


def _manifest(run_id: str = "r1") -> Manifest:
    return Manifest(
        snapshot_date=DAY, run_id=run_id, completed_at="t", source="simulator", parts=()
    )


@pytest.fixture
def client() -> Any:
    # One attempt: the stubbed answer is what the store sees once botocore's own retries
    # (which retry a 409 ConditionalRequestConflict) are spent.
    return boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def store(client: Any, stub: Stubber) -> S3BronzeStore:
    return S3BronzeStore(BUCKET, client=client)


def _error(stub: Stubber, method: str, code: str, status: int, message: str = "m") -> None:
    stub.add_client_error(
        method, service_error_code=code, service_message=message, http_status_code=status
    )


def test_client_settings_bound_every_call() -> None:
    # botocore rewrites a Config's retries in place when a client is built from it
    # (max_attempts 5 -> total_max_attempts 6): accept either spelling of the same bound.
    retries = dict(S3_CLIENT_CONFIG.retries)
    attempts = retries.get("total_max_attempts", retries.get("max_attempts", -1) + 1)
    assert (attempts, retries["mode"]) == (6, "standard")
    assert S3_CLIENT_CONFIG.connect_timeout == 5
    assert S3_CLIENT_CONFIG.read_timeout == 30
    assert DEFAULT_PREFIX == "bronze/"
    assert JSON_CONTENT_TYPE == "application/json"
    assert {"404", "NoSuchKey", "NotFound"} == NOT_FOUND_CODES
    assert {"412", "PreconditionFailed"} == PRECONDITION_CODES
    assert {"409", "ConditionalRequestConflict"} == CONFLICT_CODES


@pytest.mark.parametrize(
    ("prefix", "normalized"),
    [
        ("bronze/", "bronze/"),
        ("/a/b/", "a/b/"),
        ("a", "a/"),
        ("", ""),
        ("/", ""),
        ("Xdata/", "Xdata/"),  # only slashes are stripped
        ("X", "X/"),
    ],
)
def test_the_prefix_is_normalized(client: Any, prefix: str, normalized: str) -> None:
    store = S3BronzeStore(BUCKET, prefix, client=client)
    assert store.bucket == BUCKET
    assert store.prefix == normalized
    assert store.location == f"s3://{BUCKET}/{normalized}"
    assert store.object_key("k/x.json") == normalized + "k/x.json"


def test_the_default_prefix_is_bronze(client: Any) -> None:
    assert S3BronzeStore(BUCKET, client=client).prefix == "bronze/"


def test_a_store_needs_a_bucket(client: Any) -> None:
    with pytest.raises(BronzeError, match=r"^an S3 bronze store needs a bucket name$"):
        S3BronzeStore("", client=client)


def test_a_store_without_a_client_builds_one_with_the_bounded_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        "catalog.bronze.s3.boto3.client", lambda *a, **k: calls.append((a, k)) or "client"
    )
    store = S3BronzeStore(BUCKET)
    assert store._s3 == "client"
    assert calls == [(("s3",), {"config": S3_CLIENT_CONFIG})]


@pytest.mark.parametrize("key", ["/abs.json", "../x.json", "a/../../x.json", "a/.."])
def test_keys_cannot_escape_the_prefix(store: S3BronzeStore, key: str) -> None:
    with pytest.raises(BronzeError, match=r"^bronze key escapes the bronze root: "):
        store.object_key(key)


def test_a_dotted_name_is_not_an_escape(store: S3BronzeStore) -> None:
    assert store.object_key("a/..b/c.json") == "bronze/a/..b/c.json"


def test_put_new_is_a_conditional_create(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response(
        "put_object",
        {"ETag": '"e"'},
        {
            "Bucket": BUCKET,
            "Key": "bronze/" + PART,
            "Body": b"{}",
            "IfNoneMatch": "*",
            "ContentType": "application/json",
        },
    )
    store.put_new(PART, b"{}")


@pytest.mark.parametrize(
    ("code", "status"),
    [("PreconditionFailed", 412), ("412", 412), ("ConditionalRequestConflict", 409)],
)
def test_put_new_on_a_taken_key_is_part_exists(
    store: S3BronzeStore, stub: Stubber, code: str, status: int
) -> None:
    _error(stub, "put_object", code, status)
    with pytest.raises(PartExistsError) as raised:
        store.put_new(PART, b"{}")
    assert str(raised.value) == f"bronze object s3://{BUCKET}/bronze/{PART} already exists"


def test_other_write_errors_are_access_errors(store: S3BronzeStore, stub: Stubber) -> None:
    _error(stub, "put_object", "AccessDenied", 403, "Access Denied")
    with pytest.raises(BronzeAccessError) as raised:
        store.put_new(PART, b"{}")
    assert str(raised.value) == (
        f"cannot write bronze object s3://{BUCKET}/bronze/{PART} (AccessDenied: Access "
        "Denied); check that the bucket exists and this role may read and write it"
    )


def test_get_reads_the_body_and_remembers_a_manifest_etag(
    store: S3BronzeStore, stub: Stubber
) -> None:
    stub.add_response(
        "get_object",
        {"Body": io.BytesIO(b"part"), "ETag": '"p"'},
        {"Bucket": BUCKET, "Key": "bronze/" + PART},
    )
    stub.add_response(
        "get_object",
        {"Body": io.BytesIO(_manifest().to_json()), "ETag": '"m1"'},
        {"Bucket": BUCKET, "Key": "bronze/" + MKEY},
    )
    assert store.get(PART) == b"part"
    assert store._seen == {}  # only manifests are remembered
    assert store.read_manifest(DAY) == _manifest()
    assert store._seen == {MKEY: '"m1"'}


@pytest.mark.parametrize(("code", "status"), [("NoSuchKey", 404), ("404", 404)])
def test_get_of_an_absent_object_is_file_not_found(
    store: S3BronzeStore, stub: Stubber, code: str, status: int
) -> None:
    _error(stub, "get_object", code, status)
    with pytest.raises(FileNotFoundError, match=f"^s3://{BUCKET}/bronze/{MKEY}$"):
        store.get(MKEY)
    assert store._seen == {MKEY: None}


def test_other_read_errors_are_access_errors(store: S3BronzeStore, stub: Stubber) -> None:
    _error(stub, "get_object", "AccessDenied", 403, "no")
    with pytest.raises(BronzeAccessError) as raised:
        store.get(PART)
    assert str(raised.value).startswith(
        f"cannot read bronze object s3://{BUCKET}/bronze/{PART} (AccessDenied: no); "
    )
    assert store._seen == {}


def test_exists_asks_head_object(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response("head_object", {"ETag": '"e"'}, {"Bucket": BUCKET, "Key": "bronze/k"})
    _error(stub, "head_object", "404", 404)
    _error(stub, "head_object", "NotFound", 404)
    _error(stub, "head_object", "Whatever", 404)  # HEAD errors carry no body: status decides
    assert store.exists("k") is True
    assert store.exists("k") is False
    assert store.exists("k") is False
    assert store.exists("k") is False


def test_head_errors_other_than_404_are_access_errors(store: S3BronzeStore, stub: Stubber) -> None:
    _error(stub, "head_object", "403", 403, "Forbidden")
    with pytest.raises(BronzeAccessError, match=r"^cannot check bronze object .*k \(403: "):
        store.exists("k")


def test_list_keys_walks_every_page_below_the_prefix(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response(
        "list_objects_v2",
        {
            "Contents": [{"Key": "bronze/spotify/b.json"}, {"Key": "bronze/spotify/a.json"}],
            "IsTruncated": True,
            "NextContinuationToken": "t",
        },
        {"Bucket": BUCKET, "Prefix": "bronze/spotify/"},
    )
    stub.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "bronze/spotify/0.json"}], "IsTruncated": False},
        {"Bucket": BUCKET, "Prefix": "bronze/spotify/", "ContinuationToken": "t"},
    )
    stub.add_response(
        "list_objects_v2",
        {"IsTruncated": False},
        {"Bucket": BUCKET, "Prefix": "bronze/none/"},
    )
    assert store.list_keys("spotify/") == ["spotify/0.json", "spotify/a.json", "spotify/b.json"]
    assert store.list_keys("none/") == []


def test_list_errors_are_access_errors(store: S3BronzeStore, stub: Stubber) -> None:
    _error(stub, "list_objects_v2", "NoSuchBucket", 404, "gone")
    with pytest.raises(BronzeAccessError, match=r"^cannot list bronze object .*x/ \(NoSuchBucket"):
        store.list_keys("x/")


def _put_manifest(stub: Stubber, condition: dict[str, str], etag: str = '"new"') -> None:
    stub.add_response(
        "put_object",
        {"ETag": etag},
        {
            "Bucket": BUCKET,
            "Key": "bronze/" + MKEY,
            "Body": _manifest().to_json(),
            "ContentType": "application/json",
            **condition,
        },
    )


def test_a_first_manifest_is_a_conditional_create(store: S3BronzeStore, stub: Stubber) -> None:
    _put_manifest(stub, {"IfNoneMatch": "*"})
    store.put_manifest(_manifest())
    assert store._seen == {MKEY: '"new"'}


@pytest.mark.parametrize(
    ("code", "status"), [("PreconditionFailed", 412), ("412", 412), ("NoSuchKey", 404)]
)
def test_a_second_manifest_is_refused(
    store: S3BronzeStore, stub: Stubber, code: str, status: int
) -> None:
    _error(stub, "put_object", code, status)
    with pytest.raises(ManifestExistsError) as raised:
        store.put_manifest(_manifest())
    assert str(raised.value) == (
        f"2026-03-07 is already complete in bronze (s3://{BUCKET}/bronze/{MKEY}); use --force "
        "to replace its manifest"
    )
    assert store._seen == {}


def test_replace_is_conditional_on_the_etag_read(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response("get_object", {"Body": io.BytesIO(_manifest().to_json()), "ETag": '"seen"'})
    _put_manifest(stub, {"IfMatch": '"seen"'})
    store.read_manifest(DAY)
    store.put_manifest(_manifest(), replace=True)
    assert store._seen == {MKEY: '"new"'}


def test_replace_of_a_manifest_read_as_absent_is_a_create(
    store: S3BronzeStore, stub: Stubber
) -> None:
    _error(stub, "get_object", "NoSuchKey", 404)
    _put_manifest(stub, {"IfNoneMatch": "*"})
    assert store.read_manifest(DAY) is None
    store.put_manifest(_manifest(), replace=True)  # no head_object: the read decided


def test_replace_without_a_read_uses_the_current_etag(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response("head_object", {"ETag": '"cur"'}, {"Bucket": BUCKET, "Key": "bronze/" + MKEY})
    _put_manifest(stub, {"IfMatch": '"cur"'})
    store.put_manifest(_manifest(), replace=True)


def test_replace_of_an_absent_manifest_is_a_create(store: S3BronzeStore, stub: Stubber) -> None:
    _error(stub, "head_object", "404", 404)
    _put_manifest(stub, {"IfNoneMatch": "*"})
    store.put_manifest(_manifest(), replace=True)


@pytest.mark.parametrize(
    ("code", "status"), [("PreconditionFailed", 412), ("412", 412), ("NoSuchKey", 404)]
)
def test_a_replace_that_loses_a_race_is_a_conflict(
    store: S3BronzeStore, stub: Stubber, code: str, status: int
) -> None:
    stub.add_response("head_object", {"ETag": '"cur"'})
    _error(stub, "put_object", code, status)
    with pytest.raises(ManifestConflictError) as raised:
        store.put_manifest(_manifest("r9"), replace=True)
    assert str(raised.value) == (
        f"the manifest of 2026-03-07 (s3://{BUCKET}/bronze/{MKEY}) changed while run r9 was "
        "replacing it (another run completed the day); nothing was overwritten: re-run with "
        "--force to replace the new one"
    )


def test_a_replace_of_a_vanished_manifest_that_loses_is_a_conflict(
    store: S3BronzeStore, stub: Stubber
) -> None:
    # Absent when checked, created by another run before this write: IfNoneMatch fails,
    # and for a replace that is a conflict, not "already complete".
    _error(stub, "head_object", "404", 404)
    _error(stub, "put_object", "PreconditionFailed", 412)
    with pytest.raises(ManifestConflictError):
        store.put_manifest(_manifest(), replace=True)


def _retrying_store(client: Any, slept: list[float]) -> S3BronzeStore:
    return S3BronzeStore(
        BUCKET, client=client, sleep=slept.append, conflict_retry_delays=(0.1, 0.25)
    )


def test_a_409_is_retried_after_each_pause_until_s3_answers(client: Any, stub: Stubber) -> None:
    slept: list[float] = []
    store = _retrying_store(client, slept)
    _error(stub, "put_object", "ConditionalRequestConflict", 409)
    _error(stub, "put_object", "409", 409)
    _put_manifest(stub, {"IfNoneMatch": "*"}, etag='"won"')
    store.put_manifest(_manifest())
    assert slept == [0.1, 0.25]
    assert store._seen == {MKEY: '"won"'}


def test_a_409_then_412_means_the_other_write_completed_the_day(client: Any, stub: Stubber) -> None:
    slept: list[float] = []
    store = _retrying_store(client, slept)
    _error(stub, "put_object", "ConditionalRequestConflict", 409)
    _error(stub, "put_object", "PreconditionFailed", 412)
    with pytest.raises(ManifestExistsError):
        store.put_manifest(_manifest())
    assert slept == [0.1]


def test_a_409_that_outlasts_every_retry_is_a_conflict_not_a_completed_day(
    client: Any, stub: Stubber
) -> None:
    slept: list[float] = []
    store = _retrying_store(client, slept)
    for _ in range(3):
        _error(stub, "put_object", "ConditionalRequestConflict", 409)
    with pytest.raises(ManifestConflictError) as raised:
        store.put_manifest(_manifest("r7"))
    assert slept == [0.1, 0.25]
    assert str(raised.value) == (
        f"the manifest of 2026-03-07 (s3://{BUCKET}/bronze/{MKEY}) could not be written by "
        "run r7: S3 kept answering 409 ConditionalRequestConflict (another write of it in "
        "flight) after 2 retries; the day is not known to be complete: run the ingest again"
    )


def test_the_409_retries_are_logged(
    client: Any, stub: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    slept: list[float] = []
    store = _retrying_store(client, slept)
    _error(stub, "put_object", "ConditionalRequestConflict", 409)
    _put_manifest(stub, {"IfNoneMatch": "*"})
    with caplog.at_level("WARNING", logger="catalog.bronze.s3"):
        store.put_manifest(_manifest())
    assert [r.getMessage() for r in caplog.records] == [
        f"S3 answered 409 to the write of s3://{BUCKET}/bronze/{MKEY} (another write of it "
        "in flight); retrying in 0.1 s"
    ]


class Raising:
    """A client whose every call raises ``error`` (answers S3 may give without the usual
    fields: no Error, no Message, no status)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


def test_an_error_without_code_or_message_is_still_an_access_error() -> None:
    bare = ClientError({}, "PutObject")
    store = S3BronzeStore(BUCKET, client=Raising(bare))
    with pytest.raises(BronzeAccessError) as raised:
        store.put_new("k", b"x")
    assert str(raised.value).startswith(
        f"cannot write bronze object s3://{BUCKET}/bronze/k (: {bare}); "
    )
    no_message = ClientError({"Error": {"Code": "Teapot"}}, "PutObject")
    with pytest.raises(BronzeAccessError, match=r"\(Teapot: An error occurred \(Teapot\)"):
        S3BronzeStore(BUCKET, client=Raising(no_message)).put_new("k", b"x")


def test_a_head_error_without_status_is_not_taken_for_absence() -> None:
    store = S3BronzeStore(BUCKET, client=Raising(ClientError({}, "HeadObject")))
    with pytest.raises(BronzeAccessError, match=r"^cannot check bronze object "):
        store.exists("k")
    forbidden = ClientError({"Error": {"Code": "403"}, "ResponseMetadata": {}}, "HeadObject")
    with pytest.raises(BronzeAccessError):
        S3BronzeStore(BUCKET, client=Raising(forbidden)).exists("k")


def test_an_answer_without_etag_is_remembered_as_empty(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response("get_object", {"Body": io.BytesIO(_manifest().to_json())})
    store.read_manifest(DAY)
    assert store._seen == {MKEY: ""}
    stub.add_response("put_object", {})
    store.put_manifest(_manifest(), replace=False)
    assert store._seen == {MKEY: ""}


def test_exists_reads_the_etag_of_head_object(store: S3BronzeStore, stub: Stubber) -> None:
    stub.add_response("head_object", {})
    _put_manifest(stub, {"IfMatch": ""})
    store.put_manifest(_manifest(), replace=True)  # the current ETag, even if S3 sent none


def test_other_manifest_write_errors_are_access_errors(store: S3BronzeStore, stub: Stubber) -> None:
    _error(stub, "put_object", "AccessDenied", 403, "denied")
    with pytest.raises(BronzeAccessError) as raised:
        store.put_manifest(_manifest())
    assert str(raised.value).startswith(
        f"cannot write bronze object s3://{BUCKET}/bronze/{MKEY} (AccessDenied: denied); "
    )


class Unreachable:
    """A client whose every call fails below HTTP (no answer at all)."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

        return fail


@pytest.mark.parametrize(
    ("action", "key", "call"),
    [
        ("write", "k", lambda s: s.put_new("k", b"x")),
        ("read", "k", lambda s: s.get("k")),
        ("check", "k", lambda s: s.exists("k")),
        ("list", "k/", lambda s: s.list_keys("k/")),
        ("write", MKEY, lambda s: s.put_manifest(_manifest())),
    ],
)
def test_connection_failures_are_access_errors(action: str, key: str, call: Any) -> None:
    store = S3BronzeStore(BUCKET, client=Unreachable())
    with pytest.raises(BronzeAccessError) as raised:
        call(store)
    message = str(raised.value)
    assert message.startswith(f"cannot {action} bronze object s3://{BUCKET}/bronze/{key} (")
    assert 'Could not connect to the endpoint URL: "http://127.0.0.1:9"' in message
    assert isinstance(raised.value.__cause__, EndpointConnectionError)


def test_open_bronze_store_by_uri(tmp_path: Path, client: Any) -> None:
    s3 = open_bronze_store("s3://bucket/some/prefix", s3_client=client)
    assert isinstance(s3, S3BronzeStore)
    assert (s3.bucket, s3.prefix, s3._s3) == ("bucket", "some/prefix/", client)
    root = open_bronze_store("s3://bucket", s3_client=client)
    assert isinstance(root, S3BronzeStore)
    assert root.prefix == ""
    local = open_bronze_store(f"file://{tmp_path}/b")
    assert isinstance(local, LocalBronzeStore)
    assert local.root == tmp_path / "b"
    plain = open_bronze_store(str(tmp_path / "c"))
    assert isinstance(plain, LocalBronzeStore)
    assert plain.root == tmp_path / "c"
    home = open_bronze_store("~/bronze")
    assert isinstance(home, LocalBronzeStore)
    assert home.root == Path("~/bronze").expanduser()
    drive = open_bronze_store("c:/bronze")  # a one-letter scheme is a Windows drive
    assert isinstance(drive, LocalBronzeStore)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3:///prefix", "names no bucket; expected s3://bucket/prefix"),
        ("gs://bucket/x", "expected a folder, file:// or s3://bucket/prefix"),
        ("ab://x", "expected a folder, file:// or s3://bucket/prefix"),
    ],
)
def test_open_bronze_store_refuses_other_uris(uri: str, message: str) -> None:
    with pytest.raises(BronzeError) as raised:
        open_bronze_store(uri)
    assert (
        str(raised.value) == f"bronze URI {uri!r}{': ' if 'names' not in message else ' '}{message}"
    )

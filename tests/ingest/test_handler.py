"""The ingest Lambda handler called as a function: moto (S3, Secrets Manager) + simulator."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from catalog.bronze.layout import Manifest, manifest_key
from ingest.errors import (
    BackdatedRefusedError,
    FutureDayError,
    NoArtistsFoundError,
    NonRetryableIngestError,
    SecretError,
    SettingsError,
)
from ingest.handler import handler
from ingest.invocation import InvalidEventError
from ingest.lambda_logs import LOGGED_PACKAGES, SERVICE_NAME, logger, route_package_logs
from ingest.roster import Roster
from ingest.simulator.artists import followers
from ingest.simulator.server import SpotifySimulator
from tests.conftest import FROZEN_TODAY
from tests.ingest.conftest import BUCKET, FUNCTION_NAME, LambdaContext, ManifestPuts

TODAY = FROZEN_TODAY
#: Every test here runs on the clock of that day (a run across UTC midnight changes nothing).
pytestmark = pytest.mark.usefixtures("frozen_today")


def stored_manifest(s3: Any, day_key: str) -> Manifest:
    return Manifest.from_json(s3.get_object(Bucket=BUCKET, Key=day_key)["Body"].read())


def test_a_day_is_ingested_into_s3_and_summarised(lambda_env: Any, sim: SpotifySimulator) -> None:
    answer = handler({"snapshot_date": TODAY.isoformat(), "force": False}, LambdaContext())
    assert set(answer) == {
        "snapshot_date",
        "status",
        "followers_available",
        "run_id",
        "records",
        "missing_ids",
        "manifest_key",
    }
    assert answer["snapshot_date"] == TODAY.isoformat()
    assert answer["status"] == "complete"
    assert answer["followers_available"] is True
    assert answer["records"] == 20
    assert answer["missing_ids"] == []
    assert answer["manifest_key"] == "bronze/" + manifest_key(TODAY)
    json.dumps(answer)  # the state machine's Choice input: plain JSON

    manifest = stored_manifest(lambda_env, answer["manifest_key"])
    assert manifest.run_id == answer["run_id"]
    assert manifest.source == "spotify"
    body = lambda_env.get_object(Bucket=BUCKET, Key="bronze/" + manifest.parts[1].key)["Body"]
    objects = json.loads(body.read())["artists"]
    assert all(o["followers"]["total"] == followers(o["id"], TODAY, sim.seed) for o in objects)


def test_duplicate_invocations_are_harmless(lambda_env: Any, sim: SpotifySimulator) -> None:
    first = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    sim.clear_requests()
    second = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext("req-0002"))
    assert second["status"] == "already_complete"
    assert second["run_id"] == first["run_id"]
    assert second["records"] == first["records"]
    assert sim.requests == []  # answered from the manifest, Spotify not called


def test_force_replaces_the_manifest_and_versioning_keeps_the_old_one(
    lambda_env: Any,
) -> None:
    first = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    forced = handler({"snapshot_date": TODAY.isoformat(), "force": True}, LambdaContext())
    assert forced["status"] == "complete"
    assert forced["run_id"] != first["run_id"]
    versions = lambda_env.list_object_versions(Bucket=BUCKET, Prefix=forced["manifest_key"])
    assert len(versions["Versions"]) == 2


def test_followers_unavailable_is_returned_not_raised(
    lambda_env: Any, sim: SpotifySimulator
) -> None:
    sim.mode = "development"
    answer = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    assert answer["status"] == "followers_unavailable"
    assert answer["followers_available"] is False
    manifest = stored_manifest(lambda_env, answer["manifest_key"])
    assert manifest.run_id == answer["run_id"]
    assert not manifest.followers_available
    again = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    assert again["status"] == "followers_unavailable"
    assert again["run_id"] == answer["run_id"]


def test_roster_and_top_come_from_the_environment(
    lambda_env: Any,
    sim: SpotifySimulator,
    large_roster: Roster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    roster_text = "\n".join([*large_roster.ids, "not-an-id"])
    lambda_env.put_object(Bucket=BUCKET, Key="config/roster.txt", Body=roster_text.encode())
    monkeypatch.setenv("ROSTER_KEY", "config/roster.txt")
    monkeypatch.setenv("ROSTER_TOP", "3")
    monkeypatch.setenv("BRONZE_PREFIX", "raw")
    answer = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    assert answer["records"] == 3
    assert answer["missing_ids"] == ["not-an-id"]
    assert answer["manifest_key"] == "raw/" + manifest_key(TODAY)
    manifest = stored_manifest(lambda_env, answer["manifest_key"])
    top3 = sorted(large_roster.ids, key=lambda i: -followers(i, TODAY, sim.seed))[:3]
    stored = json.loads(
        lambda_env.get_object(Bucket=BUCKET, Key="raw/" + manifest.parts[0].key)["Body"].read()
    )
    assert [o["id"] for o in stored["artists"]] == top3[:1]  # the preflight: the top artist


def test_a_past_day_is_refused_against_the_real_api_and_not_retried(lambda_env: Any) -> None:
    with pytest.raises(NonRetryableIngestError, match=r"^BackdatedRefusedError: ") as caught:
        handler({"snapshot_date": "2020-01-01"}, LambdaContext())
    assert type(caught.value).__name__ == "NonRetryableIngestError"  # Lambda's errorType
    assert isinstance(caught.value.__cause__, BackdatedRefusedError)


def test_a_future_day_is_refused_and_not_retried(lambda_env: Any, sim: SpotifySimulator) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    with pytest.raises(NonRetryableIngestError, match=r"^FutureDayError: ") as caught:
        handler({"snapshot_date": tomorrow}, LambdaContext())
    assert isinstance(caught.value.__cause__, FutureDayError)
    assert sim.requests == []


def test_a_roster_spotify_does_not_know_is_not_retried(
    lambda_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_env.put_object(Bucket=BUCKET, Key="config/roster.txt", Body=b"0000000000000000000000")
    monkeypatch.setenv("ROSTER_KEY", "config/roster.txt")
    with pytest.raises(NonRetryableIngestError, match=r"^NoArtistsFoundError: ") as caught:
        handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    assert isinstance(caught.value.__cause__, NoArtistsFoundError)


@pytest.mark.parametrize(
    "event",
    [None, [], {}, {"snapshot_date": "24/11/2026"}, {"snapshot_date": "2026-11-24", "force": 1}],
)
def test_a_bad_event_raises_and_is_not_retried(lambda_env: Any, event: Any) -> None:
    with pytest.raises(NonRetryableIngestError, match=r"^InvalidEventError: ") as caught:
        handler(event, LambdaContext())
    assert isinstance(caught.value.__cause__, InvalidEventError)


def test_a_secret_that_does_not_exist_raises(
    lambda_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong ARN is a deployment fault, not a secret waiting to be filled: it raises (and
    is retried, then alarms). Empty or malformed secrets: test_handler_credentials.py."""
    arn = boto3.client("secretsmanager").create_secret(Name="other", SecretString="{}")["ARN"]
    monkeypatch.setenv("SPOTIFY_SECRET_ARN", arn + "-missing")
    with pytest.raises(SecretError, match="GetSecretValue") as caught:
        handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    assert not isinstance(caught.value, NonRetryableIngestError)  # retried: it may be fixed


def test_missing_environment_is_named(lambda_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRONZE_BUCKET")
    with pytest.raises(SettingsError, match="BRONZE_BUCKET"):
        handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The handler's Logger writing to a buffer, with every ingest and catalog module routed
    through it as on Lambda (where ``route_package_logs`` runs at cold start)."""
    stream = io.StringIO()
    packages = [logging.getLogger(name) for name in sorted(LOGGED_PACKAGES)]
    saved = [(p.handlers[:], p.propagate, p.level) for p in packages]
    previous = logger.logger_handler.setStream(stream)  # type: ignore[attr-defined]
    route_package_logs()
    try:
        yield stream
    finally:
        logger.logger_handler.setStream(previous)  # type: ignore[attr-defined]
        for package, (handlers, propagate, level) in zip(packages, saved, strict=True):
            package.handlers, package.propagate = handlers, propagate
            package.setLevel(level)


def test_logs_are_json_lines_without_secrets(
    lambda_env: Any, sim: SpotifySimulator, log_stream: io.StringIO
) -> None:
    answer = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext("req-42"))
    output = log_stream.getvalue()
    records = [json.loads(line) for line in output.splitlines()]  # one JSON object a line
    [finished] = [r for r in records if r["message"] == "ingest finished"]
    assert finished["answer"] == answer
    assert finished["snapshot_date"] == TODAY.isoformat()
    assert finished["function_request_id"] == "req-42"
    assert finished["function_name"] == FUNCTION_NAME
    assert (finished["service"], finished["name"], finished["level"]) == (
        SERVICE_NAME,
        SERVICE_NAME,
        "INFO",
    )
    assert {"timestamp", "cold_start", "location"} <= set(finished)
    # The modules' own lines carry the same keys (the pipeline says what it ingested).
    [ingested] = [r for r in records if r["name"] == "ingest.pipeline"]
    assert ingested["message"].startswith(f"ingested {TODAY.isoformat()}: 20 artists")
    assert ingested["function_request_id"] == "req-42"
    assert ingested["snapshot_date"] == TODAY.isoformat()
    assert sim.client_secret not in output

    # The next invocation starts clean: its lines carry no key of the one before.
    with pytest.raises(NonRetryableIngestError):
        handler({"snapshot_date": "24/11/2026"}, LambdaContext("req-43"))
    [failed] = [json.loads(line) for line in log_stream.getvalue().splitlines()[len(records) :]]
    assert failed["message"] == "ingest failed; retrying the same event cannot fix this"
    assert failed["function_request_id"] == "req-43"
    assert "snapshot_date" not in failed
    assert failed["exception_name"] == "InvalidEventError"


def test_two_concurrent_invocations_complete_the_day_once(
    lambda_env: Any, manifest_puts: ManifestPuts
) -> None:
    """Both invocations fetch the day and race at the conditional manifest write.

    A barrier on moto's side holds the first manifest PUT until the second arrives, so the
    test only passes if both reached the ``If-None-Match`` write (neither answered early
    from a manifest); S3's condition then lets exactly one complete the day.
    """
    at_the_write = threading.Barrier(2, timeout=60)

    def both_arrive(condition: str) -> None:
        at_the_write.wait()  # BrokenBarrierError (a 500, the test fails) if one never comes

    manifest_puts.hook = both_arrive
    answers: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def invoke(request_id: str) -> None:
        try:
            answers.append(handler({"snapshot_date": TODAY.isoformat()}, LambdaContext(request_id)))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=invoke, args=(f"req-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert manifest_puts.conditions == ["If-None-Match: *", "If-None-Match: *"]
    assert sorted(a["status"] for a in answers) == ["already_complete", "complete"]
    assert answers[0]["run_id"] == answers[1]["run_id"]
    versions = lambda_env.list_object_versions(Bucket=BUCKET, Prefix=answers[0]["manifest_key"])
    assert len(versions["Versions"]) == 1

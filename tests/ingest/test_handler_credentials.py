"""A run before the credentials secret is filled: answered, not raised; nothing written.

The secrets live in moto's Secrets Manager (its HTTP server); the failures moto cannot
produce on demand (AccessDenied, throttling) come from botocore's Stubber on a real client.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ingest.errors import SecretError, SecretValueMissingError
from ingest.handler import (
    LOGGED_PACKAGES,
    SERVICE_NAME,
    HandlerConfig,
    IngestEvent,
    handler,
    ingest_for_lambda,
)
from ingest.simulator.server import SpotifySimulator
from ingest.status import IngestStatus
from tests.conftest import FROZEN_TODAY
from tests.ingest.conftest import LambdaContext, bucket_keys

TODAY = FROZEN_TODAY
#: Every test here runs on the clock of that day (a run across UTC midnight changes nothing).
pytestmark = pytest.mark.usefixtures("frozen_today")
EVENT = {"snapshot_date": TODAY.isoformat()}
#: Looks like a credential; must never appear in an answer or a log line.
PLANTED = "hunter2-not-for-logs"


def use_secret(monkeypatch: pytest.MonkeyPatch, **create: Any) -> str:
    """Create a secret in moto (``create``: create_secret's value arguments) and point the
    Lambda's environment at it; returns its ARN."""
    arn: str = boto3.client("secretsmanager").create_secret(Name="spotify-new", **create)["ARN"]
    monkeypatch.setenv("SPOTIFY_SECRET_ARN", arn)
    return arn


def assert_credentials_missing(answer: dict[str, Any], arn: str) -> None:
    assert answer["status"] == "credentials_missing"
    assert answer["status"] == IngestStatus.CREDENTIALS_MISSING
    assert answer["snapshot_date"] == TODAY.isoformat()
    assert (answer["run_id"], answer["records"], answer["manifest_key"]) == (None, 0, None)
    message = answer["message"]
    assert f"aws secretsmanager put-secret-value --secret-id {arn} " in message
    assert """--secret-string '{"client_id":"...","client_secret":"..."}'""" in message
    assert "re-run the day" in message
    json.dumps(answer)  # plain JSON for the state machine


def test_an_empty_secret_answers_credentials_missing_and_writes_nothing(
    lambda_env: Any, sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the stack creates it: a secret without a value. moto answers GetSecretValue as AWS
    # does (ResourceNotFoundException, "can't find the specified secret value for staging
    # label: AWSCURRENT").
    arn = use_secret(monkeypatch, Description="Spotify app credentials")
    answer = handler(EVENT, LambdaContext("req-credentials"))
    assert_credentials_missing(answer, arn)
    assert "has no value yet" in answer["message"]
    assert bucket_keys(lambda_env) == []  # nothing in bronze
    assert sim.requests == []  # Spotify not called

    # The next step the message names fixes it: the same event now completes the day.
    value = {"client_id": sim.client_id, "client_secret": sim.client_secret}
    boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps(value))
    assert handler(EVENT, LambdaContext("req-credentials"))["status"] == IngestStatus.COMPLETE


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"client_id=x client_secret={PLANTED}", "is not JSON"),
        (json.dumps(["x", PLANTED]), "is not a JSON object"),
        (json.dumps({"client_id": "x", "secret": PLANTED}), '"client_secret"'),
        (json.dumps({"client_id": "  ", "client_secret": PLANTED}), '"client_id"'),
        (json.dumps({"client_id": 7, "client_secret": PLANTED}), '"client_id"'),
        (json.dumps({}), '"client_id" and "client_secret"'),
    ],
)
def test_a_secret_without_usable_json_answers_credentials_missing(
    lambda_env: Any,
    sim: SpotifySimulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    value: str,
    problem: str,
) -> None:
    arn = use_secret(monkeypatch, SecretString=value)
    with caplog.at_level(logging.DEBUG):
        answer = handler(EVENT, LambdaContext("req-credentials"))
    assert_credentials_missing(answer, arn)
    assert problem in answer["message"]
    assert PLANTED not in json.dumps(answer)
    # Ours: the handler's Logger and the loggers it routes on Lambda. botocore's own DEBUG
    # lines (the response body included) are not: they exist only where someone asks for
    # botocore's DEBUG output, as this test does.
    ours = [
        r.getMessage()
        for r in caplog.records
        if r.name == SERVICE_NAME or r.name.split(".")[0] in LOGGED_PACKAGES
    ]
    assert ours  # the handler says what happened
    assert not [m for m in ours if PLANTED in m]
    assert bucket_keys(lambda_env) == []
    assert sim.requests == []


def test_a_binary_only_secret_answers_credentials_missing(
    lambda_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = use_secret(monkeypatch, SecretBinary=PLANTED.encode())
    answer = handler(EVENT, LambdaContext("req-credentials"))
    assert_credentials_missing(answer, arn)
    assert "SecretString" in answer["message"]
    assert bucket_keys(lambda_env) == []


def stubbed_secrets(*errors: tuple[str, str]) -> tuple[Any, Stubber]:
    """A Secrets Manager client answering ``(operation, error code)`` in turn."""
    client = boto3.client("secretsmanager")
    stubber = Stubber(client)
    for operation, code in errors:
        stubber.add_client_error(
            operation, service_error_code=code, service_message=f"{code} (stubbed)"
        )
    stubber.activate()
    return client, stubber


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_other_secrets_manager_failures_still_raise(
    lambda_env: Any, sim: SpotifySimulator, code: str
) -> None:
    secrets, stubber = stubbed_secrets(("get_secret_value", code))
    with pytest.raises(SecretError, match=rf"{code}.*GetSecretValue") as caught:
        ingest_for_lambda(IngestEvent(TODAY), HandlerConfig.from_env(), secrets_client=secrets)
    assert not isinstance(caught.value, SecretValueMissingError)
    stubber.assert_no_pending_responses()
    assert bucket_keys(lambda_env) == []
    assert sim.requests == []


def test_not_found_with_describe_denied_keeps_the_original_error(lambda_env: Any) -> None:
    """When DescribeSecret cannot confirm that the secret exists, nothing is assumed."""
    secrets, stubber = stubbed_secrets(
        ("get_secret_value", "ResourceNotFoundException"),
        ("describe_secret", "AccessDeniedException"),
    )
    with pytest.raises(SecretError, match="ResourceNotFoundException") as caught:
        ingest_for_lambda(IngestEvent(TODAY), HandlerConfig.from_env(), secrets_client=secrets)
    assert not isinstance(caught.value, SecretValueMissingError)
    stubber.assert_no_pending_responses()


def test_the_status_enum_is_importable_without_third_party_packages() -> None:
    """The CDK app imports it: it must not pull in boto3 or requests."""
    assert [s.value for s in IngestStatus] == [
        "complete",
        "already_complete",
        "followers_unavailable",
        "credentials_missing",
    ]
    probe = (
        "import sys, ingest.status; "
        "print(sorted(m for m in ('boto3', 'botocore', 'requests', 'tenacity') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"

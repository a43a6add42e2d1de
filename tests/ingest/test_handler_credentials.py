"""A run before the credentials are filled in: answered, not raised; nothing written.

Both stores: the SSM SecureString the stack names (its default) and the Secrets Manager
secret (``credentialsStore=secretsmanager``). They live in moto's SSM and Secrets Manager
(its HTTP server); the failures moto cannot produce on demand (AccessDenied, throttling)
come from botocore's Stubber on a real client.
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

from ingest.errors import SecretError, SecretValueMissingError, SettingsError
from ingest.handler import handler, ingest_for_lambda
from ingest.invocation import HandlerConfig, IngestEvent
from ingest.lambda_logs import LOGGED_PACKAGES, SERVICE_NAME
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


# --- the SSM store (the stack's default) -----------------------------------------------------
PARAMETER = "/SpotifyLakehouse/spotify-credentials"


def use_parameter(monkeypatch: pytest.MonkeyPatch, value: str | None = None) -> str:
    """Point the Lambda's environment at the SSM parameter, as the stack does (and no
    secret); create it as a SecureString with ``value`` unless None (not filled in yet)."""
    monkeypatch.delenv("SPOTIFY_SECRET_ARN", raising=False)
    monkeypatch.setenv("SPOTIFY_CREDENTIALS_PARAMETER", PARAMETER)
    if value is not None:
        boto3.client("ssm").put_parameter(
            Name=PARAMETER, Value=value, Type="SecureString", Overwrite=True
        )
    return PARAMETER


def assert_parameter_missing(answer: dict[str, Any]) -> None:
    assert answer["status"] == IngestStatus.CREDENTIALS_MISSING
    assert (answer["run_id"], answer["records"], answer["manifest_key"]) == (None, 0, None)
    message = answer["message"]
    # The next step, exactly: the command that creates (or overwrites) the SecureString.
    assert (
        f"aws ssm put-parameter --name {PARAMETER} --type SecureString --overwrite "
        """--value '{"client_id":"...","client_secret":"..."}'"""
    ) in message
    assert "secretsmanager" not in message
    assert "re-run the day" in message
    json.dumps(answer)


def test_an_unfilled_parameter_answers_credentials_missing_and_writes_nothing(
    lambda_env: Any, sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CloudFormation cannot create a SecureString: until the operator does, the parameter
    does not exist (the role may read no other), and that is the unfilled state."""
    use_parameter(monkeypatch)
    answer = handler(EVENT, LambdaContext("req-ssm"))
    assert_parameter_missing(answer)
    assert "does not exist yet" in answer["message"]
    assert bucket_keys(lambda_env) == []
    assert sim.requests == []

    # The command the message names fixes it; the value is read decrypted (moto stores a
    # SecureString's value encrypted, as SSM does, and returns it plain only WithDecryption).
    value = {"client_id": sim.client_id, "client_secret": sim.client_secret}
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps(value), Type="SecureString", Overwrite=True)
    stored = ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]
    assert stored != json.dumps(value)
    assert handler(EVENT, LambdaContext("req-ssm"))["status"] == IngestStatus.COMPLETE


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"client_id=x client_secret={PLANTED}", "is not JSON"),
        (json.dumps(["x", PLANTED]), "is not a JSON object"),
        (json.dumps({"client_id": "x", "secret": PLANTED}), '"client_secret"'),
        (json.dumps({}), '"client_id" and "client_secret"'),
    ],
)
def test_a_parameter_without_usable_json_answers_credentials_missing(
    lambda_env: Any,
    sim: SpotifySimulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    value: str,
    problem: str,
) -> None:
    use_parameter(monkeypatch, value)
    with caplog.at_level(logging.DEBUG):
        answer = handler(EVENT, LambdaContext("req-ssm"))
    assert_parameter_missing(answer)
    assert problem in answer["message"]
    assert PLANTED not in json.dumps(answer)
    ours = [
        r.getMessage()
        for r in caplog.records
        if r.name == SERVICE_NAME or r.name.split(".")[0] in LOGGED_PACKAGES
    ]
    assert ours
    assert not [m for m in ours if PLANTED in m]
    assert bucket_keys(lambda_env) == []
    assert sim.requests == []


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_other_ssm_failures_still_raise(
    lambda_env: Any, sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    """A role without ssm:GetParameter (or kms:Decrypt), throttling: raised, so the state
    machine retries and a person hears of it; never mistaken for an unfilled parameter."""
    use_parameter(monkeypatch)
    client = boto3.client("ssm")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_parameter", service_error_code=code, service_message=f"{code} (stubbed)"
    )
    stubber.activate()
    with pytest.raises(SecretError, match=rf"{code}.*ssm:GetParameter") as caught:
        ingest_for_lambda(IngestEvent(TODAY), HandlerConfig.from_env(), ssm_client=client)
    assert not isinstance(caught.value, SecretValueMissingError)
    stubber.assert_no_pending_responses()
    assert bucket_keys(lambda_env) == []
    assert sim.requests == []


def test_the_parameter_is_read_decrypted_and_never_from_a_cache(
    lambda_env: Any, sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each invocation asks SSM (GetParameter WithDecryption=True): credentials filled in
    after a credentials_missing answer are seen by the next run of a warm function."""
    use_parameter(monkeypatch)
    client = boto3.client("ssm")
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.ssm.GetParameter", lambda params, **_: calls.append(params)
    )
    config = HandlerConfig.from_env()
    first = ingest_for_lambda(IngestEvent(TODAY), config, ssm_client=client)
    assert first["status"] == IngestStatus.CREDENTIALS_MISSING
    value = {"client_id": sim.client_id, "client_secret": sim.client_secret}
    client.put_parameter(
        Name=PARAMETER, Value=json.dumps(value), Type="SecureString", Overwrite=True
    )
    second = ingest_for_lambda(IngestEvent(TODAY), config, ssm_client=client)
    assert second["status"] == IngestStatus.COMPLETE
    assert calls == [{"Name": PARAMETER, "WithDecryption": True}] * 2


@pytest.mark.parametrize(
    "environment",
    [
        {"SPOTIFY_CREDENTIALS_PARAMETER": PARAMETER, "SPOTIFY_SECRET_ARN": "arn:x"},
        {},
    ],
    ids=["both", "neither"],
)
def test_the_function_reads_exactly_one_store(
    lambda_env: Any, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name in ("SPOTIFY_CREDENTIALS_PARAMETER", "SPOTIFY_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="exactly one of SPOTIFY_CREDENTIALS_PARAMETER"):
        HandlerConfig.from_env()

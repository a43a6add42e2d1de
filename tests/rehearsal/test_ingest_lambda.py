"""Seam: the ingest Lambda as the deployed stack invokes it.

The handler is called with the event the state machine's ``Ingest`` task builds (its
JSONata payload, evaluated), the environment the template gives the function, and the
credentials of the function's role, with moto enforcing that role's policies from the
template. Only the Spotify endpoints are pointed at the simulator (real HTTP on 127.0.0.1).
moto cannot run a Lambda without Docker, so the handler runs as a function here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ingest.simulator.server import SpotifySimulator
from tests.rehearsal._aws import Account, Credentials, denied
from tests.rehearsal._template import Template, evaluate_jsonata, find_state

SEAM = "lambda: ingest handler under its role"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes: a request id and the time left."""

    aws_request_id: str = "rehearsal-request-1"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class DeployedIngest:
    account: Account
    template: Template
    bucket: str
    secret_arn: str
    environment: dict[str, str]
    credentials: Credentials
    event_for: Any


@pytest.fixture
def simulator() -> Iterator[SpotifySimulator]:
    with SpotifySimulator(seed=11) as sim:
        yield sim


def _deploy(account: Account, template: Template, sim: SpotifySimulator) -> DeployedIngest:
    function_id, function = template.only("AWS::Lambda::Function", "Ingest")
    bucket_id, _ = template.only("AWS::S3::Bucket", "Data")
    secret_id, _ = template.only("AWS::SecretsManager::Secret")
    bucket = template.name(bucket_id)
    s3 = account.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # Created without a value, as the stack creates it.
    secret = account.client("secretsmanager").create_secret(Name=template.name(secret_id))
    template.arns[secret_id] = secret["ARN"]
    environment = template.properties(function_id)["Environment"]["Variables"]
    credentials = account.assume(template, template.role_of(function_id))
    pipeline_id, _ = template.only("AWS::StepFunctions::StateMachine", "Pipeline")
    ingest_state = find_state(template.state_machine_definition(pipeline_id), "Ingest")

    def event_for(day: str, force: bool = False) -> Any:
        states = {"input": {"snapshot_date": day, "force": force}}
        return evaluate_jsonata(ingest_state["Arguments"]["Payload"], states)

    assert function["Properties"]["Handler"] == "ingest.handler.handler"
    return DeployedIngest(
        account, template, bucket, secret["ARN"], environment, credentials, event_for
    )


def _fill_secret(deployed: DeployedIngest, sim: SpotifySimulator) -> None:
    deployed.account.client("secretsmanager").put_secret_value(
        SecretId=deployed.secret_arn,
        SecretString=json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret}),
    )


def _invoke(
    deployed: DeployedIngest,
    sim: SpotifySimulator,
    monkeypatch: pytest.MonkeyPatch,
    event: Any,
) -> dict[str, Any]:
    from ingest.handler import handler

    for key in list(os.environ):
        if key.startswith(("BRONZE_", "ROSTER_", "SPOTIFY_")):
            monkeypatch.delenv(key)
    for key, value in deployed.environment.items():
        monkeypatch.setenv(key, str(value))
    for key, value in deployed.credentials.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "rehearsal-ingest")
    # A cold start: boto3's default session would keep an earlier test's credentials.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    # The one change to the template's environment: Spotify is the simulator.
    monkeypatch.setenv("SPOTIFY_API_URL", sim.api_url)
    monkeypatch.setenv("SPOTIFY_TOKEN_URL", sim.token_url)
    with deployed.account.enforced():
        result: dict[str, Any] = handler(event, LambdaContext())
    return result


@pytest.mark.seam(SEAM)
def test_the_daily_event_completes_the_day_under_the_role(
    account: Account,
    template: Template,
    monkeypatch: pytest.MonkeyPatch,
    simulator: SpotifySimulator,
) -> None:
    deployed = _deploy(account, template, simulator)
    _fill_secret(deployed, simulator)
    today = datetime.now(UTC).date().isoformat()
    event = deployed.event_for(today)
    assert event == {"snapshot_date": today, "force": False}

    result = _invoke(deployed, simulator, monkeypatch, event)

    assert result["status"] == "complete"
    assert result["records"] == 20
    s3 = account.client("s3")
    manifest = s3.get_object(Bucket=deployed.bucket, Key=result["manifest_key"])
    assert json.loads(manifest["Body"].read())["run_id"] == result["run_id"]
    again = _invoke(deployed, simulator, monkeypatch, event)
    assert again["status"] == "already_complete"


@pytest.mark.seam(SEAM)
def test_the_role_is_held_to_its_policies(
    account: Account, template: Template, simulator: SpotifySimulator
) -> None:
    """Enforcement is real: what the role may not do is refused by moto."""
    deployed = _deploy(account, template, simulator)
    s3 = account.client("s3", deployed.credentials)
    secrets = account.client("secretsmanager", deployed.credentials)
    with account.enforced():
        assert not denied(
            lambda: s3.put_object(Bucket=deployed.bucket, Key="bronze/probe.txt", Body=b"x")
        )
        assert denied(
            lambda: s3.put_object(Bucket=deployed.bucket, Key="warehouse/probe.txt", Body=b"x")
        )
        assert denied(lambda: s3.get_object(Bucket=deployed.bucket, Key="reports/x.json"))
        assert denied(lambda: secrets.create_secret(Name="another"))
        assert denied(lambda: account.client("glue", deployed.credentials).get_databases())


@pytest.mark.seam(SEAM)
def test_an_unfilled_secret_ends_the_run_with_its_status(
    account: Account,
    template: Template,
    monkeypatch: pytest.MonkeyPatch,
    simulator: SpotifySimulator,
) -> None:
    deployed = _deploy(account, template, simulator)
    today = datetime.now(UTC).date().isoformat()
    result = _invoke(deployed, simulator, monkeypatch, deployed.event_for(today))
    assert result["status"] == "credentials_missing"
    assert "put-secret-value" in result["message"]
    listing = account.client("s3").list_objects_v2(Bucket=deployed.bucket)
    assert listing.get("KeyCount", 0) == 0

"""Seam: the ingest Lambda as the deployed stack invokes it.

The function's code is the Lambda zip itself: the template's asset when ``make synth``
wrote the template (``REHEARSE_TEMPLATE``), else the zip ``make package`` builds, built here
from these sources. Its handler runs in a fresh interpreter with only the zip in front of
this venv's boto3 (the Lambda runtime's), called with the event the state machine's
``Ingest`` task builds (its JSONata payload, evaluated), the environment the template gives
the function, a Lambda context, and the credentials of the function's role, with moto
enforcing that role's policies from the template. Only the Spotify endpoints are pointed at
the simulator (real HTTP on 127.0.0.1). moto cannot run a Lambda without Docker, so the
interpreter stands in for the runtime.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra import package
from ingest.simulator.server import SpotifySimulator
from tests.rehearsal._aws import Account, Credentials, denied
from tests.rehearsal._sfn import credentials_of
from tests.rehearsal._template import ACCOUNT, REGION, Template, evaluate_jsonata, find_state
from tests.rehearsal.conftest import TEMPLATE_ENV

SEAM = "lambda: ingest handler under its role"

#: The Lambda runtime's part: import the handler from the code, call it with the event and
#: a context, write the answer and where the modules came from to a file (stdout carries
#: the handler's log lines).
RUNTIME = r"""
import json, sys
code, event, context, out = sys.argv[1], *map(json.loads, sys.argv[2:4]), sys.argv[4]
sys.path.insert(0, code)
from ingest.handler import handler


class Context:
    def __init__(self, remaining_ms, **attributes):
        self.__dict__.update(attributes)
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


answer = handler(event, Context(**context))
origins = {
    name: getattr(sys.modules.get(name), "__file__", None)
    for name in ("ingest.handler", "aws_lambda_powertools", "tenacity", "requests")
}
simulator = sorted(m for m in sys.modules if m.split(".")[:2] == ["ingest", "simulator"])
with open(out, "w") as f:
    json.dump({"answer": answer, "origins": origins, "simulator": simulator}, f)
"""


@dataclass
class Invocation:
    answer: dict[str, Any]
    #: ``__file__`` of a few modules the handler imported: all must come from the code.
    origins: dict[str, str | None]
    #: ``ingest.simulator`` modules loaded (none: the zip does not even hold them).
    simulator: list[str]
    #: The handler's log lines (Powertools' JSON on stdout).
    logs: list[dict[str, Any]]


@pytest.fixture(scope="module")
def lambda_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The function's code: the template's asset if ``make synth`` wrote the template, else
    the zip ``make package`` builds, built now (a synthesis here may use an older one)."""
    given = os.environ.get(TEMPLATE_ENV)
    if given:
        template = Template.load(Path(given))
        _, function = template.only("AWS::Lambda::Function", "Ingest")
        asset = Path(given).resolve().parent / f"asset.{function['Properties']['Code']['S3Key']}"
        if not asset.is_file():
            raise FileNotFoundError(f"{asset} (the Ingest function's code) is missing: make synth")
        return asset
    return package.build_lambda_zip(tmp_path_factory.mktemp("lambda") / "lambda-ingest.zip")


@dataclass
class DeployedIngest:
    account: Account
    template: Template
    bucket: str
    #: "ssm" (the default) or "secretsmanager", and the parameter's name or the secret's ARN.
    store: str
    credentials: str
    environment: dict[str, str]
    credentials_of_role: Credentials
    event_for: Any
    #: The Lambda context's attributes (the remaining time: the function's timeout).
    context: dict[str, Any]


@pytest.fixture
def simulator() -> Iterator[SpotifySimulator]:
    with SpotifySimulator(seed=11) as sim:
        yield sim


def _deploy(account: Account, template: Template, sim: SpotifySimulator) -> DeployedIngest:
    function_id, function = template.only("AWS::Lambda::Function", "Ingest")
    bucket_id, _ = template.only("AWS::S3::Bucket", "Data")
    bucket = template.name(bucket_id)
    s3 = account.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # The credentials store as the stack leaves it: an SSM parameter it only names (the
    # operator creates the SecureString), or a secret created without a value.
    for secret_id in template.of_type("AWS::SecretsManager::Secret"):
        secret = account.client("secretsmanager").create_secret(Name=template.name(secret_id))
        template.arns[secret_id] = secret["ARN"]
    store, credentials = credentials_of(template)
    environment = template.properties(function_id)["Environment"]["Variables"]
    pipeline_id, _ = template.only("AWS::StepFunctions::StateMachine", "Pipeline")
    ingest_state = find_state(template.state_machine_definition(pipeline_id), "Ingest")

    def event_for(day: str, force: bool = False) -> Any:
        states = {"input": {"snapshot_date": day, "force": force}}
        return evaluate_jsonata(ingest_state["Arguments"]["Payload"], states)

    assert function["Properties"]["Handler"] == "ingest.handler.handler"
    properties = template.properties(function_id)
    name = template.name(function_id)
    context = {
        "aws_request_id": "rehearsal-request-1",
        "function_name": name,
        "memory_limit_in_mb": properties["MemorySize"],
        "invoked_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "remaining_ms": properties["Timeout"] * 1000,
    }
    role_credentials = account.assume(template, template.role_of(function_id))
    return DeployedIngest(
        account,
        template,
        bucket,
        store,
        credentials,
        environment,
        role_credentials,
        event_for,
        context,
    )


def _fill_credentials(deployed: DeployedIngest, sim: SpotifySimulator) -> None:
    """The runbook's "Fill the credentials" step, by the operator (the account's admin)."""
    value = json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret})
    if deployed.store == "ssm":
        deployed.account.client("ssm").put_parameter(
            Name=deployed.credentials, Value=value, Type="SecureString", Overwrite=True
        )
    else:
        deployed.account.client("secretsmanager").put_secret_value(
            SecretId=deployed.credentials, SecretString=value
        )


def _invoke(
    deployed: DeployedIngest,
    sim: SpotifySimulator,
    code: Path,
    tmp_path: Path,
    event: Any,
) -> Invocation:
    """One cold start of the function: its code in a fresh interpreter, its environment
    (Spotify pointed at the simulator), its role's credentials, moto enforcing them."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BRONZE_", "ROSTER_", "SPOTIFY_", "AWS_", "POWERTOOLS_"))
    }
    environment |= {k: str(v) for k, v in deployed.environment.items()}
    environment |= deployed.credentials_of_role.env()
    environment |= {
        "AWS_ENDPOINT_URL": deployed.account.url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": deployed.context["function_name"],
        # The one change to the template's environment: Spotify is the simulator.
        "SPOTIFY_API_URL": sim.api_url,
        "SPOTIFY_TOKEN_URL": sim.token_url,
    }
    out = tmp_path / "invocation.json"
    command = [sys.executable, "-I", "-c", RUNTIME, str(code), json.dumps(event)]
    command += [json.dumps(deployed.context), str(out)]
    with deployed.account.enforced():
        ran = subprocess.run(
            command,
            env=environment,
            cwd=tmp_path,  # not the repository: the sources must come from the code
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    assert ran.returncode == 0, ran.stderr[-3000:]
    found = json.loads(out.read_text())
    logs = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    return Invocation(found["answer"], found["origins"], found["simulator"], logs)


@pytest.mark.seam(SEAM)
def test_the_daily_event_completes_the_day_under_the_role(
    account: Account,
    template: Template,
    simulator: SpotifySimulator,
    lambda_code: Path,
    tmp_path: Path,
) -> None:
    deployed = _deploy(account, template, simulator)
    assert deployed.store == "ssm"  # the stack's default
    _fill_credentials(deployed, simulator)
    today = datetime.now(UTC).date().isoformat()
    event = deployed.event_for(today)
    assert event == {"snapshot_date": today, "force": False}

    run = _invoke(deployed, simulator, lambda_code, tmp_path, event)

    result = run.answer
    assert result["status"] == "complete"
    assert result["records"] == 20
    s3 = account.client("s3")
    manifest = s3.get_object(Bucket=deployed.bucket, Key=result["manifest_key"])
    assert json.loads(manifest["Body"].read())["run_id"] == result["run_id"]
    # The handler and its dependencies came from the code, and the simulator did not.
    assert all(str(origin).startswith(str(lambda_code)) for origin in run.origins.values())
    assert run.simulator == []
    # Its logs: Powertools' JSON lines, the modules' own with the invocation's keys.
    [finished] = [r for r in run.logs if r["message"] == "ingest finished"]
    assert finished["answer"] == result
    assert finished["function_request_id"] == "rehearsal-request-1"
    assert finished["cold_start"] is True
    assert any(r["name"] == "ingest.pipeline" and r["snapshot_date"] == today for r in run.logs)
    assert simulator.client_secret not in json.dumps(run.logs)

    again = _invoke(deployed, simulator, lambda_code, tmp_path, event)
    assert again.answer["status"] == "already_complete"


@pytest.mark.seam(SEAM)
def test_the_role_is_held_to_its_policies(
    account: Account, template: Template, simulator: SpotifySimulator
) -> None:
    """Enforcement is real: what the role may not do is refused by moto."""
    deployed = _deploy(account, template, simulator)
    _fill_credentials(deployed, simulator)
    admin_ssm = account.client("ssm")
    other = f"{deployed.credentials}-other"
    admin_ssm.put_parameter(Name=other, Value="{}", Type="SecureString")
    s3 = account.client("s3", deployed.credentials_of_role)
    secrets = account.client("secretsmanager", deployed.credentials_of_role)
    ssm = account.client("ssm", deployed.credentials_of_role)
    with account.enforced():
        assert not denied(
            lambda: s3.put_object(Bucket=deployed.bucket, Key="bronze/probe.txt", Body=b"x")
        )
        assert denied(
            lambda: s3.put_object(Bucket=deployed.bucket, Key="warehouse/probe.txt", Body=b"x")
        )
        assert denied(lambda: s3.get_object(Bucket=deployed.bucket, Key="reports/x.json"))
        assert denied(lambda: secrets.create_secret(Name="another"))
        assert denied(lambda: account.client("glue", deployed.credentials_of_role).get_databases())
        # ssm:GetParameter on its own parameter, and nothing else of SSM.
        own = ssm.get_parameter(Name=deployed.credentials, WithDecryption=True)
        assert json.loads(own["Parameter"]["Value"])["client_id"] == simulator.client_id
        assert denied(lambda: ssm.get_parameter(Name=other, WithDecryption=True))
        assert denied(lambda: ssm.get_parameters(Names=[deployed.credentials]))
        assert denied(
            lambda: ssm.put_parameter(
                Name=deployed.credentials, Value="{}", Type="SecureString", Overwrite=True
            )
        )
        assert denied(lambda: ssm.get_parameters_by_path(Path="/"))
        assert denied(lambda: ssm.describe_parameters())


@pytest.mark.seam(SEAM)
def test_an_unfilled_parameter_ends_the_run_with_its_status(
    account: Account,
    template: Template,
    simulator: SpotifySimulator,
    lambda_code: Path,
    tmp_path: Path,
) -> None:
    deployed = _deploy(account, template, simulator)
    today = datetime.now(UTC).date().isoformat()
    # Under the role: the parameter does not exist yet (ParameterNotFound, not AccessDenied).
    result = _invoke(deployed, simulator, lambda_code, tmp_path, deployed.event_for(today)).answer
    assert result["status"] == "credentials_missing"
    assert (
        f"aws ssm put-parameter --name {deployed.credentials} --type SecureString --overwrite"
        in result["message"]
    )
    listing = account.client("s3").list_objects_v2(Bucket=deployed.bucket)
    assert listing.get("KeyCount", 0) == 0

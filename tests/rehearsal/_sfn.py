"""Run the template's Step Functions state machines in moto's server, inside this process.

The definitions executed are the template's own (``DefinitionString`` of the synthesized
stack, its CloudFormation intrinsics resolved to resources created in moto from the same
template). moto 5.2.5 executes them with the ASL interpreter it vendors from LocalStack once
its ``stepfunctions.execute_state_machine`` setting is on. What that interpreter runs as is,
and the few gaps filled here (each the smallest piece that lets the real path run; nothing
else of the interpreter is replaced):

* **JSONata**: moto parses JSONata (``QueryLanguage``, ``{% %}``, ``Arguments``, ``Output``,
  ``Assign``, ``Condition``, ``Items``, ``ItemSelector``, variables, ``$states``) but ships no
  evaluator: ``moto.stepfunctions.parser.asl.jsonata.jsonata._eval_jsonata`` stays ``None``
  (LocalStack evaluates through a JVM bridge to dashjoin's jsonata-java, which moto drops),
  so any JSONata state fails with ``'NoneType' object is not callable``. Plugged in here:
  ``jsonata-python`` (a pure-Python port of the jsonata-js reference implementation that
  borrows from jsonata-java) behind the interpreter's own hook; the interpreter still builds
  every expression (its ``$states`` and variable bindings) itself.
* **aws-sdk error names**: moto names an aws-sdk failure ``<api name>.<Exception>`` with the
  lower-case API name (``s3.NoSuchKeyException``, ``glue.EntityNotFoundException``) except for
  the two services it has a binding for; Step Functions names them ``S3.NoSuchKeyException``
  and ``Glue.EntityNotFoundException``. The bindings for ``s3`` and ``glue`` are added to
  moto's own table, so the template's ``Catch`` clauses match as they do on AWS.
* **aws-sdk response bodies**: moto stubs out the response normalisation of LocalStack's
  interpreter, so ``s3:getObject``'s ``Body`` stays a botocore stream and the state fails
  (``cannot pickle '_io.BufferedReader' object``); Step Functions returns the body as a
  string. Top-level streams of aws-sdk responses are read into strings, with moto's own
  converter.
* **.sync without a task token**: moto 5.2.5 vendors a LocalStack bug (fixed there by
  localstack/localstack#13705): after a ``.sync`` wait it calls ``interrupt_all()`` on the
  task-token endpoint, which is ``None`` for integrations without ``.waitForTaskToken``
  (Glue), so every ``glue:startJobRun.sync`` state fails with ``States.Runtime`` ("'NoneType'
  object has no attribute 'interrupt_all'"), whatever the run did. For those integrations
  the same steps run without that call.
* **an iteration's States.* error**: when a Map iteration fails with a ``States.*`` error
  (a failed Glue run is ``States.TaskFailed``), moto's iteration worker wraps the name in a
  ``CustomErrorName``, which refuses that prefix, and the Map fails with ``States.Runtime``
  ("Custom Error Names MUST NOT begin with the prefix 'States.'"). On AWS the Map fails with
  the iteration's error. The worker gets the interpreter's ``StatesErrorName`` for those.
* **athena:startQueryExecution.sync**: moto lists Athena as an unsupported optimised
  integration (``.waitForTaskToken`` only): the state fails with "Unsupported .sync callback
  procedure". Added: the Athena service task as Step Functions runs it: StartQueryExecution
  on moto's Athena, then GetQueryExecution until the query ends (moto's query executions end
  SUCCEEDED; moto runs no SQL).
* **Lambda**: without Docker moto's Lambda runs in "simple" mode, which never runs code,
  never checks that the function exists and always succeeds (its queued answers can be
  results only, never a function error). :class:`LambdaRuntime` takes its place: it looks the
  function up in moto, imports the function's ``Handler`` from this repository (the modules
  ``make package`` zips) and calls it with the invocation's event and the function's
  environment (from the template, resolved), answering as the Lambda Python runtime does: the
  JSON result, or ``X-Amz-Function-Error: Unhandled`` with ``errorType`` = the exception's
  class name. moto's own answer queue (``/moto-api/static/lambda-simple/response``) still
  comes first when a test fills it.
* **null request fields**: CDK's ``GlueStartJobRun.jsonata`` writes ``"NotificationProperty":
  null`` into the Transform state's ``Arguments``. moto hands that ``None`` to botocore, whose
  serializer fails on it (``'NoneType' object has no attribute 'items'``); Step Functions
  takes a JSON null as an absent field. The Glue integration drops top-level null fields.
* **Glue job runs**: moto's job runs go STARTING -> RUNNING -> SUCCEEDED and nothing else.
  :class:`GlueRuns` lets a test choose how the next runs end (FAILED, or held RUNNING), by
  setting that run's own state transitions in moto.
* **Retry intervals**: the interpreter honours them with ``time.sleep`` (the template's: 1
  minute doubling up to 5 for a busy Glue slot, 5 then 10 minutes for the ingest).
  :class:`RetryWaits` records each wait instead of sleeping it, so a test can assert the
  interval and still take seconds. Nothing else about retries is changed.

Everything else runs as moto has it: states, Map iteration, Retry/Catch matching, the
Lambda/Glue/SNS/aws-sdk integrations calling moto's S3, Glue, Athena, SNS over HTTP, payload
size quotas, the execution history.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Final

import pytest

from tests.rehearsal._aws import Account
from tests.rehearsal._template import ACCOUNT, REGION, Template

#: The request fields Step Functions' optimised Athena integration accepts, by action.
ATHENA_PARAMETERS: Final[dict[str, set[str]]] = {
    "startqueryexecution": {
        "ClientRequestToken",
        "ExecutionParameters",
        "QueryExecutionContext",
        "QueryString",
        "ResultConfiguration",
        "ResultReuseConfiguration",
        "WorkGroup",
    }
}


# --- clients -------------------------------------------------------------------------------
_SESSION: list[Any] = []


class Clients:
    """boto3 clients of the account's admin on moto's server, made once per service from one
    process-wide boto3 session: its service models are loaded once (a fresh session per
    client costs about half a second)."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            import boto3

            if not _SESSION:
                _SESSION.append(boto3.Session(region_name=REGION))
            admin = self.account.admin
            self._made[service] = _SESSION[0].client(
                service,
                endpoint_url=self.account.url,
                aws_access_key_id=admin.access_key_id,
                aws_secret_access_key=admin.secret_access_key,
                aws_session_token=admin.session_token,
            )
        return self._made[service]


# --- the stack, created in moto -------------------------------------------------------------
@dataclass(frozen=True)
class Deployment:
    """Physical names of what :func:`deploy` created, by role."""

    template: Template
    bucket: str
    ingest_function: str
    glue_job: str
    workgroup: str
    alerts_topic: str
    runs_topic: str
    #: "ssm" or "secretsmanager" (the template's store), and where the credentials live: the
    #: parameter's name (not created: the operator creates it) or the secret's ARN (created
    #: empty, as the stack creates it).
    credentials_store: str
    credentials: str
    machines: dict[str, str]  # "pipeline" / "freshness" / "maintenance" -> ARN


def _references(node: Any) -> set[str]:
    """Logical ids a template value refers to (``Ref``, ``Fn::GetAtt``)."""
    if isinstance(node, list):
        return set().union(*(_references(n) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    if isinstance(node.get("Ref"), str):
        found.add(node["Ref"])
    if isinstance(node.get("Fn::GetAtt"), list):
        found.add(node["Fn::GetAtt"][0])
    return found.union(*(_references(v) for v in node.values()))


def _stand_in_code() -> bytes:
    """moto keeps a function's code; what runs is the Handler (see :class:`LambdaRuntime`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("README", "run by the rehearsal's LambdaRuntime from the repository\n")
    return buffer.getvalue()


def credentials_of(template: Template) -> tuple[str, str]:
    """The template's credentials store and where the ingest function reads them from (the
    function's environment): ``("ssm", name)`` or ``("secretsmanager", secret ARN)``."""
    function_id, _ = template.only("AWS::Lambda::Function", "Ingest")
    variables = template.properties(function_id)["Environment"]["Variables"]
    if "SPOTIFY_CREDENTIALS_PARAMETER" in variables:
        return "ssm", str(variables["SPOTIFY_CREDENTIALS_PARAMETER"])
    return "secretsmanager", str(variables["SPOTIFY_SECRET_ARN"])


def deploy(clients: Clients, template: Template) -> Deployment:
    """Create in moto, from the template's resolved properties, what the state machines act
    on: the buckets, the credentials store as the stack leaves it (an SSM parameter is not
    created: only the operator can create a SecureString; a secret is created empty), the
    Lambda functions the definitions invoke and the Glue job, with their roles, the Glue
    database, the Athena workgroup, the SNS topics, and the state machines themselves with
    their roles. Other functions (custom resources), alert rules, schedules and log groups
    are not created."""
    t = template
    machines_ids = list(t.of_type("AWS::StepFunctions::StateMachine"))
    used = set().union(
        *(_references(t.resources[m]["Properties"]["DefinitionString"]) for m in machines_ids)
    )
    functions = [f for f in t.of_type("AWS::Lambda::Function") if f in used]
    iam = clients("iam")
    roles: set[str] = set()
    for logical in [*functions, *t.of_type("AWS::Glue::Job"), *machines_ids]:
        role = t.role_of(logical)
        if role in roles:
            continue
        roles.add(role)
        # As Account.create_role, with this module's clients.
        name = t.name(role)
        trust = t.properties(role)["AssumeRolePolicyDocument"]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        for policy_name, document in t.role_policies(role):
            iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        for arn in t.managed_policy_arns(role):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)

    s3 = clients("s3")
    for logical in t.of_type("AWS::S3::Bucket"):
        props = t.properties(logical)
        s3.create_bucket(Bucket=t.name(logical))
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(
                Bucket=t.name(logical), VersioningConfiguration={"Status": "Enabled"}
            )
    for secret_id in t.of_type("AWS::SecretsManager::Secret"):
        created = clients("secretsmanager").create_secret(
            Name=t.name(secret_id), Description=t.properties(secret_id).get("Description", "")
        )
        t.arns[secret_id] = created["ARN"]  # moto's own random suffix
    store, credentials = credentials_of(t)

    lambda_ = clients("lambda")
    for logical in functions:
        props = t.properties(logical)
        lambda_.create_function(
            FunctionName=t.name(logical),
            Runtime=props["Runtime"],
            Role=props["Role"],
            Handler=props["Handler"],
            Code={"ZipFile": _stand_in_code()},
            Environment=props.get("Environment", {"Variables": {}}),
            Timeout=props.get("Timeout", 3),
            MemorySize=props.get("MemorySize", 128),
            Architectures=props.get("Architectures", ["x86_64"]),
        )
    glue = clients("glue")
    for logical in t.of_type("AWS::Glue::Database"):
        glue.create_database(DatabaseInput=t.properties(logical)["DatabaseInput"])
    job_id, _ = t.only("AWS::Glue::Job")
    job = t.properties(job_id)
    glue.create_job(
        Name=job["Name"],
        Description=job.get("Description", ""),
        Role=job["Role"],
        Command=job["Command"],
        DefaultArguments=job.get("DefaultArguments", {}),
        GlueVersion=job["GlueVersion"],
        WorkerType=job["WorkerType"],
        NumberOfWorkers=job["NumberOfWorkers"],
        ExecutionClass=job.get("ExecutionClass", "STANDARD"),
        Timeout=job["Timeout"],
        MaxRetries=job.get("MaxRetries", 0),
        ExecutionProperty=job["ExecutionProperty"],
    )
    workgroup_id, _ = t.only("AWS::Athena::WorkGroup")
    workgroup = t.properties(workgroup_id)
    clients("athena").create_work_group(
        Name=workgroup["Name"],
        Description=workgroup.get("Description", ""),
        Configuration=workgroup["WorkGroupConfiguration"],
    )
    sns = clients("sns")
    for logical in t.of_type("AWS::SNS::Topic"):
        assert sns.create_topic(Name=t.name(logical))["TopicArn"] == t.ref(logical)

    sfn = clients("stepfunctions")
    machines: dict[str, str] = {}
    for logical in t.of_type("AWS::StepFunctions::StateMachine"):
        props = t.properties(logical)
        arn = sfn.create_state_machine(
            name=props["StateMachineName"],
            definition=props["DefinitionString"],
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        assert arn == t.ref(logical)
        machines[props["StateMachineName"].rsplit("-", 1)[-1]] = arn

    function_id, _ = t.only("AWS::Lambda::Function", "Ingest")
    return Deployment(
        template=t,
        bucket=t.name(t.only("AWS::S3::Bucket", "Data")[0]),
        ingest_function=t.name(function_id),
        glue_job=job["Name"],
        workgroup=workgroup["Name"],
        alerts_topic=t.ref(t.only("AWS::SNS::Topic", "Alerts")[0]),
        runs_topic=t.ref(t.only("AWS::SNS::Topic", "Runs")[0]),
        credentials_store=store,
        credentials=credentials,
        machines=machines,
    )


def scheduled_input(template: Template, machine_arn: str, when: datetime) -> dict[str, Any]:
    """The input EventBridge Scheduler gives ``machine_arn`` at ``when``: the template's
    schedule target ``Input`` with its ``<aws.scheduler.scheduled-time>`` filled in."""
    for logical in template.of_type("AWS::Scheduler::Schedule"):
        target = template.properties(logical)["Target"]
        if target["Arn"] == machine_arn:
            text = target["Input"].replace(
                "<aws.scheduler.scheduled-time>", when.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            payload: dict[str, Any] = json.loads(text)
            return payload
    raise LookupError(f"no schedule of the template starts {machine_arn}")


# --- the interpreter's gaps ----------------------------------------------------------------
def _evaluate_jsonata(expression: str) -> Any:
    """moto's JSONata hook: the expression (with the interpreter's variable bindings already
    prepended) evaluated by jsonata-python; errors reported as the JVM bridge reports them."""
    import jsonata
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        result = jsonata.Jsonata(expression).evaluate(None)
    except Exception as e:
        raise JSONataException("UNKNOWN", str(e)) from e
    return json.loads(json.dumps(result))  # plain JSON values, as the bridge returns


def _athena_service() -> Any:
    """Athena's optimised integration with ``.sync``, as Step Functions runs it."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    class StateTaskServiceAthena(StateTaskServiceCallback):
        def __init__(self) -> None:
            super().__init__(supported_integration_patterns={ResourceCondition.Sync})

        def _get_supported_parameters(self) -> set[str] | None:
            return ATHENA_PARAMETERS.get(self.resource.api_action.lower())

        def _client(self, resource_runtime_part: Any, state_credentials: Any) -> Any:
            return boto_client_for(
                service="athena",
                region=resource_runtime_part.region,
                state_credentials=state_credentials,
            )

        def _eval_service_task(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> None:
            client = self._client(resource_runtime_part, state_credentials)
            response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
            response.pop("ResponseMetadata", None)
            env.stack.append(response)

        def _build_sync_resolver(
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict[str, Any],
            state_credentials: Any,
        ) -> Callable[[], Any]:
            if self._get_boto_service_action() != "start_query_execution":
                raise RuntimeError(f"no .sync for {self.resource.resource_arn}")
            query_id = env.stack.pop()["QueryExecutionId"]
            client = self._client(resource_runtime_part, state_credentials)

            def poll() -> Any:
                answer = client.get_query_execution(QueryExecutionId=query_id)
                answer.pop("ResponseMetadata", None)
                state = answer["QueryExecution"]["Status"]["State"]
                if state in ("QUEUED", "RUNNING"):
                    return None
                if state == "SUCCEEDED":
                    return answer
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(
                            taskFailedEventDetails=TaskFailedEventDetails(
                                resource=self._get_sfn_resource(),
                                resourceType=self._get_sfn_resource_type(),
                                error=StatesErrorNameType.StatesTaskFailed.to_name(),
                                cause=to_json_str(answer),
                            )
                        ),
                    )
                )

            return poll

    return StateTaskServiceAthena()


@dataclass
class RetryWaits:
    """Each retry interval the interpreter would sleep, recorded instead of slept."""

    seconds: list[float] = field(default_factory=list)
    #: Called with each wait (e.g. to free a held Glue slot while "waiting").
    on_wait: Callable[[float], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.on_wait is not None:
            self.on_wait(seconds)


@dataclass(frozen=True)
class Invocation:
    function: str
    event: Any
    result: Any
    error_type: str | None


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class LambdaRuntime:
    """What runs when moto's Lambda is invoked: the function's Handler, as Lambda runs it."""

    #: Added to every function's environment (e.g. SPOTIFY_API_URL of the simulator).
    extra_environment: dict[str, str] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    #: The event of every invocation, appended when it starts.
    invocations_started: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function: Any, body: Any, response_headers: dict[str, str]) -> bytes:
        module_name, _, attribute = function.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        raw = body.decode() if isinstance(body, bytes) else body
        event = json.loads(raw) if raw else {}
        request_id = str(uuid.uuid4())
        context = SimpleNamespace(
            aws_request_id=request_id,
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=function.memory_size,
            get_remaining_time_in_millis=lambda: function.timeout * 1000,
        )
        # AWS_LAMBDA_FUNCTION_NAME is left out on purpose: with it the handler switches this
        # test process's root logger to JSON lines.
        environment = {**function.environment_vars, **self.extra_environment}
        with self._lock, _environment(environment):
            self.invocations_started.append(event)
            try:
                result = handler(event, context)
            except Exception as e:  # the runtime turns any exception into a function error
                response_headers["x-amz-function-error"] = "Unhandled"
                self.invocations.append(
                    Invocation(function.function_name, event, None, type(e).__name__)
                )
                return json.dumps(
                    {
                        "errorMessage": str(e),
                        "errorType": type(e).__name__,
                        "requestId": request_id,
                        "stackTrace": traceback.format_tb(e.__traceback__),
                    }
                ).encode()
        self.invocations.append(Invocation(function.function_name, event, result, None))
        return json.dumps(result).encode()

    def of(self, function: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function == function]


@dataclass
class GlueRuns:
    """How the next Glue job runs end: each entry is the terminal state of one run, in start
    order (``RUNNING`` holds it running until :meth:`finish`); without entries runs succeed."""

    outcomes: list[str] = field(default_factory=list)

    def finish(self, job: str, state: str = "SUCCEEDED") -> None:
        """End every held run of ``job`` in ``state``."""
        from moto.glue.models import glue_backends

        for run in glue_backends[ACCOUNT][REGION].get_job(job).job_runs:
            if run._status == "RUNNING":
                run.status = state

    def _shape(self, run: Any) -> None:
        if not self.outcomes:
            return
        outcome = self.outcomes.pop(0)
        if outcome == "RUNNING":
            run._transitions = [("STARTING", "RUNNING")]
        else:
            run._transitions = [("STARTING", "RUNNING"), ("RUNNING", outcome)]


@dataclass
class Interpreter:
    """The fillers of moto's gaps (see the module docstring), installed for one test."""

    lambda_runtime: LambdaRuntime
    glue_runs: GlueRuns
    retry_waits: RetryWaits


def install(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> Interpreter:
    """Turn on moto's Step Functions execution (and simple-mode Lambda) and fill its gaps.

    ``moto_url`` is the in-process ThreadedMotoServer: the interpreter's service clients reach
    it through ``MOTO_PORT``. moto's config is process-wide: :func:`restore_config` after."""
    import boto3
    import requests
    from botocore.config import Config
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.glue.models import FakeJob
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        iteration_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        state_task_factory,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (  # noqa: E501
        StateTaskServiceAwsSdk,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import (  # noqa: E501
        StateTaskServiceGlue,
    )
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
    from moto.stepfunctions.parser.asl.utils import boto_client

    # The interpreter's service clients go to http://localhost:$MOTO_PORT; they are pointed at
    # moto_url (127.0.0.1) instead, MOTO_PORT kept for any module imported later.
    monkeypatch.setenv("MOTO_PORT", moto_url.rsplit(":", 1)[1])
    original_client_for = boto_client.boto_client_for

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return boto3.client(  # as moto's boto_client_for, but for the endpoint
            service_name=service,
            region_name=region,
            endpoint_url=moto_url,
            aws_access_key_id="ak",
            aws_secret_access_key="sk",
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            ),
        )

    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser.") and (
            getattr(module, "boto_client_for", None) is original_client_for
        ):
            monkeypatch.setattr(module, "boto_client_for", client_for)
    requests.post(
        f"{moto_url}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}},
        timeout=10,
    ).raise_for_status()

    monkeypatch.setattr(moto_jsonata, "_eval_jsonata", _evaluate_jsonata)
    monkeypatch.setitem(state_task_service_aws_sdk._SERVICE_ERROR_NAMES, "s3", "S3")
    monkeypatch.setitem(state_task_service_aws_sdk._SERVICE_ERROR_NAMES, "glue", "Glue")
    original_service_for = state_task_factory.state_task_service_for

    def service_for(service_name: str) -> Any:
        if service_name == "athena":
            return _athena_service()
        return original_service_for(service_name)

    monkeypatch.setattr(state_task_factory, "state_task_service_for", service_for)

    def drop_nulls(service: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        for key in [k for k, v in parameters.items() if v is None]:
            del parameters[key]

    monkeypatch.setattr(StateTaskServiceGlue, "_normalise_parameters", drop_nulls)

    def read_streams(service: Any, response: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(response, dict):
            for key, value in response.items():
                response[key] = service._from_boto_response_value(value)

    monkeypatch.setattr(StateTaskServiceAwsSdk, "_normalise_response", read_streams)

    def iteration_error_name(error_name: str | None) -> Any:
        if error_name is not None and error_name.startswith("States."):
            return StatesErrorName.from_name(error_name)
        return CustomErrorName(error_name=error_name)

    monkeypatch.setattr(iteration_worker, "CustomErrorName", iteration_error_name)

    with_token = StateTaskServiceCallback._eval_integration_pattern

    def integration_pattern(
        service: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        if ResourceCondition.WaitForTaskToken in service._supported_integration_patterns:
            with_token(
                service, env, resource_runtime_part, normalised_parameters, state_credentials
            )
            return
        # moto's method, for a .sync integration that has no task token (Glue, Athena): the
        # same steps without the callback endpoint it cannot have.
        task_output = env.stack.pop()
        service.timeout.eval(env=env)
        timeout_seconds = env.stack.pop()
        env.stack.append(task_output)
        resolver = service._build_sync_resolver(
            env=env,
            resource_runtime_part=resource_runtime_part,
            normalised_parameters=normalised_parameters,
            state_credentials=state_credentials,
        )
        outcome = service._eval_sync(
            env=env,
            sync_resolver=resolver,
            timeout_seconds=timeout_seconds,
            callback_endpoint=None,
            heartbeat_endpoint=None,
        )
        env.stack.append(outcome)

    monkeypatch.setattr(StateTaskServiceCallback, "_eval_integration_pattern", integration_pattern)

    waits = RetryWaits()
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=waits.sleep))

    runtime = LambdaRuntime()
    simple_invoke = LambdaSimpleBackend.invoke

    def invoke(
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes | str | None:
        if backend.lambda_simple_results_queue:  # moto's own queue first, as documented
            return simple_invoke(backend, function_name, qualifier, body, headers, {})
        function = backend.get_function(function_name, qualifier)  # unknown: 404, as AWS
        return runtime.invoke(function, body, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)

    glue_runs = GlueRuns()
    start_job_run = FakeJob.start_job_run

    def start(job: Any, *args: Any, **kwargs: Any) -> str:
        run_id: str = start_job_run(job, *args, **kwargs)
        glue_runs._shape(next(r for r in job.job_runs if r.job_run_id == run_id))
        return run_id

    monkeypatch.setattr(FakeJob, "start_job_run", start)

    return Interpreter(runtime, glue_runs, waits)


def restore_config(moto_url: str) -> None:
    """moto's process-wide config back to its defaults (no execution, Docker Lambda)."""
    import requests

    requests.post(
        f"{moto_url}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": True}},
        timeout=10,
    ).raise_for_status()


# --- executions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Execution:
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]
    seconds: float

    def entered(self) -> list[str]:
        """The states entered, in order (Map iterations included)."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.events
            if e["type"].endswith("StateEntered")
        ]

    def scheduled(self, resource_part: str) -> list[dict[str, Any]]:
        """TaskScheduled events whose resource contains ``resource_part``."""
        return [
            e["taskScheduledEventDetails"]
            for e in self.events
            if e["type"] == "TaskScheduled"
            and resource_part in e["taskScheduledEventDetails"]["resource"]
        ]

    def failures(self) -> list[dict[str, Any]]:
        return [e["taskFailedEventDetails"] for e in self.events if e["type"] == "TaskFailed"]


def execute(
    sfn: Any, machine_arn: str, payload: Mapping[str, Any], timeout_s: float = 60
) -> Execution:
    """Start an execution, wait for it to end, and return it with its whole history."""
    started = time.monotonic()
    # A name of its own: without one moto names every execution "None", so a second
    # execution of the same state machine would be refused as already existing.
    arn = sfn.start_execution(
        stateMachineArn=machine_arn, name=f"rehearsal-{uuid.uuid4().hex}", input=json.dumps(payload)
    )["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"execution {arn} still running after {timeout_s} s")
        time.sleep(0.02)
    seconds = time.monotonic() - started
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    output = described.get("output")
    return Execution(
        arn=arn,
        status=described["status"],
        output=json.loads(output) if output else None,
        error=described.get("error"),
        cause=described.get("cause"),
        events=events,
        seconds=seconds,
    )


def published(topic_arn: str) -> list[tuple[str | None, str]]:
    """(subject, message) of every message published to the topic (moto's SNS backend, in this
    process)."""
    from moto.sns.models import sns_backends

    topic = sns_backends[ACCOUNT][REGION].topics[topic_arn]
    return [(subject, message) for _, message, subject, _, _ in topic.sent_notifications]

"""The synthesized CloudFormation template: every resource of the stack and its key settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra.stack_settings import ALERT_RULES, DEFAULT_SETTINGS, GLUE_DATABASE
from tests.infra.conftest import Synthesized

REPO = Path(__file__).resolve().parents[2]


def _only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))["Properties"]


def _joined(value: Any) -> str:
    """A CloudFormation string with its tokens as <ref> placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_joined(part) for part in value["Fn::Join"][1])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return str(value["Fn::Sub"])
    return "<ref>"


def _definition(s: Synthesized, name_part: str) -> dict[str, Any]:
    for props in (
        r["Properties"] for r in s.resources("AWS::StepFunctions::StateMachine").values()
    ):
        if name_part in props["StateMachineName"]:
            parsed: dict[str, Any] = json.loads(_joined(props["DefinitionString"]))
            return parsed
    raise AssertionError(f"no state machine named *{name_part}*")


def _states(definition: dict[str, Any]) -> dict[str, Any]:
    """Every state, nested Map processors included."""
    found: dict[str, Any] = {}
    for name, state in definition["States"].items():
        found[name] = state
        if "ItemProcessor" in state:
            found.update(_states(state["ItemProcessor"]))
    return found


def test_cdk_nag_leaves_no_error(synthesized: Synthesized) -> None:
    assert synthesized.errors == []


def test_buckets_are_private_encrypted_and_ssl_only(synthesized: Synthesized) -> None:
    buckets = synthesized.resources("AWS::S3::Bucket")
    assert len(buckets) == 3  # data, the Glue job's artifacts (wheels), access logs
    for props in (b["Properties"] for b in buckets.values()):
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    policies = synthesized.resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            st["Effect"] == "Deny"
            and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for st in statements
        )


def _data_bucket(s: Synthesized) -> dict[str, Any]:
    for bucket in s.resources("AWS::S3::Bucket").values():
        if "VersioningConfiguration" in bucket["Properties"]:
            return dict(bucket["Properties"])
    raise AssertionError("no versioned bucket")


def test_data_bucket_is_versioned_and_logged(synthesized: Synthesized) -> None:
    props = _data_bucket(synthesized)
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "data/"


def test_lifecycle_rules(synthesized: Synthesized) -> None:
    rules = {r["Id"]: r for r in _data_bucket(synthesized)["LifecycleConfiguration"]["Rules"]}
    s = DEFAULT_SETTINGS
    assert rules["bronze-infrequent-access"]["Prefix"] == "bronze/"
    assert rules["bronze-infrequent-access"]["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": s.bronze_infrequent_access_days}
    ]
    assert "ExpirationInDays" not in rules["bronze-infrequent-access"]  # bronze is kept
    assert rules["expire-athena-results"]["Prefix"] == "athena-results/"
    assert rules["expire-athena-results"]["ExpirationInDays"] == s.athena_results_expire_days
    assert rules["expire-old-reports"]["Prefix"] == "reports/"
    assert rules["expire-old-reports"]["ExpirationInDays"] == s.reports_expire_days


def test_bronze_denies_deletes_and_unconditional_manifest_writes(
    synthesized: Synthesized,
) -> None:
    statements = [
        st
        for policy in synthesized.resources("AWS::S3::BucketPolicy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_sid = {st.get("Sid"): st for st in statements}
    deny_delete = by_sid["BronzeIsAppendOnly"]
    assert deny_delete["Effect"] == "Deny"
    assert deny_delete["Principal"] == {"AWS": "*"}
    assert set(deny_delete["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert _joined(deny_delete["Resource"]).endswith("/bronze/*")
    manifests = by_sid["ManifestsNeedConditionalWrites"]
    assert manifests["Effect"] == "Deny"
    assert manifests["Action"] == "s3:PutObject"
    assert _joined(manifests["Resource"]).endswith("/bronze/*/_manifest.json")
    assert manifests["Condition"] == {"Null": {"s3:if-none-match": "true", "s3:if-match": "true"}}


def test_the_credentials_are_an_ssm_parameter_the_stack_names(synthesized: Synthesized) -> None:
    """Default store: a SecureString the operator creates (CloudFormation cannot); the stack
    creates neither a secret nor a String placeholder a later update would write back."""
    assert synthesized.resources("AWS::SecretsManager::Secret") == {}
    assert synthesized.resources("AWS::SSM::Parameter") == {}
    outputs = synthesized.raw["Outputs"]
    assert (
        outputs["SpotifyCredentialsParameter"]["Value"] == "/SpotifyLakehouse/spotify-credentials"
    )
    assert "SpotifySecretArn" not in outputs


def test_the_ingest_role_reads_only_its_parameter(synthesized: Synthesized) -> None:
    statements = _role_statements(synthesized, _ingest_role(synthesized))
    by_sid = {st.get("Sid"): st for st in statements}
    read = by_sid["ReadSpotifyCredentials"]
    assert read["Action"] == "ssm:GetParameter"
    assert _joined(read["Resource"]) == (
        "arn:<ref>:ssm:<ref>:<ref>:parameter/SpotifyLakehouse/spotify-credentials"
    )
    decrypt = by_sid["DecryptSpotifyCredentialsThroughSsm"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert _joined(decrypt["Resource"]) == "arn:<ref>:kms:<ref>:<ref>:key/*"
    conditions = decrypt["Condition"]["StringEquals"]
    assert _joined(conditions["kms:ViaService"]) == "ssm.<ref>.<ref>"
    assert _joined(conditions["kms:EncryptionContext:PARAMETER_ARN"]) == _joined(read["Resource"])
    # Nothing else of SSM, KMS or Secrets Manager.
    others = [
        a
        for st in statements
        if st is not read and st is not decrypt
        for a in _actions(st)
        if a.split(":")[0] in {"ssm", "kms", "secretsmanager"}
    ]
    assert others == []


def test_secrets_manager_store_keeps_the_empty_secret(secrets_manager: Synthesized) -> None:
    """``credentialsStore=secretsmanager``: the secret of the first deploys, created empty,
    read by the Lambda (GetSecretValue and DescribeSecret), and no SSM grant."""
    props = _only(secrets_manager.resources("AWS::SecretsManager::Secret"))
    assert "GenerateSecretString" not in props
    assert "SecretString" not in props
    assert "client_secret" in props["Description"]
    [function] = [
        f["Properties"]
        for f in secrets_manager.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "ingest.handler.handler"
    ]
    variables = function["Environment"]["Variables"]
    assert "SPOTIFY_SECRET_ARN" in variables
    assert "SPOTIFY_CREDENTIALS_PARAMETER" not in variables
    actions = {
        a
        for st in _role_statements(secrets_manager, _ingest_role(secrets_manager))
        for a in _actions(st)
    }
    assert {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"} <= actions
    assert not {a for a in actions if a.startswith(("ssm:", "kms:"))}
    assert "SpotifySecretArn" in secrets_manager.raw["Outputs"]


def test_ingest_lambda(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "ingest.handler.handler",
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "ReservedConcurrentExecutions": Match.absent(),
            "MemorySize": DEFAULT_SETTINGS.lambda_memory_mb,
            "Timeout": DEFAULT_SETTINGS.lambda_timeout_s,
            "Environment": {
                "Variables": {
                    "BRONZE_BUCKET": Match.any_value(),
                    "BRONZE_PREFIX": "bronze/",
                    "SPOTIFY_CREDENTIALS_PARAMETER": "/SpotifyLakehouse/spotify-credentials",
                    "ROSTER_TOP": str(DEFAULT_SETTINGS.roster_top),
                }
            },
        },
    )


def test_glue_database_and_no_table_schema(synthesized: Synthesized) -> None:
    props = _only(synthesized.resources("AWS::Glue::Database"))
    assert props["DatabaseInput"]["Name"] == GLUE_DATABASE
    # The tables come from catalog/iceberg/tables.py through the job; the stack holds no schema.
    assert synthesized.resources("AWS::Glue::Table") == {}


def test_glue_job_runs_glue_5_with_iceberg(synthesized: Synthesized) -> None:
    props = _only(synthesized.resources("AWS::Glue::Job"))
    assert props["GlueVersion"] == "5.1"
    assert props["Command"]["Name"] == "glueetl"
    assert (props["WorkerType"], props["NumberOfWorkers"]) == ("G.1X", 2)
    # The job's own class (a run started by hand at the console); the state machines pass
    # each run's class (test_glue_runs_name_their_execution_class).
    assert props["ExecutionClass"] == "STANDARD"
    assert props["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    args = props["DefaultArguments"]
    assert args["--datalake-formats"] == "iceberg"
    conf = _joined(args["--conf"])
    for part in (
        "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.lakehouse=org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.lakehouse.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
        "spark.sql.catalog.lakehouse.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.lakehouse.warehouse=s3://<ref>/warehouse",
    ):
        assert part in conf.split(" --conf ")
    for name in ("--bronze_uri", "--warehouse", "--reports_uri", "--extra-py-files"):
        assert _joined(args[name]).startswith("s3://")
    assert args["--catalog"] == "glue"
    assert args["--action"] == "transform"
    assert args["--tag_retention_days"] == "400"
    assert _joined(args["--extra-py-files"]).endswith(".zip")


def test_glue_python_modules_are_the_stacks_wheels(synthesized: Synthesized) -> None:
    """The job installs one zip of wheels from the artifacts bucket, offline, deployed there
    under the name Glue requires by a BucketDeployment that the job waits for."""
    [job] = synthesized.resources("AWS::Glue::Job").values()
    args = job["Properties"]["DefaultArguments"]
    deps = _joined(args["--additional-python-modules"])
    assert deps.startswith("s3://")
    assert deps.endswith("/glue/python-deps/python-deps.gluewheels.zip")
    # Offline, and without byte-compiling every module of every wheel (40 s -> 10 s a run).
    assert args["--python-modules-installer-option"] == "--no-index --no-compile"
    [(deployment_id, deployment)] = synthesized.resources("Custom::CDKBucketDeployment").items()
    assert deployment["Properties"]["DestinationBucketKeyPrefix"] == "glue/python-deps/"
    assert deployment_id in job.get("DependsOn", [])


def test_athena_workgroup(synthesized: Synthesized) -> None:
    props = _only(synthesized.resources("AWS::Athena::WorkGroup"))
    config = props["WorkGroupConfiguration"]
    assert config["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == DEFAULT_SETTINGS.athena_bytes_scanned_cutoff
    location = _joined(config["ResultConfiguration"]["OutputLocation"])
    assert location.endswith("/athena-results/")


def test_schedules_are_cron_in_utc(synthesized: Synthesized) -> None:
    schedules = {
        props["Description"]: props
        for props in (
            r["Properties"] for r in synthesized.resources("AWS::Scheduler::Schedule").values()
        )
    }
    daily = schedules["Daily load of the UTC day"]
    assert daily["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert daily["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert daily["Target"]["Input"] == '{"scheduled_time":"<aws.scheduler.scheduled-time>"}'
    weekly = schedules["Weekly table maintenance and Glue table-version pruning"]
    assert weekly["ScheduleExpression"] == "cron(0 3 ? * SUN *)"
    freshness = schedules["Alarm if the UTC day is not loaded by the deadline hour"]
    assert freshness["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert all(s["ScheduleExpressionTimezone"] == "Etc/UTC" for s in schedules.values())


def test_pipeline_gates_glue_on_the_ingest_status(synthesized: Synthesized) -> None:
    definition = _definition(synthesized, "pipeline")
    assert definition["QueryLanguage"] == "JSONata"
    states = _states(definition)
    gate = states["DayComplete?"]
    assert gate["Type"] == "Choice"
    conditions = {c["Next"]: c["Condition"] for c in gate["Choices"]}
    # A complete day ends its ingest iteration; the chunk's Glue run follows the iterations.
    assert "'complete', 'already_complete'" in conditions["DayIngested"]
    assert states["DayIngested"]["Type"] == "Succeed"
    assert "followers_unavailable" in conditions["RecordFollowersUnavailable"]
    assert gate["Default"] == "UnexpectedIngestStatus"
    assert states["RecordFollowersUnavailable"]["Next"] == "FollowersUnavailable"
    assert states["FollowersUnavailable"]["Type"] == "Fail"
    ingest_days = states["IngestDays"]
    assert ingest_days["Type"] == "Map"
    assert ingest_days["MaxConcurrency"] == 1
    assert ingest_days["Next"] == "Transform"  # only once every day of the chunk is complete
    transform = states["Transform"]
    assert transform["Resource"].endswith(":states:::glue:startJobRun.sync")
    arguments = transform["Arguments"]["Arguments"]
    # A chunk of one day (the daily run) names its day as ARCHITECTURE.md fixes it...
    one_day = {"start_date": "2026-11-24", "end_date": "2026-11-24"}
    assert _evaluate(arguments, {"input": one_day}) == {
        "--snapshot_date": "2026-11-24",
        "--action": "transform",
    }
    # ...a longer chunk, its range.
    chunk = {"start_date": "2026-01-01", "end_date": "2026-01-31"}
    assert _evaluate(arguments, {"input": chunk}) == {
        "--start_date": "2026-01-01",
        "--end_date": "2026-01-31",
        "--action": "transform",
    }
    # Followers unavailable: caught once at the outer Map, one alert, no retry.
    chunks = states["Chunks"]
    assert chunks["MaxConcurrency"] == 1
    assert chunks["Catch"][0]["ErrorEquals"] == ["FollowersUnavailable"]
    assert states[chunks["Catch"][0]["Next"]]["Resource"].endswith(":states:::sns:publish")
    assert "Retry" not in chunks


def _evaluate(expression: str, states: dict[str, Any]) -> Any:
    import jsonata

    assert expression.startswith("{%")
    assert expression.endswith("%}")
    compiled = jsonata.Jsonata(expression[2:-2].strip())
    compiled.assign("states", states)
    return compiled.evaluate(None)


def _plan(s: Synthesized, payload: dict[str, Any]) -> dict[str, Any]:
    plan: dict[str, Any] = _evaluate(
        _states(_definition(s, "pipeline"))["Plan"]["Output"], {"input": payload}
    )
    return plan


@pytest.mark.parametrize(
    ("days", "runs", "sizes"),
    [
        (1, 1, [1]),
        (31, 1, [31]),
        (32, 2, [31, 1]),
        (365, 12, [31] * 11 + [24]),
        (366, 12, [31] * 11 + [25]),
    ],
)
def test_a_range_is_cut_into_chunks_of_one_glue_run(
    synthesized: Synthesized, days: int, runs: int, sizes: list[int]
) -> None:
    """The Chunks Map's items, evaluated: consecutive chunks of at most backfill_chunk_days
    (31) days, oldest first, covering the range exactly; a year is 12 Glue runs."""
    from datetime import date, timedelta

    first = date(2025, 1, 1)
    last = first + timedelta(days=days - 1)
    plan = _plan(synthesized, {"start_date": first.isoformat(), "end_date": last.isoformat()})
    assert plan["day_count"] == days
    chunks = _evaluate(
        _states(_definition(synthesized, "pipeline"))["Chunks"]["Items"], {"input": plan}
    )
    assert len(chunks) == runs == DEFAULT_SETTINGS.glue_runs_for(days)
    assert [len(c["days"]) for c in chunks] == sizes
    every_day = [d for c in chunks for d in c["days"]]
    assert every_day == [(first + timedelta(days=i)).isoformat() for i in range(days)]
    for chunk in chunks:
        assert (chunk["start_date"], chunk["end_date"]) == (chunk["days"][0], chunk["days"][-1])


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"scheduled_time": "2026-11-24T06:00:00Z"}, "FLEX"),
        ({"snapshot_date": "2026-11-24"}, "STANDARD"),
        ({"start_date": "2026-01-01", "end_date": "2026-11-24"}, "STANDARD"),
        ({"start_date": "2026-01-01", "end_date": "2026-11-24", "flex": True}, "FLEX"),
    ],
    ids=["scheduled", "by-hand", "backfill", "backfill-flex"],
)
def test_glue_runs_name_their_execution_class(
    synthesized: Synthesized, payload: dict[str, Any], expected: str
) -> None:
    """Flex for the scheduled run (nobody waits; the freshness check is 3 hours later),
    Standard for a run a person started, unless its input asks for Flex."""
    assert DEFAULT_SETTINGS.glue_execution_class == "FLEX"
    assert _plan(synthesized, payload)["execution_class"] == expected
    states = _states(_definition(synthesized, "pipeline"))
    assert states["Transform"]["Arguments"]["ExecutionClass"] == (
        "{% $states.input.execution_class %}"
    )
    chunks = states["Chunks"]["ItemSelector"]
    assert chunks["execution_class"] == "{% $states.input.execution_class %}"
    maintain = _states(_definition(synthesized, "maintenance"))["Maintain"]
    scheduled = _evaluate(maintain["Arguments"]["ExecutionClass"], {"input": payload})
    assert scheduled == expected  # the same rule for the weekly maintenance


def test_a_busy_glue_slot_is_waited_out_for_as_long_as_a_backfill(
    synthesized: Synthesized,
) -> None:
    """The daily run queues behind a backfill instead of failing: the retrier's waits (1
    minute, doubling, at most 5 minutes apart) add up to a whole backfill holding the slot
    (12 chunk runs, each at most the job's 60-minute timeout)."""
    s = DEFAULT_SETTINGS
    for machine, state in (("pipeline", "Transform"), ("maintenance", "Maintain")):
        (retry,) = _states(_definition(synthesized, machine))[state]["Retry"]
        assert retry["ErrorEquals"] == ["Glue.ConcurrentRunsExceededException"]
        assert (retry["IntervalSeconds"], retry["BackoffRate"]) == (60, 2)
        assert retry["MaxDelaySeconds"] == 300
        assert retry["MaxAttempts"] == s.glue_busy_retries
        waits, wait = [], 60.0
        for _ in range(retry["MaxAttempts"]):
            waits.append(wait)
            wait = min(wait * 2, 300.0)
        assert sum(waits) >= s.glue_slot_wait_s == 12 * 60 * 60
        assert sum(waits[:-1]) < s.glue_slot_wait_s  # and no longer
    [job] = synthesized.resources("AWS::Glue::Job").values()
    assert job["Properties"]["Timeout"] == s.glue_timeout_minutes


def test_the_state_machines_may_run_only_the_load_job(synthesized: Synthesized) -> None:
    """The Glue tasks are raw states (a JSONata ExecutionClass): their grant is the stack's
    own, exactly what startJobRun.sync needs, on the one job."""
    for name in ("pipeline", "maintenance"):
        role = next(
            str(r["Properties"]["RoleArn"]["Fn::GetAtt"][0])
            for r in synthesized.resources("AWS::StepFunctions::StateMachine").values()
            if r["Properties"]["StateMachineName"].endswith(f"-{name}")
        )
        glue = [st for st in _role_statements(synthesized, role) if st.get("Sid") == "RunLoadJob"]
        assert len(glue) == 1, name
        assert set(_actions(glue[0])) == {
            "glue:StartJobRun",
            "glue:GetJobRun",
            "glue:GetJobRuns",
            "glue:BatchStopJobRun",
        }
        (resource,) = _resources(glue[0])
        assert resource == "arn:<ref>:glue:<ref>:<ref>:job/<ref>"


def test_pipeline_deploys_the_gold_view_from_views_sql(synthesized: Synthesized) -> None:
    states = _states(_definition(synthesized, "pipeline"))
    deploy = states["DeployGoldView"]
    assert deploy["Resource"].endswith(":states:::athena:startQueryExecution.sync")
    sql = (REPO / "views" / "sql" / "spotify_gold_view.sql").read_text().strip()
    assert deploy["Arguments"]["QueryString"] == sql
    assert states["FindGoldView"]["Catch"][0]["ErrorEquals"] == ["Glue.EntityNotFoundException"]
    assert states["PublishResult"]["Resource"].endswith(":states:::sns:publish")


def test_maintenance_runs_the_job_and_prunes_versions(synthesized: Synthesized) -> None:
    states = _states(_definition(synthesized, "maintenance"))
    assert states["Maintain"]["Resource"].endswith(":states:::glue:startJobRun.sync")
    assert states["Maintain"]["Arguments"]["Arguments"]["--action"] == "maintain"
    assert states["PruneTableVersions"]["Resource"].endswith(":states:::lambda:invoke")
    policies = [
        st
        for p in synthesized.resources("AWS::IAM::Policy").values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("glue:BatchDeleteTableVersion" in st["Action"] for st in policies)


def test_failed_executions_alert_through_eventbridge_not_alarms(synthesized: Synthesized) -> None:
    """One rule per state machine on its FAILED / TIMED_OUT / ABORTED executions, to the
    Alerts topic, which lets EventBridge publish; no CloudWatch alarm (billed per metric)."""
    assert synthesized.resources("AWS::CloudWatch::Alarm") == {}
    rules = synthesized.resources("AWS::Events::Rule")
    assert len(rules) == len(ALERT_RULES)
    names = {r["Properties"]["Name"].split("-", 1)[1]: r["Properties"] for r in rules.values()}
    assert set(names) == set(ALERT_RULES)
    machines = {
        logical: r["Properties"]["StateMachineName"].rsplit("-", 1)[1]
        for logical, r in synthesized.resources("AWS::StepFunctions::StateMachine").items()
    }
    [alerts_topic] = [k for k in synthesized.resources("AWS::SNS::Topic") if k.startswith("Alerts")]
    for name, props in names.items():
        pattern = props["EventPattern"]
        assert pattern["source"] == ["aws.states"]
        assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
        assert pattern["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
        [arn] = pattern["detail"]["stateMachineArn"]
        assert machines[arn["Ref"]] == ALERT_RULES[name]
        [target] = props["Targets"]
        assert target["Arn"] == {"Ref": alerts_topic}
        assert "docs/runbook.md#alarms" in target["InputTransformer"]["InputTemplate"]
    statements = [
        st
        for p in synthesized.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": alerts_topic} in p["Properties"]["Topics"]
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        st["Effect"] == "Allow"
        and st["Principal"] == {"Service": "events.amazonaws.com"}
        and st["Action"] == "sns:Publish"
        for st in statements
    )


def test_every_log_group_has_a_retention(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 6  # 2 Lambdas, the Glue job, 3 state machines
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == DEFAULT_SETTINGS.log_retention_days


def _iam_statements(s: Synthesized) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for resource in s.raw["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            statements.extend(props["PolicyDocument"]["Statement"])
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def test_no_wildcard_iam_actions(synthesized: Synthesized) -> None:
    statements = _iam_statements(synthesized)
    assert len(statements) > 20
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert action != "*", statement
            assert not action.endswith(":*"), statement


def _role_of(s: Synthesized, kind: str, **properties: str) -> str:
    """The logical id of the role the one resource of ``kind`` with ``properties`` runs as."""
    [resource] = [
        r
        for r in s.resources(kind).values()
        if all(r["Properties"].get(k) == v for k, v in properties.items())
    ]
    role = resource["Properties"]["Role"]
    return str(role["Fn::GetAtt"][0])


def _ingest_role(s: Synthesized) -> str:
    return _role_of(s, "AWS::Lambda::Function", Handler="ingest.handler.handler")


def _glue_job_role(s: Synthesized) -> str:
    return _role_of(s, "AWS::Glue::Job")


def _pipeline_role(s: Synthesized) -> str:
    for props in (
        r["Properties"] for r in s.resources("AWS::StepFunctions::StateMachine").values()
    ):
        if props["StateMachineName"].endswith("-pipeline"):
            return str(props["RoleArn"]["Fn::GetAtt"][0])
    raise AssertionError("no state machine named *-pipeline")


@pytest.mark.parametrize("role_of", [_ingest_role, _glue_job_role], ids=["ingest", "glue-job"])
def test_data_access_is_scoped_to_prefixes(
    synthesized: Synthesized, role_of: Callable[[Synthesized], str]
) -> None:
    statements = _role_statements(synthesized, role_of(synthesized))
    assert any("s3:GetObject" in _actions(st) for st in statements)
    for st in statements:
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        if any(a in {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} for a in actions):
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for resource in resources:
                text = _joined(resource)
                if "-assets-" in text:  # the job's own script and library: exact keys
                    continue
                if text.endswith(".gluewheels.zip"):  # its wheels: one exact key
                    continue
                assert text.endswith("/*"), text
                assert text.count("/") >= 2, text  # a prefix, never the whole bucket


def _record_key(state: dict[str, Any]) -> str:
    return str(state["Arguments"]["Key"])


def test_followers_unavailable_day_is_recorded_and_alerted_once(synthesized: Synthesized) -> None:
    """A day the app gets no followers: the pipeline writes that day's load record with status
    followers_unavailable before it stops with its one alert, and the evening's freshness check
    accepts that record instead of failing (FreshnessMissed would be a second alert)."""
    pipeline = _states(_definition(synthesized, "pipeline"))
    stopped = pipeline["RecordFollowersUnavailable"]
    loaded = pipeline["RecordLoad"]
    for record in (stopped, loaded):
        assert record["Resource"].endswith(":states:::aws-sdk:s3:putObject")
    # Same key for both outcomes: reports/loads/snapshot_date=D.json.
    assert _record_key(stopped) == _record_key(loaded)
    assert "reports/loads/snapshot_date=" in _record_key(stopped)
    assert "'status': 'followers_unavailable'" in stopped["Arguments"]["Body"]
    assert "\"status\": 'loaded'" in pipeline["Transform"]["Output"]
    # Still exactly one alert on that path: the Map's catch, then a Succeed (no alarm).
    days = pipeline["Chunks"]
    alert = pipeline[days["Catch"][0]["Next"]]
    assert alert["Resource"].endswith(":states:::sns:publish")
    assert pipeline[alert["Next"]]["Type"] == "Succeed"
    publishes = [n for n, st in pipeline.items() if st.get("Resource", "").endswith("sns:publish")]
    assert sorted(publishes) == [
        "AlertCredentialsMissing",
        "AlertFollowersUnavailable",
        "PublishResult",
    ]

    freshness = _states(_definition(synthesized, "freshness"))
    find = freshness["FindTodaysLoad"]
    assert "reports/loads/snapshot_date=" in _record_key(find)
    assert find["Catch"][0] == {"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "DayNotLoaded"}
    assert "$record.status" in find["Output"]["status"]
    gate = freshness[find["Next"]]
    assert gate["Type"] == "Choice"
    (choice,) = gate["Choices"]
    assert "'loaded', 'followers_unavailable'" in choice["Condition"]
    assert freshness[choice["Next"]]["Type"] == "Succeed"
    assert gate["Default"] == "DayNotLoaded"
    assert freshness["DayNotLoaded"]["Type"] == "Fail"


def _role_statements(s: Synthesized, role: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role with logical id ``role``."""
    return [
        st
        for policy in s.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _resources(statement: dict[str, Any]) -> list[str]:
    resources = statement["Resource"]
    return [_joined(r) for r in (resources if isinstance(resources, list) else [resources])]


def test_view_deploy_can_write_only_the_gold_view(synthesized: Synthesized) -> None:
    statements = _role_statements(synthesized, _pipeline_role(synthesized))
    assert statements, "no policy of the pipeline state machine's role"
    writes = [
        st for st in statements if {"glue:CreateTable", "glue:UpdateTable"} & set(_actions(st))
    ]
    assert writes
    for statement in writes:
        assert set(_actions(statement)) == {"glue:CreateTable", "glue:UpdateTable"}, statement
        tables = [r for r in _resources(statement) if ":table/" in r]
        assert tables, statement
        assert all(t.endswith(f":table/{GLUE_DATABASE}/spotify_gold_view") for t in tables)
        assert not any(r.endswith("*") for r in _resources(statement)), statement
    reads = {a for st in statements for a in _actions(st) if a.startswith("glue:Get")}
    assert {"glue:GetDatabase", "glue:GetTable", "glue:GetTables"} <= reads
    # The Glue job still creates and commits the Iceberg tables, any table of the database.
    job = [
        st
        for st in _role_statements(synthesized, _glue_job_role(synthesized))
        if "glue:CreateTable" in _actions(st)
    ]
    assert len(job) == 1
    assert {"glue:CreateTable", "glue:UpdateTable"} <= set(_actions(job[0]))
    assert any(r.endswith(f":table/{GLUE_DATABASE}/*") for r in _resources(job[0]))


def test_glue_conf_is_built_from_the_job_and_runtime_definitions(
    synthesized: Synthesized,
) -> None:
    from catalog.runtime.spark import ICEBERG_EXTENSIONS
    from glue.job import glue_spark_conf

    args = _only(synthesized.resources("AWS::Glue::Job"))["DefaultArguments"]
    pairs = dict(p.split("=", 1) for p in _joined(args["--conf"]).split(" --conf "))
    warehouse = _joined(args["--warehouse"])
    assert pairs == {
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        **glue_spark_conf(warehouse),
        "spark.sql.catalog.lakehouse.glue.skip-archive": "true",
    }


def test_ingest_retries_only_what_retrying_can_fix(synthesized: Synthesized) -> None:
    """The handler raises NonRetryableIngestError for permanent failures (Lambda's errorType
    is the class name): a MaxAttempts 0 retrier ahead of the States.TaskFailed wildcard."""
    from infra.cdk.orchestration.outcomes import PERMANENT_INGEST_ERRORS
    from ingest import handler
    from ingest.errors import BackdatedRefusedError, NoArtistsFoundError

    assert PERMANENT_INGEST_ERRORS == ("NonRetryableIngestError",)
    assert {NoArtistsFoundError, BackdatedRefusedError} <= set(handler.PERMANENT_ERRORS)
    retry = _states(_definition(synthesized, "pipeline"))["Ingest"]["Retry"]
    by_errors = {tuple(r["ErrorEquals"]): i for i, r in enumerate(retry)}
    task_failed = by_errors[("States.TaskFailed",)]
    assert retry[task_failed]["MaxAttempts"] == 2
    permanent = by_errors[PERMANENT_INGEST_ERRORS]
    assert retry[permanent]["MaxAttempts"] == 0
    assert permanent < task_failed  # the first matching retrier applies
    # No other retrier may match the permanent error (States.ALL would).
    assert all("States.ALL" not in r["ErrorEquals"] for r in retry)

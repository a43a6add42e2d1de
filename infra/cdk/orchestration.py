"""The three Step Functions state machines, written in JSONata.

* **pipeline** (daily schedule; also re-runs and backfills): plan the days -> for each day, in
  order: ingest Lambda -> Choice on its status -> Glue job ``.sync`` -> record the load ->
  deploy the gold view if it is missing -> publish the result.
* **maintenance** (weekly): Glue job ``--action maintain`` ``.sync`` -> prune Glue table
  versions.
* **freshness** (daily at the deadline hour): fail (and so alarm) when today has no load record
  (a day stopped because the app gets no followers has one too: it was alerted already).

This module says what the states do; :mod:`infra.cdk.constructs.pipelines` makes state
machines of them (logs, timeouts, schedules, the grants the raw Athena state needs).

JSONata rather than JSONPath: the input may name a day, a range or nothing (the schedule's
time), and turning that into a list of days needs date arithmetic, which JSONata has
(``$toMillis``/``$fromMillis``) and JSONPath intrinsics do not; without it a Lambda would be
needed just to count days.

Pipeline input (every field optional except one of the day fields)::

    {"scheduled_time": "2026-11-24T06:00:00Z"}    the schedule's <aws.scheduler.scheduled-time>
    {"snapshot_date": "2026-11-24"}               one day
    {"start_date": "2026-10-01", "end_date": "2026-10-31"}    a range, day by day in order
    + "force": true          ingest again although the day is complete (supersedes the manifest)
    + "deploy_views": true   run the gold view DDL even though the view exists
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.stack_settings import (
    ATHENA_DATA_CATALOG,
    GLUE_DATABASE,
    GOLD_VIEW,
    LOAD_RECORDS_PREFIX,
)
from ingest.errors import NonRetryableIngestError
from ingest.status import IngestStatus

DAY_MS: Final = 86_400_000
#: A Glue run still going after this long is late: the daily load takes minutes.
GLUE_DELAY_NOTIFICATION: Final = Duration.minutes(30)

#: The UTC day of an execution's input: ``snapshot_date`` if given, else the date part of the
#: schedule's ``scheduled_time``.
INPUT_DAY: Final = (
    "$exists($states.input.snapshot_date) ? $states.input.snapshot_date"
    " : $substring($states.input.scheduled_time, 0, 10)"
)

#: Normalizes any pipeline input to ``{first_day, last_day, day_count, force, deploy_views}``.
PLAN: Final = f"""{{% (
  $in := $states.input;
  $first := $exists($in.start_date) ? $in.start_date : ({INPUT_DAY});
  $last := $exists($in.end_date) ? $in.end_date : $first;
  {{
    "first_day": $first,
    "last_day": $last,
    "day_count":
      ($toMillis($last & "T00:00:00Z") - $toMillis($first & "T00:00:00Z")) / {DAY_MS} + 1,
    "force": $in.force = true,
    "deploy_views": $in.deploy_views = true
  }}
) %}}"""

#: The days of the plan, oldest first (``$append`` keeps a one-day plan an array).
DAYS: Final = f"""{{% (
  $start := $toMillis($states.input.first_day & "T00:00:00Z");
  $append([], $map([0..($states.input.day_count - 1)], function($i) {{
    $fromMillis($start + $i * {DAY_MS}, "[Y0001]-[M01]-[D01]")
  }}))
) %}}"""

#: Ingest statuses after which the day's bronze is complete (manifest written) and loadable.
LOADABLE_STATUSES: Final = (IngestStatus.COMPLETE, IngestStatus.ALREADY_COMPLETE)


@dataclass(frozen=True)
class StopReason:
    """An ingest status that stops the day on purpose, with one alert and no retry.

    Retrying cannot help until a person acts (a Spotify app with followers, a filled
    secret): the day gets a load record with this status (so the evening's freshness check
    does not alert a second time), the execution ends as succeeded after exactly one alert
    (so no failure alarm fires either), and the alert says what to do.
    """

    status: IngestStatus
    error: str
    subject: str
    remedy: str


FOLLOWERS_UNAVAILABLE: Final = StopReason(
    status=IngestStatus.FOLLOWERS_UNAVAILABLE,
    error="FollowersUnavailable",
    subject="spotify-lakehouse: the Spotify app cannot read followers",
    remedy=(
        "Ingest stopped: the Spotify app behind the secret receives no followers. "
        "Since 2026-03-09 Development Mode apps get no followers and no popularity. "
        "Nothing was loaded into silver; the raw answers are kept in bronze. "
        "Remedy: use an Extended Quota Mode app (or another source), update the secret, "
        "re-run the day."
    ),
)
CREDENTIALS_MISSING: Final = StopReason(
    status=IngestStatus.CREDENTIALS_MISSING,
    error="CredentialsMissing",
    subject="spotify-lakehouse: the Spotify credentials secret is not filled yet",
    remedy=(
        "Ingest stopped before calling Spotify: the credentials secret holds no "
        "client_id/client_secret yet. Nothing was written. Fill it (docs/runbook.md, "
        "first deploy): aws secretsmanager put-secret-value --secret-id {secret} "
        "--secret-string file://spotify-credentials.json, then re-run the day."
    ),
)
STOP_REASONS: Final = (FOLLOWERS_UNAVAILABLE, CREDENTIALS_MISSING)

#: ``status`` of a day's load record (``reports/loads/snapshot_date=D.json``): ``loaded`` once
#: the Glue job has loaded the day, or the status of a :class:`StopReason` when the pipeline
#: stopped the day with its one alert. Each satisfies the freshness check: a stopped day is
#: not loaded, but a person has been told already, once.
LOADED: Final = "loaded"
RECORDED_STATUSES: Final = (LOADED, *(reason.status.value for reason in STOP_REASONS))

#: Lambda ``errorType`` names (the raised exception's class name, exactly: Step Functions
#: matches error names literally, never by base class) of the ingest failures that retrying
#: cannot fix. The handler wraps every permanent failure (no roster artist known to Spotify,
#: a past or future day refused by the real API, a malformed event) in
#: :class:`~ingest.errors.NonRetryableIngestError`. It gets a ``MaxAttempts: 0`` retrier
#: ahead of the ``States.TaskFailed`` one (a wildcard), so the execution fails (and alarms)
#: at once instead of calling Spotify twice more for an answer that cannot change.
PERMANENT_INGEST_ERRORS: Final[tuple[str, ...]] = (NonRetryableIngestError.__name__,)


def load_record_key(day_expression: str) -> str:
    """JSONata for the key of a day's load record (``reports/loads/snapshot_date=D.json``)."""
    return f"{{% '{LOAD_RECORDS_PREFIX}snapshot_date=' & {day_expression} & '.json' %}}"


@dataclass(frozen=True)
class PipelineParts:
    """What the states act on (created by the stack's constructs) and the two settings the
    definitions themselves depend on."""

    bucket: s3.IBucket
    ingest: lambda_.IFunction
    pruner: lambda_.IFunction
    #: The Glue job's name (``glue:StartJobRun`` takes it).
    job_name: str
    alerts: sns.ITopic
    runs: sns.ITopic
    #: The Athena workgroup the gold view's DDL runs in.
    workgroup: str
    gold_view_sql: str
    #: The catalog, database and gold view ARNs (what looking the view up may read).
    gold_view_arns: Sequence[str]
    #: The Spotify credentials secret's ARN (named in the "fill the secret" alert).
    secret_arn: str
    #: Longest range one pipeline execution accepts (StackSettings.max_backfill_days).
    max_backfill_days: int
    #: Archived Glue table versions the pruner keeps (StackSettings.table_versions_to_keep).
    table_versions_to_keep: int


def _glue_run(
    scope: Construct,
    state_id: str,
    parts: PipelineParts,
    arguments: dict[str, str],
    outputs: dict[str, str],
) -> tasks.GlueStartJobRun:
    """``glue:startJobRun.sync``: the state waits for the run and fails when the run fails."""
    run = tasks.GlueStartJobRun.jsonata(
        scope,
        state_id,
        glue_job_name=parts.job_name,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        # No task timeout: it would be passed on as the run's Timeout and override the job's;
        # the job's own timeout (glue_timeout_minutes) stops a stuck run.
        arguments=sfn.TaskInput.from_object(arguments),
        outputs=outputs,
        # Glue emits a "delayed" event to EventBridge for a run still going after this
        # long. Set on purpose: left unset, CDK 2.275's JSONata rendering writes
        # "NotificationProperty": null into the task's Arguments, a null Glue's API model
        # does not allow (tests/infra/test_first_deploy.py checks no argument is null).
        notify_delay_after=GLUE_DELAY_NOTIFICATION,
    )
    # The job allows one run at a time (MERGEs into one table must not race): a maintenance
    # run or a manual run holding the slot is waited out, not treated as a failure. A failed
    # run is not retried: the alarm tells a person, who re-runs the day once it is fixed.
    run.add_retry(
        errors=["Glue.ConcurrentRunsExceededException"],
        interval=Duration.minutes(2),
        max_attempts=10,
        backoff_rate=1.5,
    )
    return run


def _jsonata_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _put_load_record(
    scope: Construct, state_id: str, bucket: s3.IBucket, body: str
) -> tasks.CallAwsService:
    """``s3:putObject`` of the day's load record (the state's input has ``snapshot_date``);
    passes its input on."""
    return tasks.CallAwsService.jsonata(
        scope,
        state_id,
        service="s3",
        action="putObject",
        iam_action="s3:PutObject",
        iam_resources=[bucket.arn_for_objects(f"{LOAD_RECORDS_PREFIX}*")],
        parameters={
            "Bucket": bucket.bucket_name,
            "Key": load_record_key("$states.input.snapshot_date"),
            "Body": body,
            "ContentType": "application/json",
        },
        outputs="{% $states.input %}",
    )


def _one_day(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Ingest -> gate on the Lambda's status -> Glue ``.sync`` -> record the load.

    The gate is what keeps the Glue job off a missing or half-written day: only the two
    statuses that mean "the manifest is written" lead to the job. A Lambda failure raises
    (retried here, then the execution fails and alarms); "followers unavailable" is returned
    and ends the execution through one alert, without retries.
    """
    bucket = parts.bucket
    ingest = tasks.LambdaInvoke.jsonata(
        scope,
        "Ingest",
        lambda_function=parts.ingest,
        payload=sfn.TaskInput.from_object(
            {
                "snapshot_date": "{% $states.input.snapshot_date %}",
                "force": "{% $states.input.force %}",
            }
        ),
        assign={"ingest": "{% $states.result.Payload %}"},
        outputs="{% $states.result.Payload %}",
        retry_on_service_exceptions=True,
    )
    # Retriers apply in order, the first match wins: permanent failures are never retried.
    ingest.add_retry(errors=list(PERMANENT_INGEST_ERRORS), max_attempts=0)
    # The handler raises on every failure but "followers unavailable" (which it returns):
    # retry twice, late enough for a Spotify 429 penalty or a short outage to pass.
    ingest.add_retry(
        errors=["States.TaskFailed"], interval=Duration.minutes(5), max_attempts=2, backoff_rate=2
    )
    transform = _glue_run(
        scope,
        "Transform",
        parts,
        {"--snapshot_date": "{% $ingest.snapshot_date %}", "--action": "transform"},
        {
            "snapshot_date": "{% $ingest.snapshot_date %}",
            "status": LOADED,
            "ingest_status": "{% $ingest.status %}",
            "run_id": "{% $ingest.run_id %}",
            "records": "{% $ingest.records %}",
            "missing_ids": "{% $ingest.missing_ids %}",
            "glue_job_run_id": "{% $states.result.Id %}",
            "glue_execution_seconds": "{% $states.result.ExecutionTime %}",
        },
    )
    record_load = _put_load_record(scope, "RecordLoad", bucket, "{% $string($states.input) %}")
    gate = sfn.Choice.jsonata(scope, "DayComplete?").when(
        sfn.Condition.jsonata(
            f"{{% $states.input.status in {_jsonata_list(LOADABLE_STATUSES)} %}}"
        ),
        transform.next(record_load),
    )
    for reason in STOP_REASONS:
        # The day is stopped, not loaded; its record (the ingest answer with the status)
        # tells the evening's freshness check that the one alert went out.
        record = _put_load_record(
            scope,
            f"Record{reason.error}",
            bucket,
            "{% $string($merge([$states.input, {'status': '" + reason.status + "'}])) %}",
        )
        gate.when(
            sfn.Condition.jsonata(f"{{% $states.input.status = '{reason.status}' %}}"),
            record.next(
                sfn.Fail(
                    scope,
                    reason.error,
                    error=reason.error,
                    cause=f"Ingest answered {reason.status}: stopped with one alert.",
                )
            ),
        )
    gate.otherwise(
        sfn.Fail(
            scope,
            "UnexpectedIngestStatus",
            error="UnexpectedIngestStatus",
            cause="The ingest Lambda returned a status this state machine does not know.",
        )
    )
    return ingest.next(gate)


def pipeline_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """The daily load; also how a person re-runs a day or backfills a range. The states are
    created in ``scope``, a construct of their own (state ids apart from resources')."""
    stack = Stack.of(scope)
    plan = sfn.Pass.jsonata(scope, "Plan", outputs=PLAN)
    days = sfn.Map.jsonata(
        scope,
        "Days",
        items=sfn.ProvideItems.jsonata(DAYS),
        item_selector={
            "snapshot_date": "{% $states.context.Map.Item.Value %}",
            "force": "{% $states.input.force %}",
        },
        # One day at a time, oldest first: every load is a MERGE into the same table, and
        # the gold view's "previous snapshot" is only right once earlier days are in.
        max_concurrency=1,
        assign={"plan": "{% $states.input %}", "loaded": "{% $states.result %}"},
        outputs="{% $states.result %}",
    )
    days.item_processor(_one_day(scope, parts))

    for reason in STOP_REASONS:
        alert = tasks.SnsPublish.jsonata(
            scope,
            f"Alert{reason.error}",
            topic=parts.alerts,
            subject=reason.subject,
            message=sfn.TaskInput.from_text(
                "{% '"
                + reason.remedy.format(secret=parts.secret_arn)
                + " Execution: ' & $states.context.Execution.Id %}"
            ),
        )
        stopped = sfn.Succeed(
            scope,
            f"Stopped{reason.error}",
            comment="Stopped on purpose after one alert: retrying cannot help.",
        )
        days.add_catch(alert.next(stopped), errors=[reason.error])

    find_view = tasks.CallAwsService.jsonata(
        scope,
        "FindGoldView",
        service="glue",
        action="getTable",
        iam_action="glue:GetTable",
        iam_resources=list(parts.gold_view_arns),
        parameters={"DatabaseName": GLUE_DATABASE, "Name": GOLD_VIEW},
        outputs="{% $states.input %}",
    )
    # athena:startQueryExecution.sync as a raw state: the CDK task class grants s3 and
    # lakeformation on "*" and glue Delete* on the database; the state machine's role gets
    # exactly what the view's DDL needs instead (QueryWorkGroup.grant_view_deploy).
    deploy_view = sfn.CustomState(
        scope,
        "DeployGoldView",
        state_json={
            "Type": "Task",
            "Comment": "CREATE OR REPLACE VIEW from views/sql (read at synth time)",
            "Resource": f"arn:{stack.partition}:states:::athena:startQueryExecution.sync",
            "Arguments": {
                "QueryString": parts.gold_view_sql,
                "WorkGroup": parts.workgroup,
                "QueryExecutionContext": {
                    "Catalog": ATHENA_DATA_CATALOG,
                    "Database": GLUE_DATABASE,
                },
            },
            "Output": "{% $states.input %}",
        },
    )
    publish = tasks.SnsPublish.jsonata(
        scope,
        "PublishResult",
        topic=parts.runs,
        subject="{% 'spotify-lakehouse: loaded ' & $plan.first_day"
        " & ($plan.day_count > 1 ? ' to ' & $plan.last_day : '') %}",
        message=sfn.TaskInput.from_text(
            "{% $string({'first_day': $plan.first_day, 'last_day': $plan.last_day,"
            " 'days': $loaded, 'execution': $states.context.Execution.Id}) %}"
        ),
    )
    find_view.add_catch(deploy_view, errors=["Glue.EntityNotFoundException"])
    deploy_view.next(publish)
    views = (
        sfn.Choice.jsonata(scope, "DeployViews?")
        .when(sfn.Condition.jsonata("{% $plan.deploy_views %}"), deploy_view)
        .otherwise(find_view.next(publish))
    )

    check_range = (
        sfn.Choice.jsonata(scope, "ValidRange?")
        .when(
            sfn.Condition.jsonata(
                "{% $states.input.day_count >= 1 and $states.input.day_count <= "
                f"{parts.max_backfill_days} %}}"
            ),
            days.next(views),
        )
        .otherwise(
            sfn.Fail(
                scope,
                "InvalidRange",
                error="InvalidRange",
                cause=(
                    "end_date is before start_date, or the range is longer than "
                    f"{parts.max_backfill_days} days (split it into several executions)."
                ),
            )
        )
    )
    return plan.next(check_range)


def maintenance_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Weekly: the job's maintain action (expire snapshots but keep the daily tags, compact,
    remove orphans), then prune archived Glue table versions."""
    maintain = _glue_run(
        scope,
        "Maintain",
        parts,
        {"--snapshot_date": f"{{% {INPUT_DAY} %}}", "--action": "maintain"},
        {
            "glue_job_run_id": "{% $states.result.Id %}",
            "glue_execution_seconds": "{% $states.result.ExecutionTime %}",
        },
    )
    prune = tasks.LambdaInvoke.jsonata(
        scope,
        "PruneTableVersions",
        lambda_function=parts.pruner,
        payload=sfn.TaskInput.from_object(
            {"database": GLUE_DATABASE, "keep": parts.table_versions_to_keep}
        ),
        outputs="{% $states.result.Payload %}",
        retry_on_service_exceptions=True,
    )
    return maintain.next(prune)


def freshness_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Daily at the deadline hour: succeed if today has a load record, fail otherwise.

    Its failures are the freshness alarm. A ``loaded`` record is written only after the Glue
    job has loaded the day (and so created the day's load tag), so "no record by the
    deadline" is exactly "no new load tag by the deadline", whatever the cause: the schedule
    did not fire, the Lambda or Glue failed, or the run is still going. The one exception is
    a ``followers_unavailable`` record: the pipeline stopped that day on purpose and has sent
    its one alert, so the check accepts it rather than alert a second time. A record without
    ``status`` (written before the field existed) was a load.
    """
    bucket = parts.bucket
    check = tasks.CallAwsService.jsonata(
        scope,
        "FindTodaysLoad",
        service="s3",
        action="getObject",
        iam_action="s3:GetObject",
        iam_resources=[bucket.arn_for_objects(f"{LOAD_RECORDS_PREFIX}*")],
        # Without ListBucket S3 answers 403 instead of 404 for a missing key.
        additional_iam_statements=[
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{LOAD_RECORDS_PREFIX}*"]}},
            )
        ],
        parameters={"Bucket": bucket.bucket_name, "Key": load_record_key(f"({INPUT_DAY})")},
        outputs={
            "snapshot_date": f"{{% {INPUT_DAY} %}}",
            "status": (
                "{% ($record := $parse($states.result.Body);"
                f" $exists($record.status) ? $record.status : '{LOADED}') %}}"
            ),
        },
    )
    not_loaded = sfn.Fail(
        scope,
        "DayNotLoaded",
        error="DayNotLoaded",
        cause="No load record for today by the freshness deadline: see docs/runbook.md.",
    )
    check.add_catch(not_loaded, errors=["S3.NoSuchKeyException"])
    accounted = (
        sfn.Choice.jsonata(scope, "LoadedOrAlerted?")
        .when(
            sfn.Condition.jsonata(
                f"{{% $states.input.status in {_jsonata_list(RECORDED_STATUSES)} %}}"
            ),
            sfn.Succeed(scope, "DayAccountedFor", comment="Loaded, or stopped with its alert."),
        )
        .otherwise(not_loaded)
    )
    return check.next(accounted)


__all__ = [
    "PipelineParts",
    "freshness_definition",
    "maintenance_definition",
    "pipeline_definition",
]

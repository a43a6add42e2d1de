"""The three Step Functions state machines, written in JSONata.

* **pipeline** (daily schedule; also re-runs and backfills): plan the days and cut them into
  chunks of ``backfill_chunk_days`` -> for each chunk, in order: for each of its days, in
  order, the ingest Lambda and a Choice on its status -> one Glue job run ``.sync`` for the
  whole chunk (``--start_date``/``--end_date``; ``--snapshot_date`` for a chunk of one day)
  -> a load record per day -> then deploy the gold view if it is missing -> publish the
  result. The daily run is a chunk of one day.
* **maintenance** (weekly): Glue job ``--action maintain`` ``.sync`` -> prune Glue table
  versions.
* **freshness** (daily at the deadline hour): fail (and so alert) when today has no load record
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
    {"start_date": "2026-10-01", "end_date": "2026-10-31"}    a range, in order, in chunks
    + "force": true          ingest again although the day is complete (supersedes the manifest)
    + "deploy_views": true   run the gold view DDL even though the view exists
    + "flex": true           run Glue in the Flex class although the run was started by hand

A scheduled execution (its input has ``scheduled_time``) runs Glue in the class of the
scheduled runs (``StackSettings.glue_execution_class``: Flex by default, nobody waits for
it); one started by hand runs Standard (a person is waiting) unless it says ``"flex": true``.

The job allows one run at a time. A start that finds the slot taken waits and retries
(``Glue.ConcurrentRunsExceededException``: 1 minute, doubling, at most 5 minutes apart) for
as long as a whole backfill may hold the slot (``StackSettings.glue_slot_wait_s``), so the
daily run queues behind a backfill, or slips in between two of its chunks, instead of
failing.
"""

from __future__ import annotations

import json
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
    GLUE_BUSY_BACKOFF,
    GLUE_BUSY_FIRST_WAIT_S,
    GLUE_BUSY_MAX_WAIT_S,
    GLUE_DATABASE,
    GOLD_VIEW,
    LOAD_RECORDS_PREFIX,
)
from ingest.errors import NonRetryableIngestError
from ingest.status import IngestStatus

DAY_MS: Final = 86_400_000
#: A Glue run still going after this long is late: a chunk of a month takes minutes.
GLUE_DELAY_NOTIFICATION: Final = Duration.minutes(30)
#: Load records of a chunk written at once (independent S3 puts).
RECORD_CONCURRENCY: Final = 10

#: The UTC day of an execution's input: ``snapshot_date`` if given, else the date part of the
#: schedule's ``scheduled_time``.
INPUT_DAY: Final = (
    "$exists($states.input.snapshot_date) ? $states.input.snapshot_date"
    " : $substring($states.input.scheduled_time, 0, 10)"
)


def execution_class_of(scheduled_class: str, input_expression: str = "$states.input") -> str:
    """JSONata for the Glue execution class of a run: ``scheduled_class`` when the execution
    was started by a schedule (its input has ``scheduled_time``), else Standard unless the
    input says ``"flex": true``."""
    return (
        f"($exists({input_expression}.scheduled_time) ? '{scheduled_class}'"
        f" : ({input_expression}.flex = true ? 'FLEX' : 'STANDARD'))"
    )


def plan(scheduled_class: str) -> str:
    """Normalizes any pipeline input to ``{first_day, last_day, day_count, force,
    deploy_views, execution_class}``."""
    return f"""{{% (
  $in := $states.input;
  $first := $exists($in.start_date) ? $in.start_date : ({INPUT_DAY});
  $last := $exists($in.end_date) ? $in.end_date : $first;
  {{
    "first_day": $first,
    "last_day": $last,
    "day_count":
      ($toMillis($last & "T00:00:00Z") - $toMillis($first & "T00:00:00Z")) / {DAY_MS} + 1,
    "force": $in.force = true,
    "deploy_views": $in.deploy_views = true,
    "execution_class": {execution_class_of(scheduled_class, "$in")}
  }}
) %}}"""


def chunks(chunk_days: int) -> str:
    """The plan's days, oldest first, cut into chunks of at most ``chunk_days`` consecutive
    days: ``[{start_date, end_date, days: [...]}]`` (``$append`` keeps one-element lists
    lists: JSONata unwraps a sequence of one)."""
    return f"""{{% (
  $start := $toMillis($states.input.first_day & "T00:00:00Z");
  $count := $states.input.day_count;
  $day := function($i) {{ $fromMillis($start + $i * {DAY_MS}, "[Y0001]-[M01]-[D01]") }};
  $append([], $map([0..($ceil($count / {chunk_days}) - 1)], function($c) {{ (
    $first := $c * {chunk_days};
    $last := $min([$count - 1, $first + {chunk_days} - 1]);
    {{
      "start_date": $day($first),
      "end_date": $day($last),
      "days": $append([], $map([$first..$last], $day))
    }}
  ) }}))
) %}}"""


#: The job's arguments for a chunk: ``--snapshot_date D`` for a chunk of one day (the daily
#: run: the day passed explicitly, as ARCHITECTURE.md fixes it; the job validates it again
#: if it was loaded already), ``--start_date``/``--end_date`` for more (the job skips the
#: days already loaded from their bronze run: a re-run backfill resumes).
CHUNK_ARGUMENTS: Final = """{% $states.input.start_date = $states.input.end_date
  ? {"--snapshot_date": $states.input.start_date, "--action": 'transform'}
  : {
      "--start_date": $states.input.start_date,
      "--end_date": $states.input.end_date,
      "--action": 'transform'
    } %}"""

#: A chunk's load records: one per ingested day, once the chunk's Glue run succeeded.
CHUNK_LOADED: Final = """{% $append([], $map($states.input.ingested, function($d) { {
  "snapshot_date": $d.snapshot_date,
  "status": 'loaded',
  "ingest_status": $d.status,
  "run_id": $d.run_id,
  "records": $d.records,
  "missing_ids": $d.missing_ids,
  "glue_job_run_id": $states.result.Id,
  "glue_execution_seconds": $states.result.ExecutionTime
} })) %}"""

#: The chunks' load records, flattened to one list of days, oldest first.
ALL_LOADED: Final = (
    "{% $append([], $reduce($states.result, function($all, $chunk) "
    "{ $append($all, $chunk) }, [])) %}"
)

#: Ingest statuses after which the day's bronze is complete (manifest written) and loadable.
LOADABLE_STATUSES: Final = (IngestStatus.COMPLETE, IngestStatus.ALREADY_COMPLETE)


@dataclass(frozen=True)
class StopReason:
    """An ingest status that stops the day on purpose, with one alert and no retry.

    Retrying cannot help until a person acts (a Spotify app with followers, credentials
    filled in): the day gets a load record with this status (so the evening's freshness check
    does not alert a second time), the execution ends as succeeded after exactly one alert
    (so no failure alert fires either), and the alert says what to do.
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
    subject="spotify-lakehouse: the Spotify credentials are not filled in yet",
    remedy=(
        "Ingest stopped before calling Spotify: {location} holds no "
        "client_id/client_secret yet. Nothing was written. Fill it with the Spotify app's "
        "values (docs/runbook.md, 'Fill the credentials'): {fill_command} then re-run the day."
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
#: ahead of the ``States.TaskFailed`` one (a wildcard), so the execution fails (and alerts)
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
    #: Where the Spotify credentials live (the SSM parameter's name or the secret's ARN)
    #: and the command that fills them: both named in the "credentials missing" alert.
    credentials_location: str
    credentials_fill_command: str
    #: Longest range one pipeline execution accepts (StackSettings.max_backfill_days).
    max_backfill_days: int
    #: Days one Glue run loads (StackSettings.backfill_chunk_days).
    backfill_chunk_days: int
    #: Glue class of the scheduled runs (StackSettings.glue_execution_class).
    scheduled_execution_class: str
    #: Retries of a Glue start that found the job's slot taken (StackSettings.glue_busy_retries).
    glue_busy_retries: int
    #: Archived Glue table versions the pruner keeps (StackSettings.table_versions_to_keep).
    table_versions_to_keep: int


def _glue_run(
    scope: Construct,
    state_id: str,
    parts: PipelineParts,
    arguments: dict[str, str] | str,
    execution_class: str,
    output: object,
) -> sfn.CustomState:
    """``glue:startJobRun.sync``: the state waits for the run and fails when the run fails.

    A raw state rather than CDK's ``GlueStartJobRun``, whose ``ExecutionClass`` is a
    constant: here it is JSONata (Flex for a scheduled run, Standard for one a person
    started). The role gets exactly what the task needs from
    :meth:`~infra.cdk.constructs.load_job.LoadJob.grant_run_sync`. No ``Timeout``: it
    would override the job's own (glue_timeout_minutes), which stops a stuck run.
    """
    stack = Stack.of(scope)
    run = sfn.CustomState(
        scope,
        state_id,
        state_json={
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": f"arn:{stack.partition}:states:::glue:startJobRun.sync",
            "Arguments": {
                "JobName": parts.job_name,
                "Arguments": arguments,
                "ExecutionClass": f"{{% {execution_class} %}}",
                # Glue emits a "delayed" event to EventBridge for a run still going after
                # this long (minutes).
                "NotificationProperty": {
                    "NotifyDelayAfter": int(GLUE_DELAY_NOTIFICATION.to_minutes())
                },
            },
            "Output": output,
        },
    )
    # The job allows one run at a time (MERGEs into one table must not race): a backfill's
    # chunk, the weekly maintenance or a manual run holding the slot is waited out, not
    # treated as a failure, for as long as a whole backfill may hold it. A failed run is not
    # retried: the alert tells a person, who re-runs it once it is fixed (loaded days are
    # skipped).
    run.add_retry(
        errors=["Glue.ConcurrentRunsExceededException"],
        interval=Duration.seconds(GLUE_BUSY_FIRST_WAIT_S),
        backoff_rate=GLUE_BUSY_BACKOFF,
        max_delay=Duration.seconds(GLUE_BUSY_MAX_WAIT_S),
        max_attempts=parts.glue_busy_retries,
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


def _ingest_day(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Ingest -> gate on the Lambda's status: the day's bronze is complete (its answer is
    the iteration's output), or the day stops with its record and one error.

    The gate is what keeps the Glue job off a missing or half-written day: only the two
    statuses that mean "the manifest is written" let the chunk go on to the job. A Lambda
    failure raises (retried here, then the execution fails and alerts); "followers
    unavailable" and "credentials missing" are returned and end the execution through one
    alert, without retries.
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
        outputs="{% $states.result.Payload %}",
        retry_on_service_exceptions=True,
    )
    # Retriers apply in order, the first match wins: permanent failures are never retried.
    ingest.add_retry(errors=list(PERMANENT_INGEST_ERRORS), max_attempts=0)
    # The handler raises on every failure but the stop statuses (which it returns): retry
    # twice, late enough for a Spotify 429 penalty or a short outage to pass.
    ingest.add_retry(
        errors=["States.TaskFailed"], interval=Duration.minutes(5), max_attempts=2, backoff_rate=2
    )
    gate = sfn.Choice.jsonata(scope, "DayComplete?").when(
        sfn.Condition.jsonata(
            f"{{% $states.input.status in {_jsonata_list(LOADABLE_STATUSES)} %}}"
        ),
        sfn.Succeed(scope, "DayIngested", comment="Bronze complete: the chunk's run loads it."),
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


def _chunk(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """One chunk: ingest its days in order -> one Glue run loads them all -> a load record
    per day. Its input is the chunk (``start_date``, ``end_date``, ``days``, ``force``,
    ``execution_class``); its output, the chunk's load records.

    A day that stops or fails in the ingest stops the chunk before its Glue run (nothing of
    the chunk is loaded; earlier chunks are). A failed run fails the execution: the days of
    the chunk loaded before the failing day stay loaded and a re-run skips them.
    """
    days = sfn.Map.jsonata(
        scope,
        "IngestDays",
        items=sfn.ProvideItems.jsonata("{% $states.input.days %}"),
        item_selector={
            "snapshot_date": "{% $states.context.Map.Item.Value %}",
            "force": "{% $states.input.force %}",
        },
        # One day at a time: Spotify's rate limit is per app, and the days' answers are
        # independent of each other's timing only when they do not compete.
        max_concurrency=1,
        outputs="{% $merge([$states.input, {'ingested': $states.result}]) %}",
    )
    days.item_processor(_ingest_day(scope, parts))
    transform = _glue_run(
        scope,
        "Transform",
        parts,
        CHUNK_ARGUMENTS,
        "$states.input.execution_class",
        CHUNK_LOADED,
    )
    records = sfn.Map.jsonata(
        scope,
        "RecordLoads",
        items=sfn.ProvideItems.jsonata("{% $states.input %}"),
        max_concurrency=RECORD_CONCURRENCY,
        outputs="{% $append([], $states.result) %}",
    )
    records.item_processor(
        _put_load_record(scope, "RecordLoad", parts.bucket, "{% $string($states.input) %}")
    )
    return days.next(transform).next(records)


def pipeline_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """The daily load; also how a person re-runs a day or backfills a range. The states are
    created in ``scope``, a construct of their own (state ids apart from resources')."""
    stack = Stack.of(scope)
    start = sfn.Pass.jsonata(scope, "Plan", outputs=plan(parts.scheduled_execution_class))
    days = sfn.Map.jsonata(
        scope,
        "Chunks",
        items=sfn.ProvideItems.jsonata(chunks(parts.backfill_chunk_days)),
        item_selector={
            "start_date": "{% $states.context.Map.Item.Value.start_date %}",
            "end_date": "{% $states.context.Map.Item.Value.end_date %}",
            "days": "{% $states.context.Map.Item.Value.days %}",
            "force": "{% $states.input.force %}",
            "execution_class": "{% $states.input.execution_class %}",
        },
        # One chunk at a time, oldest first: every load is a MERGE into the same table, a
        # day's quality checks compare it with the days before it, and the job has one slot.
        max_concurrency=1,
        assign={"plan": "{% $states.input %}", "loaded": ALL_LOADED},
        outputs=ALL_LOADED,
    )
    days.item_processor(_chunk(scope, parts))

    for reason in STOP_REASONS:
        alert = tasks.SnsPublish.jsonata(
            scope,
            f"Alert{reason.error}",
            topic=parts.alerts,
            subject=reason.subject,
            message=sfn.TaskInput.from_text(
                "{% "
                + json.dumps(
                    reason.remedy.format(
                        location=parts.credentials_location,
                        fill_command=parts.credentials_fill_command,
                    )
                )
                + " & ' Execution: ' & $states.context.Execution.Id %}"
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
                    f"{parts.max_backfill_days} days (split it into several executions, "
                    "started one after the other)."
                ),
            )
        )
    )
    return start.next(check_range)


def maintenance_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Weekly: the job's maintain action (expire snapshots but keep the daily tags, compact,
    remove orphans), then prune archived Glue table versions."""
    maintain = _glue_run(
        scope,
        "Maintain",
        parts,
        {"--snapshot_date": f"{{% {INPUT_DAY} %}}", "--action": "maintain"},
        execution_class_of(parts.scheduled_execution_class),
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

    Its failures are the freshness alert (an EventBridge rule, :mod:`.constructs.alerts`). A
    ``loaded`` record is written only after the Glue job has loaded the day (and so created
    the day's load tag), so "no record by the deadline" is exactly "no new load tag by the
    deadline", whatever the cause: the schedule did not fire, the Lambda or Glue failed, or
    the run is still going (a Flex start, a backfill holding the slot). The one exception is
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

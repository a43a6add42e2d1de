"""What the state machines act on, and the task states more than one of them uses.

:class:`PipelineParts` is what the stack's constructs hand the definitions; :func:`glue_run`
(the Glue job's run, waited for) serves the pipeline and the maintenance,
:func:`put_load_record` (a day's load record) the pipeline's loaded and stopped days.

The job allows one run at a time. A start that finds the slot taken waits and retries
(``Glue.ConcurrentRunsExceededException``: 1 minute, doubling, at most 5 minutes apart) for
as long as a whole backfill may hold the slot (``StackSettings.glue_slot_wait_s``), so the
daily run queues behind a backfill, or slips in between two of its chunks, instead of
failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.cdk.orchestration.outcomes import load_record_key
from infra.stack_settings import (
    GLUE_BUSY_BACKOFF,
    GLUE_BUSY_FIRST_WAIT_S,
    GLUE_BUSY_MAX_WAIT_S,
    LOAD_RECORDS_PREFIX,
)

#: A Glue run still going after this long is late: a chunk of a month takes minutes.
GLUE_DELAY_NOTIFICATION: Final = Duration.minutes(30)


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


def glue_run(
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


def put_load_record(
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

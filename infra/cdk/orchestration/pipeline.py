"""The pipeline: the daily load; also how a person re-runs a day or backfills a range.

Plan the days and cut them into chunks of ``backfill_chunk_days`` -> for each chunk, in
order: for each of its days, in order, the ingest Lambda and a Choice on its status -> one
Glue job run ``.sync`` for the whole chunk -> a load record per day -> then deploy the gold
view if it is missing -> publish the result. The daily run is a chunk of one day.

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
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.cdk.orchestration.expressions import (
    ALL_LOADED,
    CHUNK_ARGUMENTS,
    CHUNK_LOADED,
    chunks,
    jsonata_list,
    plan,
)
from infra.cdk.orchestration.outcomes import (
    LOADABLE_STATUSES,
    PERMANENT_INGEST_ERRORS,
    STOP_REASONS,
)
from infra.cdk.orchestration.parts import PipelineParts, glue_run, put_load_record
from infra.stack_settings import ATHENA_DATA_CATALOG, GLUE_DATABASE, GOLD_VIEW

#: Load records of a chunk written at once (independent S3 puts).
RECORD_CONCURRENCY: Final = 10


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
        sfn.Condition.jsonata(f"{{% $states.input.status in {jsonata_list(LOADABLE_STATUSES)} %}}"),
        sfn.Succeed(scope, "DayIngested", comment="Bronze complete: the chunk's run loads it."),
    )
    for reason in STOP_REASONS:
        # The day is stopped, not loaded; its record (the ingest answer with the status)
        # tells the evening's freshness check that the one alert went out.
        record = put_load_record(
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
    transform = glue_run(
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
        put_load_record(scope, "RecordLoad", parts.bucket, "{% $string($states.input) %}")
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

"""The freshness check (daily at the deadline hour): fail (and so alert) when today has no
load record (a day stopped because the app gets no followers has one too: it was alerted
already)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.cdk.orchestration.expressions import INPUT_DAY, jsonata_list
from infra.cdk.orchestration.outcomes import LOADED, RECORDED_STATUSES, load_record_key
from infra.cdk.orchestration.parts import PipelineParts
from infra.stack_settings import LOAD_RECORDS_PREFIX


def freshness_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Daily at the deadline hour: succeed if today has a load record, fail otherwise.

    Its failures are the freshness alert (an EventBridge rule,
    :mod:`infra.cdk.constructs.alerts`). A ``loaded`` record is written only after the Glue
    job has loaded the day (and so created the day's load tag), so "no record by the
    deadline" is exactly "no new load tag by the deadline", whatever the cause: the schedule
    did not fire, the Lambda or Glue failed, or the run is still going (a Flex start, a
    backfill holding the slot). The one exception is a ``followers_unavailable`` record: the
    pipeline stopped that day on purpose and has sent its one alert, so the check accepts it
    rather than alert a second time. A record without ``status`` (written before the field
    existed) was a load.
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
                f"{{% $states.input.status in {jsonata_list(RECORDED_STATUSES)} %}}"
            ),
            sfn.Succeed(scope, "DayAccountedFor", comment="Loaded, or stopped with its alert."),
        )
        .otherwise(not_loaded)
    )
    return check.next(accounted)

"""The weekly maintenance: Glue job ``--action maintain`` ``.sync`` -> prune Glue table
versions."""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.cdk.orchestration.expressions import INPUT_DAY, execution_class_of
from infra.cdk.orchestration.parts import PipelineParts, glue_run
from infra.stack_settings import GLUE_DATABASE


def maintenance_definition(scope: Construct, parts: PipelineParts) -> sfn.IChainable:
    """Weekly: the job's maintain action (expire snapshots but keep the daily tags, compact,
    remove orphans), then prune archived Glue table versions."""
    maintain = glue_run(
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

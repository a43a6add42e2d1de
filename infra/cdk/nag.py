"""The cdk-nag (AwsSolutions) findings this stack accepts, each on its construct, with why.

cdk-nag 3 reports through CDK's validation plugins; a finding is acknowledged with
``Validations.of(construct).acknowledge``, one finding id at a time (wildcard resources are
listed one by one, so a new wildcard in a policy fails ``make synth`` until it is reviewed
here). Anything not listed fails the synth.

Findings name resources by their logical IDs, read from the constructs (never written out), so
they follow :func:`infra.cdk.logical_ids.keep_flat_logical_ids`: this runs after the stack is
built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from infra.stack_settings import (
    ATHENA_RESULTS_PREFIX,
    BRONZE_PREFIX,
    GLUE_DATABASE,
    LOAD_RECORDS_PREFIX,
    REPORTS_PREFIX,
    WAREHOUSE_PREFIX,
)

if TYPE_CHECKING:
    from infra.cdk.stack import LakehouseStack

PACK: Final = "AwsSolutions::AwsSolutions"

PREFIX_SCOPE: Final = (
    "Object-level actions scoped to one prefix of the data bucket; the keys below it are "
    "dated folders and Iceberg file names that cannot be listed in advance."
)
TABLES_SCOPE: Final = (
    f"Catalog actions scoped to the tables of the {GLUE_DATABASE} database: the Glue job "
    "creates its tables (silver, quarantine, DQ results) from catalog/iceberg/tables.py at run "
    "time."
)
LOG_DELIVERY: Final = (
    "CloudWatch Logs' log-delivery APIs (CreateLogDelivery & co.) have no resource-level "
    "permissions; this is the statement Step Functions logging requires."
)
FUNCTION_VERSIONS: Final = (
    "lambda:InvokeFunction on this one function and its versions/aliases (ARN suffix :*), "
    "as the Step Functions Lambda task grants it."
)
RUNTIME: Final = (
    "Python 3.12 on purpose: the code targets 3.11+ and the zip's dependencies are tested "
    "on it; moving to a newer runtime is a deliberate upgrade, not a lint fix."
)
BUCKET_DEPLOYMENT: Final = (
    "CDK's BucketDeployment function, which copies the Glue job's zip of wheels under the "
    "name Glue requires (*.gluewheels.zip): it runs only during deploys, reads CDK's own "
    "asset bucket and writes only the artifacts bucket (nothing of the data bucket)."
)
SSM_KEY: Final = (
    "kms:Decrypt of the Spotify credentials parameter only: the key (the account's aws/ssm "
    "key, or a customer managed key the operator chose) has a per-account id unknown at "
    "synth time, so the resource is key/*, held by kms:ViaService (SSM in this region) and "
    "kms:EncryptionContext:PARAMETER_ARN (this one parameter)."
)
NO_TRACING: Final = (
    "X-Ray adds cost and a wildcard IAM statement for little: the executions are short, "
    "logged at level ALL, and every task is an AWS service call visible in the history."
)


def _ack(construct: IConstruct, findings: dict[str, str]) -> None:
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=f"{PACK}-{rule}", reason=reason) for rule, reason in findings.items())
    )


def _object_prefix(bucket: s3.Bucket, prefix: str) -> str:
    return f"IAM5[Resource::<{_logical_id(bucket)}.Arn>/{prefix}*]"


def _function_versions(function: lambda_.Function) -> str:
    return f"IAM5[Resource::<{_logical_id(function)}.Arn>:*]"


def _logical_id(construct: s3.Bucket | lambda_.Function) -> str:
    """The logical ID in the template: resolved, so an overridden one is what is named
    (``Stack.get_logical_id`` would give the ID CDK allocates, ignoring the override)."""
    child = construct.node.default_child
    if not isinstance(child, s3.CfnBucket | lambda_.CfnFunction):
        raise TypeError(f"unexpected default child {child!r}")
    logical_id = Stack.of(child).resolve(cast(CfnElement, child).logical_id)
    if not isinstance(logical_id, str):
        raise TypeError(f"unresolved logical ID {logical_id!r}")
    return logical_id


def suppress_reviewed_findings(stack: LakehouseStack) -> None:
    bucket = stack.storage.data
    ingest = stack.ingest.function
    pruner = stack.catalog.pruner
    pipelines = stack.pipelines
    glue_tables = (
        f"IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:"
        f"table/{GLUE_DATABASE}/*]"
    )

    def prefix(p: str) -> str:
        return _object_prefix(bucket, p)

    if stack.ingest.secret is not None:
        _ack(
            stack.ingest.secret,
            {
                "SMG4": "Spotify client secrets are rotated in Spotify's developer dashboard, "
                "which has no API a rotation Lambda could call; the runbook shows how to "
                "update it.",
            },
        )
    _ack(ingest, {"L1": RUNTIME})
    _ack(pruner, {"L1": RUNTIME})
    _ack(
        stack.ingest.role,
        {
            prefix(BRONZE_PREFIX): PREFIX_SCOPE,
            "IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]": (
                SSM_KEY
            ),
        },
    )
    _ack(pruner.role or stack, {glue_tables: TABLES_SCOPE})
    _ack(
        stack.load.role,
        {
            prefix(BRONZE_PREFIX): PREFIX_SCOPE,
            prefix(WAREHOUSE_PREFIX): PREFIX_SCOPE,
            prefix(f"{REPORTS_PREFIX}quality/"): PREFIX_SCOPE,
            glue_tables: TABLES_SCOPE,
        },
    )
    artifacts = _logical_id(stack.storage.artifacts)
    _ack(
        stack.load.python_deps.handler_role,
        {
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": BUCKET_DEPLOYMENT,
            "IAM5[Action::s3:GetObject*]": BUCKET_DEPLOYMENT,
            "IAM5[Action::s3:GetBucket*]": BUCKET_DEPLOYMENT,
            "IAM5[Action::s3:List*]": BUCKET_DEPLOYMENT,
            "IAM5[Action::s3:DeleteObject*]": BUCKET_DEPLOYMENT,
            "IAM5[Action::s3:Abort*]": BUCKET_DEPLOYMENT,
            "IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*]": BUCKET_DEPLOYMENT,
            f"IAM5[Resource::<{artifacts}.Arn>/*]": BUCKET_DEPLOYMENT,
        },
    )
    # CDK puts the BucketDeployment's function at the top of the stack (one per stack).
    for child in stack.node.children:
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            _ack(
                child,
                {
                    "L1": "The runtime of CDK's own BucketDeployment function is chosen "
                    "by aws-cdk-lib and moves with it."
                },
            )
    _ack(
        stack.load.job,
        {
            "GL1": "Job logs hold row counts and expectation names, no credentials or personal "
            "data; a KMS key ($1/month) would cost more than the rest of the daily pipeline.",
            "GL3": "The job uses no job bookmarks: the day to load is always explicit.",
        },
    )
    _ack(
        pipelines.pipeline.role,
        {
            prefix(WAREHOUSE_PREFIX): "Athena reads the silver table's Iceberg metadata to "
            "validate the gold view. " + PREFIX_SCOPE,
            prefix(ATHENA_RESULTS_PREFIX): PREFIX_SCOPE,
            prefix(LOAD_RECORDS_PREFIX): PREFIX_SCOPE,
            glue_tables: TABLES_SCOPE,
            "IAM5[Resource::*]": LOG_DELIVERY,
            _function_versions(ingest): FUNCTION_VERSIONS,
        },
    )
    _ack(
        pipelines.maintenance.role,
        {"IAM5[Resource::*]": LOG_DELIVERY, _function_versions(pruner): FUNCTION_VERSIONS},
    )
    _ack(
        pipelines.freshness.role,
        {"IAM5[Resource::*]": LOG_DELIVERY, prefix(LOAD_RECORDS_PREFIX): PREFIX_SCOPE},
    )
    for machine in (pipelines.pipeline, pipelines.maintenance, pipelines.freshness):
        _ack(machine, {"SF2": NO_TRACING})

"""The lakehouse stack: storage, the ingest Lambda, the Glue job, Athena, orchestration,
monitoring. Its settings come from :mod:`infra.stack_settings`, the module the cost model
prices, and its artifacts from ``make package`` (:class:`StackAssets`).

One data bucket with prefixes (``bronze/``, ``warehouse/``, ``reports/``, ``athena-results/``)
rather than one bucket per layer: the contract (docs/aws-contracts.md) fixes one bucket;
IAM scoped to a prefix is as tight as IAM scoped to a bucket; lifecycle rules filter by
prefix; and one bucket means one encryption setting, one SSL-only policy, one access-log
configuration to get right. The cost of the choice is that versioning (which bronze needs:
it keeps every earlier manifest) is bucket-wide, so the other prefixes get a lifecycle rule
that expires their old versions after a week.

No table schema lives here: the Glue job creates the Iceberg tables from
``catalog/iceberg/tables.py``
(through pyiceberg) on its first run; the stack creates only the Glue database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from aws_cdk import (
    CfnOutput,
    Duration,
    RemovalPolicy,
    Size,
    Stack,
    TimeZone,
)
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from catalog.runtime.spark import ICEBERG_EXTENSIONS
from glue.job import glue_spark_conf
from infra import glue_deps
from infra.cdk.orchestration import (
    PipelineParts,
    freshness_state_machine,
    glue_arns,
    maintenance_state_machine,
    pipeline_state_machine,
)
from infra.stack_settings import (
    ALARM_METRICS,
    ATHENA_DATA_CATALOG,
    ATHENA_RESULTS_PREFIX,
    BRONZE_PREFIX,
    GLUE_DATABASE,
    GOLD_VIEW,
    ICEBERG_CATALOG,
    LAMBDA_HANDLER,
    MANIFEST_FILE,
    REPORTS_PREFIX,
    WAREHOUSE_PREFIX,
    StackSettings,
)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
PRUNER_SOURCE: Final = Path(__file__).resolve().parent / "functions"

#: Glue 5.1: Spark 3.5.6, Python 3.11, Java 17, Iceberg 1.10: the versions the local
#: runtime runs (pyspark 3.5, the Iceberg 1.10 runtime). 5.0 ships Iceberg 1.7.1; 6.0 moves
#: to Spark 4 and Python 3.13, which nothing here is tested on. The job's own Python
#: dependencies come from the stack's wheels (:mod:`infra.glue_deps`), not from Glue's.
GLUE_VERSION: Final = glue_deps.GLUE_VERSION
#: Where the zip of wheels is deployed in the artifacts bucket: Glue recognizes a zip of
#: wheels by the key's ``.gluewheels.zip`` suffix, which a CDK file asset (``<hash>.zip``)
#: cannot have, so a BucketDeployment puts the file there under its own name.
GLUE_DEPS_PREFIX: Final = "glue/python-deps/"
#: The log streams Glue 5 writes under ``--custom-logGroup-prefix``.
GLUE_LOG_STREAMS: Final = ("output", "error")
#: Lambda runtime of the ingest function: 3.12 is the newest runtime whose Amazon Linux 2023
#: image the project's pure-Python dependencies are tested against; the code targets 3.11+.
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_12
ATHENA_ENGINE: Final = "Athena engine version 3"

#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_VALUES: Final = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)


@dataclass(frozen=True)
class StackAssets:
    """Files ``make package`` builds; tests point these at small stand-ins."""

    lambda_zip: Path
    glue_script: Path
    glue_py_files: Path
    #: The zip of wheels (``*.gluewheels.zip``), alone in its folder: the folder is deployed.
    glue_python_deps: Path
    gold_view_sql: Path = REPO_ROOT / "views" / "sql" / f"{GOLD_VIEW}.sql"

    def missing(self) -> list[Path]:
        paths = (
            self.lambda_zip,
            self.glue_script,
            self.glue_py_files,
            self.glue_python_deps,
            self.gold_view_sql,
        )
        return [p for p in paths if not p.is_file()]


def glue_spark_conf_pairs(warehouse: str) -> dict[str, str]:
    """The Glue job's Spark conf: ``spark.sql.extensions`` (fixed at session start, so it must
    come from ``--conf``), the job's own catalog conf (:func:`glue.job.glue_spark_conf`, which
    the job also sets itself where absent) and ``glue.skip-archive``. Built from the job's
    and the local runtime's definitions, never written out here, so they cannot drift."""
    return {
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        **glue_spark_conf(warehouse),
        # No archived Glue table version per Iceberg commit (Iceberg keeps its own history).
        f"spark.sql.catalog.{ICEBERG_CATALOG}.glue.skip-archive": "true",
    }


def glue_conf_argument(warehouse: str) -> str:
    """The ``--conf`` job argument: Glue takes one ``--conf``; further pairs ride in its
    value behind `` --conf ``."""
    return " --conf ".join(f"{k}={v}" for k, v in glue_spark_conf_pairs(warehouse).items())


def private_bucket(scope: Construct, construct_id: str, **props: Any) -> s3.Bucket:
    """A bucket of the stack: no public access, SSE-S3 (the only encryption S3's access-log
    delivery accepts, so one setting serves every bucket), TLS only, ACLs off."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        **props,
    )


def athena_data_catalog_arn(stack: Stack) -> str:
    """The ARN of Athena's ``AwsDataCatalog`` (the Glue Data Catalog as Athena names it)."""
    return stack.format_arn(
        service="athena", resource="datacatalog", resource_name=ATHENA_DATA_CATALOG
    )


def log_group(scope: Construct, construct_id: str, name: str | None = None) -> logs.LogGroup:
    """A log group with the stack's retention, deleted with the stack."""
    stack = Stack.of(scope)
    if not isinstance(stack, LakehouseStack):
        raise TypeError("log_group() is for constructs of LakehouseStack")
    days = stack.settings.log_retention_days
    if days not in LOG_RETENTION_VALUES:
        raise ValueError(f"log retention {days} is not one CloudWatch accepts")
    group = logs.LogGroup(
        scope, construct_id, log_group_name=name, removal_policy=RemovalPolicy.DESTROY
    )
    cast(logs.CfnLogGroup, group.node.default_child).retention_in_days = days
    return group


class LakehouseStack(Stack):
    """Everything the daily pipeline needs in one account and region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        assets: StackAssets,
        **kwargs: object,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="spotify-lakehouse: daily Spotify followers in an Iceberg lakehouse",
            **kwargs,  # type: ignore[arg-type]
        )
        missing = assets.missing()
        if missing:
            raise FileNotFoundError(
                f"missing build artifacts {[str(p) for p in missing]}: run `make package`"
            )
        self.settings = settings
        self.bucket = self._data_bucket()
        self.secret = self._secret()
        self.ingest_function = self._ingest_function(assets)
        self.glue_job = self._glue(assets)
        self.workgroup = self._athena()
        self.alerts, self.runs = self._topics()
        self.pruner = self._pruner()
        parts = PipelineParts(
            settings=settings,
            bucket=self.bucket,
            ingest=self.ingest_function,
            pruner=self.pruner,
            job=self.glue_job,
            alerts=self.alerts,
            runs=self.runs,
            workgroup=self.workgroup.name,
            gold_view_sql=assets.gold_view_sql.read_text(encoding="utf-8").strip(),
            secret_arn=self.secret.secret_arn,
        )
        self.pipeline = pipeline_state_machine(self, parts)
        self._grant_view_deploy(self.pipeline)
        self.maintenance = maintenance_state_machine(self, parts)
        self.freshness = freshness_state_machine(self, parts)
        self._schedules()
        self._alarms()
        self._outputs()

    # --- storage ------------------------------------------------------------------------------
    def _data_bucket(self) -> s3.Bucket:
        s = self.settings
        access_logs = private_bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        noncurrent = Duration.days(s.noncurrent_versions_expire_days)
        bucket = private_bucket(
            self,
            "Data",
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="data/",
            transition_default_minimum_object_size=(
                s3.TransitionDefaultMinimumObjectSize.ALL_STORAGE_CLASSES_128_K
            ),
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="bronze-infrequent-access",
                    prefix=BRONZE_PREFIX,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(s.bronze_infrequent_access_days),
                        )
                    ],
                    noncurrent_version_transitions=[
                        s3.NoncurrentVersionTransition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(s.bronze_infrequent_access_days),
                        )
                    ],
                ),
                s3.LifecycleRule(
                    id="expire-athena-results",
                    prefix=ATHENA_RESULTS_PREFIX,
                    expiration=Duration.days(s.athena_results_expire_days),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="expire-old-reports",
                    prefix=REPORTS_PREFIX,
                    expiration=Duration.days(s.reports_expire_days),
                    noncurrent_version_expiration=noncurrent,
                ),
                s3.LifecycleRule(
                    id="expire-replaced-warehouse-files",
                    prefix=WAREHOUSE_PREFIX,
                    noncurrent_version_expiration=noncurrent,
                    expired_object_delete_marker=True,
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            # Bronze is the only copy of what Spotify said on each day: never delete it with
            # the stack. (Deleting it at all first needs the deny statements below removed.)
            removal_policy=RemovalPolicy.RETAIN,
        )
        bronze_objects = bucket.arn_for_objects(f"{BRONZE_PREFIX}*")
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BronzeIsAppendOnly",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[bronze_objects],
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ManifestsNeedConditionalWrites",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{BRONZE_PREFIX}*/{MANIFEST_FILE}")],
                # Both keys absent = an unconditional put: it could overwrite a manifest that
                # another run completed. If-None-Match creates, If-Match replaces on purpose.
                conditions={"Null": {"s3:if-none-match": "true", "s3:if-match": "true"}},
            )
        )
        self.access_logs = access_logs
        return bucket

    def _secret(self) -> secretsmanager.Secret:
        # Created without a value on purpose: the credentials never pass through CloudFormation
        # or the repository. docs/runbook.md shows the one put-secret-value call that fills it.
        secret = secretsmanager.Secret(
            self,
            "SpotifyCredentials",
            description='Spotify app credentials, JSON {"client_id": ..., "client_secret": ...}',
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn = cast(secretsmanager.CfnSecret, secret.node.default_child)
        cfn.add_property_deletion_override("GenerateSecretString")
        return secret

    # --- ingest -------------------------------------------------------------------------------
    def _ingest_function(self, assets: StackAssets) -> lambda_.Function:
        s = self.settings
        role = iam.Role(
            self,
            "IngestRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Ingest Lambda: bronze prefix, the Spotify secret, its own logs",
        )
        group = log_group(self, "IngestLogs", f"/{s.stack_name}/lambda/ingest")
        group.grant_write(role)
        self.secret.grant_read(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{BRONZE_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{BRONZE_PREFIX}*"]}},
            )
        )
        environment = {
            "BRONZE_BUCKET": self.bucket.bucket_name,
            "BRONZE_PREFIX": BRONZE_PREFIX,
            "SPOTIFY_SECRET_ARN": self.secret.secret_arn,
            "ROSTER_TOP": str(s.roster_top),
        }
        if s.roster_key:
            environment["ROSTER_KEY"] = s.roster_key
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[self.bucket.arn_for_objects(s.roster_key)]
                )
            )
        return lambda_.Function(
            self,
            "Ingest",
            description="Spotify Web API -> raw JSON in bronze for one UTC day",
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=LAMBDA_HANDLER,
            code=lambda_.Code.from_asset(str(assets.lambda_zip)),
            memory_size=s.lambda_memory_mb,
            timeout=Duration.seconds(s.lambda_timeout_s),
            # No reserved concurrency: a reservation may not take the account's unreserved
            # concurrency below its minimum, and new accounts get a reduced quota (often
            # 10), so CloudFormation would refuse the function and roll the stack back. Two
            # runs of one day cannot both complete it (the manifest's conditional write lets
            # one win), and the state machine runs one day at a time.
            environment=environment,
            role=role,
            log_group=group,
        )

    def _pruner(self) -> lambda_.Function:
        role = iam.Role(
            self,
            "PrunerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Deletes archived Glue table versions of the spotify database",
        )
        group = log_group(self, "PrunerLogs", f"/{self.settings.stack_name}/lambda/table-versions")
        group.grant_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetTables", "glue:GetTableVersions", "glue:BatchDeleteTableVersion"],
                resources=glue_arns(self, "*"),
            )
        )
        return lambda_.Function(
            self,
            "TableVersionPruner",
            description="Keeps the newest Glue table versions of the spotify database",
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="table_versions.handler",
            code=lambda_.Code.from_asset(
                str(PRUNER_SOURCE), exclude=["__pycache__", "*.pyc", "__init__.py"]
            ),
            memory_size=128,
            timeout=Duration.minutes(5),
            environment={
                "GLUE_DATABASE": GLUE_DATABASE,
                "KEEP_VERSIONS": str(self.settings.table_versions_to_keep),
            },
            role=role,
            log_group=group,
        )

    # --- Glue ---------------------------------------------------------------------------------
    def _glue(self, assets: StackAssets) -> glue.CfnJob:
        s = self.settings
        glue.CfnDatabase(
            self,
            "Database",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=GLUE_DATABASE,
                description="spotify-lakehouse Iceberg tables (created by the Glue job)",
            ),
        )
        script = s3_assets.Asset(self, "GlueScript", path=str(assets.glue_script))
        py_files = s3_assets.Asset(self, "GluePyFiles", path=str(assets.glue_py_files))
        deps_url, deps_arn = self._glue_python_deps(assets)
        # Glue 5 writes the driver's and executors' logs to <prefix>/output and
        # <prefix>/error; without --custom-logGroup-prefix it creates /aws-glue/jobs/output
        # and /aws-glue/jobs/error itself, outside the stack and kept forever.
        logs_prefix = f"/aws-glue/jobs/{s.stack_name}"
        job_logs = [
            log_group(self, f"GlueJob{stream.title()}Logs", f"{logs_prefix}/{stream}")
            for stream in GLUE_LOG_STREAMS
        ]

        role = iam.Role(
            self,
            "GlueJobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Glue job: read bronze, write the warehouse and reports, the catalog",
        )
        bucket = self.bucket
        statements = [
            iam.PolicyStatement(
                sid="ReadJobAssets",
                actions=["s3:GetObject"],
                resources=[
                    script.bucket.arn_for_objects(script.s3_object_key),
                    py_files.bucket.arn_for_objects(py_files.s3_object_key),
                    deps_arn,
                ],
            ),
            iam.PolicyStatement(
                sid="ReadBronze",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{BRONZE_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="IcebergWarehouse",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[bucket.arn_for_objects(f"{WAREHOUSE_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="QualityReports",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{REPORTS_PREFIX}quality/*")],
            ),
            iam.PolicyStatement(
                sid="ListOwnPrefixes",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={
                    "StringLike": {
                        "s3:prefix": [
                            f"{BRONZE_PREFIX}*",
                            f"{WAREHOUSE_PREFIX}*",
                            f"{REPORTS_PREFIX}quality/*",
                        ]
                    }
                },
            ),
            iam.PolicyStatement(
                sid="GlueCatalogSpotifyDatabase",
                actions=[
                    "glue:GetDatabase",
                    "glue:CreateDatabase",  # ensure_namespace: answered "already exists"
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                ],
                resources=glue_arns(self, "*"),
            ),
            iam.PolicyStatement(
                sid="JobLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[group.log_group_arn for group in job_logs],
            ),
        ]
        for statement in statements:
            role.add_to_policy(statement)

        warehouse = bucket.s3_url_for_object(WAREHOUSE_PREFIX.rstrip("/"))
        arguments = {
            "--job-language": "python",
            "--datalake-formats": "iceberg",
            "--conf": glue_conf_argument(warehouse),
            "--extra-py-files": py_files.s3_object_url,
            # The stack's own wheels, installed with the package index switched off.
            **glue_deps.glue_python_module_arguments(deps_url),
            "--custom-logGroup-prefix": logs_prefix,
            "--bronze_uri": bucket.s3_url_for_object(BRONZE_PREFIX.rstrip("/")),
            "--warehouse": warehouse,
            "--reports_uri": bucket.s3_url_for_object(REPORTS_PREFIX.rstrip("/")),
            "--catalog": "glue",
            "--region": self.region,
            "--action": "transform",
            "--tag_retention_days": str(s.tag_retention_days),
        }
        job = glue.CfnJob(
            self,
            "GlueJob",
            name=f"{s.stack_name}-load",
            description="bronze -> validated MERGE into the Iceberg silver table (glue/job.py)",
            role=role.role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            default_arguments=arguments,
            worker_type=s.glue_worker_type,
            number_of_workers=s.glue_workers,
            execution_class=s.glue_execution_class,
            timeout=s.glue_timeout_minutes,
            max_retries=0,  # the state machine decides what is retried
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
        )
        job.node.add_dependency(self.glue_deps_deployment)  # the wheels are there first
        return job

    def _glue_python_deps(self, assets: StackAssets) -> tuple[str, str]:
        """Deploy the zip of wheels under its own name; returns its S3 URL and object ARN.

        A bucket of its own (private, encrypted, SSL-only, logged) rather than a prefix of
        the data bucket: the deployment's function may then write nothing but artifacts.
        """
        artifacts = private_bucket(
            self,
            "Artifacts",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            removal_policy=RemovalPolicy.DESTROY,
        )
        deployment = s3_deployment.BucketDeployment(
            self,
            "GluePythonDeps",
            sources=[s3_deployment.Source.asset(str(assets.glue_python_deps.parent))],
            destination_bucket=artifacts,
            destination_key_prefix=GLUE_DEPS_PREFIX,
            # The zip is ~180 MB: the function downloads and unpacks it in /tmp.
            memory_limit=2048,
            ephemeral_storage_size=Size.gibibytes(2),
            log_group=log_group(self, "GluePythonDepsDeployLogs"),
        )
        key = f"{GLUE_DEPS_PREFIX}{assets.glue_python_deps.name}"
        self.glue_deps_deployment = deployment
        self.artifacts = artifacts
        return artifacts.s3_url_for_object(key), artifacts.arn_for_objects(key)

    # --- Athena -------------------------------------------------------------------------------
    def _athena(self) -> athena.CfnWorkGroup:
        results = self.bucket.s3_url_for_object(ATHENA_RESULTS_PREFIX)
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.settings.stack_name.lower(),
            description="spotify-lakehouse queries: engine v3, results and limits enforced",
            recursive_delete_option=True,
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ATHENA_ENGINE
                ),
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=self.settings.athena_bytes_scanned_cutoff,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=results,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    def _grant_view_deploy(self, machine: sfn.StateMachine) -> None:
        """What ``CREATE OR REPLACE VIEW spotify.spotify_gold_view`` through Athena needs:
        run the query in the workgroup, read the silver table's metadata to check the view,
        write the view into the catalog, write the (empty) result."""
        bucket = self.bucket
        workgroup_arn = self.format_arn(
            service="athena", resource="workgroup", resource_name=self.workgroup.name
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:StopQueryExecution",
                ],
                resources=[workgroup_arn],
            )
        )
        # A query names its catalog (QueryExecutionContext.Catalog = AwsDataCatalog): Athena
        # reads the catalog's definition first, as CDK's own Athena task grants.
        machine.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadDataCatalog",
                actions=["athena:GetDataCatalog"],
                resources=[athena_data_catalog_arn(self)],
            )
        )
        # Read: Athena resolves the view's tables (and the view itself) in the database.
        machine.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadSpotifyCatalog",
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetTables"],
                resources=glue_arns(self, "*"),
            )
        )
        # Write: only the gold view's own catalog entry. CREATE OR REPLACE VIEW creates it
        # (first run) or updates it; no other table can be created or rewritten by this role.
        machine.add_to_role_policy(
            iam.PolicyStatement(
                sid="WriteGoldViewOnly",
                actions=["glue:CreateTable", "glue:UpdateTable"],
                resources=glue_arns(self, GOLD_VIEW),
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{WAREHOUSE_PREFIX}*")],
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{ATHENA_RESULTS_PREFIX}*")],
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={
                    "StringLike": {
                        "s3:prefix": [f"{WAREHOUSE_PREFIX}*", f"{ATHENA_RESULTS_PREFIX}*"]
                    }
                },
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn])
        )

    # --- notifications, schedules, alarms -----------------------------------------------------
    def _topics(self) -> tuple[sns.Topic, sns.Topic]:
        alerts = sns.Topic(
            self, "Alerts", display_name="spotify-lakehouse alerts", enforce_ssl=True
        )
        runs = sns.Topic(
            self, "Runs", display_name="spotify-lakehouse daily results", enforce_ssl=True
        )
        if self.settings.alert_email:
            for topic in (alerts, runs):
                topic.add_subscription(subscriptions.EmailSubscription(self.settings.alert_email))
        return alerts, runs

    def _schedules(self) -> None:
        s = self.settings
        group = scheduler.ScheduleGroup(
            self, "Schedules", schedule_group_name=f"{s.stack_name.lower()}"
        )

        def start(machine: sfn.StateMachine) -> scheduler_targets.StepFunctionsStartExecution:
            return scheduler_targets.StepFunctionsStartExecution(
                machine,
                # The day is derived from the schedule's own time, never from "now".
                input=scheduler.ScheduleTargetInput.from_object(
                    {"scheduled_time": scheduler.ContextAttribute.scheduled_time}
                ),
                retry_attempts=3,
                max_event_age=Duration.hours(6),
            )

        scheduler.Schedule(
            self,
            "DailySchedule",
            schedule_group=group,
            description="Daily load of the UTC day",
            schedule=scheduler.ScheduleExpression.cron(
                minute=str(s.daily_minute_utc),
                hour=str(s.daily_hour_utc),
                time_zone=TimeZone.ETC_UTC,
            ),
            target=start(self.pipeline),
        )
        scheduler.Schedule(
            self,
            "FreshnessSchedule",
            schedule_group=group,
            description="Alarm if the UTC day is not loaded by the deadline hour",
            schedule=scheduler.ScheduleExpression.cron(
                minute="0", hour=str(s.freshness_deadline_hour_utc), time_zone=TimeZone.ETC_UTC
            ),
            target=start(self.freshness),
        )
        scheduler.Schedule(
            self,
            "MaintenanceSchedule",
            schedule_group=group,
            description="Weekly table maintenance and Glue table-version pruning",
            schedule=scheduler.ScheduleExpression.cron(
                minute="0",
                hour=str(s.maintenance_hour_utc),
                week_day=s.maintenance_weekday,
                time_zone=TimeZone.ETC_UTC,
            ),
            target=start(self.maintenance),
        )

    def _alarms(self) -> None:
        action = cw_actions.SnsAction(self.alerts)
        five_minutes = Duration.minutes(5)

        def failures(machine: sfn.StateMachine) -> cloudwatch.IMetric:
            return cloudwatch.MathExpression(
                expression="failed + timedout",
                using_metrics={
                    "failed": machine.metric_failed(period=five_minutes, statistic="Sum"),
                    "timedout": machine.metric_timed_out(period=five_minutes, statistic="Sum"),
                },
                period=five_minutes,
            )

        metrics: dict[str, tuple[cloudwatch.IMetric, str]] = {
            "IngestErrors": (
                self.ingest_function.metric_errors(period=five_minutes, statistic="Sum"),
                "The ingest Lambda raised (the state machine retries it twice).",
            ),
            "PipelineFailed": (
                failures(self.pipeline),
                "A daily run, re-run or backfill failed or timed out.",
            ),
            "MaintenanceFailed": (
                failures(self.maintenance),
                "The weekly maintenance run or the table-version pruning failed.",
            ),
            "FreshnessMissed": (
                failures(self.freshness),
                "Today (UTC) was not loaded by "
                f"{self.settings.freshness_deadline_hour_utc}:00 UTC.",
            ),
        }
        if set(metrics) != set(ALARM_METRICS):
            raise AssertionError("alarms and stack_settings.ALARM_METRICS disagree")
        for name, (metric, description) in metrics.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                alarm_name=f"{self.settings.stack_name}-{name}",
                alarm_description=f"{description} See docs/runbook.md#alarms.",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)

    def _outputs(self) -> None:
        values = {
            "DataBucketName": self.bucket.bucket_name,
            "SpotifySecretArn": self.secret.secret_arn,
            "PipelineStateMachineArn": self.pipeline.state_machine_arn,
            "MaintenanceStateMachineArn": self.maintenance.state_machine_arn,
            "GlueJobName": self.glue_job.ref,
            "AthenaWorkGroup": self.workgroup.name,
            "IngestFunctionName": self.ingest_function.function_name,
            "AlertsTopicArn": self.alerts.topic_arn,
            "RunsTopicArn": self.runs.topic_arn,
        }
        for name, value in values.items():
            CfnOutput(self, name, value=value)

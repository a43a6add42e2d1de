"""The Glue job that loads days of bronze into the Iceberg tables (``glue/job.py``): one day,
or a range of them in one run (the state machine sends a chunk of ``backfill_chunk_days``).

Its code is three deployed files: the script, the project's own modules (``--extra-py-files``)
and a zip of wheels installed with the package index switched off (:mod:`infra.glue_deps`),
so a run never depends on PyPI. Its Spark conf is built from the job's and the local
runtime's own definitions (:func:`glue_spark_conf_pairs`), never written out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aws_cdk import Size, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from catalog.runtime.spark import ICEBERG_EXTENSIONS
from glue.job import glue_spark_conf
from infra import glue_deps
from infra.cdk.constructs.catalog import LakehouseCatalog
from infra.cdk.constructs.grants import grant_statement
from infra.cdk.constructs.logs import retained_log_group
from infra.cdk.constructs.storage import LakehouseStorage
from infra.stack_settings import (
    BRONZE_PREFIX,
    DEFAULT_SETTINGS,
    ICEBERG_CATALOG,
    REPORTS_PREFIX,
    WAREHOUSE_PREFIX,
    ExecutionClass,
    StackSettings,
)

#: Glue 5.1: Spark 3.5.6, Python 3.11, Java 17, Iceberg 1.10: the versions the local
#: runtime runs (pyspark 3.5, the Iceberg 1.10 runtime). 5.0 ships Iceberg 1.7.1; 6.0 moves
#: to Spark 4 and Python 3.13, which nothing here is tested on. The job's own Python
#: dependencies come from the stack's wheels (:mod:`infra.glue_deps`), not from Glue's.
GLUE_VERSION: Final = glue_deps.GLUE_VERSION
#: Where the zip of wheels is deployed in the artifacts bucket: Glue recognizes a zip of
#: wheels by the key's ``.gluewheels.zip`` suffix, which a CDK file asset (``<hash>.zip``)
#: cannot have, so a BucketDeployment puts the file there under its own name.
GLUE_DEPS_PREFIX: Final = "glue/python-deps/"
#: The zip is ~180 MB: the deployment's function downloads and unpacks it in memory and /tmp.
DEPS_DEPLOYMENT_MEMORY_MB: Final = 2048
DEPS_DEPLOYMENT_STORAGE: Final = Size.gibibytes(2)
#: The log streams Glue 5 writes under ``--custom-logGroup-prefix``.
GLUE_LOG_STREAMS: Final = ("output", "error")
#: Where the job writes its quality reports (the rest of ``reports/`` is not its).
QUALITY_REPORTS_PREFIX: Final = f"{REPORTS_PREFIX}quality/"
#: pip options of the wheels' install: the index switched off (:mod:`infra.glue_deps`),
#: and no byte-compiling of every module of every wheel at install time. Measured on this
#: project's zip (54 wheels, Python 3.11, 2 cores): 40 s with compiling, 10 s without.
#: Python compiles what the job imports when it imports it (a fraction of the 54 wheels),
#: so each run is billed ~25 s less.
GLUE_INSTALLER_OPTIONS: Final = f"{glue_deps.INSTALLER_OPTION} --no-compile"
#: What a ``glue:startJobRun.sync`` task needs (CDK's GlueStartJobRun grants the same).
RUN_SYNC_ACTIONS: Final = (
    "glue:StartJobRun",
    "glue:GetJobRun",
    "glue:GetJobRuns",
    "glue:BatchStopJobRun",
)


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


@dataclass(frozen=True)
class LoadJobProps:
    """The job's files, what it reads and writes, and its size (defaults:
    :class:`~infra.stack_settings.StackSettings`, whose field comments say why)."""

    #: ``glue/job.py`` as ``make package`` copies it.
    script: Path
    #: The project's own modules, one zip (``--extra-py-files``).
    py_files: Path
    #: The zip of wheels (``*.gluewheels.zip``), alone in its folder: the folder is deployed.
    python_deps: Path
    #: Bronze in, the warehouse and quality reports out.
    storage: LakehouseStorage
    #: The database the job creates its tables in.
    catalog: LakehouseCatalog
    #: The job is ``<name_prefix>-load``; its logs go under ``/aws-glue/jobs/<name_prefix>``.
    name_prefix: str = DEFAULT_SETTINGS.stack_name
    worker_type: str = DEFAULT_SETTINGS.glue_worker_type
    workers: int = DEFAULT_SETTINGS.glue_workers
    #: The job's own class, for runs started outside the state machines (a person at the
    #: console): Standard. The state machines pass each run's class (Flex when scheduled).
    execution_class: ExecutionClass = "STANDARD"
    timeout_minutes: int = DEFAULT_SETTINGS.glue_timeout_minutes
    #: Days the job keeps each daily load tag of the silver table (``--tag_retention_days``).
    tag_retention_days: int = DEFAULT_SETTINGS.tag_retention_days
    log_retention_days: int = DEFAULT_SETTINGS.log_retention_days

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        script: Path,
        py_files: Path,
        python_deps: Path,
        storage: LakehouseStorage,
        catalog: LakehouseCatalog,
    ) -> LoadJobProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            script=script,
            py_files=py_files,
            python_deps=python_deps,
            storage=storage,
            catalog=catalog,
            name_prefix=settings.stack_name,
            worker_type=settings.glue_worker_type,
            workers=settings.glue_workers,
            timeout_minutes=settings.glue_timeout_minutes,
            tag_retention_days=settings.tag_retention_days,
            log_retention_days=settings.log_retention_days,
        )


class LoadJob(Construct):
    """The Glue job, its role, its two log groups and the deployment of its wheels.

    The role reads the job's own files and bronze, writes the warehouse and the quality
    reports, lists only those prefixes, manages the tables of the ``spotify`` database and
    writes its two log groups. The job runs one at a time and never retries by itself: the
    state machines decide what is retried.
    """

    def __init__(self, scope: Construct, construct_id: str, props: LoadJobProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        storage = p.storage
        script = s3_assets.Asset(self, "GlueScript", path=str(p.script))
        py_files = s3_assets.Asset(self, "GluePyFiles", path=str(p.py_files))
        deps_key = f"{GLUE_DEPS_PREFIX}{p.python_deps.name}"
        self.python_deps = s3_deployment.BucketDeployment(
            self,
            "GluePythonDeps",
            sources=[s3_deployment.Source.asset(str(p.python_deps.parent))],
            destination_bucket=storage.artifacts,
            destination_key_prefix=GLUE_DEPS_PREFIX,
            memory_limit=DEPS_DEPLOYMENT_MEMORY_MB,
            ephemeral_storage_size=DEPS_DEPLOYMENT_STORAGE,
            log_group=retained_log_group(
                self, "GluePythonDepsDeployLogs", retention_days=p.log_retention_days
            ),
        )
        # Glue 5 writes the driver's and executors' logs to <prefix>/output and
        # <prefix>/error; without --custom-logGroup-prefix it creates /aws-glue/jobs/output
        # and /aws-glue/jobs/error itself, outside the stack and kept forever.
        logs_prefix = f"/aws-glue/jobs/{p.name_prefix}"
        job_logs = [
            retained_log_group(
                self,
                f"GlueJob{stream.title()}Logs",
                retention_days=p.log_retention_days,
                name=f"{logs_prefix}/{stream}",
            )
            for stream in GLUE_LOG_STREAMS
        ]

        self.role = iam.Role(
            self,
            "GlueJobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Glue job: read bronze, write the warehouse and reports, the catalog",
        )
        grant_statement(
            self.role,
            ["s3:GetObject"],
            [
                script.bucket.arn_for_objects(script.s3_object_key),
                py_files.bucket.arn_for_objects(py_files.s3_object_key),
                storage.artifacts.arn_for_objects(deps_key),
            ],
            sid="ReadJobAssets",
        )
        storage.grant_objects(self.role, ["s3:GetObject"], f"{BRONZE_PREFIX}*", sid="ReadBronze")
        storage.grant_objects(
            self.role,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            f"{WAREHOUSE_PREFIX}*",
            sid="IcebergWarehouse",
        )
        storage.grant_objects(
            self.role,
            ["s3:GetObject", "s3:PutObject"],
            f"{QUALITY_REPORTS_PREFIX}*",
            sid="QualityReports",
        )
        storage.grant_list(
            self.role,
            f"{BRONZE_PREFIX}*",
            f"{WAREHOUSE_PREFIX}*",
            f"{QUALITY_REPORTS_PREFIX}*",
            sid="ListOwnPrefixes",
        )
        p.catalog.grant_manage_tables(self.role, sid="GlueCatalogSpotifyDatabase")
        grant_statement(
            self.role,
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [group.log_group_arn for group in job_logs],
            sid="JobLogs",
        )

        data = storage.data
        warehouse = data.s3_url_for_object(WAREHOUSE_PREFIX.rstrip("/"))
        arguments = {
            "--job-language": "python",
            "--datalake-formats": "iceberg",
            "--conf": glue_conf_argument(warehouse),
            "--extra-py-files": py_files.s3_object_url,
            # The stack's own wheels, installed with the package index switched off.
            **glue_deps.glue_python_module_arguments(storage.artifacts.s3_url_for_object(deps_key)),
            "--python-modules-installer-option": GLUE_INSTALLER_OPTIONS,
            "--custom-logGroup-prefix": logs_prefix,
            "--bronze_uri": data.s3_url_for_object(BRONZE_PREFIX.rstrip("/")),
            "--warehouse": warehouse,
            "--reports_uri": data.s3_url_for_object(REPORTS_PREFIX.rstrip("/")),
            "--catalog": "glue",
            "--region": Stack.of(self).region,
            "--action": "transform",
            "--tag_retention_days": str(p.tag_retention_days),
        }
        self.job = glue.CfnJob(
            self,
            "GlueJob",
            name=f"{p.name_prefix}-load",
            description="bronze -> validated MERGE into the Iceberg silver table (glue/job.py)",
            role=self.role.role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            default_arguments=arguments,
            worker_type=p.worker_type,
            number_of_workers=p.workers,
            execution_class=p.execution_class,
            timeout=p.timeout_minutes,
            max_retries=0,  # the state machine decides what is retried
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
        )
        self.job.node.add_dependency(self.python_deps)  # the wheels are there first

    def grant_run_sync(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` (a state machine) start runs of this job and wait for them."""
        stack = Stack.of(self)
        grant_statement(
            grantee,
            RUN_SYNC_ACTIONS,
            [f"arn:{stack.partition}:glue:{stack.region}:{stack.account}:job/{self.job_name}"],
            sid="RunLoadJob",
        )

    @property
    def job_name(self) -> str:
        """The job's name (``Ref`` of the job), what ``glue:StartJobRun`` takes."""
        return self.job.ref

"""The lakehouse stack: the constructs of :mod:`infra.cdk.constructs`, wired together.

Its settings come from :mod:`infra.stack_settings` (the module the cost model prices) and its
files from ``make package`` (:class:`~infra.cdk.assets.StackAssets`). Each concern is one
construct with its own props and grants; this module only says which feeds which:

* :class:`~infra.cdk.constructs.storage.LakehouseStorage`: the data, artifacts and
  access-log buckets;
* :class:`~infra.cdk.constructs.catalog.LakehouseCatalog`: the Glue database, its pruner;
* :class:`~infra.cdk.constructs.ingest.IngestFunction`: the Lambda and its credentials store
  (an SSM parameter it names, or a Secrets Manager secret);
* :class:`~infra.cdk.constructs.load_job.LoadJob`: the Glue job, its wheels and logs;
* :class:`~infra.cdk.constructs.query.QueryWorkGroup`: the Athena workgroup;
* :class:`~infra.cdk.constructs.alerts.Notifications` and
  :class:`~infra.cdk.constructs.alerts.FailureAlerts`: the topics and the EventBridge rules
  that turn failed executions into alerts;
* :class:`~infra.cdk.constructs.pipelines.Pipelines`: the state machines and schedules.

The resources that hold data or carry a fixed name keep the logical IDs they were first
deployed under (:func:`~infra.cdk.logical_ids.keep_flat_logical_ids`).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.cdk.assets import StackAssets
from infra.cdk.constructs.alerts import (
    FailureAlerts,
    FailureAlertsProps,
    Notifications,
    NotificationsProps,
)
from infra.cdk.constructs.catalog import LakehouseCatalog, LakehouseCatalogProps
from infra.cdk.constructs.ingest import IngestFunction, IngestFunctionProps
from infra.cdk.constructs.load_job import LoadJob, LoadJobProps
from infra.cdk.constructs.pipelines import Pipelines, PipelinesProps
from infra.cdk.constructs.query import QueryWorkGroup, QueryWorkGroupProps
from infra.cdk.constructs.storage import LakehouseStorage, LakehouseStorageProps
from infra.cdk.logical_ids import keep_flat_logical_ids
from infra.stack_settings import StackSettings

__all__ = ["LakehouseStack", "StackAssets"]


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
        self.settings = s = settings
        self.storage = LakehouseStorage(self, "Storage", LakehouseStorageProps.from_settings(s))
        self.catalog = LakehouseCatalog(self, "Catalog", LakehouseCatalogProps.from_settings(s))
        self.ingest = IngestFunction(
            self,
            "Ingest",
            IngestFunctionProps.from_settings(s, code=assets.lambda_zip, storage=self.storage),
        )
        self.load = LoadJob(
            self,
            "Load",
            LoadJobProps.from_settings(
                s,
                script=assets.glue_script,
                py_files=assets.glue_py_files,
                python_deps=assets.glue_python_deps,
                storage=self.storage,
                catalog=self.catalog,
            ),
        )
        self.query = QueryWorkGroup(
            self,
            "Query",
            QueryWorkGroupProps.from_settings(s, storage=self.storage, catalog=self.catalog),
        )
        self.notifications = Notifications(
            self, "Notifications", NotificationsProps.from_settings(s)
        )
        self.pipelines = Pipelines(
            self,
            "Pipelines",
            PipelinesProps.from_settings(
                s,
                storage=self.storage,
                catalog=self.catalog,
                ingest=self.ingest,
                load_job=self.load,
                query=self.query,
                notifications=self.notifications,
                gold_view_sql=assets.gold_view_sql.read_text(encoding="utf-8").strip(),
            ),
        )
        self.alerts = FailureAlerts(
            self,
            "FailureAlerts",
            FailureAlertsProps.from_settings(
                s,
                topic=self.notifications.alerts,
                pipeline=self.pipelines.pipeline,
                maintenance=self.pipelines.maintenance,
                freshness=self.pipelines.freshness,
            ),
        )
        keep_flat_logical_ids(self)
        self._outputs()

    def _outputs(self) -> None:
        """What the runbook reads with ``describe-stacks`` (docs/runbook.md, ``<Output>``)."""
        credentials = (
            {"SpotifySecretArn": self.ingest.secret.secret_arn}
            if self.ingest.secret is not None
            else {"SpotifyCredentialsParameter": self.ingest.parameter_name}
        )
        values = {
            "DataBucketName": self.storage.data.bucket_name,
            **credentials,
            "PipelineStateMachineArn": self.pipelines.pipeline.state_machine_arn,
            "MaintenanceStateMachineArn": self.pipelines.maintenance.state_machine_arn,
            "GlueJobName": self.load.job_name,
            "AthenaWorkGroup": self.query.name,
            "IngestFunctionName": self.ingest.function.function_name,
            "AlertsTopicArn": self.notifications.alerts.topic_arn,
            "RunsTopicArn": self.notifications.runs.topic_arn,
        }
        for name, value in values.items():
            CfnOutput(self, name, value=value)

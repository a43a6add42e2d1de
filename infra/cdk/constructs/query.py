"""The Athena workgroup every query of the lakehouse runs in, and what running one needs.

The workgroup enforces its configuration (engine v3, results under ``athena-results/``,
SSE-S3, a bytes-scanned cutoff), so a caller cannot send results elsewhere or scan without
limit. :meth:`QueryWorkGroup.grant_query` is the one way a role gets to run queries in it;
it always includes ``athena:GetDataCatalog``, which Athena checks first (a query names its
catalog) and which a hand-written grant tends to miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.cdk.constructs.catalog import LakehouseCatalog
from infra.cdk.constructs.grants import grant_statement
from infra.cdk.constructs.storage import LakehouseStorage
from infra.stack_settings import (
    ATHENA_DATA_CATALOG,
    ATHENA_RESULTS_PREFIX,
    DEFAULT_SETTINGS,
    WAREHOUSE_PREFIX,
    StackSettings,
)

#: Engine v3 (Trino): the dialect ``views/`` translates to and checks against.
ATHENA_ENGINE: Final = "Athena engine version 3"
#: What a query holder may do with its own executions in the workgroup.
QUERY_ACTIONS: Final = (
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:StopQueryExecution",
)
#: What a query writes its results with (multipart for large results).
RESULT_ACTIONS: Final = ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload")


@dataclass(frozen=True)
class QueryWorkGroupProps:
    """Where the workgroup's queries read and write, and their limits."""

    #: Results go under ``athena-results/`` of the data bucket (expired by its lifecycle).
    storage: LakehouseStorage
    #: The tables queries resolve.
    catalog: LakehouseCatalog
    #: The workgroup's name: the stack's, lower-cased.
    name: str = DEFAULT_SETTINGS.stack_name.lower()
    #: Athena stops (and bills) a query that scans more than this many bytes.
    bytes_scanned_cutoff: int = DEFAULT_SETTINGS.athena_bytes_scanned_cutoff

    @classmethod
    def from_settings(
        cls, settings: StackSettings, *, storage: LakehouseStorage, catalog: LakehouseCatalog
    ) -> QueryWorkGroupProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            storage=storage,
            catalog=catalog,
            name=settings.stack_name.lower(),
            bytes_scanned_cutoff=settings.athena_bytes_scanned_cutoff,
        )


class QueryWorkGroup(Construct):
    """The Athena workgroup, with grants to run queries (:meth:`grant_query`) and to
    deploy a view (:meth:`grant_view_deploy`) in it."""

    def __init__(self, scope: Construct, construct_id: str, props: QueryWorkGroupProps) -> None:
        super().__init__(scope, construct_id)
        self._storage = props.storage
        self._catalog = props.catalog
        results = props.storage.data.s3_url_for_object(ATHENA_RESULTS_PREFIX)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=props.name,
            description="spotify-lakehouse queries: engine v3, results and limits enforced",
            recursive_delete_option=True,
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ATHENA_ENGINE
                ),
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=props.bytes_scanned_cutoff,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=results,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    @property
    def name(self) -> str:
        """The workgroup's name, what ``StartQueryExecution`` takes."""
        return self.workgroup.name

    @property
    def arn(self) -> str:
        return Stack.of(self).format_arn(
            service="athena", resource="workgroup", resource_name=self.name
        )

    @property
    def data_catalog_arn(self) -> str:
        """The ARN of Athena's ``AwsDataCatalog`` (the Glue Data Catalog as Athena names it)."""
        return Stack.of(self).format_arn(
            service="athena", resource="datacatalog", resource_name=ATHENA_DATA_CATALOG
        )

    def grant_query(
        self, grantee: iam.IGrantable, *, reads: Sequence[str] = (WAREHOUSE_PREFIX,)
    ) -> None:
        """Run queries in the workgroup over the data under the ``reads`` prefixes: start,
        follow and stop them, read the catalog's definition and its tables, read the data,
        write and read the results."""
        self._grant_executions(grantee)
        self._catalog.grant_read(grantee, sid="ReadSpotifyCatalog")
        self._grant_data(grantee, reads)

    def grant_view_deploy(
        self,
        grantee: iam.IGrantable,
        view: str,
        *,
        reads: Sequence[str] = (WAREHOUSE_PREFIX,),
        sid: str | None = None,
    ) -> None:
        """What ``CREATE OR REPLACE VIEW spotify.<view>`` through Athena needs: run the query
        (:meth:`grant_query`: Athena reads the tables' metadata to check the view) and write
        the view's own catalog entry, which the DDL creates (first run) or updates. No other
        table can be created or rewritten by ``grantee``; ``sid`` names that statement."""
        self.grant_query(grantee, reads=reads)
        self._catalog.grant_write_tables(grantee, view, sid=sid)

    def _grant_executions(self, grantee: iam.IGrantable) -> None:
        grant_statement(grantee, QUERY_ACTIONS, [self.arn])
        # A query names its catalog (QueryExecutionContext.Catalog = AwsDataCatalog): Athena
        # reads the catalog's definition first, as CDK's own Athena task grants.
        grant_statement(
            grantee, ["athena:GetDataCatalog"], [self.data_catalog_arn], sid="ReadDataCatalog"
        )

    def _grant_data(self, grantee: iam.IGrantable, reads: Sequence[str]) -> None:
        storage = self._storage
        if reads:
            storage.grant_objects(grantee, ["s3:GetObject"], *(f"{prefix}*" for prefix in reads))
        storage.grant_objects(grantee, RESULT_ACTIONS, f"{ATHENA_RESULTS_PREFIX}*")
        storage.grant_list(
            grantee, *(f"{prefix}*" for prefix in reads), f"{ATHENA_RESULTS_PREFIX}*"
        )
        storage.grant_bucket_location(grantee)

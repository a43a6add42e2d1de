"""The Glue Data Catalog side of the lakehouse: the ``spotify`` database and its upkeep.

No table schema lives here: the Glue job creates the Iceberg tables from
``catalog/iceberg/tables.py`` (through pyiceberg) on its first run; the stack creates only
the database. Every catalog permission is scoped to the catalog, this database and tables of
it (:meth:`LakehouseCatalog.arns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk.constructs.grants import grant_statement
from infra.cdk.constructs.lambdas import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, lambda_role
from infra.cdk.constructs.logs import retained_log_group
from infra.stack_settings import DEFAULT_SETTINGS, GLUE_DATABASE, StackSettings

#: The pruner's source: ``infra/cdk/functions/table_versions.py``, standard library and boto3.
PRUNER_SOURCE: Final = Path(__file__).resolve().parents[1] / "functions"
#: The pruner lists and deletes versions through the API: the smallest memory is plenty.
PRUNER_MEMORY_MB: Final = 128
#: Deletes run 100 versions per call, a few calls per table: seconds; five minutes is ample.
PRUNER_TIMEOUT: Final = Duration.minutes(5)
#: Every table of the database, as :meth:`LakehouseCatalog.arns` takes it.
ALL_TABLES: Final = "*"


@dataclass(frozen=True)
class LakehouseCatalogProps:
    """The database's upkeep (defaults: :class:`~infra.stack_settings.StackSettings`)."""

    #: Starts the pruner's log group name (``/<name_prefix>/lambda/table-versions``).
    name_prefix: str = DEFAULT_SETTINGS.stack_name
    #: Archived Glue table versions the pruner keeps per table, newest first.
    table_versions_to_keep: int = DEFAULT_SETTINGS.table_versions_to_keep
    log_retention_days: int = DEFAULT_SETTINGS.log_retention_days

    @classmethod
    def from_settings(cls, settings: StackSettings) -> LakehouseCatalogProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            name_prefix=settings.stack_name,
            table_versions_to_keep=settings.table_versions_to_keep,
            log_retention_days=settings.log_retention_days,
        )


class LakehouseCatalog(Construct):
    """The ``spotify`` Glue database and the function that prunes its table versions.

    Glue archives the previous table definition on an ``UpdateTable`` without
    ``SkipArchive`` (pyiceberg's, Athena DDL's) and caps the versions a table may keep; Iceberg
    needs none of them. The pruner (``infra/cdk/functions/table_versions.py``), run by the
    weekly maintenance, keeps the newest :attr:`LakehouseCatalogProps.table_versions_to_keep`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, props: LakehouseCatalogProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        p = props or LakehouseCatalogProps()
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Stack.of(self).account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=GLUE_DATABASE,
                description="spotify-lakehouse Iceberg tables (created by the Glue job)",
            ),
        )
        self.pruner = self._pruner(p)

    def arns(self, *tables: str) -> list[str]:
        """ARNs of the Glue catalog, the database and the named tables (:data:`ALL_TABLES`
        = every table of the database): what every catalog permission is scoped to."""
        stack = Stack.of(self)
        base = f"arn:{stack.partition}:glue:{stack.region}:{stack.account}"
        return [
            f"{base}:catalog",
            f"{base}:database/{GLUE_DATABASE}",
            *(f"{base}:table/{GLUE_DATABASE}/{t}" for t in tables),
        ]

    def grant_read(self, grantee: iam.IGrantable, *, sid: str | None = None) -> None:
        """Read the database and any table of it (what resolving a query or a view needs)."""
        grant_statement(
            grantee,
            ["glue:GetDatabase", "glue:GetTable", "glue:GetTables"],
            self.arns(ALL_TABLES),
            sid=sid,
        )

    def grant_write_tables(
        self, grantee: iam.IGrantable, *tables: str, sid: str | None = None
    ) -> None:
        """Create or update only the named tables' catalog entries."""
        grant_statement(
            grantee, ["glue:CreateTable", "glue:UpdateTable"], self.arns(*tables), sid=sid
        )

    def grant_manage_tables(self, grantee: iam.IGrantable, *, sid: str | None = None) -> None:
        """What the Glue job's pyiceberg needs: ensure the database, create and commit any
        table of it. Never delete: dropping a table is a person's decision."""
        grant_statement(
            grantee,
            [
                "glue:GetDatabase",
                "glue:CreateDatabase",  # ensure_namespace: answered "already exists"
                "glue:GetTable",
                "glue:GetTables",
                "glue:CreateTable",
                "glue:UpdateTable",
            ],
            self.arns(ALL_TABLES),
            sid=sid,
        )

    def _pruner(self, p: LakehouseCatalogProps) -> lambda_.Function:
        role = lambda_role(
            self, "PrunerRole", "Deletes archived Glue table versions of the spotify database"
        )
        group = retained_log_group(
            self,
            "PrunerLogs",
            retention_days=p.log_retention_days,
            name=f"/{p.name_prefix}/lambda/table-versions",
        )
        group.grant_write(role)
        grant_statement(
            role,
            ["glue:GetTables", "glue:GetTableVersions", "glue:BatchDeleteTableVersion"],
            self.arns(ALL_TABLES),
        )
        return lambda_.Function(
            self,
            "TableVersionPruner",
            description="Keeps the newest Glue table versions of the spotify database",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler="table_versions.handler",
            code=lambda_.Code.from_asset(
                str(PRUNER_SOURCE), exclude=["__pycache__", "*.pyc", "__init__.py"]
            ),
            memory_size=PRUNER_MEMORY_MB,
            timeout=PRUNER_TIMEOUT,
            environment={
                "GLUE_DATABASE": GLUE_DATABASE,
                "KEEP_VERSIONS": str(p.table_versions_to_keep),
            },
            role=role,
            log_group=group,
        )

"""The ingest Lambda (Spotify Web API -> bronze) and the secret holding the app credentials."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.cdk.constructs.lambdas import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, lambda_role
from infra.cdk.constructs.logs import retained_log_group
from infra.cdk.constructs.storage import LakehouseStorage
from infra.stack_settings import BRONZE_PREFIX, DEFAULT_SETTINGS, LAMBDA_HANDLER, StackSettings


@dataclass(frozen=True)
class IngestFunctionProps:
    """The function's code, where it writes, and its size (defaults:
    :class:`~infra.stack_settings.StackSettings`, which sizes the timeout for the roster)."""

    #: The Lambda zip ``make package`` builds (``ingest/`` and its dependencies).
    code: Path
    #: The data bucket: the function writes bronze, nothing else.
    storage: LakehouseStorage
    #: Starts the log group name (``/<name_prefix>/lambda/ingest``).
    name_prefix: str = DEFAULT_SETTINGS.stack_name
    #: ``ROSTER_TOP``: keep the N most followed artists of the roster.
    roster_top: int = DEFAULT_SETTINGS.roster_top
    #: ``ROSTER_KEY``: a roster file in the data bucket (read-only); None = the shipped one.
    roster_key: str | None = DEFAULT_SETTINGS.roster_key
    memory_mb: int = DEFAULT_SETTINGS.lambda_memory_mb
    timeout_s: int = DEFAULT_SETTINGS.lambda_timeout_s
    log_retention_days: int = DEFAULT_SETTINGS.log_retention_days

    @classmethod
    def from_settings(
        cls, settings: StackSettings, *, code: Path, storage: LakehouseStorage
    ) -> IngestFunctionProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            code=code,
            storage=storage,
            name_prefix=settings.stack_name,
            roster_top=settings.roster_top,
            roster_key=settings.roster_key,
            memory_mb=settings.lambda_memory_mb,
            timeout_s=settings.lambda_timeout_s,
            log_retention_days=settings.log_retention_days,
        )


class IngestFunction(Construct):
    """The ingest function with its role, log group and the Spotify credentials secret.

    The role may read the secret, read and write ``bronze/`` (and list only that prefix),
    read the roster file if one is set, and write its own log group: nothing else.
    """

    def __init__(self, scope: Construct, construct_id: str, props: IngestFunctionProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        storage = p.storage
        # Created without a value on purpose: the credentials never pass through
        # CloudFormation or the repository. docs/runbook.md shows the one put-secret-value
        # call that fills it.
        self.secret = secretsmanager.Secret(
            self,
            "SpotifyCredentials",
            description='Spotify app credentials, JSON {"client_id": ..., "client_secret": ...}',
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn = cast(secretsmanager.CfnSecret, self.secret.node.default_child)
        cfn.add_property_deletion_override("GenerateSecretString")

        self.role = lambda_role(
            self, "Role", "Ingest Lambda: bronze prefix, the Spotify secret, its own logs"
        )
        group = retained_log_group(
            self,
            "IngestLogs",
            retention_days=p.log_retention_days,
            name=f"/{p.name_prefix}/lambda/ingest",
        )
        group.grant_write(self.role)
        self.secret.grant_read(self.role)
        storage.grant_objects(self.role, ["s3:GetObject", "s3:PutObject"], f"{BRONZE_PREFIX}*")
        storage.grant_list(self.role, f"{BRONZE_PREFIX}*")
        environment = {
            "BRONZE_BUCKET": storage.data.bucket_name,
            "BRONZE_PREFIX": BRONZE_PREFIX,
            "SPOTIFY_SECRET_ARN": self.secret.secret_arn,
            "ROSTER_TOP": str(p.roster_top),
        }
        if p.roster_key:
            environment["ROSTER_KEY"] = p.roster_key
            storage.grant_objects(self.role, ["s3:GetObject"], p.roster_key)
        self.function = lambda_.Function(
            self,
            "Function",
            description="Spotify Web API -> raw JSON in bronze for one UTC day",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=LAMBDA_HANDLER,
            code=lambda_.Code.from_asset(str(p.code)),
            memory_size=p.memory_mb,
            timeout=Duration.seconds(p.timeout_s),
            # No reserved concurrency: a reservation may not take the account's unreserved
            # concurrency below its minimum, and new accounts get a reduced quota (often
            # 10), so CloudFormation would refuse the function and roll the stack back. Two
            # runs of one day cannot both complete it (the manifest's conditional write lets
            # one win), and the state machine runs one day at a time.
            environment=environment,
            role=self.role,
            log_group=group,
        )

"""The ingest Lambda (Spotify Web API -> bronze) and where it reads the app credentials.

The credentials (JSON ``{"client_id", "client_secret"}``) live in one of two stores
(``StackSettings.credentials_store``, whose comment weighs them):

* ``ssm`` (default): an SSM Parameter Store SecureString, standard tier, that the stack
  names but does not create (CloudFormation cannot create a SecureString, and a plain
  String placeholder would be overwritten with the template's value by any later update of
  the resource). The operator creates it with :attr:`IngestFunction.fill_command`; until
  then a run answers ``credentials_missing``. The role may ``ssm:GetParameter`` that one
  parameter and ``kms:Decrypt`` only through SSM for that parameter's encryption context.
* ``secretsmanager``: a Secrets Manager secret the stack creates empty (logical ID kept
  from the first deploys), filled with ``put-secret-value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.cdk.constructs.grants import grant_statement
from infra.cdk.constructs.lambdas import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, lambda_role
from infra.cdk.constructs.logs import retained_log_group
from infra.cdk.constructs.storage import LakehouseStorage
from infra.stack_settings import (
    BRONZE_PREFIX,
    DEFAULT_SETTINGS,
    LAMBDA_HANDLER,
    CredentialsStore,
    StackSettings,
)
from ingest.settings import CREDENTIALS_PARAMETER_ENV, CREDENTIALS_SHAPE, SECRET_ARN_ENV


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
    #: Where the credentials live (StackSettings.credentials_store).
    credentials_store: str = DEFAULT_SETTINGS.credentials_store
    #: The SSM parameter's name (``credentials_store="ssm"``).
    parameter_name: str = DEFAULT_SETTINGS.credentials_parameter_name

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
            credentials_store=settings.credentials_store,
            parameter_name=settings.credentials_parameter_name,
        )


class IngestFunction(Construct):
    """The ingest function with its role, log group and its credentials store.

    The role may read the credentials (one parameter or one secret), read and write
    ``bronze/`` (and list only that prefix), read the roster file if one is set, and write
    its own log group: nothing else.
    """

    def __init__(self, scope: Construct, construct_id: str, props: IngestFunctionProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        storage = p.storage
        self.credentials_store = cast(CredentialsStore, p.credentials_store)
        self.role = lambda_role(
            self, "Role", "Ingest Lambda: bronze prefix, the Spotify credentials, its own logs"
        )
        #: The Secrets Manager secret (``secretsmanager`` store only).
        self.secret: secretsmanager.Secret | None = None
        if self.credentials_store == "secretsmanager":
            credentials_env = {SECRET_ARN_ENV: self._secret().secret_arn}
        else:
            credentials_env = {CREDENTIALS_PARAMETER_ENV: p.parameter_name}
            self._grant_parameter(p.parameter_name)
        self.parameter_name = p.parameter_name
        group = retained_log_group(
            self,
            "IngestLogs",
            retention_days=p.log_retention_days,
            name=f"/{p.name_prefix}/lambda/ingest",
        )
        group.grant_write(self.role)
        storage.grant_objects(self.role, ["s3:GetObject", "s3:PutObject"], f"{BRONZE_PREFIX}*")
        storage.grant_list(self.role, f"{BRONZE_PREFIX}*")
        environment = {
            "BRONZE_BUCKET": storage.data.bucket_name,
            "BRONZE_PREFIX": BRONZE_PREFIX,
            **credentials_env,
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

    def _secret(self) -> secretsmanager.Secret:
        # Created without a value on purpose: the credentials never pass through
        # CloudFormation or the repository. docs/runbook.md shows the one put-secret-value
        # call that fills it.
        secret = secretsmanager.Secret(
            self,
            "SpotifyCredentials",
            description='Spotify app credentials, JSON {"client_id": ..., "client_secret": ...}',
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn = cast(secretsmanager.CfnSecret, secret.node.default_child)
        cfn.add_property_deletion_override("GenerateSecretString")
        secret.grant_read(self.role)
        self.secret = secret
        return secret

    def _grant_parameter(self, name: str) -> None:
        """``ssm:GetParameter`` on the one parameter, and ``kms:Decrypt`` of its value only.

        The value is encrypted with the account's ``aws/ssm`` key (whose own key policy
        already lets every principal of the account decrypt through SSM, so the KMS
        statement changes nothing there), or with a customer managed key if the operator
        chose one (then it is what the function needs). Its id is per account and unknown
        at synth time, hence ``key/*``, held by two conditions: only through SSM in this
        region, and only for this parameter's encryption context (SSM encrypts each value
        with ``PARAMETER_ARN`` = the parameter's ARN).
        """
        stack = Stack.of(self)
        arn = self.parameter_arn_of(stack, name)
        grant_statement(self.role, ["ssm:GetParameter"], [arn], sid="ReadSpotifyCredentials")
        grant_statement(
            self.role,
            ["kms:Decrypt"],
            [f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/*"],
            sid="DecryptSpotifyCredentialsThroughSsm",
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"ssm.{stack.region}.{stack.url_suffix}",
                    "kms:EncryptionContext:PARAMETER_ARN": arn,
                }
            },
        )

    @staticmethod
    def parameter_arn_of(stack: Stack, name: str) -> str:
        """The ARN of the parameter ``name`` (a name starting with ``/`` adds none)."""
        return (
            f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:parameter/{name.lstrip('/')}"
        )

    @property
    def credentials_location(self) -> str:
        """The parameter's name or the secret's ARN: where the credentials are read from."""
        if self.secret is not None:
            return self.secret.secret_arn
        return self.parameter_name

    @property
    def fill_command(self) -> str:
        """The one AWS CLI command that fills the credentials (values elided)."""
        if self.secret is not None:
            return (
                f"aws secretsmanager put-secret-value --secret-id {self.secret.secret_arn} "
                f"--secret-string {CREDENTIALS_SHAPE}"
            )
        return (
            f"aws ssm put-parameter --name {self.parameter_name} --type SecureString "
            f"--overwrite --value {CREDENTIALS_SHAPE}"
        )

"""The lakehouse's buckets: the data bucket, the artifacts bucket, and their access logs.

One data bucket with prefixes (``bronze/``, ``warehouse/``, ``reports/``, ``athena-results/``)
rather than one bucket per layer: the contract (docs/aws-contracts.md) fixes one bucket; IAM
scoped to a prefix is as tight as IAM scoped to a bucket; lifecycle rules filter by prefix;
and one bucket means one encryption setting, one SSL-only policy, one access-log
configuration to get right. The cost of the choice is that versioning (which bronze needs: it
keeps every earlier manifest) is bucket-wide, so the other prefixes get a lifecycle rule that
expires their old versions after a week.

Access to the data bucket is granted per prefix (:meth:`LakehouseStorage.grant_objects`,
:meth:`LakehouseStorage.grant_list`), never to the whole bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk.constructs.grants import grant_statement
from infra.stack_settings import (
    ATHENA_RESULTS_PREFIX,
    BRONZE_PREFIX,
    DEFAULT_SETTINGS,
    MANIFEST_FILE,
    REPORTS_PREFIX,
    WAREHOUSE_PREFIX,
    StackSettings,
)

#: S3 server access logs are for investigating an incident after the fact; a year covers
#: any incident someone still asks about, and the logs are small.
ACCESS_LOGS_EXPIRE: Final = Duration.days(365)
#: An upload that has not completed in a week never will; its parts cost storage meanwhile.
INCOMPLETE_UPLOADS_ABORT: Final = Duration.days(7)
#: A replaced Athena result is never read again: one day is the shortest S3 allows.
ATHENA_RESULTS_NONCURRENT_EXPIRE: Final = Duration.days(1)


def private_bucket(scope: Construct, construct_id: str, **props: Any) -> s3.Bucket:
    """A bucket of the stack, the one place the settings every bucket shares are written: no
    public access, SSE-S3 (the only encryption S3's access-log delivery accepts, so one
    setting serves every bucket), TLS only, ACLs off. ``props`` adds the bucket's own."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        **props,
    )


@dataclass(frozen=True)
class LakehouseStorageProps:
    """How long the data bucket keeps what (defaults: :class:`~infra.stack_settings.StackSettings`,
    whose field comments say why, and which the cost model prices)."""

    #: Days before bronze (current and earlier versions) moves to Standard-IA.
    bronze_infrequent_access_days: int = DEFAULT_SETTINGS.bronze_infrequent_access_days
    #: Days Athena's query results are kept.
    athena_results_expire_days: int = DEFAULT_SETTINGS.athena_results_expire_days
    #: Days the quality reports and load records are kept.
    reports_expire_days: int = DEFAULT_SETTINGS.reports_expire_days
    #: Days replaced versions of warehouse and report objects are kept (bronze keeps all).
    noncurrent_versions_expire_days: int = DEFAULT_SETTINGS.noncurrent_versions_expire_days

    @classmethod
    def from_settings(cls, settings: StackSettings) -> LakehouseStorageProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            bronze_infrequent_access_days=settings.bronze_infrequent_access_days,
            athena_results_expire_days=settings.athena_results_expire_days,
            reports_expire_days=settings.reports_expire_days,
            noncurrent_versions_expire_days=settings.noncurrent_versions_expire_days,
        )


class LakehouseStorage(Construct):
    """The data bucket (bronze, the Iceberg warehouse, reports, Athena results), the
    artifacts bucket (the Glue job's wheels) and the bucket both log their accesses to.

    The data bucket and the access logs are retained when the stack is deleted: bronze is
    the only copy of what Spotify said on each day. The artifacts are rebuilt by any deploy.
    """

    def __init__(
        self, scope: Construct, construct_id: str, props: LakehouseStorageProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        p = props or LakehouseStorageProps()
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=ACCESS_LOGS_EXPIRE)
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.data = self._data_bucket(p)
        # A bucket of its own rather than a prefix of the data bucket: the function that
        # deploys into it may then write nothing but artifacts.
        self.artifacts = private_bucket(
            self,
            "Artifacts",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _data_bucket(self, p: LakehouseStorageProps) -> s3.Bucket:
        noncurrent = Duration.days(p.noncurrent_versions_expire_days)
        infrequent_access = Duration.days(p.bronze_infrequent_access_days)
        bucket = private_bucket(
            self,
            "Data",
            versioned=True,
            server_access_logs_bucket=self.access_logs,
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
                            transition_after=infrequent_access,
                        )
                    ],
                    noncurrent_version_transitions=[
                        s3.NoncurrentVersionTransition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=infrequent_access,
                        )
                    ],
                ),
                s3.LifecycleRule(
                    id="expire-athena-results",
                    prefix=ATHENA_RESULTS_PREFIX,
                    expiration=Duration.days(p.athena_results_expire_days),
                    noncurrent_version_expiration=ATHENA_RESULTS_NONCURRENT_EXPIRE,
                ),
                s3.LifecycleRule(
                    id="expire-old-reports",
                    prefix=REPORTS_PREFIX,
                    expiration=Duration.days(p.reports_expire_days),
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
                    abort_incomplete_multipart_upload_after=INCOMPLETE_UPLOADS_ABORT,
                ),
            ],
            # Bronze is the only copy of what Spotify said on each day: never delete it with
            # the stack. (Deleting it at all first needs the deny statements below removed.)
            removal_policy=RemovalPolicy.RETAIN,
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BronzeIsAppendOnly",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[bucket.arn_for_objects(f"{BRONZE_PREFIX}*")],
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
        return bucket

    # --- grants on the data bucket -----------------------------------------------------------
    def grant_objects(
        self,
        grantee: iam.IGrantable,
        actions: Sequence[str],
        *key_patterns: str,
        sid: str | None = None,
    ) -> None:
        """``actions`` on the data bucket's objects matching ``key_patterns`` (as
        ``arn_for_objects`` takes them: ``bronze/*`` for a prefix, or one exact key)."""
        resources = [self.data.arn_for_objects(pattern) for pattern in key_patterns]
        grant_statement(grantee, actions, resources, sid=sid)

    def grant_list(
        self, grantee: iam.IGrantable, *prefix_patterns: str, sid: str | None = None
    ) -> None:
        """``s3:ListBucket`` of the data bucket, limited to ``prefix_patterns``
        (``bronze/*``). Needed beside ``s3:GetObject``: without it S3 answers a missing key
        with 403, not 404."""
        grant_statement(
            grantee,
            ["s3:ListBucket"],
            [self.data.bucket_arn],
            sid=sid,
            conditions={"StringLike": {"s3:prefix": list(prefix_patterns)}},
        )

    def grant_bucket_location(self, grantee: iam.IGrantable) -> None:
        """``s3:GetBucketLocation`` of the data bucket (Athena asks before it writes results)."""
        grant_statement(grantee, ["s3:GetBucketLocation"], [self.data.bucket_arn])

"""The deployed defaults of the AWS stack, in one place the CDK app and the cost model share.

``infra/cdk/`` builds the stack from a :class:`StackSettings`; ``infra/cost.py`` prices the
same object. Changing a default here changes both, so the estimate cannot drift from what
``make deploy`` creates. This module is plain Python: the CLI imports it (``spotify-lakehouse
cost``) and must never import ``aws_cdk``.

Every setting can be overridden at synth time with CDK context, e.g.
``make synth CDK_CONTEXT="glueFlex=false rosterTop=10000 alertEmail=ops@example.com"``; the
context key of each field is listed in :data:`CONTEXT_KEYS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Final, Literal

from catalog.bronze.layout import MANIFEST_NAME
from catalog.bronze.s3 import DEFAULT_PREFIX
from catalog.iceberg.names import CATALOG_NAME, NAMESPACE
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS
from ingest.retry import DEFAULT_MAX_RETRY_AFTER_S
from views.sqlfiles import GOLD_VIEW as GOLD_VIEW_NAME

# --- S3 layout (docs/aws-contracts.md) --------------------------------------------------------
#: One data bucket; these are its top-level prefixes. IAM and lifecycle rules are scoped to them.
#: The bronze root, the same default the Lambda's S3 store uses (catalog.bronze.s3).
BRONZE_PREFIX: Final = DEFAULT_PREFIX
WAREHOUSE_PREFIX: Final = "warehouse/"
REPORTS_PREFIX: Final = "reports/"
ATHENA_RESULTS_PREFIX: Final = "athena-results/"
#: One small JSON record per successfully loaded day (``snapshot_date=D.json``), written by the
#: state machine after the Glue job; the freshness check looks for today's.
LOAD_RECORDS_PREFIX: Final = f"{REPORTS_PREFIX}loads/"
#: The bronze manifest's file name (catalog.bronze.layout); the bucket policy requires conditional
#: writes for it.
MANIFEST_FILE: Final = MANIFEST_NAME

# --- Names other pieces rely on -------------------------------------------------------------
GLUE_DATABASE: Final = NAMESPACE
#: The gold view's name (views.sqlfiles; its DDL is views/sql/<name>.sql).
GOLD_VIEW: Final = GOLD_VIEW_NAME
#: Iceberg catalog name in Spark and pyiceberg (catalog.iceberg.profiles).
ICEBERG_CATALOG: Final = CATALOG_NAME
LAMBDA_HANDLER: Final = "ingest.handler.handler"
#: The name Athena gives the account's Glue Data Catalog (queries name it; IAM scopes to it).
ATHENA_DATA_CATALOG: Final = "AwsDataCatalog"

# --- Spotify request model (sizes the Lambda and prices it) -----------------------------------
#: ``GET /artists?ids=`` takes at most 50 ids.
ARTISTS_PER_REQUEST: Final = 50
#: Cold start (boto3 + requests import), token, preflight, manifest write: measured locally
#: around 2 s; 60 s leaves room for a slow token endpoint.
LAMBDA_FIXED_BUDGET_S: Final = 60
#: Budget for one batch request and its two bronze writes (part + envelope). Spotify answers a
#: 50-artist batch in ~0.3 s; 2 s covers slow answers and backoff on a 5xx.
LAMBDA_PER_REQUEST_BUDGET_S: Final = 2.0
#: The run may sleep through a few 429s, each at most ``RetryPolicy.max_retry_after_s``.
LAMBDA_RATE_LIMIT_BUDGET_S: Final = 2 * DEFAULT_MAX_RETRY_AFTER_S
#: Lambda's hard ceiling.
LAMBDA_MAX_TIMEOUT_S: Final = 900

ExecutionClass = Literal["STANDARD", "FLEX"]
#: Where the Lambda reads the Spotify app credentials (see ``StackSettings.credentials_store``).
CredentialsStore = Literal["ssm", "secretsmanager"]
CREDENTIALS_STORES: Final = ("ssm", "secretsmanager")

#: Settings field -> CDK context key.
CONTEXT_KEYS: Final[dict[str, str]] = {
    "stack_name": "stackName",
    "daily_hour_utc": "dailyHourUtc",
    "daily_minute_utc": "dailyMinuteUtc",
    "freshness_deadline_hour_utc": "freshnessDeadlineHourUtc",
    "maintenance_weekday": "maintenanceWeekday",
    "maintenance_hour_utc": "maintenanceHourUtc",
    "roster_top": "rosterTop",
    "roster_key": "rosterKey",
    "lambda_memory_mb": "lambdaMemoryMb",
    "glue_worker_type": "glueWorkerType",
    "glue_workers": "glueWorkers",
    "glue_flex": "glueFlex",
    "glue_timeout_minutes": "glueTimeoutMinutes",
    "backfill_chunk_days": "backfillChunkDays",
    "athena_bytes_scanned_cutoff_mb": "athenaBytesScannedCutoffMb",
    "log_retention_days": "logRetentionDays",
    "athena_results_expire_days": "athenaResultsExpireDays",
    "reports_expire_days": "reportsExpireDays",
    "bronze_infrequent_access_days": "bronzeInfrequentAccessDays",
    "noncurrent_versions_expire_days": "noncurrentVersionsExpireDays",
    "table_versions_to_keep": "tableVersionsToKeep",
    "tag_retention_days": "tagRetentionDays",
    "max_backfill_days": "maxBackfillDays",
    "credentials_store": "credentialsStore",
    "alert_email": "alertEmail",
}

#: DPUs per worker of each Glue worker type (G.1X = 1 DPU: 4 vCPU, 16 GB).
GLUE_WORKER_DPU: Final[dict[str, float]] = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0}

#: The stack's alerts: one EventBridge rule per state machine on its executions that end
#: FAILED, TIMED_OUT or ABORTED, sending one message to the Alerts topic (rules on AWS
#: service events and SNS's first million publishes cost nothing, where a CloudWatch alarm
#: costs $0.10 per metric-month). Named ``<stack>-<name>``, the names the CloudWatch alarms
#: they replace had. The stack creates exactly these (it checks); the cost model counts them.
#: The ingest Lambda's own errors need no rule: the pipeline retries them, and one that is
#: not cured by the retries fails the pipeline's execution.
ALERT_RULES: Final[dict[str, str]] = {
    "PipelineFailed": "pipeline",
    "MaintenanceFailed": "maintenance",
    "FreshnessMissed": "freshness",
}

# --- the Glue job's single run slot ----------------------------------------------------------
#: The job allows one run at a time (two MERGEs into one table must not race). A start that
#: finds the slot taken (``Glue.ConcurrentRunsExceededException``: a backfill's chunk, the
#: weekly maintenance, a run started by hand) waits and tries again: first after this long,
#: then twice as long each time, never more than GLUE_BUSY_MAX_WAIT_S apart...
GLUE_BUSY_FIRST_WAIT_S: Final = 60
GLUE_BUSY_BACKOFF: Final = 2.0
GLUE_BUSY_MAX_WAIT_S: Final = 300

WEEKDAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class StackSettings:
    """What the stack deploys. Defaults suit the 20-artist roster of the original project."""

    stack_name: str = "SpotifyLakehouse"
    #: Daily run at 06:00 UTC: Spotify's counters have settled after midnight UTC, and the
    #: day's data is ready before a European working day starts.
    daily_hour_utc: int = 6
    daily_minute_utc: int = 0
    #: The freshness check runs at this hour (UTC) and alerts if today is not loaded: three
    #: hours after the run leaves room for the Lambda's retries and a slow Glue start (Flex).
    freshness_deadline_hour_utc: int = 9
    #: Weekly maintenance (expire snapshots, compact, prune Glue table versions), Sunday 03:00
    #: UTC: far from the daily run, so the two never contend for the job's single run slot.
    maintenance_weekday: str = "SUN"
    maintenance_hour_utc: int = 3
    #: ``ROSTER_TOP``: keep the N most followed artists of the roster.
    roster_top: int = 20
    #: ``ROSTER_KEY``: S3 key (in the data bucket) of a roster file; None = the shipped 20.
    roster_key: str | None = None
    #: The Lambda waits on the network; 256 MB holds a 50-artist answer many times over and
    #: gives enough CPU for JSON and TLS. More memory would only cost more.
    lambda_memory_mb: int = 256
    #: G.1X x 2 is the smallest Spark worker shape (1 driver + 1 executor): the daily MERGE
    #: touches one month partition, 600 rows for 20 artists, 300k for 10,000.
    glue_worker_type: str = "G.1X"
    glue_workers: int = 2
    #: The *scheduled* Glue runs (the daily load, the weekly maintenance) use the Flex
    #: execution class: spare capacity at $0.29 instead of $0.44 per DPU-hour, but a start
    #: that may come minutes later. Nothing waits for them but the freshness check, three
    #: hours later. Runs started by hand (a re-run, a backfill) use Standard, unless their
    #: input says ``"flex": true``. False: every run is Standard.
    glue_flex: bool = True
    #: One run loads a chunk of at most ``backfill_chunk_days`` days (see below): ~1 minute
    #: of start and imports, then seconds per day; an hour means something is stuck (Glue's
    #: own default is 48 h).
    glue_timeout_minutes: int = 60
    #: Days one Glue run loads (``--start_date``/``--end_date``): a range is split into chunks
    #: of this many days, one run each, so a year of history is 12 runs instead of 365, each
    #: paying the run's fixed cost once. 31 keeps a chunk of 10,000 artists well inside the
    #: run's timeout and lets a waiting daily run in between chunks.
    backfill_chunk_days: int = 31
    #: Athena stops (and bills) a query that scans more than this. Silver is megabytes; 10 GB
    #: stops a runaway cross join long before it costs more than $0.05.
    athena_bytes_scanned_cutoff_mb: int = 10_240
    log_retention_days: int = 30
    #: Query results are a cache: Athena never needs them after the caller has read them.
    athena_results_expire_days: int = 7
    #: The DQ results stay queryable in ``spotify.dq_results``; the HTML pages are for humans.
    reports_expire_days: int = 180
    #: Bronze is read once (by the next Glue run) and then only for re-loads: Standard-IA after
    #: 30 days, the earliest S3 allows. Objects under 128 KB stay in Standard (S3's default
    #: transition minimum), where they are cheaper anyway.
    bronze_infrequent_access_days: int = 30
    #: Old versions of warehouse/report/result objects (bronze keeps every version).
    noncurrent_versions_expire_days: int = 7
    #: Glue keeps an archived table version per catalog update; keep the newest N per table.
    table_versions_to_keep: int = 100
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS
    #: Longest range one backfill execution accepts; a Standard workflow's history holds 25,000
    #: events, ~20 per day, so 366 days stays far below it. Split longer ranges.
    max_backfill_days: int = 366
    #: Where the Spotify app credentials live (JSON ``{"client_id", "client_secret"}``):
    #:
    #: * ``ssm`` (default): an SSM Parameter Store **SecureString** of the standard tier,
    #:   ``/<stack_name>/spotify-credentials``, encrypted with the account's AWS managed key
    #:   ``aws/ssm``. Free: standard parameters and their standard-throughput API calls cost
    #:   nothing, and so does the managed key (its KMS requests fall in KMS's free 20,000 a
    #:   month). CloudFormation cannot create a SecureString, so the stack only names it,
    #:   grants the Lambda ``ssm:GetParameter`` on exactly it, and the operator creates it
    #:   with one ``aws ssm put-parameter --type SecureString`` (docs/runbook.md). Until then
    #:   each run stops with ``credentials_missing`` and one alert naming that command.
    #:   Rotation is by hand (run the same command with a new secret); parameter policies
    #:   (expiry notifications) need the advanced tier ($0.05/parameter-month); sharing with
    #:   another account needs the advanced tier and a customer managed key (the ``aws/ssm``
    #:   key cannot be shared).
    #: * ``secretsmanager``: a Secrets Manager secret created empty by the stack (filled with
    #:   ``put-secret-value``): $0.40 per secret-month plus $0.05 per 10,000 calls. Buys
    #:   managed rotation (a rotation Lambda on a schedule; Spotify has no API to rotate a
    #:   client secret, so it would still be a person's job here), a resource policy for
    #:   cross-account reads, replication to other regions, and versions with staging labels.
    #:
    #: For one app credential read once a day, none of that is used: SSM is the default.
    #: Switching stores is a deploy plus the store's fill command; the old store is left to
    #: the operator (docs/runbook.md, "Where the credentials live").
    credentials_store: str = "ssm"
    #: Subscribe this address to the alerts and runs topics (optional).
    alert_email: str | None = None

    def __post_init__(self) -> None:
        checks = {
            "daily_hour_utc": 0 <= self.daily_hour_utc <= 23,
            "daily_minute_utc": 0 <= self.daily_minute_utc <= 59,
            "freshness_deadline_hour_utc": 0 <= self.freshness_deadline_hour_utc <= 23,
            "maintenance_hour_utc": 0 <= self.maintenance_hour_utc <= 23,
            "maintenance_weekday": self.maintenance_weekday in WEEKDAYS,
            "roster_top": self.roster_top >= 1,
            "lambda_memory_mb": 128 <= self.lambda_memory_mb <= 10_240,
            "glue_worker_type": self.glue_worker_type in GLUE_WORKER_DPU,
            "glue_workers": self.glue_workers >= 2,
            "glue_timeout_minutes": self.glue_timeout_minutes >= 1,
            # Athena's minimum cutoff is 10 MB.
            "athena_bytes_scanned_cutoff_mb": self.athena_bytes_scanned_cutoff_mb >= 10,
            "table_versions_to_keep": self.table_versions_to_keep >= 1,
            "bronze_infrequent_access_days": self.bronze_infrequent_access_days >= 30,
            "max_backfill_days": self.max_backfill_days >= 1,
            "backfill_chunk_days": self.backfill_chunk_days >= 1,
            "credentials_store": self.credentials_store in CREDENTIALS_STORES,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid stack settings: {', '.join(bad)}")

    @property
    def requests_per_run(self) -> int:
        """Spotify batch requests one daily ingest makes (plus the preflight)."""
        return math.ceil(self.roster_top / ARTISTS_PER_REQUEST) + 1

    @property
    def lambda_timeout_s(self) -> int:
        """Timeout sized for the roster: fixed work + per-request budget + 429 waits, whole
        minutes, capped at Lambda's 15: 6 minutes for 20 artists, 12 for 10,000."""
        budget = (
            LAMBDA_FIXED_BUDGET_S
            + self.requests_per_run * LAMBDA_PER_REQUEST_BUDGET_S
            + LAMBDA_RATE_LIMIT_BUDGET_S
        )
        return min(LAMBDA_MAX_TIMEOUT_S, 60 * math.ceil(budget / 60))

    @property
    def glue_execution_class(self) -> ExecutionClass:
        """The execution class of the scheduled runs (runs started by hand: Standard)."""
        return "FLEX" if self.glue_flex else "STANDARD"

    @property
    def credentials_parameter_name(self) -> str:
        """The SSM parameter holding the Spotify credentials (``credentials_store="ssm"``)."""
        return f"/{self.stack_name}/spotify-credentials"

    def glue_runs_for(self, days: int) -> int:
        """Glue runs that load a range of ``days`` days: one per chunk."""
        if days < 1:
            raise ValueError("a range has at least one day")
        return math.ceil(days / self.backfill_chunk_days)

    @property
    def glue_slot_wait_s(self) -> int:
        """The longest a start may find the job's slot taken without anything being wrong:
        a backfill of ``max_backfill_days`` holding it chunk after chunk, each run up to its
        timeout (12 x 60 minutes with the defaults)."""
        return self.glue_runs_for(self.max_backfill_days) * self.glue_timeout_minutes * 60

    @property
    def glue_busy_retries(self) -> int:
        """Retries of a start refused for a taken slot, enough that their waits (60 s,
        doubling, at most 5 minutes apart) add up to :attr:`glue_slot_wait_s`: a daily run
        queues behind a whole backfill instead of failing."""
        waited, wait, retries = 0.0, float(GLUE_BUSY_FIRST_WAIT_S), 0
        while waited < self.glue_slot_wait_s:
            waited += wait
            retries += 1
            wait = min(wait * GLUE_BUSY_BACKOFF, float(GLUE_BUSY_MAX_WAIT_S))
        return retries

    @property
    def glue_dpus(self) -> float:
        return GLUE_WORKER_DPU[self.glue_worker_type] * self.glue_workers

    @property
    def athena_bytes_scanned_cutoff(self) -> int:
        return self.athena_bytes_scanned_cutoff_mb * 1024 * 1024

    @classmethod
    def from_context(cls, context: Mapping[str, object]) -> StackSettings:
        """Settings with the CDK context values that are present (strings from ``-c``
        are converted to the field's type); unknown keys are ignored (CDK's own flags)."""
        defaults = cls()
        changes: dict[str, object] = {}
        for f in fields(cls):
            key = CONTEXT_KEYS[f.name]
            if key not in context or context[key] is None:
                continue
            changes[f.name] = _convert(key, context[key], getattr(defaults, f.name))
        return replace(defaults, **changes)  # type: ignore[arg-type]


def _convert(key: str, value: object, default: object) -> object:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in {"true", "false", "1", "0", "yes", "no"}:
            raise ValueError(f"context {key}: expected true/false, got {value!r}")
        return text in {"true", "1", "yes"}
    if isinstance(default, int):
        try:
            return int(str(value))
        except ValueError as e:
            raise ValueError(f"context {key}: expected an integer, got {value!r}") from e
    text = str(value).strip()
    return text or None


DEFAULT_SETTINGS: Final = StackSettings()

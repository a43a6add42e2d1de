"""Monthly cost estimate of the deployed stack (``spotify-lakehouse cost``).

The estimate prices :class:`infra.stack_settings.StackSettings`, the object the CDK app
deploys (memory, workers, Flex for the scheduled runs, schedules, the credentials store, the
alert rules, the backfill chunk), so the two cannot drift. What the settings do not say (how
long a Glue run takes, how big an artist record is, how many queries people run) is a named
assumption below, with where the figure comes from.

Prices are public on-demand list prices of **us-east-1**, taken from the AWS pricing pages
(date in :data:`PRICES_AS_OF`). Each line is priced **without the free tier** (an account
whose free allowances other workloads already use), and says which *always-free* allowance
would cover it in an account where this stack is alone (:attr:`CostLine.free_tier`,
:attr:`CostLine.free_usd`; the 12-month new-account offers are left out). Other regions
differ by a few percent.

**The Glue run is the bill.** Glue bills each run per second with a one-minute minimum, at
2 DPUs (the smallest Spark shape), so what matters is the seconds a run is billed, stated
and justified here (:data:`GLUE_RUN_FIXED_S`, :data:`GLUE_DAY_BASE_S`,
:data:`GLUE_DAY_S_PER_1000_ARTISTS`):

* **fixed, once per run: 60 s.** The wheels (a 184 MB zip, downloaded and installed with
  ``pip --no-index --no-compile``: 10 s measured here for the 54 wheels, plus ~5 s for the
  download) ~15 s; the job's imports ~13 s (6 s measured warm, plus 7 s to compile the 2,042
  modules of the wheels it imports, which ``--no-compile`` leaves to the first import);
  Spark's start in Glue ~10 s; the first day's one-time work (Great Expectations' context,
  the tables' lookup, the first MERGE's planning) ~15 s; rounded up. The daily run used to
  be priced at 150 s because ``pip`` compiled all 5,417 modules of the wheels (40 s measured)
  and the index was on; both are off now (infra/cdk/constructs/load_job.py).
* **per day loaded: 6 s, plus 0.6 s per 1,000 artists.** Measured in one warm local Spark
  session (``python -m glue.job --start_date .. --end_date ..``, 20 artists, 2 busy cores):
  4-5 s a day; the pipeline at 10,000 artists: 3.4-6.1 s a day (issue 15). On Glue each
  day's three commits and its tag are S3 and Glue catalog round trips (~1 s each), and
  10,000 artists are 201 bronze parts read from S3: 6 s at 20 artists, 12 s at 10,000.

So the daily run (one day) is billed 66 s at 20 artists (the one-minute minimum
plus 6 s) and 72 s at 10,000; a year's backfill is 12 runs (31-day chunks), 60 s each plus
6-12 s per day: 49 minutes at 20 artists, 85 at 10,000 (it used to be 365 runs of 150 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from infra.stack_settings import ALERT_RULES, ARTISTS_PER_REQUEST, StackSettings

PRICES_REGION: Final = "us-east-1"
PRICES_AS_OF: Final = "2026-05"

# --- prices (USD) ---------------------------------------------------------------------------
#: Lambda, Arm (Graviton): per GB-second of duration, per request.
LAMBDA_ARM_GB_SECOND: Final = 0.0000133334
LAMBDA_REQUEST: Final = 0.20 / 1_000_000
#: Glue Spark jobs (Glue 2.0+): per DPU-hour, billed per second with a 1-minute minimum.
GLUE_DPU_HOUR: Final = 0.44
GLUE_FLEX_DPU_HOUR: Final = 0.29
GLUE_MINIMUM_BILLED_S: Final = 60
#: S3 Standard storage per GB-month; requests per 1,000 (PUT/COPY/POST/LIST; GET/SELECT).
S3_STANDARD_GB_MONTH: Final = 0.023
S3_PUT_PER_1000: Final = 0.005
S3_GET_PER_1000: Final = 0.0004
#: Athena SQL: per TB scanned, each query billed at least 10 MB (DDL such as CREATE VIEW is free).
ATHENA_PER_TB: Final = 5.00
ATHENA_MINIMUM_SCAN_BYTES: Final = 10 * 1024**2
#: Step Functions Standard workflows: per state transition.
SFN_TRANSITION: Final = 0.025 / 1000
#: EventBridge Scheduler: per invocation.
SCHEDULER_INVOCATION: Final = 1.00 / 1_000_000
#: Secrets Manager: per secret-month, per API call.
SECRET_MONTH: Final = 0.40
SECRET_API_CALL: Final = 0.05 / 10_000
#: SSM Parameter Store, standard tier: no charge for the parameter or for GetParameter at
#: standard throughput. KMS: requests to the AWS managed key aws/ssm (one Decrypt a read).
SSM_STANDARD_PARAMETER_MONTH: Final = 0.0
KMS_REQUEST: Final = 0.03 / 10_000
#: SNS: per publish; per email delivery.
SNS_PUBLISH: Final = 0.50 / 1_000_000
SNS_EMAIL: Final = 2.00 / 100_000
#: EventBridge: rules matching AWS service events on the default bus are not charged.
EVENTBRIDGE_SERVICE_EVENT: Final = 0.0
#: CloudWatch Logs per GB ingested / stored.
LOGS_INGEST_GB: Final = 0.50
LOGS_STORE_GB_MONTH: Final = 0.03
#: Glue Data Catalog: first million objects and requests a month are free; this stack stays
#: far below (a handful of tables; a few thousand requests).
GLUE_CATALOG: Final = 0.0

# --- always-free allowances (per account and month) -----------------------------------------
FREE_LAMBDA_REQUESTS: Final = 1_000_000
FREE_LAMBDA_GB_SECONDS: Final = 400_000
FREE_SFN_TRANSITIONS: Final = 4_000
FREE_SCHEDULER_INVOCATIONS: Final = 14_000_000
FREE_SNS_PUBLISHES: Final = 1_000_000
FREE_SNS_EMAILS: Final = 1_000
FREE_KMS_REQUESTS: Final = 20_000
FREE_LOGS_GB: Final = 5.0

# --- workload assumptions -------------------------------------------------------------------
DAYS_PER_MONTH: Final = 365.25 / 12
WEEKS_PER_MONTH: Final = 365.25 / 7 / 12
#: Lambda: imports + token + preflight + manifest, then per batch request (Spotify answers a
#: 50-artist batch in ~0.3 s) with its two bronze writes.
LAMBDA_FIXED_S: Final = 2.0
LAMBDA_PER_REQUEST_S: Final = 0.4
PRUNER_RUN_S: Final = 2.0
PRUNER_MEMORY_MB: Final = 128
#: Glue, every run: wheels, imports, Spark's start, the first day's one-time work (see the
#: module docstring for the measurements).
GLUE_RUN_FIXED_S: Final = 60.0
#: Glue, every day a run loads: validation, quarantine and DQ results, MERGE, tag...
GLUE_DAY_BASE_S: Final = 6.0
#: ...plus reading and validating the artists' records.
GLUE_DAY_S_PER_1000_ARTISTS: Final = 0.6
#: Weekly maintain run besides the fixed part: expire snapshots, compact a year of monthly
#: partitions, remove orphans; the data grows with the artists.
GLUE_MAINTAIN_BASE_S: Final = 60.0
GLUE_MAINTAIN_S_PER_1000_ARTISTS: Final = 6.0
#: The backfill :func:`backfill` prices: a year of history (what ``import-legacy`` brings).
BACKFILL_DAYS: Final = 365
#: Raw artist object (id, name, followers, popularity, genres, images, urls) ~1.1 KB; an
#: envelope ~0.6 KB per part; the manifest ~2 KB a day.
BRONZE_BYTES_PER_ARTIST: Final = 1100
BRONZE_BYTES_PER_PART: Final = 600
MANIFEST_BYTES: Final = 2000
#: Silver as zstd Parquet: ~60 bytes per artist-day (ids and names compress well).
SILVER_BYTES_PER_ROW: Final = 60
REPORT_BYTES_PER_DAY: Final = 60_000
#: How much history the storage figure holds (bronze and silver grow; the month priced is
#: one in which a year of history is stored).
HISTORY_DAYS: Final = 365
#: Athena: queries a day (a dashboard refresh plus ad-hoc questions), each scanning the
#: whole silver table in the worst case (the gold view's window needs every row).
ATHENA_QUERIES_PER_DAY: Final = 20
#: S3 requests per daily load besides the bronze parts: Iceberg data/manifest/metadata files
#: of three tables, the DQ report, the load record (PUT); reads of the same (GET).
GLUE_PUTS_PER_LOAD: Final = 20
GLUE_GETS_PER_LOAD: Final = 40
LISTS_PER_DAY: Final = 10
ATHENA_GETS_PER_QUERY: Final = 15
ATHENA_PUTS_PER_QUERY: Final = 2
#: State transitions of the daily run: plan, range check, chunks map; the chunk's ingest map,
#: ingest, status choice, "ingested"; the Glue run, the records map, the record; the views
#: choice, the view lookup, the result. The freshness check 3; maintenance 2.
PIPELINE_TRANSITIONS: Final = 3 + 4 + 3 + 3
FRESHNESS_TRANSITIONS: Final = 3
MAINTENANCE_TRANSITIONS: Final = 2
#: Logs: Glue's driver logs dominate (Spark is chatty); Lambda and state machines are small.
LOG_BYTES_PER_GLUE_RUN: Final = 2_000_000
LOG_BYTES_PER_DAY_OTHER: Final = 50_000
LOG_RETENTION_MONTHS_STORED: Final = 1.0

GB: Final = 1024**3
TB: Final = 1024**4


@dataclass(frozen=True)
class CostLine:
    service: str
    usage: str
    #: List price, no free tier.
    monthly_usd: float
    #: The always-free allowance that applies ("" when none does)...
    free_tier: str = ""
    #: ...and how much of this line it would cover in an account where the stack is alone.
    free_usd: float = 0.0


@dataclass(frozen=True)
class Estimate:
    artists: int
    flex: bool
    lines: list[CostLine] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        """The month at list prices, no free tier."""
        return sum(line.monthly_usd for line in self.lines)

    @property
    def total_within_free_tier_usd(self) -> float:
        """The month if the account's always-free allowances served only this stack."""
        return sum(line.monthly_usd - line.free_usd for line in self.lines)


@dataclass(frozen=True)
class Backfill:
    """A one-off backfill of ``days`` days: Glue runs (the rest is cents)."""

    artists: int
    days: int
    runs: int
    billed_seconds: float
    dpu_hours: float
    flex: bool
    usd: float


def glue_billed_seconds(run_seconds: float) -> float:
    """Glue bills per second with a one-minute minimum per run."""
    return max(float(GLUE_MINIMUM_BILLED_S), run_seconds)


def athena_billed_bytes(scanned_bytes: float) -> float:
    """Athena bills at least 10 MB per query (rounded up to whole MB)."""
    mb = 1024**2
    return max(float(ATHENA_MINIMUM_SCAN_BYTES), math.ceil(scanned_bytes / mb) * mb)


def glue_day_seconds(artists: int) -> float:
    """Seconds one day adds to a Glue run (after the run's fixed part)."""
    return GLUE_DAY_BASE_S + GLUE_DAY_S_PER_1000_ARTISTS * artists / 1000


def glue_run_seconds(artists: int, days: int = 1) -> float:
    """Seconds of one Glue run loading ``days`` days (before the one-minute minimum)."""
    return GLUE_RUN_FIXED_S + days * glue_day_seconds(artists)


def glue_daily_run_seconds(artists: int) -> float:
    """The daily run: a range of one day."""
    return glue_run_seconds(artists, 1)


def glue_maintain_seconds(artists: int) -> float:
    return (
        GLUE_RUN_FIXED_S + GLUE_MAINTAIN_BASE_S + GLUE_MAINTAIN_S_PER_1000_ARTISTS * artists / 1000
    )


def _dpu_hour(flex: bool) -> float:
    return GLUE_FLEX_DPU_HOUR if flex else GLUE_DPU_HOUR


def backfill(
    settings: StackSettings, artists: int, days: int = BACKFILL_DAYS, *, flex: bool = False
) -> Backfill:
    """A backfill of ``days`` days, split into runs of ``backfill_chunk_days`` days each
    (Standard by default: started by hand, a person waits; ``flex`` for ``"flex": true``)."""
    if artists < 1:
        raise ValueError("artists must be at least 1")
    runs = settings.glue_runs_for(days)
    chunk = settings.backfill_chunk_days
    sizes = [min(chunk, days - i * chunk) for i in range(runs)]
    seconds = sum(glue_billed_seconds(glue_run_seconds(artists, n)) for n in sizes)
    dpu_hours = settings.glue_dpus * seconds / 3600
    return Backfill(
        artists=artists,
        days=days,
        runs=runs,
        billed_seconds=seconds,
        dpu_hours=dpu_hours,
        flex=flex,
        usd=dpu_hours * _dpu_hour(flex),
    )


def _free(usd: float, used: float, allowance: float) -> float:
    """The part of ``usd`` (for ``used`` units) an allowance of ``allowance`` units covers."""
    if used <= 0:
        return 0.0
    return usd * min(1.0, allowance / used)


def estimate(settings: StackSettings, artists: int, *, flex: bool | None = None) -> Estimate:
    """Monthly cost of ``settings`` deployed, tracking ``artists`` artists. ``flex`` prices
    the scheduled Glue runs in that class (default: the stack's, ``glue_flex``)."""
    if artists < 1:
        raise ValueError("artists must be at least 1")
    use_flex = settings.glue_flex if flex is None else flex
    days = DAYS_PER_MONTH
    weeks = WEEKS_PER_MONTH
    requests = math.ceil(artists / ARTISTS_PER_REQUEST) + 1
    lines: list[CostLine] = []

    # Lambda: the daily ingest and the weekly pruner.
    ingest_s = LAMBDA_FIXED_S + requests * LAMBDA_PER_REQUEST_S
    gb_s = days * ingest_s * settings.lambda_memory_mb / 1024
    gb_s += weeks * PRUNER_RUN_S * PRUNER_MEMORY_MB / 1024
    invocations = days + weeks
    lambda_usd = gb_s * LAMBDA_ARM_GB_SECOND + invocations * LAMBDA_REQUEST
    lines.append(
        CostLine(
            "Lambda (arm64)",
            f"{invocations:.0f} runs, {gb_s:,.0f} GB-s ({ingest_s:.0f} s/day "
            f"at {settings.lambda_memory_mb} MB)",
            lambda_usd,
            "1M requests + 400,000 GB-s",
            _free(lambda_usd, gb_s, FREE_LAMBDA_GB_SECONDS),
        )
    )

    # Glue: the scheduled daily loads + weekly maintenance, DPU-hours, 1-minute minimum.
    daily_s = glue_billed_seconds(glue_daily_run_seconds(artists))
    maintain_s = glue_billed_seconds(glue_maintain_seconds(artists))
    dpu_hours = settings.glue_dpus * (days * daily_s + weeks * maintain_s) / 3600
    lines.append(
        CostLine(
            f"Glue 5.1 {'Flex' if use_flex else 'standard'}",
            f"{dpu_hours:.2f} DPU-h ({settings.glue_workers} x {settings.glue_worker_type}, "
            f"{daily_s:.0f} s/day, {maintain_s:.0f} s/week)",
            dpu_hours * _dpu_hour(use_flex),
        )
    )

    # S3: a year of bronze + silver + reports stored; requests of loads and queries.
    bronze_day = artists * BRONZE_BYTES_PER_ARTIST + requests * BRONZE_BYTES_PER_PART
    bronze_day += MANIFEST_BYTES
    silver_bytes = artists * HISTORY_DAYS * SILVER_BYTES_PER_ROW
    reports_bytes = min(HISTORY_DAYS, settings.reports_expire_days) * REPORT_BYTES_PER_DAY
    stored = bronze_day * HISTORY_DAYS + silver_bytes + reports_bytes
    puts = days * (2 * requests + 1 + GLUE_PUTS_PER_LOAD + LISTS_PER_DAY)
    puts += days * ATHENA_QUERIES_PER_DAY * ATHENA_PUTS_PER_QUERY
    gets = days * (requests + GLUE_GETS_PER_LOAD + ATHENA_QUERIES_PER_DAY * ATHENA_GETS_PER_QUERY)
    lines.append(
        CostLine(
            "S3",
            f"{stored / GB:.2f} GB stored ({HISTORY_DAYS} days of history), "
            f"{puts:,.0f} PUT/LIST + {gets:,.0f} GET",
            stored / GB * S3_STANDARD_GB_MONTH
            + puts / 1000 * S3_PUT_PER_1000
            + gets / 1000 * S3_GET_PER_1000,
        )
    )

    # Athena: each query scans the silver table, at least 10 MB.
    queries = days * ATHENA_QUERIES_PER_DAY
    billed = athena_billed_bytes(silver_bytes)
    lines.append(
        CostLine(
            "Athena",
            f"{queries:,.0f} queries x {billed / 1024**2:,.0f} MB billed "
            f"(silver {silver_bytes / 1024**2:,.1f} MB; 10 MB minimum)",
            queries * billed / TB * ATHENA_PER_TB,
        )
    )

    transitions = days * (PIPELINE_TRANSITIONS + FRESHNESS_TRANSITIONS)
    transitions += weeks * MAINTENANCE_TRANSITIONS
    sfn_usd = transitions * SFN_TRANSITION
    lines.append(
        CostLine(
            "Step Functions",
            f"{transitions:,.0f} state transitions",
            sfn_usd,
            "4,000 transitions",
            _free(sfn_usd, transitions, FREE_SFN_TRANSITIONS),
        )
    )
    schedules = 2 * days + weeks
    scheduler_usd = schedules * SCHEDULER_INVOCATION
    lines.append(
        CostLine(
            "EventBridge Scheduler",
            f"{schedules:.0f} invocations",
            scheduler_usd,
            "14M invocations",
            _free(scheduler_usd, schedules, FREE_SCHEDULER_INVOCATIONS),
        )
    )
    lines.append(_credentials_line(settings, days))
    subscribers = 2 if settings.alert_email else 0
    publishes = days  # one result a day; alerts are rare
    emails = publishes * subscribers / 2
    sns_usd = publishes * SNS_PUBLISH + emails * SNS_EMAIL
    lines.append(
        CostLine(
            "SNS",
            f"{publishes:.0f} publishes, {emails:.0f} emails",
            sns_usd,
            "1M publishes + 1,000 e-mails",
            _free(publishes * SNS_PUBLISH, publishes, FREE_SNS_PUBLISHES)
            + _free(emails * SNS_EMAIL, emails, FREE_SNS_EMAILS),
        )
    )
    lines.append(
        CostLine(
            "EventBridge rules",
            f"{len(ALERT_RULES)} rules on failed executions -> SNS (AWS service events: free)",
            len(ALERT_RULES) * EVENTBRIDGE_SERVICE_EVENT,
        )
    )
    log_bytes = days * (LOG_BYTES_PER_GLUE_RUN + LOG_BYTES_PER_DAY_OTHER)
    log_bytes += weeks * LOG_BYTES_PER_GLUE_RUN
    logs_usd = log_bytes / GB * (LOGS_INGEST_GB + LOG_RETENTION_MONTHS_STORED * LOGS_STORE_GB_MONTH)
    lines.append(
        CostLine(
            "CloudWatch Logs",
            f"{log_bytes / 1024**2:,.0f} MB logs, no alarms",
            logs_usd,
            "5 GB of logs",
            _free(logs_usd, log_bytes / GB, FREE_LOGS_GB),
        )
    )
    lines.append(CostLine("Glue Data Catalog", "within the free million objects/requests", 0.0))
    return Estimate(artists=artists, flex=use_flex, lines=lines)


def _credentials_line(settings: StackSettings, days: float) -> CostLine:
    """The Spotify credentials: an SSM standard parameter (free; one KMS Decrypt a read) or
    a Secrets Manager secret ($0.40 a month)."""
    if settings.credentials_store == "secretsmanager":
        return CostLine(
            "Secrets Manager",
            f"1 secret, {days:.0f} reads",
            SECRET_MONTH + days * SECRET_API_CALL,
        )
    kms_usd = days * KMS_REQUEST
    return CostLine(
        "SSM Parameter Store",
        f"1 standard SecureString (free), {days:.0f} reads, {days:.0f} KMS decrypts (aws/ssm)",
        SSM_STANDARD_PARAMETER_MONTH + kms_usd,
        "20,000 KMS requests",
        _free(kms_usd, days, FREE_KMS_REQUESTS),
    )

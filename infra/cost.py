"""Monthly cost estimate of the deployed stack (``spotify-lakehouse cost``).

The estimate prices :class:`infra.stack_settings.StackSettings`, the object the CDK app
deploys (memory, workers, Flex, schedules, alarms), so the two cannot drift. What the
settings do not say (how long a Glue run takes, how big an artist record is, how many
queries people run) is a named assumption below, with where the figure comes from.

Prices are public on-demand list prices of **us-east-1**, taken from the AWS pricing pages
(date in :data:`PRICES_AS_OF`), **without the free tier** (the estimate is for an account
that has used it up). Other regions differ by a few percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from infra.stack_settings import ALARM_METRICS, ARTISTS_PER_REQUEST, StackSettings

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
#: EventBridge Scheduler: per invocation (first 14 M a month are free; not counted here).
SCHEDULER_INVOCATION: Final = 1.00 / 1_000_000
#: Secrets Manager: per secret-month, per API call.
SECRET_MONTH: Final = 0.40
SECRET_API_CALL: Final = 0.05 / 10_000
#: SNS: per publish; per email delivery.
SNS_PUBLISH: Final = 0.50 / 1_000_000
SNS_EMAIL: Final = 2.00 / 100_000
#: CloudWatch: per standard-resolution alarm metric-month; Logs per GB ingested / stored.
ALARM_METRIC_MONTH: Final = 0.10
LOGS_INGEST_GB: Final = 0.50
LOGS_STORE_GB_MONTH: Final = 0.03
#: Glue Data Catalog: first million objects and requests a month are free; this stack stays
#: far below (a handful of tables; a few thousand requests).
GLUE_CATALOG: Final = 0.0

# --- workload assumptions -------------------------------------------------------------------
DAYS_PER_MONTH: Final = 365.25 / 12
WEEKS_PER_MONTH: Final = 365.25 / 7 / 12
#: Lambda: imports + token + preflight + manifest, then per batch request (Spotify answers a
#: 50-artist batch in ~0.3 s) with its two bronze writes.
LAMBDA_FIXED_S: Final = 2.0
LAMBDA_PER_REQUEST_S: Final = 0.4
PRUNER_RUN_S: Final = 2.0
PRUNER_MEMORY_MB: Final = 128
#: Glue daily run: ~60-90 s installing --additional-python-modules (GX, pyiceberg, pyarrow),
#: ~20 s Spark start, then validation + MERGE + tags (measured locally: 5-10 s for 20 rows,
#: a few more for 10,000). Plus a little per 1,000 artists for reading and validating.
GLUE_DAILY_BASE_S: Final = 150.0
GLUE_S_PER_1000_ARTISTS: Final = 6.0
#: Weekly maintain run: expire snapshots, compact a year of monthly partitions, orphans.
GLUE_MAINTAIN_S: Final = 180.0
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
#: State transitions: pipeline = 3 (plan, range check, map) + 4 per day + 3 (views, publish);
#: freshness check 1; maintenance 2.
PIPELINE_TRANSITIONS: Final = 3 + 4 + 3
FRESHNESS_TRANSITIONS: Final = 1
MAINTENANCE_TRANSITIONS: Final = 2
#: Logs: Glue continuous logs dominate (Spark is chatty); Lambda and state machines are small.
LOG_BYTES_PER_GLUE_RUN: Final = 2_000_000
LOG_BYTES_PER_DAY_OTHER: Final = 50_000
LOG_RETENTION_MONTHS_STORED: Final = 1.0

GB: Final = 1024**3
TB: Final = 1024**4


@dataclass(frozen=True)
class CostLine:
    service: str
    usage: str
    monthly_usd: float


@dataclass(frozen=True)
class Estimate:
    artists: int
    flex: bool
    lines: list[CostLine] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)


def glue_billed_seconds(run_seconds: float) -> float:
    """Glue bills per second with a one-minute minimum per run."""
    return max(float(GLUE_MINIMUM_BILLED_S), run_seconds)


def athena_billed_bytes(scanned_bytes: float) -> float:
    """Athena bills at least 10 MB per query (rounded up to whole MB)."""
    mb = 1024**2
    return max(float(ATHENA_MINIMUM_SCAN_BYTES), math.ceil(scanned_bytes / mb) * mb)


def glue_daily_run_seconds(artists: int) -> float:
    return GLUE_DAILY_BASE_S + GLUE_S_PER_1000_ARTISTS * artists / 1000


def estimate(settings: StackSettings, artists: int, *, flex: bool | None = None) -> Estimate:
    """Monthly cost of ``settings`` deployed, tracking ``artists`` artists."""
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
    lines.append(
        CostLine(
            "Lambda (arm64)",
            f"{invocations:.0f} runs, {gb_s:,.0f} GB-s ({ingest_s:.0f} s/day "
            f"at {settings.lambda_memory_mb} MB)",
            gb_s * LAMBDA_ARM_GB_SECOND + invocations * LAMBDA_REQUEST,
        )
    )

    # Glue: daily loads + weekly maintenance, DPU-hours with the 1-minute minimum.
    dpu_hour = GLUE_FLEX_DPU_HOUR if use_flex else GLUE_DPU_HOUR
    daily_s = glue_billed_seconds(glue_daily_run_seconds(artists))
    maintain_s = glue_billed_seconds(GLUE_MAINTAIN_S)
    dpu_hours = settings.glue_dpus * (days * daily_s + weeks * maintain_s) / 3600
    lines.append(
        CostLine(
            f"Glue 5.0 {'Flex' if use_flex else 'standard'}",
            f"{dpu_hours:.2f} DPU-h ({settings.glue_workers} x {settings.glue_worker_type}, "
            f"{daily_s:.0f} s/day, {maintain_s:.0f} s/week)",
            dpu_hours * dpu_hour,
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
    lines.append(
        CostLine(
            "Step Functions",
            f"{transitions:,.0f} state transitions",
            transitions * SFN_TRANSITION,
        )
    )
    schedules = 2 * days + weeks
    lines.append(
        CostLine(
            "EventBridge Scheduler",
            f"{schedules:.0f} invocations",
            schedules * SCHEDULER_INVOCATION,
        )
    )
    lines.append(
        CostLine(
            "Secrets Manager",
            f"1 secret, {days:.0f} reads",
            SECRET_MONTH + days * SECRET_API_CALL,
        )
    )
    subscribers = 2 if settings.alert_email else 0
    publishes = days  # one result a day; alerts are rare
    lines.append(
        CostLine(
            "SNS",
            f"{publishes:.0f} publishes, {publishes * subscribers / 2:.0f} emails",
            publishes * SNS_PUBLISH + publishes * subscribers / 2 * SNS_EMAIL,
        )
    )
    alarm_metrics = sum(ALARM_METRICS.values())
    log_bytes = days * (LOG_BYTES_PER_GLUE_RUN + LOG_BYTES_PER_DAY_OTHER)
    log_bytes += weeks * LOG_BYTES_PER_GLUE_RUN
    lines.append(
        CostLine(
            "CloudWatch",
            f"{len(ALARM_METRICS)} alarms ({alarm_metrics} metrics), "
            f"{log_bytes / 1024**2:,.0f} MB logs",
            alarm_metrics * ALARM_METRIC_MONTH
            + log_bytes / GB * (LOGS_INGEST_GB + LOG_RETENTION_MONTHS_STORED * LOGS_STORE_GB_MONTH),
        )
    )
    lines.append(CostLine("Glue Data Catalog", "within the free million objects/requests", 0.0))
    return Estimate(artists=artists, flex=use_flex, lines=lines)

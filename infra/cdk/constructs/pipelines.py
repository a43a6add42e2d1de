"""The three state machines (:mod:`infra.cdk.orchestration` says what their states do) and
the EventBridge Scheduler schedules that start them, all in UTC.

* ``pipeline``: daily at ``daily_hour_utc:daily_minute_utc``; also re-runs and backfills.
* ``freshness``: daily at ``freshness_deadline_hour_utc``; fails (and so alerts) when today
  is not loaded.
* ``maintenance``: weekly, far from the daily run, so the two never contend for the job's
  single run slot.

Each execution is logged at level ALL to a log group of the stack; X-Ray is off (cdk-nag's
SF2 is acknowledged in :mod:`infra.cdk.nag`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.cdk.constructs.alerts import Notifications
from infra.cdk.constructs.catalog import LakehouseCatalog
from infra.cdk.constructs.ingest import IngestFunction
from infra.cdk.constructs.load_job import LoadJob
from infra.cdk.constructs.logs import retained_log_group
from infra.cdk.constructs.query import QueryWorkGroup
from infra.cdk.constructs.storage import LakehouseStorage
from infra.cdk.orchestration.freshness import freshness_definition
from infra.cdk.orchestration.maintenance import maintenance_definition
from infra.cdk.orchestration.parts import PipelineParts
from infra.cdk.orchestration.pipeline import pipeline_definition
from infra.stack_settings import DEFAULT_SETTINGS, GOLD_VIEW, StackSettings

#: A backfill of a year (12 chunk runs of minutes each, plus the ingest of each day) fits,
#: and so does a daily run that queued behind one; a daily run alone takes minutes.
PIPELINE_TIMEOUT: Final = Duration.days(3)
#: The maintain run (which may wait for the daily run's slot) and the pruning take minutes;
#: four hours stops only a stuck execution.
MAINTENANCE_TIMEOUT: Final = Duration.hours(4)
#: One S3 read.
FRESHNESS_TIMEOUT: Final = Duration.minutes(5)
#: The scheduler retries a start that Step Functions refused (throttling, a brief outage)...
SCHEDULE_RETRY_ATTEMPTS: Final = 3
#: ...for at most this long: a daily run started 6 hours late is still the right day's run.
SCHEDULE_MAX_EVENT_AGE: Final = Duration.hours(6)


@dataclass(frozen=True)
class PipelinesProps:
    """What the state machines act on, and when they run (defaults:
    :class:`~infra.stack_settings.StackSettings`, whose field comments say why)."""

    storage: LakehouseStorage
    catalog: LakehouseCatalog
    ingest: IngestFunction
    load_job: LoadJob
    query: QueryWorkGroup
    notifications: Notifications
    #: The gold view's DDL (``views/sql``), run through Athena when the view is missing.
    gold_view_sql: str
    #: State machines are ``<name_prefix>-<name>``, the schedule group ``<name_prefix>``
    #: lower-cased.
    name_prefix: str = DEFAULT_SETTINGS.stack_name
    max_backfill_days: int = DEFAULT_SETTINGS.max_backfill_days
    backfill_chunk_days: int = DEFAULT_SETTINGS.backfill_chunk_days
    scheduled_execution_class: str = DEFAULT_SETTINGS.glue_execution_class
    glue_busy_retries: int = DEFAULT_SETTINGS.glue_busy_retries
    table_versions_to_keep: int = DEFAULT_SETTINGS.table_versions_to_keep
    daily_hour_utc: int = DEFAULT_SETTINGS.daily_hour_utc
    daily_minute_utc: int = DEFAULT_SETTINGS.daily_minute_utc
    freshness_deadline_hour_utc: int = DEFAULT_SETTINGS.freshness_deadline_hour_utc
    maintenance_weekday: str = DEFAULT_SETTINGS.maintenance_weekday
    maintenance_hour_utc: int = DEFAULT_SETTINGS.maintenance_hour_utc
    log_retention_days: int = DEFAULT_SETTINGS.log_retention_days

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        storage: LakehouseStorage,
        catalog: LakehouseCatalog,
        ingest: IngestFunction,
        load_job: LoadJob,
        query: QueryWorkGroup,
        notifications: Notifications,
        gold_view_sql: str,
    ) -> PipelinesProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        s = settings
        return cls(
            storage=storage,
            catalog=catalog,
            ingest=ingest,
            load_job=load_job,
            query=query,
            notifications=notifications,
            gold_view_sql=gold_view_sql,
            name_prefix=s.stack_name,
            max_backfill_days=s.max_backfill_days,
            backfill_chunk_days=s.backfill_chunk_days,
            scheduled_execution_class=s.glue_execution_class,
            glue_busy_retries=s.glue_busy_retries,
            table_versions_to_keep=s.table_versions_to_keep,
            daily_hour_utc=s.daily_hour_utc,
            daily_minute_utc=s.daily_minute_utc,
            freshness_deadline_hour_utc=s.freshness_deadline_hour_utc,
            maintenance_weekday=s.maintenance_weekday,
            maintenance_hour_utc=s.maintenance_hour_utc,
            log_retention_days=s.log_retention_days,
        )


class Pipelines(Construct):
    """The ``pipeline``, ``maintenance`` and ``freshness`` state machines and their
    schedules. The pipeline's role also gets :meth:`QueryWorkGroup.grant_view_deploy`, for
    its raw ``DeployGoldView`` state."""

    def __init__(self, scope: Construct, construct_id: str, props: PipelinesProps) -> None:
        super().__init__(scope, construct_id)
        p = self._props = props
        parts = PipelineParts(
            bucket=p.storage.data,
            ingest=p.ingest.function,
            pruner=p.catalog.pruner,
            job_name=p.load_job.job_name,
            alerts=p.notifications.alerts,
            runs=p.notifications.runs,
            workgroup=p.query.name,
            gold_view_sql=p.gold_view_sql,
            gold_view_arns=p.catalog.arns(GOLD_VIEW),
            credentials_location=p.ingest.credentials_location,
            credentials_fill_command=p.ingest.fill_command,
            max_backfill_days=p.max_backfill_days,
            backfill_chunk_days=p.backfill_chunk_days,
            scheduled_execution_class=p.scheduled_execution_class,
            glue_busy_retries=p.glue_busy_retries,
            table_versions_to_keep=p.table_versions_to_keep,
        )
        self.pipeline = self._state_machine(
            "Pipeline",
            "pipeline",
            pipeline_definition(Construct(self, "PipelineStates"), parts),
            "Daily load of one UTC day, or a re-run/backfill of a day or range.",
            PIPELINE_TIMEOUT,
        )
        p.query.grant_view_deploy(self.pipeline, GOLD_VIEW, sid="WriteGoldViewOnly")
        p.load_job.grant_run_sync(self.pipeline)
        self.maintenance = self._state_machine(
            "Maintenance",
            "maintenance",
            maintenance_definition(Construct(self, "MaintenanceStates"), parts),
            "Weekly table maintenance and Glue table-version pruning.",
            MAINTENANCE_TIMEOUT,
        )
        p.load_job.grant_run_sync(self.maintenance)
        self.freshness = self._state_machine(
            "Freshness",
            "freshness",
            freshness_definition(Construct(self, "FreshnessStates"), parts),
            "Fails (and so alerts) when today has not been loaded by the deadline hour.",
            FRESHNESS_TIMEOUT,
        )
        self._schedules()

    def _state_machine(
        self,
        construct_id: str,
        name: str,
        definition: sfn.IChainable,
        comment: str,
        timeout: Duration,
    ) -> sfn.StateMachine:
        p = self._props
        logs = retained_log_group(
            self,
            f"{name}Logs",
            retention_days=p.log_retention_days,
            name=f"/aws/vendedlogs/states/{p.name_prefix}-{name}",
        )
        return sfn.StateMachine(
            self,
            construct_id,
            state_machine_name=f"{p.name_prefix}-{name}",
            query_language=sfn.QueryLanguage.JSONATA,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            comment=comment,
            timeout=timeout,
            logs=sfn.LogOptions(
                destination=logs, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=False,
        )

    def _schedules(self) -> None:
        p = self._props
        group = scheduler.ScheduleGroup(
            self, "Schedules", schedule_group_name=p.name_prefix.lower()
        )

        def start(machine: sfn.StateMachine) -> scheduler_targets.StepFunctionsStartExecution:
            return scheduler_targets.StepFunctionsStartExecution(
                machine,
                # The day is derived from the schedule's own time, never from "now".
                input=scheduler.ScheduleTargetInput.from_object(
                    {"scheduled_time": scheduler.ContextAttribute.scheduled_time}
                ),
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
            )

        scheduler.Schedule(
            self,
            "DailySchedule",
            schedule_group=group,
            description="Daily load of the UTC day",
            schedule=scheduler.ScheduleExpression.cron(
                minute=str(p.daily_minute_utc),
                hour=str(p.daily_hour_utc),
                time_zone=TimeZone.ETC_UTC,
            ),
            target=start(self.pipeline),
        )
        scheduler.Schedule(
            self,
            "FreshnessSchedule",
            schedule_group=group,
            description="Alarm if the UTC day is not loaded by the deadline hour",
            schedule=scheduler.ScheduleExpression.cron(
                minute="0", hour=str(p.freshness_deadline_hour_utc), time_zone=TimeZone.ETC_UTC
            ),
            target=start(self.freshness),
        )
        scheduler.Schedule(
            self,
            "MaintenanceSchedule",
            schedule_group=group,
            description="Weekly table maintenance and Glue table-version pruning",
            schedule=scheduler.ScheduleExpression.cron(
                minute="0",
                hour=str(p.maintenance_hour_utc),
                week_day=p.maintenance_weekday,
                time_zone=TimeZone.ETC_UTC,
            ),
            target=start(self.maintenance),
        )

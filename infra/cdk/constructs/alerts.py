"""Who hears about the pipeline: two SNS topics, and the alarms that publish to one of them.

* ``Alerts``: something needs a person (an alarm, or a day the pipeline stopped on purpose).
* ``Runs``: the result of every daily run, for whoever wants the daily summary.

Each alarm is one of :data:`infra.stack_settings.ALARM_METRICS`, which the cost model prices:
:class:`PipelineAlarms` refuses to create any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.stack_settings import ALARM_METRICS, DEFAULT_SETTINGS, StackSettings

#: Every alarm looks at 5-minute sums: CloudWatch's standard period, and a failure shows
#: within minutes of the run.
ALARM_PERIOD: Final = Duration.minutes(5)
#: Where each alarm's description sends the person it wakes.
RUNBOOK_ALARMS: Final = "docs/runbook.md#alarms"


@dataclass(frozen=True)
class NotificationsProps:
    #: Subscribed (e-mail, confirmed from the inbox) to both topics; None = nobody yet.
    email: str | None = DEFAULT_SETTINGS.alert_email

    @classmethod
    def from_settings(cls, settings: StackSettings) -> NotificationsProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(email=settings.alert_email)


class Notifications(Construct):
    """The ``alerts`` and ``runs`` topics, TLS-only, with the optional e-mail subscription."""

    def __init__(
        self, scope: Construct, construct_id: str, props: NotificationsProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        p = props or NotificationsProps()
        self.alerts = sns.Topic(
            self, "Alerts", display_name="spotify-lakehouse alerts", enforce_ssl=True
        )
        self.runs = sns.Topic(
            self, "Runs", display_name="spotify-lakehouse daily results", enforce_ssl=True
        )
        if p.email:
            for topic in (self.alerts, self.runs):
                topic.add_subscription(subscriptions.EmailSubscription(p.email))


def failures(machine: sfn.IStateMachine) -> cloudwatch.IMetric:
    """Executions of ``machine`` that failed or timed out (a timeout is not a failure to
    Step Functions' own metrics)."""
    return cloudwatch.MathExpression(
        expression="failed + timedout",
        using_metrics={
            "failed": machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
            "timedout": machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
        },
        period=ALARM_PERIOD,
    )


@dataclass(frozen=True)
class PipelineAlarmsProps:
    """What the alarms watch and where they publish."""

    #: The topic every alarm publishes to.
    topic: sns.ITopic
    ingest: lambda_.IFunction
    pipeline: sfn.IStateMachine
    maintenance: sfn.IStateMachine
    freshness: sfn.IStateMachine
    #: Alarms are named ``<name_prefix>-<alarm>``.
    name_prefix: str = DEFAULT_SETTINGS.stack_name
    #: Named in the freshness alarm's description.
    freshness_deadline_hour_utc: int = DEFAULT_SETTINGS.freshness_deadline_hour_utc

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        topic: sns.ITopic,
        ingest: lambda_.IFunction,
        pipeline: sfn.IStateMachine,
        maintenance: sfn.IStateMachine,
        freshness: sfn.IStateMachine,
    ) -> PipelineAlarmsProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            topic=topic,
            ingest=ingest,
            pipeline=pipeline,
            maintenance=maintenance,
            freshness=freshness,
            name_prefix=settings.stack_name,
            freshness_deadline_hour_utc=settings.freshness_deadline_hour_utc,
        )


class PipelineAlarms(Construct):
    """One alarm per :data:`~infra.stack_settings.ALARM_METRICS` entry: any failure at all
    (threshold 1 in one period), no data is no failure."""

    def __init__(self, scope: Construct, construct_id: str, props: PipelineAlarmsProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        metrics: dict[str, tuple[cloudwatch.IMetric, str]] = {
            "IngestErrors": (
                p.ingest.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                "The ingest Lambda raised (the state machine retries it twice).",
            ),
            "PipelineFailed": (
                failures(p.pipeline),
                "A daily run, re-run or backfill failed or timed out.",
            ),
            "MaintenanceFailed": (
                failures(p.maintenance),
                "The weekly maintenance run or the table-version pruning failed.",
            ),
            "FreshnessMissed": (
                failures(p.freshness),
                f"Today (UTC) was not loaded by {p.freshness_deadline_hour_utc}:00 UTC.",
            ),
        }
        if set(metrics) != set(ALARM_METRICS):
            raise AssertionError("alarms and stack_settings.ALARM_METRICS disagree")
        action = cw_actions.SnsAction(p.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, (metric, description) in metrics.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                alarm_name=f"{p.name_prefix}-{name}",
                alarm_description=f"{description} See {RUNBOOK_ALARMS}.",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            self.alarms[name] = alarm

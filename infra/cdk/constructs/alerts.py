"""Who hears about the pipeline: two SNS topics, and the EventBridge rules that publish to one.

* ``Alerts``: something needs a person (a failed execution, or a day the pipeline stopped
  on purpose).
* ``Runs``: the result of every daily run, for whoever wants the daily summary.

Failures reach a person through :class:`FailureAlerts`: one EventBridge rule per state
machine, on the "Step Functions Execution Status Change" events Standard workflows send to
the default bus, for executions that end ``FAILED``, ``TIMED_OUT`` or ``ABORTED``. Each
publishes one readable message to ``Alerts``. That is what the CloudWatch alarms on
``ExecutionsFailed + ExecutionsTimedOut`` did, for free: EventBridge does not charge for
rules on AWS service events, SNS's first million publishes a month are free, while each
alarm metric cost $0.10 a month (the four alarms were $0.70 of a $2.50 bill). It is also
quicker (the event, not a 5-minute metric period) and says which execution failed. The
ingest Lambda's own errors have no rule: the pipeline retries them, and one the retries do
not cure fails the pipeline's execution. The rules are
:data:`infra.stack_settings.ALERT_RULES`, which the cost model counts:
:class:`FailureAlerts` refuses to create any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.stack_settings import ALERT_RULES, DEFAULT_SETTINGS, StackSettings

#: Where each alert sends the person it wakes.
RUNBOOK_ALARMS: Final = "docs/runbook.md#alarms"
#: Execution statuses that need a person (RUNNING and SUCCEEDED do not; a day stopped on
#: purpose ends SUCCEEDED after its own one alert).
FAILED_STATUSES: Final = ("FAILED", "TIMED_OUT", "ABORTED")


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


@dataclass(frozen=True)
class FailureAlertsProps:
    """What the rules watch and where they publish."""

    #: The topic every rule publishes to.
    topic: sns.ITopic
    pipeline: sfn.IStateMachine
    maintenance: sfn.IStateMachine
    freshness: sfn.IStateMachine
    #: Rules are named ``<name_prefix>-<rule>``.
    name_prefix: str = DEFAULT_SETTINGS.stack_name
    #: Named in the freshness alert.
    freshness_deadline_hour_utc: int = DEFAULT_SETTINGS.freshness_deadline_hour_utc

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        topic: sns.ITopic,
        pipeline: sfn.IStateMachine,
        maintenance: sfn.IStateMachine,
        freshness: sfn.IStateMachine,
    ) -> FailureAlertsProps:
        """The props of a stack with ``settings`` (:mod:`infra.stack_settings`)."""
        return cls(
            topic=topic,
            pipeline=pipeline,
            maintenance=maintenance,
            freshness=freshness,
            name_prefix=settings.stack_name,
            freshness_deadline_hour_utc=settings.freshness_deadline_hour_utc,
        )


class FailureAlerts(Construct):
    """One rule per :data:`~infra.stack_settings.ALERT_RULES` entry: an execution of its
    state machine that ended FAILED, TIMED_OUT or ABORTED publishes one message."""

    def __init__(self, scope: Construct, construct_id: str, props: FailureAlertsProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        watched: dict[str, tuple[sfn.IStateMachine, str]] = {
            "PipelineFailed": (
                p.pipeline,
                "A daily run, re-run or backfill failed, timed out or was stopped.",
            ),
            "MaintenanceFailed": (
                p.maintenance,
                "The weekly maintenance run or the table-version pruning failed.",
            ),
            "FreshnessMissed": (
                p.freshness,
                f"Today (UTC) was not loaded by {p.freshness_deadline_hour_utc}:00 UTC.",
            ),
        }
        if set(watched) != set(ALERT_RULES):
            raise AssertionError("alert rules and stack_settings.ALERT_RULES disagree")
        self.rules: dict[str, events.Rule] = {}
        for name, (machine, description) in watched.items():
            rule = events.Rule(
                self,
                name,
                rule_name=f"{p.name_prefix}-{name}",
                description=f"{description} See {RUNBOOK_ALARMS}.",
                event_pattern=events.EventPattern(
                    source=["aws.states"],
                    detail_type=["Step Functions Execution Status Change"],
                    detail={
                        "status": list(FAILED_STATUSES),
                        "stateMachineArn": [machine.state_machine_arn],
                    },
                ),
            )
            rule.add_target(
                targets.SnsTopic(
                    p.topic,
                    message=events.RuleTargetInput.from_multiline_text(
                        f"spotify-lakehouse {p.name_prefix}-{name}: {description}\n"
                        f"Execution {events.EventField.from_path('$.detail.name')} ended "
                        f"{events.EventField.from_path('$.detail.status')} at "
                        f"{events.EventField.from_path('$.detail.stopDate')} "
                        "(epoch milliseconds).\n"
                        f"Execution ARN: {events.EventField.from_path('$.detail.executionArn')}\n"
                        f"What to do: {RUNBOOK_ALARMS}"
                    ),
                )
            )
            self.rules[name] = rule

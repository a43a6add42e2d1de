"""Log groups of the stack: each with a retention, each deleted with the stack."""

from __future__ import annotations

from typing import Final, cast

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_VALUES: Final = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)


def retained_log_group(
    scope: Construct, construct_id: str, *, retention_days: int, name: str | None = None
) -> logs.LogGroup:
    """A log group that keeps its events ``retention_days`` (one of
    :data:`LOG_RETENTION_VALUES`) and goes with the stack: a log group a service creates by
    itself has neither, and keeps every event forever.

    The retention is set as a number on the L1 resource: ``logs.RetentionDays`` would take
    only the values the enum lists, and the stack's setting is a plain number of days.
    """
    if retention_days not in LOG_RETENTION_VALUES:
        raise ValueError(f"log retention {retention_days} is not one CloudWatch accepts")
    group = logs.LogGroup(
        scope, construct_id, log_group_name=name, removal_policy=RemovalPolicy.DESTROY
    )
    cast(logs.CfnLogGroup, group.node.default_child).retention_in_days = retention_days
    return group

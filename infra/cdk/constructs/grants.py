"""The one way the constructs grant: a statement added to the grantee's own policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam


def grant_statement(
    grantee: iam.IGrantable,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    sid: str | None = None,
    conditions: Mapping[str, Any] | None = None,
) -> iam.PolicyStatement:
    """Allow ``actions`` on ``resources`` to ``grantee`` (for a role of this stack: in its
    default policy) and return the statement.

    A statement rather than an ``iam.Grant``: a grant cannot carry a ``Sid``, and the
    reviewed policies name their statements. A grantee without a policy of its own (an
    imported role) is an error here rather than a grant that silently does nothing.
    """
    statement = iam.PolicyStatement(
        sid=sid,
        actions=list(actions),
        resources=list(resources),
        conditions=dict(conditions) if conditions else None,
    )
    if not grantee.grant_principal.add_to_principal_policy(statement).statement_added:
        raise ValueError(f"{grantee.grant_principal} has no policy to add a statement to")
    return statement

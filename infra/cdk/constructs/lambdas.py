"""What the stack's own Lambda functions share: runtime, architecture, a role of their own."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

#: 3.12 is the newest runtime whose Amazon Linux 2023 image the project's pure-Python
#: dependencies are tested against; the code targets 3.11+. A newer runtime is a deliberate
#: upgrade (the cdk-nag finding L1 is acknowledged for it in :mod:`infra.cdk.nag`).
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_12
#: Graviton: cheaper per GB-second than x86, and pure-Python code runs on either.
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64


def lambda_role(scope: Construct, construct_id: str, description: str) -> iam.Role:
    """A role for one function, with nothing attached: no managed policy (its log group is
    granted by the caller), so every statement it gets is one the stack wrote."""
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )

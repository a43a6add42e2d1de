"""The logical IDs the deployed stack's resources keep now that they sit in constructs.

The stack was first deployed as one flat class: every resource was a child of the stack
itself, and CDK made its logical ID from that short path (``Data/Resource`` ->
``Data666C94C7``). The constructs of :mod:`infra.cdk.constructs` put each resource one level
deeper (``Storage/Data/Resource``), and a new path means a new logical ID. CloudFormation
takes a new logical ID for a new resource: it creates it, then deletes the old one. For the
types in :data:`KEPT_TYPES` that loses data or breaks the update, so a resource of those types
keeps the ID of its *flat* path: its path below the stack without the construct it sits in
(:func:`keep_flat_logical_ids`). This is why those resources' construct ids inside the
constructs are the ids they had in the flat stack.

Roles, policies, functions and schedules hold nothing and are unnamed: their IDs follow the
constructs, and CloudFormation replaces them in one update.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final, cast

from aws_cdk import CfnResource, Stack

#: The CloudFormation types whose resources keep their flat-stack logical ID, and why.
KEPT_TYPES: Final[Mapping[str, str]] = {
    "AWS::S3::Bucket": "holds the data; a new bucket starts empty",
    "AWS::S3::BucketPolicy": "a bucket has one policy: deleting the old resource after the "
    "new one was created would delete the bucket's policy",
    "AWS::SecretsManager::Secret": "holds the Spotify credentials",
    "AWS::Logs::LogGroup": "holds the logs, under a fixed name a second group cannot take",
    "AWS::Glue::Database": "holds the Iceberg tables: deleting the old database drops them",
    "AWS::Glue::Job": "named: its replacement cannot be created beside it",
    "AWS::Athena::WorkGroup": "named: its replacement cannot be created beside it",
    "AWS::SNS::Topic": "its subscribers confirmed their subscriptions",
    "AWS::SNS::TopicPolicy": "a topic has one policy, as a bucket",
    "AWS::SNS::Subscription": "subscribing the same address again returns the existing "
    "subscription, which deleting the old resource would then remove",
    "AWS::StepFunctions::StateMachine": "named, and its execution history is the run log",
    "AWS::CloudWatch::Alarm": "named: the new alarm would overwrite the old, whose deletion "
    "would then remove it",
    "AWS::Scheduler::ScheduleGroup": "named; deleting the old group deletes its schedules",
    "AWS::Events::Rule": "named: its replacement cannot be created beside it",
}

# CDK's makeUniqueId (aws-cdk-lib core/lib/private/uniqueid.ts), which Stack.allocateLogicalId
# applies to a resource's path below its stack.
_HIDDEN_ID: Final = "Default"
_HIDDEN_FROM_HUMAN_ID: Final = "Resource"
_HASH_LEN: Final = 8
_MAX_HUMAN_LEN: Final = 240
_MAX_ID_LEN: Final = 255


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def flat_logical_id(*path: str) -> str:
    """The logical ID CDK gives a resource at ``path`` below its stack (construct ids, the
    L1 resource's own id last): ``flat_logical_id("Data", "Resource") == "Data666C94C7"``."""
    components = [c for c in path if c != _HIDDEN_ID]
    if not components:
        raise ValueError("a logical ID needs at least one path component")
    if len(components) == 1 and len(_alphanumeric(components[0])) <= _MAX_ID_LEN:
        return _alphanumeric(components[0])
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "".join(_alphanumeric(c) for c in human if c != _HIDDEN_FROM_HUMAN_ID)
    return readable[:_MAX_HUMAN_LEN] + digest[:_HASH_LEN].upper()


def keep_flat_logical_ids(stack: Stack) -> dict[str, str]:
    """Give every resource of :data:`KEPT_TYPES` below a construct of ``stack`` the logical
    ID of its path without that construct; returns them by construct path.

    Call it once every resource exists (the end of the stack's constructor), before anything
    reads a logical ID (cdk-nag's acknowledgements name some). Two resources that would share
    an ID are an error here, not a template where one silently replaces the other.
    """
    depth = len(stack.node.scopes)
    kept: dict[str, str] = {}
    for construct in stack.node.find_all():
        if not CfnResource.is_cfn_resource(construct):
            continue
        resource = cast(CfnResource, construct)
        if resource.cfn_resource_type not in KEPT_TYPES:
            continue
        below_stack = [scope.node.id for scope in resource.node.scopes[depth:]]
        if len(below_stack) < 2:
            continue  # a child of the stack itself keeps its ID anyway
        logical_id = flat_logical_id(*below_stack[1:])
        if logical_id in kept.values():
            raise ValueError(f"two resources would both be {logical_id}")
        resource.override_logical_id(logical_id)
        kept[resource.node.path] = logical_id
    return kept

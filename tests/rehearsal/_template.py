"""The synthesized template, read the way CloudFormation would deploy it into moto.

The rehearsal never retypes what the stack says: the Glue job's arguments, the Lambda's
environment, the roles' policies and the state machines' definitions all come from the
template, with CloudFormation's intrinsic functions (``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
``Fn::Sub``, ``Fn::Select``, ``Fn::Split``) resolved against the physical names the
rehearsal gives each resource in moto. The names follow CloudFormation's own rules: an
explicit name property wins, else a generated ``<stack>-<logical id>`` name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"
PARTITION: Final = "aws"

#: Explicit name property of each resource type (what ``Ref`` returns when it is set).
NAME_PROPERTIES: Final[dict[str, str]] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Glue::Job": "Name",
    "AWS::Athena::WorkGroup": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
}


def _arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
    return (
        f"arn:{PARTITION}:{service}:{REGION if region else ''}:"
        f"{ACCOUNT if account else ''}:{resource}"
    )


@dataclass
class Template:
    """One stack's template with every intrinsic resolvable."""

    raw: dict[str, Any]
    stack_name: str
    names: dict[str, str] = field(default_factory=dict)
    #: ARNs that moto chose itself (a secret's random suffix), by logical id.
    arns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Template:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(raw=raw, stack_name=path.name.removesuffix(".template.json"))

    # --- resources -------------------------------------------------------------------------
    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.raw["Resources"]
        return resources

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def only(self, kind: str, contains: str = "") -> tuple[str, dict[str, Any]]:
        """The one resource of ``kind`` whose logical id contains ``contains``."""
        found = [(k, v) for k, v in self.of_type(kind).items() if contains in k]
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources of {kind} match {contains!r}")
        return found[0]

    def properties(self, logical_id: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resolve(self.resources[logical_id].get("Properties", {}))
        return props

    # --- physical names --------------------------------------------------------------------
    def name(self, logical_id: str) -> str:
        """The physical name (what ``Ref`` gives for most types) of a resource."""
        if logical_id in self.names:
            return self.names[logical_id]
        resource = self.resources[logical_id]
        kind = resource["Type"]
        prop = NAME_PROPERTIES.get(kind)
        explicit = resource.get("Properties", {}).get(prop) if prop else None
        if explicit is not None:
            value = str(self.resolve(explicit))
        else:
            suffix = re.sub(r"[^a-z0-9]", "", logical_id.lower())[-20:]
            value = f"{self.stack_name.lower()}-{suffix}"[:63]
        self.names[logical_id] = value
        return value

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::NoValue": "",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id in self.raw.get("Parameters", {}):
            default = self.raw["Parameters"][logical_id].get("Default", "")
            return str(default)
        kind = self.resources[logical_id]["Type"]
        if kind in ("AWS::SecretsManager::Secret", "AWS::SNS::Topic"):
            return self.arn(logical_id)
        if kind == "AWS::StepFunctions::StateMachine":
            return self.arn(logical_id)
        return self.name(logical_id)

    def arn(self, logical_id: str) -> str:
        if logical_id in self.arns:
            return self.arns[logical_id]
        kind = self.resources[logical_id]["Type"]
        name = self.name(logical_id)
        arns = {
            "AWS::S3::Bucket": lambda: f"arn:{PARTITION}:s3:::{name}",
            "AWS::IAM::Role": lambda: _arn("iam", f"role/{name}", region=False),
            "AWS::Lambda::Function": lambda: _arn("lambda", f"function:{name}"),
            "AWS::Logs::LogGroup": lambda: _arn("logs", f"log-group:{name}:*"),
            "AWS::SNS::Topic": lambda: _arn("sns", name),
            "AWS::SecretsManager::Secret": lambda: _arn("secretsmanager", f"secret:{name}-AbCdEf"),
            "AWS::StepFunctions::StateMachine": lambda: _arn("states", f"stateMachine:{name}"),
            "AWS::Glue::Job": lambda: _arn("glue", f"job/{name}"),
            "AWS::Athena::WorkGroup": lambda: _arn("athena", f"workgroup/{name}"),
            "AWS::Scheduler::ScheduleGroup": lambda: _arn("scheduler", f"schedule-group/{name}"),
        }
        if kind not in arns:
            raise KeyError(f"no ARN rule for {kind} ({logical_id})")
        return arns[kind]()

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute == "Name":
            return self.name(logical_id)
        if attribute in ("RegionalDomainName", "DomainName"):
            return f"{self.name(logical_id)}.s3.amazonaws.com"
        raise KeyError(f"no rule for Fn::GetAtt {logical_id}.{attribute}")

    # --- intrinsics ------------------------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), *_ = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Join":
                separator, parts = value
                return separator.join(str(self.resolve(p)) for p in parts)
            if key == "Fn::Sub":
                return self._sub(value)
            if key == "Fn::Select":
                index, items = value
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = value
                return str(self.resolve(text)).split(separator)
        return {k: self.resolve(v) for k, v in node.items()}

    def _sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else value
        resolved = {k: str(self.resolve(v)) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in resolved:
                return resolved[token]
            if "." in token:
                logical, attribute = token.split(".", 1)
                return self.get_att(logical, attribute)
            return self.ref(token)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    # --- what the rehearsal reads ----------------------------------------------------------
    def role_policies(self, role_logical_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(policy name, resolved document) of every policy the template attaches to a role:
        inline ``Policies`` and every ``AWS::IAM::Policy`` naming the role."""
        role = self.resources[role_logical_id]
        for policy in role.get("Properties", {}).get("Policies", []):
            yield policy["PolicyName"], self.resolve(policy["PolicyDocument"])
        for logical, resource in self.of_type("AWS::IAM::Policy").items():
            roles = resource["Properties"].get("Roles", [])
            if {"Ref": role_logical_id} in roles:
                yield logical, self.resolve(resource["Properties"]["PolicyDocument"])

    def managed_policy_arns(self, role_logical_id: str) -> list[str]:
        arns = self.resources[role_logical_id].get("Properties", {}).get("ManagedPolicyArns", [])
        return [str(self.resolve(a)) for a in arns]

    def role_of(self, logical_id: str) -> str:
        """The logical id of the role a function / job / state machine runs as."""
        props = self.resources[logical_id]["Properties"]
        role = props.get("Role") or props.get("RoleArn")
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            return str(role["Fn::GetAtt"][0])
        if isinstance(role, dict) and "Ref" in role:
            return str(role["Ref"])
        raise LookupError(f"{logical_id} names no role of this template: {role!r}")

    def state_machine_definition(self, logical_id: str) -> dict[str, Any]:
        props = self.resources[logical_id]["Properties"]
        definition = props.get("DefinitionString")
        text = self.resolve(definition)
        parsed: dict[str, Any] = json.loads(text)
        return parsed


def evaluate_jsonata(
    value: Any, states: dict[str, Any], variables: dict[str, Any] | None = None
) -> Any:
    """A state's field as Step Functions evaluates it: every ``{% expression %}`` string
    is JSONata with ``$states`` bound (``input``, ``result``, ``context``) and the
    execution's assigned ``variables`` (``Assign``) in scope."""
    import jsonata

    if isinstance(value, dict):
        return {k: evaluate_jsonata(v, states, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate_jsonata(v, states, variables) for v in value]
    if isinstance(value, str) and value.startswith("{%") and value.endswith("%}"):
        expression = jsonata.Jsonata(value[2:-2].strip())
        expression.assign("states", states)
        for name, bound in (variables or {}).items():
            expression.assign(name, bound)
        return expression.evaluate(None)
    return value


def find_state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """A state by name anywhere in a definition (Map item processors included)."""
    states: dict[str, Any] = definition.get("States", {})
    if name in states:
        found: dict[str, Any] = states[name]
        return found
    for state in states.values():
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                try:
                    return find_state(state[key], name)
                except KeyError:
                    pass
        for branch in state.get("Branches", []):
            try:
                return find_state(branch, name)
            except KeyError:
                pass
    raise KeyError(f"no state {name!r} in the definition")

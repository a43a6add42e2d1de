"""What no emulator catches, read from the synthesized template: the first deploy into a new
account, and the first run, must not fail on the account's limits or on a missing grant.

Each check names the failure it keeps out (docs/runbook.md, "first deploy").
"""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized


def _statements(s: Synthesized) -> dict[str, list[dict[str, Any]]]:
    """Policy statements by the logical id of the role they are attached to."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in s.resources("AWS::IAM::Policy").values():
        props = policy["Properties"]
        for role in props.get("Roles", []):
            by_role.setdefault(role["Ref"], []).extend(props["PolicyDocument"]["Statement"])
    for logical, role in s.resources("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            by_role.setdefault(logical, []).extend(inline["PolicyDocument"]["Statement"])
    return by_role


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def _flat(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flat(p) for p in value["Fn::Join"][1])
    if isinstance(value, list):
        return ",".join(_flat(v) for v in value)
    return "<ref>"


def test_no_function_reserves_concurrency(synthesized: Synthesized) -> None:
    """A reservation may not take the account's unreserved concurrency below its minimum:
    in a new account (quota often 10) CloudFormation refuses it and rolls back."""
    for logical, function in synthesized.resources("AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], logical


def test_every_role_that_starts_athena_queries_can_read_the_data_catalog(
    synthesized: Synthesized,
) -> None:
    starters = {
        role: statements
        for role, statements in _statements(synthesized).items()
        if any(a.lower() == "athena:startqueryexecution" for st in statements for a in _actions(st))
    }
    assert starters, "some role runs the gold view's DDL through Athena"
    for role, statements in starters.items():
        grants = [
            _flat(st["Resource"])
            for st in statements
            if st["Effect"] == "Allow"
            and any(a.lower() == "athena:getdatacatalog" for a in _actions(st))
        ]
        assert any("datacatalog/AwsDataCatalog" in g for g in grants), role


def test_the_glue_job_reaches_no_package_index(synthesized: Synthesized) -> None:
    """Every Python module the job installs is one of the stack's own S3 assets, installed
    with the index switched off: a run never depends on PyPI or an upstream release."""
    [job] = synthesized.resources("AWS::Glue::Job").values()
    args = job["Properties"]["DefaultArguments"]
    modules = _flat(args["--additional-python-modules"]).split(",")
    assert modules
    for module in modules:
        assert module.startswith("s3://"), module
    assert "--no-index" in args["--python-modules-installer-option"]


def test_every_log_group_is_the_stacks_with_a_retention(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Logs::LogGroup")
    assert groups
    for logical, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), logical


def test_the_glue_job_logs_into_the_stacks_groups(synthesized: Synthesized) -> None:
    """Without ``--custom-logGroup-prefix`` Glue 5 creates /aws-glue/jobs/output and
    /aws-glue/jobs/error itself: outside the stack, kept forever."""
    [job] = synthesized.resources("AWS::Glue::Job").values()
    args = job["Properties"]["DefaultArguments"]
    names = {
        _flat(g["Properties"].get("LogGroupName"))
        for g in synthesized.resources("AWS::Logs::LogGroup").values()
    }
    prefix = args["--custom-logGroup-prefix"]
    for stream in ("output", "error"):
        assert f"{prefix}/{stream}" in names
    assert "--continuous-log-logGroup" not in args  # Glue 4.0's way; 5.x ignores it


def test_the_lambda_timeout_leaves_room_for_its_budget(synthesized: Synthesized) -> None:
    from ingest.budget import SAFETY_MARGIN_S

    for function in synthesized.resources("AWS::Lambda::Function").values():
        if function["Properties"]["Handler"] == "ingest.handler.handler":
            assert function["Properties"]["Timeout"] > SAFETY_MARGIN_S


def _nulls(node: Any, path: str = "") -> list[str]:
    if node is None:
        return [path]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _nulls(v, f"{path}[{i}]")]
    return []


def test_no_state_passes_a_null_argument(synthesized: Synthesized) -> None:
    """A null in a task's Arguments reaches the service API, which has no null type."""
    import json

    for logical, machine in synthesized.resources("AWS::StepFunctions::StateMachine").items():
        definition = json.loads(_flat(machine["Properties"]["DefinitionString"]))
        for name, state in definition["States"].items():
            assert _nulls(state.get("Arguments", {})) == [], (logical, name)
            for inner in state.get("ItemProcessor", {}).get("States", {}).values():
                assert _nulls(inner.get("Arguments", {})) == [], (logical, name)

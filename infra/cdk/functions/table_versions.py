"""Lambda: prune archived Glue table versions of the ``spotify`` database.

Why: Glue archives the previous table definition on every ``UpdateTable`` that does not
pass ``SkipArchive`` (pyiceberg and Athena DDL, for example; the Spark job sets
``glue.skip-archive=true``), and it caps the versions a table may keep. Iceberg needs none
of them: its own history lives in the metadata files. The weekly maintenance state machine
calls this after the maintain run; it keeps the newest ``keep`` versions of every table
(the current one is always the newest) and deletes the rest, 100 per call (the API limit).

Needs only boto3 (in the Lambda runtime), so it ships as this one file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Final

import boto3  # type: ignore[import-untyped]

log = logging.getLogger()
log.setLevel(logging.INFO)

#: BatchDeleteTableVersion accepts at most 100 version ids per call.
BATCH_LIMIT: Final = 100


class PruneError(RuntimeError):
    """Glue refused to delete some versions; the maintenance run fails and alarms."""


class PruneEventError(ValueError):
    """The event (or the environment) asks for something impossible; nothing was deleted."""


def table_names(glue: Any, database: str) -> list[str]:
    names: list[str] = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        names.extend(t["Name"] for t in page["TableList"])
    return sorted(names)


def stale_versions(version_ids: list[str], keep: int) -> list[str]:
    """The version ids to delete: all but the ``keep`` newest (Glue numbers them upwards)."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the newest version is the live table")
    newest_first = sorted(version_ids, key=int, reverse=True)
    return sorted(newest_first[keep:], key=int)


def prune_table(glue: Any, database: str, table: str, keep: int) -> int:
    versions: list[str] = []
    paginator = glue.get_paginator("get_table_versions")
    for page in paginator.paginate(DatabaseName=database, TableName=table):
        versions.extend(v["VersionId"] for v in page["TableVersions"])
    stale = stale_versions(versions, keep)
    errors: list[str] = []
    for start in range(0, len(stale), BATCH_LIMIT):
        batch = stale[start : start + BATCH_LIMIT]
        answer = glue.batch_delete_table_version(
            DatabaseName=database, TableName=table, VersionIds=batch
        )
        errors.extend(
            f"{e.get('VersionId')}: {e.get('ErrorDetail', {}).get('ErrorMessage')}"
            for e in answer.get("Errors", [])
        )
    if errors:
        raise PruneError(f"{database}.{table}: {len(errors)} versions not deleted: {errors[:5]}")
    log.info("%s.%s: %d versions, deleted %d", database, table, len(versions), len(stale))
    return len(stale)


def prune_database(glue: Any, database: str, keep: int) -> dict[str, int]:
    """Deleted version counts per table."""
    return {name: prune_table(glue, database, name, keep) for name in table_names(glue, database)}


def _setting(event: Mapping[str, Any], key: str, env: str) -> tuple[object, str]:
    """The event's value for ``key`` if the event has one (``null`` counts as absent), else
    the environment's; with where it came from, for messages. A falsy value the event gives
    (``0``, ``""``) is the event's value, never a cue to use the environment."""
    value = event.get(key)
    if value is not None:
        return value, f"the event's {key!r}"
    if env not in os.environ:
        raise PruneEventError(f"no {key!r} in the event and {env} is not set")
    return os.environ[env], env


def keep_setting(event: Mapping[str, Any]) -> int:
    """How many versions to keep: a whole number >= 1 (the newest version is the live table,
    so ``keep: 0`` is an error, never "fall back to the default")."""
    raw, source = _setting(event, "keep", "KEEP_VERSIONS")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise PruneEventError(f"{source} must be a whole number, got {raw!r}")
    try:
        keep = int(raw)
    except ValueError as e:
        raise PruneEventError(f"{source} must be a whole number, got {raw!r}") from e
    if keep < 1:
        raise PruneEventError(
            f"{source} must be at least 1 (the newest version is the live table), got {raw!r}"
        )
    return keep


def database_setting(event: Mapping[str, Any]) -> str:
    raw, source = _setting(event, "database", "GLUE_DATABASE")
    if not isinstance(raw, str) or not raw:
        raise PruneEventError(f"{source} must name a Glue database, got {raw!r}")
    return raw


def handler(event: Mapping[str, Any] | None, context: object) -> dict[str, Any]:
    """Event (all optional): ``{"database": "spotify", "keep": 100}``; a key that is absent
    or ``null`` takes its default from the environment (``GLUE_DATABASE``,
    ``KEEP_VERSIONS``). An explicit value is used as given, and checked: ``keep`` must be a
    whole number >= 1, so ``keep: 0`` fails (:class:`PruneEventError`) before any call to Glue.
    """
    event = event or {}
    database = database_setting(event)
    keep = keep_setting(event)
    deleted = prune_database(boto3.client("glue"), database, keep)
    return {"database": database, "keep": keep, "deleted": deleted}

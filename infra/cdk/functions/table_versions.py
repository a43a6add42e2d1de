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


def handler(event: Mapping[str, Any] | None, context: object) -> dict[str, Any]:
    """Event (all optional): ``{"database": "spotify", "keep": 100}``; defaults from env."""
    event = event or {}
    database = str(event.get("database") or os.environ["GLUE_DATABASE"])
    keep = int(event.get("keep") or os.environ["KEEP_VERSIONS"])
    deleted = prune_database(boto3.client("glue"), database, keep)
    return {"database": database, "keep": keep, "deleted": deleted}

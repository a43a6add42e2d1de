"""The Glue table-version pruner, against a fake Glue client."""

from __future__ import annotations

from typing import Any

import pytest

from infra.cdk.functions import table_versions as tv


class FakeGlue:
    def __init__(self, tables: dict[str, int], failing: set[str] | None = None) -> None:
        self.versions = {t: [str(v) for v in range(1, n + 1)] for t, n in tables.items()}
        self.failing = failing or set()
        self.batches: list[list[str]] = []

    def get_paginator(self, name: str) -> Any:
        glue = self

        class Paginator:
            def paginate(self, **kwargs: str) -> list[dict[str, Any]]:
                if name == "get_tables":
                    return [{"TableList": [{"Name": t} for t in glue.versions]}]
                versions = glue.versions[kwargs["TableName"]]
                pages = [versions[i : i + 100] for i in range(0, len(versions), 100)] or [[]]
                return [{"TableVersions": [{"VersionId": v} for v in p]} for p in pages]

        return Paginator()

    def batch_delete_table_version(
        self, DatabaseName: str, TableName: str, VersionIds: list[str]
    ) -> dict[str, Any]:
        self.batches.append(VersionIds)
        errors = [
            {"VersionId": v, "ErrorDetail": {"ErrorMessage": "no"}}
            for v in VersionIds
            if v in self.failing
        ]
        self.versions[TableName] = [v for v in self.versions[TableName] if v not in VersionIds]
        return {"Errors": errors}


def test_stale_versions_keep_the_newest_numerically() -> None:
    assert tv.stale_versions(["1", "2", "10", "9", "3"], keep=2) == ["1", "2", "3"]
    assert tv.stale_versions(["1"], keep=5) == []
    with pytest.raises(ValueError, match="keep"):
        tv.stale_versions(["1"], keep=0)


def test_prune_database_deletes_in_batches_of_100() -> None:
    glue = FakeGlue({"artists_silver": 350, "dq_results": 3})
    assert tv.prune_database(glue, "spotify", keep=100) == {"artists_silver": 250, "dq_results": 0}
    assert [len(b) for b in glue.batches] == [100, 100, 50]
    assert glue.versions["artists_silver"] == [str(v) for v in range(251, 351)]


def test_refused_deletions_fail_the_run() -> None:
    glue = FakeGlue({"artists_silver": 5}, failing={"2"})
    with pytest.raises(tv.PruneError, match="1 versions not deleted"):
        tv.prune_table(glue, "spotify", "artists_silver", keep=1)

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


# The handler: event first, environment for what the event leaves out ----------------------


@pytest.fixture
def handler_glue(monkeypatch: pytest.MonkeyPatch) -> FakeGlue:
    glue = FakeGlue({"artists_silver": 12})
    monkeypatch.setattr(tv.boto3, "client", lambda service: glue)
    monkeypatch.setenv("GLUE_DATABASE", "spotify")
    monkeypatch.setenv("KEEP_VERSIONS", "10")
    return glue


def test_the_handler_takes_defaults_from_the_environment(handler_glue: FakeGlue) -> None:
    for event in (None, {}, {"keep": None, "database": None}):
        handler_glue.versions["artists_silver"] = [str(v) for v in range(1, 13)]
        answer = tv.handler(event, None)
        assert answer == {"database": "spotify", "keep": 10, "deleted": {"artists_silver": 2}}


def test_an_explicit_keep_wins_over_the_environment(handler_glue: FakeGlue) -> None:
    answer = tv.handler({"keep": 3}, None)
    assert answer["keep"] == 3
    assert handler_glue.versions["artists_silver"] == ["10", "11", "12"]
    assert tv.handler({"keep": "12"}, None)["keep"] == 12  # a string from a template, too


@pytest.mark.parametrize("keep", [0, -1, "0", True, 2.5, "ten", ""])
def test_an_impossible_keep_fails_before_touching_glue(
    handler_glue: FakeGlue, keep: object
) -> None:
    """``keep: 0`` once fell back to KEEP_VERSIONS silently; it is an error now."""
    with pytest.raises(tv.PruneEventError, match="keep"):
        tv.handler({"keep": keep}, None)
    assert handler_glue.batches == []
    assert len(handler_glue.versions["artists_silver"]) == 12


def test_a_zero_in_the_environment_is_an_error_too(
    handler_glue: FakeGlue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEP_VERSIONS", "0")
    with pytest.raises(tv.PruneEventError, match="KEEP_VERSIONS must be at least 1"):
        tv.handler({}, None)
    monkeypatch.delenv("KEEP_VERSIONS")
    with pytest.raises(tv.PruneEventError, match="KEEP_VERSIONS is not set"):
        tv.handler({}, None)
    assert handler_glue.batches == []


def test_an_empty_database_is_an_error_not_the_default(handler_glue: FakeGlue) -> None:
    with pytest.raises(tv.PruneEventError, match="database"):
        tv.handler({"database": ""}, None)
    assert tv.handler({"database": "other"}, None)["database"] == "other"

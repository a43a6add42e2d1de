"""One tag retention per home (issue 9, item 9), through the real CLI.

``maintain --tag-retention-days 28`` drops the daily tags older than 28 days on every table,
and stores 28 as the home's setting (silver's table property). A ``transform`` of a new day,
a new process, then obeys it: it neither re-creates the dropped tags (silver's tag repair)
nor tags anything for longer, on silver, the quarantine or dq_results; ``maintain`` with no
option keeps 28; an as-of beyond it is the contract's clear error.

Days are counted back from the real UTC today: the CLI runs in its own process, on its own
clock. The days are loaded in this process first (first loads: no Spark).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pyiceberg.table import Table

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import LOAD_TABLES, TABLES, TAG_RETENTION_PROPERTY
from catalog.iceberg.tags import MS_PER_DAY, tag_name, tag_retained
from catalog.iceberg.timetravel import load_tags
from catalog.paths import LakehousePaths
from infra.local.pipeline import LocalPipeline
from tests.bronze_days import artist, write_day
from tests.cli._run import reason, run_cli, succeeded

RETENTION = 28


def roster(day: date) -> list[Any]:
    return [artist(i, followers=1_000_000 * i + day.toordinal() % 1000) for i in (1, 2, 3)]


def tables(paths: LakehousePaths) -> dict[str, Table]:
    catalog = local_catalog(paths)
    return {name: catalog.load_table(TABLES[name].identifier) for name in LOAD_TABLES}


def tagged_days(paths: LakehousePaths) -> dict[str, list[date]]:
    return {name: [t.day for t in load_tags(table)] for name, table in tables(paths).items()}


def test_a_shortened_retention_holds_for_every_later_writer(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    old = [today - timedelta(days=n) for n in (40, 31)]  # beyond 28 days
    recent = [today - timedelta(days=n) for n in (10, 3)]
    new_day = today - timedelta(days=1)
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    for n, day in enumerate([*old, *recent, new_day]):
        write_day(store, day, [roster(day)], run_id=f"run-{n}")
    with LocalPipeline(paths) as pipeline:
        for day in [*old, *recent]:
            assert pipeline.transform(day).write == "append"
    assert all(days == [*old, *recent] for days in tagged_days(paths).values())

    home = ["--home", str(paths.home)]
    maintained = run_cli(
        [
            *home,
            "maintain",
            "--tag-retention-days",
            str(RETENTION),
            "--no-compact",
            "--format",
            "json",
        ],
        cwd=tmp_path,
    )
    succeeded(maintained)
    dropped = {r["table"]: sorted(r["dropped_tags"]) for r in json.loads(maintained.out)}
    # pipeline_runs has no load tags: maintenance lists it with none dropped.
    assert dropped == {
        f"spotify.{name}": [tag_name(d) for d in old] if name in LOAD_TABLES else []
        for name in TABLES
    }
    assert tables(paths)["artists_silver"].properties[TAG_RETENTION_PROPERTY] == str(RETENTION)

    # A new day, in a new process: the dropped tags stay dropped, the new ones last 28 days.
    succeeded(run_cli([*home, "transform", "--date", new_day.isoformat()], cwd=tmp_path))
    after = tables(paths)
    for name, table in after.items():
        tags = load_tags(table)
        assert [t.day for t in tags] == [*recent, new_day], name
        assert all(tag_retained(t.day, today, RETENTION) for t in tags), name
        new_tag = next(t for t in tags if t.day == new_day)
        assert new_tag.max_ref_age_ms == RETENTION * MS_PER_DAY, name

    # As of a day beyond the retention: the contract's clear error, never an answer.
    refused = run_cli(
        [
            *home,
            "query",
            "SELECT count(*) AS n FROM artists_silver",
            "--as-of",
            old[-1].isoformat(),
        ],
        cwd=tmp_path,
    )
    reason(
        refused,
        1,
        "no load tag at or before",
        f"earliest retained load date is {recent[0].isoformat()}",
        f"kept for {RETENTION} days",
    )

    # A tag older than the retention that some writer left (simulated here): maintain with
    # no option uses the stored 28 days and drops it; it does not fall back to 400.
    silver = after["artists_silver"]
    snapshot = silver.current_snapshot()
    assert snapshot is not None
    stray = today - timedelta(days=RETENTION + 5)
    with silver.manage_snapshots() as manage:
        manage.create_tag(snapshot.snapshot_id, tag_name(stray), max_ref_age_ms=400 * MS_PER_DAY)
    again = run_cli([*home, "maintain", "--no-compact", "--format", "json"], cwd=tmp_path)
    succeeded(again)
    dropped = {r["table"]: r["dropped_tags"] for r in json.loads(again.out)}
    assert dropped["spotify.artists_silver"] == [tag_name(stray)]
    assert tables(paths)["artists_silver"].properties[TAG_RETENTION_PROPERTY] == str(RETENTION)

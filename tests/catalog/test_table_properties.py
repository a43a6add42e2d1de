"""Table properties from the one table module: set at creation, added to an older home once,
never overriding a value someone set; and what the manifest-merge setting is for: a table
appended to every day keeps a bounded number of manifests to plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import (
    COMMON_PROPERTIES,
    CREATION_ONLY_PROPERTIES,
    DQ_RESULTS,
    ensure_table,
    ensure_tables,
)
from catalog.paths import LakehousePaths

MERGE = "commit.manifest-merge.enabled"
MIN_COUNT = "commit.manifest.min-count-to-merge"


def test_a_second_ensure_commits_nothing(tmp_path: Path) -> None:
    catalog = local_catalog(LakehousePaths.resolve(tmp_path / "home"))
    first = ensure_tables(catalog)
    again = ensure_tables(catalog)
    assert {n: t.metadata_location for n, t in again.items()} == {
        n: t.metadata_location for n, t in first.items()
    }
    for table in again.values():
        for key, value in COMMON_PROPERTIES.items():
            if key not in CREATION_ONLY_PROPERTIES:
                assert table.properties[key] == value, key


def test_an_older_table_gets_a_missing_property_and_keeps_its_own(tmp_path: Path) -> None:
    catalog = local_catalog(LakehousePaths.resolve(tmp_path / "home"))
    table = ensure_table(catalog, DQ_RESULTS)
    with table.transaction() as transaction:  # a home made before the setting existed,
        transaction.remove_properties(MERGE)  # whose operator chose their own merge count
        transaction.set_properties({MIN_COUNT: "50"})
    evolved = ensure_table(catalog, DQ_RESULTS)
    assert evolved.properties[MERGE] == "true"
    assert evolved.properties[MIN_COUNT] == "50"


def test_daily_appends_keep_the_manifests_to_plan_bounded(tmp_path: Path) -> None:
    catalog = local_catalog(LakehousePaths.resolve(tmp_path / "home"))
    table = ensure_table(catalog, DQ_RESULTS)
    schema = table.schema().as_arrow()
    counts = []
    for n in range(30):
        row = {
            "snapshot_date": date(2026, 1, 1) + timedelta(days=n),
            "run_id": f"r{n}",
            "validation_id": f"v{n}",
            "validated_at": datetime(2026, 1, 1, tzinfo=UTC),
            "suite": "silver",
            "expectation": "e",
            "severity": "critical",
            "success": True,
        }
        table.append(pa.Table.from_pylist([row], schema=schema))
        snapshot = table.current_snapshot()
        assert snapshot is not None
        counts.append(len(snapshot.manifests(table.io)))
    limit = int(COMMON_PROPERTIES[MIN_COUNT])
    assert max(counts) <= limit, counts
    assert len(table.scan().to_arrow()) == 30  # merged, nothing lost

"""A silver writer without Spark, and a fresh lakehouse home per test.

:class:`SilverWriter` keeps the writer's contract (glue/) with plain pyiceberg: a load of day
D replaces that day's rows in ONE commit whose summary has ``snapshot_date`` and ``run_id``,
then creates or moves the tag ``snapshot-D`` (max-ref-age 400 days). It also makes a
compaction-like commit (no snapshot_date) and a rollback, which the time-travel rule must
ignore.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table import Table

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.iceberg.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE, tag_name, tag_retention_ms
from catalog.paths import LakehousePaths
from views.local import LocalEngine


@dataclass(frozen=True)
class Artist:
    artist_id: str
    name: str


@dataclass
class SilverWriter:
    paths: LakehousePaths
    catalog: Catalog | None = None  # another catalog (Glue on moto); the home's by default

    @property
    def table(self) -> Table:
        catalog = self.catalog if self.catalog is not None else local_catalog(self.paths)
        return catalog.load_table(ARTISTS_SILVER.identifier)

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.table.scan().to_arrow().to_pylist()
        return rows

    def load(
        self,
        day: date,
        followers: dict[Artist, int | None],
        run_id: str = "",
        popularity: dict[Artist, int] | None = None,
    ) -> int:
        """Load day D: one commit replacing D's rows, then tag ``snapshot-D``; its id."""
        table = self.table
        run = run_id or f"run-{day.isoformat()}-{uuid.uuid4().hex[:6]}"
        new_rows = [
            _row(artist, day, count, run, popularity=(popularity or {}).get(artist, 50 + i))
            for i, (artist, count) in enumerate(followers.items())
        ]
        kept = [r for r in self.rows() if r["snapshot_date"] != day]
        replaces = len(kept) != len(self.rows())
        properties = {SUMMARY_SNAPSHOT_DATE: day.isoformat(), SUMMARY_RUN_ID: run}
        if replaces:
            self._rewrite(table, kept + new_rows, properties)
        else:
            table.append(_arrow(table, new_rows), snapshot_properties=properties)
        table = self.table
        snapshot = table.current_snapshot()
        assert snapshot is not None
        self.tag(day, snapshot.snapshot_id)
        return snapshot.snapshot_id

    def tag(self, day: date, snapshot_id: int) -> None:
        """Create ``snapshot-D``, or move it (remove + create in one metadata commit)."""
        table = self.table
        name = tag_name(day)
        with table.manage_snapshots() as manage:
            if name in table.metadata.refs:
                manage.remove_tag(name)
            manage.create_tag(snapshot_id, name, max_ref_age_ms=tag_retention_ms())

    def compact(self) -> int:
        """Rewrite every row into new files with no snapshot_date (like maintenance)."""
        table = self.table
        self._rewrite(table, self.rows(), {"compaction": "true"})
        snapshot = self.table.current_snapshot()
        assert snapshot is not None
        return snapshot.snapshot_id

    def rollback_to(self, snapshot_id: int) -> None:
        self.table.manage_snapshots().set_current_snapshot(snapshot_id=snapshot_id).commit()

    def expire(self, snapshot_ids: Iterable[int]) -> None:
        self.table.maintenance.expire_snapshots().by_ids(list(snapshot_ids)).commit()

    @staticmethod
    def _rewrite(table: Table, rows: list[dict[str, Any]], properties: dict[str, str]) -> None:
        """Replace all data files in one OVERWRITE commit (a copy-on-write MERGE's shape)."""
        old_files = [task.file for task in table.scan().plan_files()]
        with table.transaction() as tx:
            new_files = _dataframe_to_data_files(
                tx.table_metadata, _arrow(table, rows), table.io, uuid.uuid4()
            )
            with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                for data_file in old_files:
                    overwrite.delete_data_file(data_file)
                for data_file in new_files:
                    overwrite.append_data_file(data_file)


def _row(
    artist: Artist, day: date, followers: int | None, run: str, popularity: int
) -> dict[str, Any]:
    return {
        "artist_id": artist.artist_id,
        "snapshot_date": day,
        "name": artist.name,
        "followers": followers,
        "popularity": popularity,
        "genres": ["pop"],
        "image_url": None,
        "spotify_url": f"https://open.spotify.com/artist/{artist.artist_id}",
        "fetched_at": None,
        "run_id": run,
        "source_file": f"bronze/{day.isoformat()}/part-0.json",
    }


def _arrow(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=table.schema().as_arrow())


@pytest.fixture
def home(tmp_path: Path) -> LakehousePaths:
    paths = LakehousePaths.resolve(tmp_path / "lakehouse").ensure()
    ensure_table(local_catalog(paths), ARTISTS_SILVER)
    return paths


@pytest.fixture
def silver(home: LakehousePaths) -> SilverWriter:
    return SilverWriter(home)


@pytest.fixture
def engine(home: LakehousePaths) -> LocalEngine:
    return LocalEngine(home)

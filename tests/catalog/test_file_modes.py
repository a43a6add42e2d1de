"""Files the pipeline writes follow the umask (issue 9, item 6).

Reports and bronze manifests were published through ``tempfile`` and so kept its 0600
whatever the umask: another user, or the same user through a read-only mount of the home,
could not read them. Each writer is checked under three umasks: the usual 022 (files
0644), a group-shared 002 (0664) and a private 077 (0600, for whoever wants one).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from catalog.bronze.layout import Manifest, ManifestPart, part_key, sha256_hex
from catalog.bronze.local import LocalBronzeStore
from catalog.files import write_atomically
from catalog.iceberg.lease import LEASE_FILE, write_lease
from catalog.paths import LakehousePaths
from expectations.store import LocalReportStore, report_key
from views.chart import write_chart
from views.engine import QueryEngine, QueryResult

DAY = date(2026, 11, 24)
UMASKS = {0o022: 0o644, 0o002: 0o664, 0o077: 0o600}


@pytest.fixture(params=sorted(UMASKS), ids=lambda mask: f"umask-{mask:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under one umask; the process's own is restored after."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def manifest(run_id: str, body: bytes) -> Manifest:
    part = ManifestPart(part_key(DAY, run_id, 0), sha256_hex(body), len(body), records=0)
    return Manifest(DAY, run_id, f"2026-11-24T06:00:0{run_id[-1]}+00:00", "simulator", (part,))


def test_bronze_parts_and_manifests(tmp_path: Path, umask: int) -> None:
    store = LocalBronzeStore(tmp_path / "bronze")
    body = b'{"artists": []}'
    for run_id in ("r1", "r2"):
        store.put_new(part_key(DAY, run_id, 0), body)
    store.put_manifest(manifest("r1", body))
    first = store.root / part_key(DAY, "r1", 0)
    day_folder = first.parent.parent
    assert mode(first) == UMASKS[umask]
    assert mode(day_folder / "_manifest.json") == UMASKS[umask]

    store.put_manifest(manifest("r2", body), replace=True)  # a forced re-ingest

    assert mode(day_folder / "_manifest.json") == UMASKS[umask]
    (kept,) = day_folder.glob("_manifest.*.r1.json")
    assert mode(kept) == UMASKS[umask]
    assert not [p for p in day_folder.iterdir() if ".tmp-" in p.name]  # nothing left behind


def test_quality_reports(tmp_path: Path, umask: int) -> None:
    store = LocalReportStore(tmp_path / "reports")
    for body in (b"<html>first</html>", b"<html>re-run</html>"):  # a re-run replaces it
        location = Path(store.put(report_key(DAY, "run-1"), body))
        assert mode(location) == UMASKS[umask]
        assert location.read_bytes() == body
    assert [p.name for p in location.parent.iterdir()] == [location.name]


class OneRowEngine(QueryEngine):
    """The gold view's answer for one artist-day: the chart needs nothing else."""

    def execute(self, sql: str, *, as_of: date | None = None) -> QueryResult:
        columns = ("artist_id", "name", "date", "followers", "followers_gained_per_day")
        return QueryResult(columns, (("a1", "Ann", DAY, 100, None),))

    def deploy_view(self, view: Any) -> None:  # pragma: no cover - not used
        raise NotImplementedError


def test_charts(tmp_path: Path, umask: int) -> None:
    files = write_chart(OneRowEngine(), tmp_path / "out" / "chart.html")
    assert mode(files.png) == UMASKS[umask]
    assert mode(files.html) == UMASKS[umask]


def test_the_lakehouse_lease(tmp_path: Path, umask: int) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home")
    with write_lease(paths, "write"):
        pass
    assert mode(paths.home / LEASE_FILE) == UMASKS[umask]


def test_write_atomically_never_overwrites_when_told_not_to(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomically(target, b"one", replace=False)
    with pytest.raises(FileExistsError):
        write_atomically(target, b"two", replace=False)
    write_atomically(target, b"three")
    assert target.read_bytes() == b"three"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]

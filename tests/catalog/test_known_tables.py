"""The lost-catalog guard: asked once per pipeline, one message wherever it is raised.

A local pipeline refuses to write while the warehouse holds tables its catalog does not know
(a new history would start beside them). The check lists every table's metadata folder, so
a backfill asks it before its first write only; a home that lost its catalog is still
refused, by writers and readers alike, with the one message that names ``repair-catalog``.
No Spark: every load here is a first load (a pyiceberg append).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg import repair
from catalog.iceberg.repair import UnknownTablesError, repair_catalog
from catalog.paths import LakehousePaths
from infra.local import pipeline as pipeline_module
from infra.local.home import for_reading
from infra.local.pipeline import LocalPipeline
from tests.bronze_days import artist, write_day

D1 = date(2026, 11, 1)
DAYS = [D1 + timedelta(days=n) for n in range(3)]


def home_with_bronze(tmp_path: Path) -> LakehousePaths:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    for day in DAYS:
        write_day(store, day, [[artist(i, followers=1_000 * i + day.day) for i in (1, 2, 3)]])
    return paths


def no_spark() -> None:
    raise AssertionError("first loads need no Spark")


def counting(monkeypatch: pytest.MonkeyPatch) -> list[LakehousePaths]:
    """Record each call of the real check the pipeline makes."""
    calls: list[LakehousePaths] = []
    real: Callable[[LakehousePaths], None] = repair.require_known_tables

    def check(paths: LakehousePaths) -> None:
        calls.append(paths)
        real(paths)

    monkeypatch.setattr(pipeline_module, "require_known_tables", check)
    return calls


def lose_catalog(paths: LakehousePaths) -> None:
    for path in paths.home.glob("catalog.db*"):
        path.unlink()


def test_a_backfill_checks_the_warehouse_once_and_a_lost_catalog_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = home_with_bronze(tmp_path)
    calls = counting(monkeypatch)
    with LocalPipeline(paths) as pipeline:
        monkeypatch.setattr(LocalPipeline, "spark", property(lambda _: no_spark()))
        done = pipeline.backfill(DAYS)
        again = pipeline.transform(DAYS[-1])  # a later step of the same pipeline
    assert [r.write for r in done.transforms] == ["append"] * 3
    assert again.write == "none"
    assert len(calls) == 1

    lose_catalog(paths)
    for attempt in range(2):  # refused every time: a refusal does not count as checked
        with (
            LocalPipeline(paths) as pipeline,
            pytest.raises(UnknownTablesError) as refused,
        ):
            pipeline.transform(DAYS[0])
        message = str(refused.value)
        assert "has no catalog" in message, attempt
        assert f"--home {paths.home} repair-catalog" in message
        assert "spotify.artists_silver" in message
    assert len(calls) == 3
    assert not paths.catalog_db.exists() or repair.unknown_tables(paths)  # nothing created


def test_readers_and_writers_give_the_same_message(tmp_path: Path) -> None:
    paths = home_with_bronze(tmp_path)
    with LocalPipeline(paths) as pipeline:
        pipeline.transform(D1)
    lose_catalog(paths)
    with pytest.raises(UnknownTablesError) as read:
        for_reading(paths)
    with pytest.raises(UnknownTablesError) as written:
        repair.require_known_tables(paths)
    assert str(read.value) == str(written.value)
    assert "repair-catalog" in str(read.value)

    registered = repair_catalog(paths)
    assert {r.table for r in registered} >= {"spotify.artists_silver", "spotify.dq_results"}
    repair.require_known_tables(paths)  # known again: no error

"""Each benchmark of ``tests/perf`` run at smoke size (tiny data, seconds) in the normal suite.

``make bench`` runs the benchmarks at full size; these run the very same ``run_bench``
functions on a few artists and days, so a change that breaks a benchmark (an import, a
renamed field, a stage the figures read) fails ``make test`` instead of rotting until the
next ``make bench``. They check that the figures file is written and readable, with every
figure present and finite; never how fast anything was (speed is not asserted anywhere:
the figures are ratios to a floor measured in the same run, for people to read).

``tests/perf/test_bench_queries.py`` has its own smoke test (its owner's).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.perf import test_bench_backfill as backfill
from tests.perf import test_bench_daily_load as daily_load
from tests.perf import test_bench_ingest as ingest
from tests.perf import test_bench_validation as validation

if TYPE_CHECKING:
    from tests.conftest import SparkLakehouse


def _read(path: Path) -> dict[str, Any]:
    assert path.is_file(), f"the benchmark wrote no {path.name}"
    figures: dict[str, Any] = json.loads(path.read_text())
    return figures


def _numbers(figures: dict[str, Any]) -> list[float]:
    found: list[float] = []
    for value in figures.values():
        if isinstance(value, dict):
            found += _numbers(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append(float(value))
    return found


def _all_finite(figures: dict[str, Any]) -> None:
    """Every figure is a finite number (differences such as ``latency_added_s`` may be
    negative at smoke size: noise is larger than 30 ms x a few requests)."""
    numbers = _numbers(figures)
    assert numbers
    assert all(math.isfinite(n) for n in numbers), figures


def test_ingest_benchmark_at_smoke_size(tmp_path: Path) -> None:
    # 60 artists: batch = preflight + 2 batches; per artist = the batch preflight's 403 + 60.
    # The 429 hits each scenario's last request: with nothing else left to send, a request
    # "during the pause" can only be a real one (no in-flight race at smoke size).
    figures = ingest.run_bench(
        tmp_path / "work",
        artists=60,
        rate_limited_at={"batch": (2,), "per_artist": (60,)},
        out_dir=tmp_path / "results",
    )
    written = _read(tmp_path / "results" / "ingest.json")
    assert written == figures
    assert written["artists"] == 60
    assert set(written["scenarios"]) == {"batch", "per_artist"}
    for scenario in written["scenarios"].values():
        for run in (scenario["with_30ms_latency"], scenario["baseline_0ms_latency"]):
            assert run["records"] == 60
            assert run["rate_limited_429"] == 1
            assert run["early_retries"] == 0
        assert scenario["ratio_vs_baseline"] is not None
    batch = written["scenarios"]["batch"]["with_30ms_latency"]
    per_artist = written["scenarios"]["per_artist"]["with_30ms_latency"]
    # The 429'd request is asked again (once, after the pause): one more than the scenario.
    assert batch["api_requests"] == 1 + 2 + 1
    assert per_artist["api_requests"] == 1 + 60 + 1
    _all_finite(written)


@pytest.mark.spark
def test_daily_load_benchmark_at_smoke_size(lakehouse: SparkLakehouse, tmp_path: Path) -> None:
    # One day: its first load, the no-op re-run and the blind-append floor, each once.
    figures = daily_load.run_bench(
        lakehouse.spark, lakehouse.paths, artists=3, days=1, out_dir=tmp_path
    )
    written = _read(tmp_path / "daily_load.json")
    assert written == figures
    assert (written["artists"], written["days"]) == (3, 1)
    for key in ("transform_vs_append_ratio", "noop_vs_append_ratio"):
        assert written[key] is not None, key
    _all_finite(written)


@pytest.mark.spark
def test_validation_benchmark_at_smoke_size(lakehouse: SparkLakehouse, tmp_path: Path) -> None:
    # Two sizes of one day each, the larger also validated on the Spark frame once (the
    # path 10,000-row days take).
    figures = validation.run_bench(
        lakehouse.spark,
        lakehouse.paths,
        sizes={3: 1, 6: 1},
        spark_frame_from_rows=6,
        spark_frame_runs=1,
        out_dir=tmp_path,
    )
    written = _read(tmp_path / "validation.json")
    assert written == figures
    small, large = written["day_3_rows"], written["day_6_rows"]
    assert (small["rows"], small["days_measured"]) == (3, 0)
    assert "silver_suite_on_spark_frame_s" not in small
    assert large["rows"] == 6
    assert "silver_suite_on_spark_frame_s" in large
    for stage in (*validation.VALIDATION_STAGES, "merge"):
        assert f"stage_{stage}_median_s" in small
    _all_finite(written)


def test_backfill_benchmark_at_smoke_size(tmp_path: Path) -> None:
    figures = backfill.run_bench(tmp_path / "work", artists=4, days=3, out_dir=tmp_path / "out")
    written = _read(tmp_path / "out" / "backfill.json")
    assert written == json.loads(json.dumps(figures))
    check = written["check"]
    assert check["silver_rows"] == check["expected_rows"] == 12
    assert check["load_tags_in_window"] == 3
    assert check["gold_gains_wrong"] == 0
    assert check["gold_rows_checked"] > 0
    assert written["commits"] == 3
    _all_finite(written)

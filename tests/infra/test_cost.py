"""The cost model: billing minimums, and that it prices the stack's own settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra import cost
from infra.stack_settings import ALARM_METRICS, DEFAULT_SETTINGS


def _line(estimate: cost.Estimate, prefix: str) -> cost.CostLine:
    return next(line for line in estimate.lines if line.service.startswith(prefix))


def test_glue_bills_at_least_one_minute() -> None:
    assert cost.glue_billed_seconds(5) == 60
    assert cost.glue_billed_seconds(59.9) == 60
    assert cost.glue_billed_seconds(61) == 61


def test_athena_bills_at_least_10_mb_and_whole_megabytes() -> None:
    mb = 1024**2
    assert cost.athena_billed_bytes(0) == 10 * mb
    assert cost.athena_billed_bytes(400_000) == 10 * mb
    assert cost.athena_billed_bytes(10 * mb + 1) == 11 * mb


def test_small_roster_pays_the_athena_minimum() -> None:
    estimate = cost.estimate(DEFAULT_SETTINGS, 20)
    queries = cost.DAYS_PER_MONTH * cost.ATHENA_QUERIES_PER_DAY
    expected = queries * cost.ATHENA_MINIMUM_SCAN_BYTES / cost.TB * cost.ATHENA_PER_TB
    assert _line(estimate, "Athena").monthly_usd == pytest.approx(expected)


def test_flex_is_cheaper_than_standard() -> None:
    standard = cost.estimate(DEFAULT_SETTINGS, 20, flex=False)
    flex = cost.estimate(DEFAULT_SETTINGS, 20, flex=True)
    ratio = _line(flex, "Glue 5.0").monthly_usd / _line(standard, "Glue 5.0").monthly_usd
    assert ratio == pytest.approx(cost.GLUE_FLEX_DPU_HOUR / cost.GLUE_DPU_HOUR)
    assert flex.total_usd < standard.total_usd


def test_estimate_follows_the_stack_settings() -> None:
    base = cost.estimate(DEFAULT_SETTINGS, 20)
    bigger = cost.estimate(replace(DEFAULT_SETTINGS, lambda_memory_mb=512, glue_workers=4), 20)
    assert _line(bigger, "Lambda").monthly_usd > _line(base, "Lambda").monthly_usd
    assert _line(bigger, "Glue 5.0").monthly_usd == pytest.approx(
        2 * _line(base, "Glue 5.0").monthly_usd
    )
    assert cost.estimate(replace(DEFAULT_SETTINGS, glue_flex=True), 20).flex


def test_alarms_are_priced_per_metric() -> None:
    line = _line(cost.estimate(DEFAULT_SETTINGS, 20), "CloudWatch")
    assert line.monthly_usd >= sum(ALARM_METRICS.values()) * cost.ALARM_METRIC_MONTH


def test_more_artists_cost_more_but_stay_small() -> None:
    small = cost.estimate(DEFAULT_SETTINGS, 20)
    large = cost.estimate(DEFAULT_SETTINGS, 10_000)
    assert 0 < small.total_usd < large.total_usd < 50
    assert [line.service for line in small.lines] == [line.service for line in large.lines]


def test_artists_must_be_positive() -> None:
    with pytest.raises(ValueError, match="artists"):
        cost.estimate(DEFAULT_SETTINGS, 0)

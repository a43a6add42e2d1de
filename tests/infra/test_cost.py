"""The cost model: billing minimums, and that it prices the stack's own settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra import cost
from infra.stack_settings import ALERT_RULES, DEFAULT_SETTINGS


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
    ratio = _line(flex, "Glue 5.1").monthly_usd / _line(standard, "Glue 5.1").monthly_usd
    assert ratio == pytest.approx(cost.GLUE_FLEX_DPU_HOUR / cost.GLUE_DPU_HOUR)
    assert flex.total_usd < standard.total_usd


def test_estimate_follows_the_stack_settings() -> None:
    base = cost.estimate(DEFAULT_SETTINGS, 20)
    bigger = cost.estimate(replace(DEFAULT_SETTINGS, lambda_memory_mb=512, glue_workers=4), 20)
    assert _line(bigger, "Lambda").monthly_usd > _line(base, "Lambda").monthly_usd
    assert _line(bigger, "Glue 5.1").monthly_usd == pytest.approx(
        2 * _line(base, "Glue 5.1").monthly_usd
    )
    assert cost.estimate(replace(DEFAULT_SETTINGS, glue_flex=True), 20).flex
    assert not cost.estimate(replace(DEFAULT_SETTINGS, glue_flex=False), 20).flex


def test_alerts_are_free_eventbridge_rules_not_alarms() -> None:
    estimate = cost.estimate(DEFAULT_SETTINGS, 20)
    rules = _line(estimate, "EventBridge rules")
    assert rules.monthly_usd == 0
    assert f"{len(ALERT_RULES)} rules" in rules.usage
    assert "no alarms" in _line(estimate, "CloudWatch").usage


def test_the_credentials_store_is_priced_from_the_settings() -> None:
    ssm = _line(cost.estimate(DEFAULT_SETTINGS, 20), "SSM Parameter Store")
    assert ssm.monthly_usd < 0.001  # a standard parameter is free; 30 KMS decrypts a month
    assert ssm.free_usd == pytest.approx(ssm.monthly_usd)
    secrets = cost.estimate(replace(DEFAULT_SETTINGS, credentials_store="secretsmanager"), 20)
    assert _line(secrets, "Secrets Manager").monthly_usd == pytest.approx(
        0.40 + cost.DAYS_PER_MONTH * 0.05 / 10_000
    )


@pytest.mark.parametrize(("artists", "ceiling"), [(20, 0.60), (10_000, 1.50)])
def test_issue_15_targets_at_list_prices(artists: int, ceiling: float) -> None:
    """<= $0.60 a month at 20 artists and <= $1.50 at 10,000, without any free tier."""
    estimate = cost.estimate(DEFAULT_SETTINGS, artists)
    assert estimate.total_usd <= ceiling
    assert estimate.total_within_free_tier_usd <= estimate.total_usd


def test_a_year_of_backfill_is_twelve_glue_runs() -> None:
    for artists in (20, 10_000):
        year = cost.backfill(DEFAULT_SETTINGS, artists)
        assert (year.days, year.runs) == (365, 12)
        # 12 fixed parts, then each day once: not 365 runs' fixed parts.
        assert year.billed_seconds == pytest.approx(
            12 * cost.GLUE_RUN_FIXED_S + 365 * cost.glue_day_seconds(artists)
        )
        one_run_a_day = 365 * cost.glue_billed_seconds(cost.glue_daily_run_seconds(artists))
        assert year.billed_seconds < one_run_a_day / 4
        assert year.usd == pytest.approx(2 * year.billed_seconds / 3600 * cost.GLUE_DPU_HOUR)
    assert (
        cost.backfill(DEFAULT_SETTINGS, 20, flex=True).usd < cost.backfill(DEFAULT_SETTINGS, 20).usd
    )
    with pytest.raises(ValueError, match="artists"):
        cost.backfill(DEFAULT_SETTINGS, 0)


def test_more_artists_cost_more_but_stay_small() -> None:
    small = cost.estimate(DEFAULT_SETTINGS, 20)
    large = cost.estimate(DEFAULT_SETTINGS, 10_000)
    assert 0 < small.total_usd < large.total_usd < 50
    assert [line.service for line in small.lines] == [line.service for line in large.lines]


def test_artists_must_be_positive() -> None:
    with pytest.raises(ValueError, match="artists"):
        cost.estimate(DEFAULT_SETTINGS, 0)

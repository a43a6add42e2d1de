"""The cost model and the stack settings it prices, pinned to the cent and to the boundary.

``spotify-lakehouse cost`` prints these lines; the README quotes them and issue 15's targets
are read against them. So the estimate for two shapes of the stack is pinned here line by
line (figures and usage text): any change of a formula, a price or an assumption has to
change this file too, on purpose. A few lines are re-derived by hand below to show where
the numbers come from. Written against mutmut's survivors (docs/mutation-testing.md).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from infra import cost
from infra.stack_settings import (
    ARTISTS_PER_REQUEST,
    CONTEXT_KEYS,
    DEFAULT_SETTINGS,
    GLUE_WORKER_DPU,
    LAMBDA_MAX_TIMEOUT_S,
    StackSettings,
    _convert,
)

DEFAULT_20 = [
    (
        "Lambda (arm64)",
        "35 runs, 22 GB-s (3 s/day at 256 MB)",
        0.0003055360166964286,
        "1M requests + 400,000 GB-s",
        0.0003055360166964286,
    ),
    (
        "Glue 5.1 Flex",
        "1.41 DPU-h (2 x G.1X, 66 s/day, 120 s/week)",
        0.4078604708333333,
        "",
        0.0,
    ),
    (
        "S3",
        "0.02 GB stored (365 days of history), 2,283 PUT/LIST + 10,410 GET",
        0.016015660187101363,
        "",
        0.0,
    ),
    (
        "Athena",
        "609 queries x 10 MB billed (silver 0.4 MB; 10 MB minimum)",
        0.029027462005615234,
        "",
        0.0,
    ),
    (
        "Step Functions",
        "496 state transitions",
        0.012392410714285715,
        "4,000 transitions",
        0.012392410714285715,
    ),
    (
        "EventBridge Scheduler",
        "65 invocations",
        6.522321428571429e-05,
        "14M invocations",
        6.522321428571429e-05,
    ),
    (
        "SSM Parameter Store",
        "1 standard SecureString (free), 30 reads, 30 KMS decrypts (aws/ssm)",
        9.13125e-05,
        "20,000 KMS requests",
        9.13125e-05,
    ),
    (
        "SNS",
        "30 publishes, 0 emails",
        1.5218749999999999e-05,
        "1M publishes + 1,000 e-mails",
        1.5218749999999999e-05,
    ),
    (
        "EventBridge rules",
        "3 rules on failed executions -> SNS (AWS service events: free)",
        0.0,
        "",
        0.0,
    ),
    (
        "CloudWatch Logs",
        "68 MB logs, no alarms",
        0.035091723215633204,
        "5 GB of logs",
        0.035091723215633204,
    ),
    (
        "Glue Data Catalog",
        "within the free million objects/requests",
        0.0,
        "",
        0.0,
    ),
]

STANDARD_10K = [
    (
        "Lambda (arm64)",
        "35 runs, 1,255 GB-s (82 s/day at 512 MB)",
        0.01674186819794643,
        "1M requests + 400,000 GB-s",
        0.01674186819794643,
    ),
    (
        "Glue 5.1 standard",
        "2.48 DPU-h (3 x G.1X, 72 s/day, 180 s/week)",
        1.0905321428571428,
        "",
        0.0,
    ),
    (
        "S3",
        "3.99 GB stored (365 days of history), 14,397 PUT/LIST + 16,467 GET",
        0.1702625165552974,
        "",
        0.0,
    ),
    (
        "Athena",
        "609 queries x 209 MB billed (silver 208.9 MB; 10 MB minimum)",
        0.6066739559173584,
        "",
        0.0,
    ),
    (
        "Step Functions",
        "496 state transitions",
        0.012392410714285715,
        "4,000 transitions",
        0.012392410714285715,
    ),
    (
        "EventBridge Scheduler",
        "65 invocations",
        6.522321428571429e-05,
        "14M invocations",
        6.522321428571429e-05,
    ),
    (
        "SSM Parameter Store",
        "1 standard SecureString (free), 30 reads, 30 KMS decrypts (aws/ssm)",
        9.13125e-05,
        "20,000 KMS requests",
        9.13125e-05,
    ),
    (
        "SNS",
        "30 publishes, 30 emails",
        0.0006239687500000001,
        "1M publishes + 1,000 e-mails",
        0.0006239687500000001,
    ),
    (
        "EventBridge rules",
        "3 rules on failed executions -> SNS (AWS service events: free)",
        0.0,
        "",
        0.0,
    ),
    (
        "CloudWatch Logs",
        "68 MB logs, no alarms",
        0.035091723215633204,
        "5 GB of logs",
        0.035091723215633204,
    ),
    (
        "Glue Data Catalog",
        "within the free million objects/requests",
        0.0,
        "",
        0.0,
    ),
]

BIG = replace(
    DEFAULT_SETTINGS,
    alert_email="ops@example.com",
    lambda_memory_mb=512,
    glue_workers=3,
    reports_expire_days=30,
)


def _lines(estimate: cost.Estimate) -> list[tuple[str, str, float, str, float]]:
    return [
        (line.service, line.usage, line.monthly_usd, line.free_tier, line.free_usd)
        for line in estimate.lines
    ]


@pytest.mark.parametrize(
    ("settings", "artists", "flex", "expected", "total", "within_free_tier"),
    [
        (DEFAULT_SETTINGS, 20, None, DEFAULT_20, 0.500865017436951, 0.45290359302604993),
        (BIG, 10_000, False, STANDARD_10K, 1.9324751219219494, 1.8674686153297986),
    ],
    ids=["default-20", "standard-10k"],
)
def test_the_estimate_line_by_line(
    settings: StackSettings,
    artists: int,
    flex: bool | None,
    expected: list[tuple[str, str, float, str, float]],
    total: float,
    within_free_tier: float,
) -> None:
    estimate = cost.estimate(settings, artists, flex=flex)
    assert estimate.artists == artists
    assert estimate.flex is (settings.glue_flex if flex is None else flex)
    got = _lines(estimate)
    assert [(s, u, f) for s, u, _, f, _ in got] == [(s, u, f) for s, u, _, f, _ in expected]
    for (service, _, usd, _, free), (_, _, want, _, want_free) in zip(got, expected, strict=True):
        assert usd == pytest.approx(want, rel=1e-9, abs=1e-15), service
        assert free == pytest.approx(want_free, rel=1e-9, abs=1e-15), service
    assert estimate.total_usd == pytest.approx(total, rel=1e-9)
    assert estimate.total_within_free_tier_usd == pytest.approx(within_free_tier, rel=1e-9)


def test_the_athena_line_shows_megabytes_of_1024_squared_bytes() -> None:
    # 20,000 artists x 365 days x 60 bytes = 418 MiB of silver, billed in whole MiB.
    lines = {line.service: line.usage for line in cost.estimate(DEFAULT_SETTINGS, 20_000).lines}
    assert lines["Athena"] == "609 queries x 418 MB billed (silver 417.7 MB; 10 MB minimum)"


def test_some_lines_by_hand() -> None:
    days = 365.25 / 12
    weeks = 365.25 / 7 / 12
    lines = {line.service: line.monthly_usd for line in cost.estimate(DEFAULT_SETTINGS, 20).lines}
    # 2 DPUs x (60 s + 6 s + 0.6 s per 1,000 artists a day; 60 s + 60 s + 6 s per 1,000
    # artists a week) at Flex's $0.29 per DPU-hour: the one-minute minimum is exceeded.
    glue_s = days * (60 + 6 + 0.012) + weeks * (60 + 60 + 0.12)
    assert lines["Glue 5.1 Flex"] == pytest.approx(2 * glue_s / 3600 * 0.29)
    # 13 + 3 transitions a day, 2 a week, $0.025 per 1,000 (the first 4,000 free).
    assert lines["Step Functions"] == pytest.approx((days * 16 + weeks * 2) * 0.025 / 1000)
    assert lines["SSM Parameter Store"] == pytest.approx(days * 0.03 / 10_000)
    secrets = cost.estimate(replace(DEFAULT_SETTINGS, credentials_store="secretsmanager"), 20)
    by_service = {line.service: line.monthly_usd for line in secrets.lines}
    assert by_service["Secrets Manager"] == pytest.approx(0.40 + days * 0.05 / 10_000)
    assert "SSM Parameter Store" not in by_service


def test_flex_follows_the_settings_unless_overridden() -> None:
    standard = replace(DEFAULT_SETTINGS, glue_flex=False)
    assert cost.estimate(standard, 20).flex is False
    assert cost.estimate(standard, 20, flex=True).flex is True
    assert cost.estimate(DEFAULT_SETTINGS, 20).flex is True
    glue = {e.service: e.monthly_usd for e in cost.estimate(standard, 20).lines}
    assert glue["Glue 5.1 standard"] == pytest.approx(0.4078604708333333 * 0.44 / 0.29)


def test_free_allowances_cover_at_most_their_line() -> None:
    assert cost._free(1.0, 0, 10) == 0.0
    assert cost._free(1.0, 5, 10) == 1.0
    assert cost._free(1.0, 20, 10) == 0.5
    for estimate in (cost.estimate(DEFAULT_SETTINGS, 20), cost.estimate(BIG, 10_000)):
        for line in estimate.lines:
            assert 0 <= line.free_usd <= line.monthly_usd, line.service
            assert bool(line.free_tier) or line.free_usd == 0, line.service


def test_one_artist_is_the_smallest_estimate() -> None:
    assert cost.estimate(DEFAULT_SETTINGS, 1).artists == 1
    for artists in (0, -1):
        with pytest.raises(ValueError, match=r"^artists must be at least 1$"):
            cost.estimate(DEFAULT_SETTINGS, artists)


def test_billing_minimums() -> None:
    assert cost.glue_billed_seconds(0) == 60.0
    assert cost.glue_billed_seconds(60) == 60.0
    assert cost.glue_billed_seconds(61.5) == 61.5
    mb = 1024**2
    assert cost.athena_billed_bytes(0) == 10 * mb
    assert cost.athena_billed_bytes(10 * mb + 1) == 11 * mb
    assert cost.athena_billed_bytes(11 * mb) == 11 * mb
    assert cost.glue_daily_run_seconds(0) == 66.0
    assert cost.glue_daily_run_seconds(10_000) == 72.0
    assert cost.glue_daily_run_seconds(500) == 66.3
    assert cost.glue_run_seconds(20, 31) == pytest.approx(60 + 31 * 6.012)
    assert cost.glue_maintain_seconds(10_000) == 180.0


def test_the_backfill_pays_one_fixed_part_per_chunk() -> None:
    year = cost.backfill(DEFAULT_SETTINGS, 20)
    assert year.runs == 12
    assert year.billed_seconds == pytest.approx(12 * 60 + 365 * 6.012)
    assert year.dpu_hours == pytest.approx(2 * year.billed_seconds / 3600)
    assert year.usd == pytest.approx(year.dpu_hours * 0.44)
    assert year.flex is False
    weekly = replace(DEFAULT_SETTINGS, backfill_chunk_days=7)
    assert cost.backfill(weekly, 20).runs == 53
    # One day of one artist: the fixed minute, plus the day.
    assert cost.backfill(DEFAULT_SETTINGS, 1, days=1).billed_seconds == pytest.approx(66.0006)


def test_an_empty_estimate_costs_nothing() -> None:
    assert cost.Estimate(artists=1, flex=False).total_usd == 0
    assert cost.Estimate(artists=1, flex=False).lines == []


# --- the settings ----------------------------------------------------------------------------


def test_default_settings_and_derived_values() -> None:
    s = DEFAULT_SETTINGS
    assert s == StackSettings()
    assert s.requests_per_run == 2  # one batch for 20 artists, plus the preflight
    assert s.lambda_timeout_s == 360
    assert s.glue_execution_class == "FLEX"
    assert replace(s, glue_flex=False).glue_execution_class == "STANDARD"
    assert s.backfill_chunk_days == 31
    assert s.glue_runs_for(365) == s.glue_runs_for(366) == 12
    assert s.glue_runs_for(31) == 1
    assert s.glue_runs_for(32) == 2
    assert s.glue_slot_wait_s == 12 * 60 * 60
    # 60 + 120 + 240, then 300 s apart: 3 + ceil((43,200 - 420) / 300) = 146 retries.
    assert s.glue_busy_retries == 146
    assert s.credentials_store == "ssm"
    assert s.credentials_parameter_name == "/SpotifyLakehouse/spotify-credentials"
    assert s.glue_dpus == 2.0
    assert replace(s, glue_worker_type="G.025X", glue_workers=4).glue_dpus == 1.0
    assert replace(s, glue_worker_type="G.2X", glue_workers=3).glue_dpus == 6.0
    assert s.athena_bytes_scanned_cutoff == 10_240 * 1024 * 1024
    assert GLUE_WORKER_DPU == {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0}
    assert ARTISTS_PER_REQUEST == 50


@pytest.mark.parametrize(
    ("top", "requests", "timeout"),
    [(1, 2, 360), (50, 2, 360), (51, 3, 360), (10_000, 201, 720), (100_000, 2001, 900)],
)
def test_the_lambda_is_sized_for_the_roster(top: int, requests: int, timeout: int) -> None:
    settings = replace(DEFAULT_SETTINGS, roster_top=top)
    assert settings.requests_per_run == requests
    assert settings.lambda_timeout_s == timeout
    assert settings.lambda_timeout_s <= LAMBDA_MAX_TIMEOUT_S == 900


def test_the_lambda_timeout_is_rounded_up_to_whole_minutes() -> None:
    # 60 + 2 x 2 + 240 = 304 s -> 6 minutes; 60 + 91 x 2 + 240 = 482 -> 9 minutes.
    assert replace(DEFAULT_SETTINGS, roster_top=4500).lambda_timeout_s == 540
    assert replace(DEFAULT_SETTINGS, roster_top=2950).lambda_timeout_s == 360 + 60


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("daily_hour_utc", (0, 23), (-1, 24)),
        ("daily_minute_utc", (0, 59), (-1, 60)),
        ("freshness_deadline_hour_utc", (0, 23), (-1, 24)),
        ("maintenance_hour_utc", (0, 23), (-1, 24)),
        ("maintenance_weekday", ("SUN", "SAT"), ("sun", "SUNDAY")),
        ("roster_top", (1, 5), (0, -1)),
        ("lambda_memory_mb", (128, 10_240), (127, 10_241)),
        ("glue_worker_type", ("G.025X", "G.2X"), ("G.4X", "")),
        ("glue_workers", (2, 10), (1, 0)),
        ("glue_timeout_minutes", (1, 2), (0, -5)),
        ("athena_bytes_scanned_cutoff_mb", (10, 11), (9, 0)),
        ("table_versions_to_keep", (1, 2), (0, -1)),
        ("bronze_infrequent_access_days", (30, 31), (29, 0)),
        ("max_backfill_days", (1, 2), (0, -1)),
        ("backfill_chunk_days", (1, 366), (0, -1)),
        ("credentials_store", ("ssm", "secretsmanager"), ("SSM", "vault")),
    ],
)
def test_each_setting_is_checked_at_its_bounds(
    field: str, good: tuple[object, ...], bad: tuple[object, ...]
) -> None:
    for value in good:
        assert getattr(replace(DEFAULT_SETTINGS, **{field: value}), field) == value
    for value in bad:
        with pytest.raises(ValueError, match=rf"^invalid stack settings: {field}$"):
            replace(DEFAULT_SETTINGS, **{field: value})


def test_every_bad_setting_is_named_at_once() -> None:
    with pytest.raises(ValueError, match=r"^invalid stack settings: daily_hour_utc, glue_workers$"):
        replace(DEFAULT_SETTINGS, daily_hour_utc=24, glue_workers=1)


def test_every_field_has_a_context_key() -> None:
    from dataclasses import fields

    assert [f.name for f in fields(StackSettings)] == list(CONTEXT_KEYS)


def test_from_context_converts_and_ignores_what_is_absent() -> None:
    settings = StackSettings.from_context(
        {
            "glueFlex": " YES ",
            "rosterTop": "150",
            "alertEmail": "  ops@example.com ",
            "rosterKey": None,  # absent: the default stays
            "stackName": "Other",
            "unrelated": "x",
            "glueWorkers": 3,
        }
    )
    assert settings.glue_flex is True
    assert settings.roster_top == 150
    assert settings.alert_email == "ops@example.com"
    assert settings.roster_key is None
    assert settings.stack_name == "Other"
    assert settings.glue_workers == 3
    assert StackSettings.from_context({}) == DEFAULT_SETTINGS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("1", True),
        ("yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("False", False),
        (1, True),
        (0, False),
    ],
)
def test_booleans_from_context(value: object, expected: bool) -> None:
    assert _convert("glueFlex", value, False) is expected
    assert _convert("glueFlex", value, True) is expected


def test_other_values_from_context() -> None:
    assert _convert("rosterTop", "42", 20) == 42
    assert _convert("rosterTop", 7, 20) == 7
    assert _convert("rosterKey", "  k.json ", None) == "k.json"
    assert _convert("rosterKey", "   ", None) is None
    assert _convert("alertEmail", "", "x") is None


@pytest.mark.parametrize(
    ("key", "value", "default", "message"),
    [
        ("glueFlex", "maybe", False, "context glueFlex: expected true/false, got 'maybe'"),
        ("glueFlex", "", True, "context glueFlex: expected true/false, got ''"),
        ("rosterTop", "ten", 20, "context rosterTop: expected an integer, got 'ten'"),
        ("rosterTop", "1.5", 20, "context rosterTop: expected an integer, got '1.5'"),
    ],
)
def test_bad_context_values_name_the_key(
    key: str, value: object, default: object, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _convert(key, value, default)

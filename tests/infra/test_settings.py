"""Stack settings: context overrides and the derived sizes."""

from __future__ import annotations

import pytest

from infra.stack_settings import DEFAULT_SETTINGS, LAMBDA_MAX_TIMEOUT_S, StackSettings


def test_context_strings_are_converted() -> None:
    settings = StackSettings.from_context(
        {"glueFlex": "true", "rosterTop": "10000", "alertEmail": "ops@example.com", "other": 1}
    )
    assert settings.glue_flex is True
    assert settings.glue_execution_class == "FLEX"
    assert settings.roster_top == 10_000
    assert settings.alert_email == "ops@example.com"
    assert StackSettings.from_context({}) == DEFAULT_SETTINGS


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"glueFlex": "maybe"}, "glueFlex"),
        ({"rosterTop": "many"}, "rosterTop"),
        ({"dailyHourUtc": "24"}, "daily_hour_utc"),
        ({"glueWorkerType": "G.9X"}, "glue_worker_type"),
    ],
)
def test_bad_context_is_refused(context: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StackSettings.from_context(context)


def test_lambda_timeout_grows_with_the_roster_and_is_capped() -> None:
    small = StackSettings(roster_top=20).lambda_timeout_s
    large = StackSettings(roster_top=10_000).lambda_timeout_s
    assert small % 60 == 0
    assert large % 60 == 0
    assert small < large <= LAMBDA_MAX_TIMEOUT_S
    assert StackSettings(roster_top=1_000_000).lambda_timeout_s == LAMBDA_MAX_TIMEOUT_S


def test_glue_dpus() -> None:
    assert DEFAULT_SETTINGS.glue_dpus == 2.0
    assert StackSettings(glue_worker_type="G.2X", glue_workers=3).glue_dpus == 6.0

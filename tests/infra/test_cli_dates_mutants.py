"""How the CLI reads a day (``--date``, ``--start``, ``--end``, ``--as-of``).

``infra/cli/app.py`` is measured by ``make mutate`` (docs/mutation-testing.md); these tests
call its day rule directly (the exit-code matrix through the real entry point lives in
``tests/cli/``). Time is a fixture (time-machine), never the wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
import typer

from catalog.paths import LakehousePaths
from infra.cli import app as cli_app
from infra.cli.app import check_day, earliest_day, parse_day, paths_of, utc_today

TODAY = date(2026, 3, 7)
LAUNCH = date(2008, 10, 7)


def test_a_day_inside_the_range_is_read() -> None:
    assert check_day("2026-03-07", today=TODAY, earliest=LAUNCH) == TODAY
    assert check_day("2008-10-07", today=TODAY, earliest=LAUNCH) == LAUNCH
    assert check_day(" 2026-02-28 ", today=TODAY, earliest=LAUNCH) == date(2026, 2, 28)


@pytest.mark.parametrize(
    "text", ["20260307", "2026-W10-6", "2026-3-7", "07/03/2026", "yesterday", "2026-03-07x", ""]
)
def test_only_the_dashed_iso_spelling_is_a_day(text: str) -> None:
    with pytest.raises(ValueError, match=r"^expected a day as YYYY-MM-DD, got ") as raised:
        check_day(text, today=TODAY, earliest=LAUNCH)
    assert repr(text) in str(raised.value)


def test_a_day_that_is_not_on_the_calendar() -> None:
    with pytest.raises(ValueError, match=r"^'2026-02-30' is not a calendar day \("):
        check_day("2026-02-30", today=TODAY, earliest=LAUNCH)


def test_the_day_before_the_earliest_is_refused() -> None:
    with pytest.raises(ValueError, match="before the earliest day") as raised:
        check_day("2008-10-06", today=TODAY, earliest=LAUNCH)
    message = str(raised.value)
    assert message.startswith("2008-10-06 is before the earliest day 2008-10-07 ")
    assert "LAKEHOUSE_EARLIEST_DAY" in message


def test_the_day_after_today_is_refused() -> None:
    with pytest.raises(ValueError, match="in the future") as raised:
        check_day("2026-03-08", today=TODAY, earliest=LAUNCH)
    assert str(raised.value).startswith("2026-03-08 is in the future (today is 2026-03-07 UTC)")
    assert str(raised.value).endswith("): pass today or an earlier day")


def test_the_earliest_day_defaults_to_spotifys_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli_app.EARLIEST_DAY_ENV, raising=False)
    assert cli_app.EARLIEST_DAY_ENV == "LAKEHOUSE_EARLIEST_DAY"
    assert earliest_day() == LAUNCH == cli_app.DEFAULT_EARLIEST_DAY
    monkeypatch.setenv(cli_app.EARLIEST_DAY_ENV, "  ")
    assert earliest_day() == LAUNCH
    monkeypatch.setenv(cli_app.EARLIEST_DAY_ENV, " 2020-01-01 ")
    assert earliest_day() == date(2020, 1, 1)
    monkeypatch.setenv(cli_app.EARLIEST_DAY_ENV, "9999-12-31")  # no "future" for the setting
    assert earliest_day() == date(9999, 12, 31)
    monkeypatch.setenv(cli_app.EARLIEST_DAY_ENV, "2020-1-1")
    with pytest.raises(typer.BadParameter) as raised:
        earliest_day()
    assert str(raised.value).endswith("(fix or unset it)")
    assert raised.value.param_hint == "LAKEHOUSE_EARLIEST_DAY"


@time_machine.travel(datetime(2026, 3, 7, 23, 59, 59, tzinfo=UTC), tick=False)
def test_no_day_means_today_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli_app.EARLIEST_DAY_ENV, raising=False)
    assert utc_today() == TODAY
    assert parse_day(None) == TODAY
    assert parse_day("") == TODAY
    assert parse_day("  ") == TODAY
    assert parse_day("2026-03-07") == TODAY
    with pytest.raises(typer.BadParameter, match="is in the future"):
        parse_day("2026-03-08")
    with pytest.raises(typer.BadParameter, match="before the earliest day"):
        parse_day("2008-10-06")
    monkeypatch.setenv(cli_app.EARLIEST_DAY_ENV, "2026-03-01")
    with pytest.raises(typer.BadParameter, match="before the earliest day 2026-03-01"):
        parse_day("2026-02-28")


@time_machine.travel(datetime(2026, 3, 8, 0, 0, 1, tzinfo=UTC), tick=False)
def test_today_turns_at_utc_midnight() -> None:
    assert parse_day(None) == date(2026, 3, 8)
    assert parse_day("2026-03-08") == date(2026, 3, 8)


def test_the_home_option_resolves_the_lakehouse_paths(tmp_path: Path) -> None:
    ctx = SimpleNamespace(obj=LakehousePaths.resolve(tmp_path / "h"))
    assert paths_of(ctx) is ctx.obj  # type: ignore[arg-type]

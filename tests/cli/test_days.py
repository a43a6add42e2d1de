"""Days on the command line: ``YYYY-MM-DD`` only, from the earliest day to today (UTC).

A bad day is exit 2 before anything is written (issue 9, item 2: ``run --date 1900-01-01``
once loaded a 46,355-day "gain"; ``--date 0001-01-01`` crashed after writing bronze). The
rule has one owner, :func:`infra.cli.app.check_day`, and every date option parses through
it; the pure rule is tested here at its edges, then each command is shown to use it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from infra.cli.app import DEFAULT_EARLIEST_DAY, EARLIEST_DAY_ENV, check_day
from tests.cli._run import Outcome, reason, run_cli, run_main, succeeded
from tests.cli.conftest import utc_today

TODAY = date(2026, 11, 2)  # the pure rule gets its clock as an argument
EARLIEST = date(2008, 10, 7)


def test_spotify_launch_is_the_default_earliest_day() -> None:
    assert DEFAULT_EARLIEST_DAY == EARLIEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2008-10-07", EARLIEST),  # the earliest day itself
        ("2026-11-02", TODAY),  # today itself
        ("2026-11-01", date(2026, 11, 1)),
        (" 2024-02-29 ", date(2024, 2, 29)),  # a leap day; surrounding blanks ignored
    ],
)
def test_days_in_range_are_accepted(text: str, expected: date) -> None:
    assert check_day(text, today=TODAY, earliest=EARLIEST) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20261102", "expected a day as YYYY-MM-DD, got '20261102'"),  # fromisoformat takes it
        ("2026-W45-1", "expected a day as YYYY-MM-DD"),  # an ISO week date, too
        ("2026-11-2", "expected a day as YYYY-MM-DD"),
        ("2026-11-02T00:00", "expected a day as YYYY-MM-DD"),
        ("\u0662\u0660\u0662\u0666-11-02", "expected a day as YYYY-MM-DD"),  # Arabic digits
        ("", "expected a day as YYYY-MM-DD"),
        ("2026-02-29", "'2026-02-29' is not a calendar day"),
        ("2026-13-01", "is not a calendar day"),
        ("2008-10-06", "2008-10-06 is before the earliest day 2008-10-07"),
        ("1900-01-01", "before the earliest day"),
        ("0001-01-01", "before the earliest day"),
        ("2026-11-03", "2026-11-03 is in the future (today is 2026-11-02 UTC)"),
        ("9999-12-31", "is in the future"),
    ],
)
def test_other_text_is_refused_with_the_fix(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY-MM-DD|calendar day|earliest|future") as refused:
        check_day(text, today=TODAY, earliest=EARLIEST)
    assert message in str(refused.value)


def test_the_earliest_day_is_an_argument() -> None:
    later = date(2020, 1, 1)
    assert check_day("2020-01-01", today=TODAY, earliest=later) == later
    with pytest.raises(ValueError, match="before the earliest day 2020-01-01"):
        check_day("2019-12-31", today=TODAY, earliest=later)


# Every command's date options, through the entry point -------------------------------------

#: Each command line with ``{day}`` where the bad day goes.
DATED: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest", "--simulator", "--date", "{day}"),
    "run": ("run", "--simulator", "--date", "{day}"),
    "transform": ("transform", "--date", "{day}"),
    "backfill-start": ("backfill", "--simulator", "--start", "{day}", "--end", "2026-01-01"),
    "backfill-end": ("backfill", "--simulator", "--start", "2026-01-01", "--end", "{day}"),
    "quality": ("quality", "--date", "{day}"),
    "query-as-of": ("query", "--as-of", "{day}", "SELECT 1"),
    "chart-as-of": ("chart", "--out", "chart.png", "--as-of", "{day}"),
}
BAD_DAYS: dict[str, Callable[[], str]] = {
    "basic-format": lambda: "20261102",
    "week-date": lambda: "2026-W45-1",
    "before-earliest": lambda: "1900-01-01",
    "year-one": lambda: "0001-01-01",
    "future": lambda: (utc_today() + timedelta(days=1)).isoformat(),
}


@pytest.fixture
def no_side_effects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a bad day get through, it must fail here, not start a JVM or a simulator in
    the test process (the row then fails on its exit status, not on a side effect)."""
    import catalog.runtime.spark
    import ingest.simulator.server

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a bad day reached the command")

    monkeypatch.setattr(catalog.runtime.spark, "build_local_session", refuse)
    monkeypatch.setattr(ingest.simulator.server.SpotifySimulator, "start", refuse)


@pytest.mark.usefixtures("no_side_effects")
@pytest.mark.parametrize("bad", list(BAD_DAYS), ids=list(BAD_DAYS))
@pytest.mark.parametrize("command", list(DATED), ids=list(DATED))
def test_a_bad_day_is_exit_2_before_anything_is_written(
    command: str,
    bad: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    day = BAD_DAYS[bad]()
    monkeypatch.chdir(tmp_path)
    argv = ["--home", str(home), *(a.format(day=day) for a in DATED[command])]
    option = DATED[command][DATED[command].index("{day}") - 1]
    outcome = run_main(argv, monkeypatch, capsys)
    line = reason(outcome, 2, "Invalid value", day)
    assert f"'{option}'" in line
    assert not home.exists(), f"the home was written: {sorted(home.rglob('*'))}"
    assert sorted(tmp_path.iterdir()) == [], "something was written beside the home"


def test_a_bad_day_through_the_console_script_writes_nothing(tmp_path: Path) -> None:
    """The same rule in a real process: the reason alone on stderr, the home untouched."""
    home = tmp_path / "home"
    outcome = run_cli(
        ["--home", str(home), "run", "--simulator", "--date", "1900-01-01"], cwd=tmp_path
    )
    reason(outcome, 2, "1900-01-01 is before the earliest day 2008-10-07", EARLIEST_DAY_ENV)
    assert not home.exists()


def test_demo_days_reaching_before_the_earliest_day_are_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    days = (utc_today() - EARLIEST).days + 2  # the window would start the day before
    outcome = run_main(
        ["--home", str(tmp_path / "home"), "demo", "--days", str(days)], monkeypatch, capsys
    )
    reason(outcome, 2, "--days", "before the earliest day 2008-10-07")
    assert not (tmp_path / "home").exists()


def _quality(
    day: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Outcome:
    return run_main(
        ["--home", str(tmp_path / "home"), "quality", "--date", day],
        monkeypatch,
        capsys,
        env={EARLIEST_DAY_ENV: "2020-01-01"},
    )


def test_the_earliest_day_is_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reason(
        _quality("2019-12-31", tmp_path, monkeypatch, capsys),
        2,
        "2019-12-31 is before the earliest day 2020-01-01",
    )
    (tmp_path / "home").mkdir()  # quality never creates a home (a missing one is exit 1)
    succeeded(_quality("2020-01-01", tmp_path, monkeypatch, capsys), "no data-quality runs")


def test_a_malformed_earliest_day_setting_is_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_main(
        ["--home", str(tmp_path / "home"), "quality", "--date", "2024-01-01"],
        monkeypatch,
        capsys,
        env={EARLIEST_DAY_ENV: "2020"},
    )
    reason(outcome, 2, EARLIEST_DAY_ENV, "expected a day as YYYY-MM-DD, got '2020'")

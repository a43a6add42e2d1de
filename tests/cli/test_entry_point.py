"""The entry point's own rules, beyond any one command (``infra/cli/main.py``, ``app.py``).

Whatever goes wrong inside a command, the user gets the contract: one reason line on
stderr and a status of 0, 1, 2 or 3. Faults are injected into ``cost`` (the cheapest
command) through its pricing function, and the console script's ``main`` runs with
``sys.argv`` set, as the installed script calls it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import infra.cost
from infra.local.doctor import Check, DoctorReport, FollowersNotReadableError
from ingest.capabilities import AppCapabilities
from tests.cli._run import Outcome, reason, run_main, succeeded


@pytest.fixture
def cost_raising(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[Callable[[], None]], Outcome]:
    """Run ``cost`` with ``fault`` called where it prices the first roster size."""
    real = infra.cost.estimate

    def run(fault: Callable[[], None]) -> Outcome:
        def estimate(*args: object, **kwargs: object) -> object:
            fault()
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(infra.cost, "estimate", estimate)
        return run_main(["cost", "--format", "json"], monkeypatch, capsys)

    return run


def test_no_command_is_bad_usage_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_main([], monkeypatch, capsys)
    reason(outcome, 2, "no command given", "--help")
    assert "Usage" in outcome.out  # the help, on stdout


def test_a_group_without_its_command_is_bad_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reason(run_main(["views"], monkeypatch, capsys), 2, "no command given")


def test_an_unknown_command_is_bad_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reason(run_main(["lakehouse-please"], monkeypatch, capsys), 2, "lakehouse-please")


def test_a_home_that_is_a_file_is_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "notes.txt"
    home.write_text("not a home\n")
    outcome = run_main(["--home", str(home), "quality"], monkeypatch, capsys)
    reason(outcome, 2, "--home", "is a file, not a lakehouse home", "pass a directory")
    assert home.read_text() == "not a home\n"


def test_help_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_main(["ingest", "--help"], monkeypatch, capsys)
    succeeded(outcome, "--date", "YYYY-MM-DD")
    assert outcome.err == ""


def test_ctrl_c_is_a_failure_with_a_reason(
    cost_raising: Callable[[Callable[[], None]], Outcome],
) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    reason(cost_raising(interrupt), 1, "interrupted")


def test_an_unexpected_error_is_one_line(
    cost_raising: Callable[[Callable[[], None]], Outcome],
) -> None:
    def crash() -> None:
        raise RuntimeError("first line\nsecond line\n\x1b[4munderlined\x1b[0m")

    reason(cost_raising(crash), 1, "RuntimeError: first line second line underlined")


def test_a_library_exit_with_a_message_is_one_line(
    cost_raising: Callable[[Callable[[], None]], Outcome],
) -> None:
    def leave() -> None:
        raise SystemExit("gave up: no more retries")

    reason(cost_raising(leave), 1, "gave up: no more retries")


@pytest.mark.parametrize(("status", "expected"), [(3, 3), (2, 2), (7, 1), (130, 1)])
def test_a_library_exit_status_is_kept_within_the_contract(
    status: int, expected: int, cost_raising: Callable[[Callable[[], None]], Outcome]
) -> None:
    def leave() -> None:
        raise SystemExit(status)

    reason(cost_raising(leave), expected)


def test_warnings_are_held_back_and_printed_after_a_success(
    cost_raising: Callable[[Callable[[], None]], Outcome],
) -> None:
    def warn() -> None:
        logging.getLogger("ingest.ratelimit").warning("paused for %.1f s", 2.0)
        logging.getLogger("great_expectations").info("library chatter")  # never shown

    outcome = cost_raising(warn)
    succeeded(outcome)
    assert outcome.err.splitlines()[-1] == "warning: ingest.ratelimit: paused for 2.0 s"
    assert "chatter" not in outcome.err
    assert outcome.err.index("Monthly estimate") < outcome.err.index("paused")


def test_a_flood_of_warnings_is_capped_and_counted(
    cost_raising: Callable[[Callable[[], None]], Outcome],
) -> None:
    flooded: list[bool] = []

    def flood() -> None:  # cost prices two roster sizes: flood on the first only
        for n in range(0 if flooded else 500):
            logging.getLogger("ingest.ratelimit").warning("pause %d", n)
        flooded.append(True)

    outcome = cost_raising(flood)
    succeeded(outcome, "warning: ingest.ratelimit: pause 199", "... 300 more (-v prints them all)")
    assert "pause 200" not in outcome.err


def test_a_failure_counts_held_warnings_in_its_one_line(
    cost_raising: Callable[[Callable[[], None]], Outcome],
) -> None:
    def warn_then_fail() -> None:
        logging.getLogger("ingest.client").warning("GET /artists answered 403")
        warnings.warn("a library's UserWarning", UserWarning, stacklevel=1)
        raise RuntimeError("boom")

    line = reason(cost_raising(warn_then_fail), 1, "RuntimeError: boom")
    assert "log message(s) held back: -v prints them" in line
    assert "403" not in line


def test_verbose_shows_our_logs_as_they_come_and_not_library_info(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = infra.cost.estimate

    def estimate(*args: object, **kwargs: object) -> object:
        logging.getLogger("infra.cost").info("pricing")
        logging.getLogger("py4j.clientserver").info("Closing down clientserver connection")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(infra.cost, "estimate", estimate)
    outcome = run_main(["-v", "cost"], monkeypatch, capsys)
    succeeded(outcome, "INFO infra.cost: pricing")
    assert "clientserver" not in outcome.err


def test_the_cli_leaves_the_root_logger_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    run_main(["cost"], monkeypatch, capsys)
    run_main(["-v", "cost"], monkeypatch, capsys)
    assert (list(root.handlers), root.level) == before


# doctor's exit status follows from its findings ------------------------------------------


def _capabilities(followers: bool | None) -> AppCapabilities:
    return AppCapabilities("06HL4z0CvFAxyc27GXpf02", False, followers, followers)


OK = Check("java", "ok", "openjdk 17")
WARN = Check("catalog", "warn", "not created yet")
FAIL = Check("jars", "fail", "missing: iceberg.jar")


def test_doctor_all_ok_or_warned_is_success() -> None:
    assert DoctorReport([OK, WARN], _capabilities(True)).problem() is None


def test_doctor_a_failed_check_is_exit_1_naming_it() -> None:
    problem = DoctorReport([OK, FAIL], _capabilities(True)).problem()
    assert problem is not None
    assert problem.exit_code == 1
    assert "1 check(s) failed: jars: missing: iceberg.jar" in str(problem)


def test_doctor_an_app_without_followers_is_exit_3_before_other_failures() -> None:
    problem = DoctorReport([FAIL], _capabilities(False)).problem()
    assert isinstance(problem, FollowersNotReadableError)
    assert problem.exit_code == 3
    assert "nothing was written" not in str(problem)  # doctor writes nothing


def test_doctor_an_undetermined_probe_is_not_exit_3() -> None:
    assert DoctorReport([OK], _capabilities(None)).problem() is None
    assert DoctorReport([OK], None).problem() is None

"""Messages a person can trust (issue 9): no Python ``None`` and no terminal escape in what
the CLI says, on the failure paths above all.

A reason that reads ``... got None`` or ``report None`` tells the reader nothing about what is
missing; an escape code in a log file is garbage. Every failing row of the exit-code matrix
(``tests/cli/test_exit_codes.py``: each command's exit 1, 2 and 3) is run again here and its
stderr scanned, plus failure paths that render optional values (a roster file that does not
exist, a legacy source without a bucket, a legacy day with nothing usable in it). stderr is
a pipe with ``FORCE_COLOR``/``TTY_COMPATIBLE`` set: rich alone would then write escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from tests.cli._run import Outcome, run_cli, run_main
from tests.cli.test_exit_codes import MATRIX, Row, World

#: The word ``None`` as Python prints it; "none" in prose (``failed none``) is not it.
PYTHON_NONE: Final = re.compile(r"\bNone\b")
ANSI: Final = "\x1b["
FOOLING_ENV: Final = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}

FAILURES: Final = [row for row in MATRIX if row.code != 0]


def check_message(outcome: Outcome) -> None:
    assert not PYTHON_NONE.search(outcome.err), outcome.describe()
    assert ANSI not in outcome.err, outcome.describe()


@pytest.fixture
def world(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:
    for name, value in FOOLING_ENV.items():
        monkeypatch.setenv(name, value)  # run_cli's clean_env copies this environment
    return World(tmp_path, request, monkeypatch, capsys)


@pytest.mark.parametrize("row", FAILURES, ids=[row.id for row in FAILURES])
def test_no_none_and_no_escape_in_a_failure(row: Row, world: World) -> None:
    outcome = row.run(world)
    assert outcome.code == row.code, outcome.describe()
    check_message(outcome)


def _missing_roster(w: World) -> Outcome:
    return w.cli("--home", w.fresh, "ingest", "--simulator", "--roster", w.tmp / "nope.json")


def _bucketless_legacy(w: World) -> Outcome:
    return w.cli("--home", w.fresh, "import-legacy", "s3://")


def _unusable_legacy_day(w: World) -> Outcome:
    """A legacy day whose only object is not an artist: imported as 'nothing usable'."""
    day = w.tmp / "legacy" / "2023-05-01"
    day.mkdir(parents=True)
    (day / "Taylor Swift").write_text("not json\n")
    return w.cli("--home", w.fresh, "import-legacy", w.tmp / "legacy", "--format", "csv")


def _unknown_query_name(w: World) -> Outcome:
    return run_main(
        ["--home", str(w.fresh), "query", "top_gainer_7d"], w.monkeypatch, w.capsys, FOOLING_ENV
    )


MORE: Final[dict[str, tuple[int, Callable[[World], Outcome], str]]] = {
    "roster-file-missing": (1, _missing_roster, "nope.json"),
    "legacy-source-without-bucket": (1, _bucketless_legacy, "names no bucket"),
    "legacy-day-with-nothing-usable": (0, _unusable_legacy_day, "nothing usable"),
    "near-miss-query-name": (1, _unknown_query_name, "did you mean"),
}


@pytest.mark.parametrize("case", list(MORE))
def test_no_none_and_no_escape_where_a_value_is_optional(case: str, world: World) -> None:
    code, run, fragment = MORE[case]
    outcome = run(world)
    assert outcome.code == code, outcome.describe()
    assert fragment in outcome.err, outcome.describe()
    check_message(outcome)
    assert not PYTHON_NONE.search(outcome.out), outcome.describe()


def test_a_table_on_a_pipe_has_no_escapes_even_with_force_color(tmp_path: Path) -> None:
    """Results too: rich would make a table's header bold for FORCE_COLOR even in a pipe."""
    home = tmp_path / "home"
    outcome = run_cli(
        ["--home", str(home), "query", "SELECT 1 AS n"], cwd=tmp_path, env=FOOLING_ENV
    )
    assert outcome.code == 0, outcome.describe()
    assert "┃ n ┃" in outcome.out, outcome.describe()
    assert ANSI not in outcome.out + outcome.err, outcome.describe()


@pytest.mark.parametrize("error", [ValueError(None), RuntimeError(), OSError("  ")])
def test_an_unexpected_error_without_a_message_is_named_not_none(error: Exception) -> None:
    """The entry point's last resort prints ``Name: message``; without a message it says so
    (and how to see more) instead of ``ValueError: None`` or ``RuntimeError: ``."""
    from infra.cli.main import _reason

    line = _reason(error)
    assert not PYTHON_NONE.search(line), line
    assert line.startswith(f"{type(error).__name__} without a message"), line
    assert "-v" in line

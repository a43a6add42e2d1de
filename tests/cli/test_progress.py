"""Progress a person can trust (issue 9): long commands say how far along they are.

Off a terminal (a log, CI, a pipe) ``backfill``, ``maintain`` and ``import-legacy`` print one
plain line per finished day or table, numbered and timed, then one summary line, and never
a terminal escape, even with ``FORCE_COLOR``/``TTY_COMPATIBLE`` set (rich alone would then
write escapes into the pipe). On a terminal (a pty here, through the real process) the same
run shows a rich bar. A run that fails ends with its one-line reason and no summary.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Final

import pytest
from rich.console import Console

from catalog.iceberg.tables import TABLES
from infra.cli.progress import ItemProgress
from ingest.capabilities import PROBE_ARTIST_ID
from ingest.roster import default_roster
from tests.cli._run import CLI, PROG, TIMEOUT_S, Outcome, clean_env, run_cli, succeeded
from tests.cli.conftest import utc_today

DAYS: Final = 3
#: What makes rich take any file for a terminal: the CLI must not be fooled by it.
FOOLING_ENV: Final = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
ANSI: Final = "\x1b["
#: What a transient bar writes last: cursor up one line, erase that line.
ERASE_LINE: Final = "\x1b[1A\x1b[2K"
ESCAPE: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: ``(elapsed H:MM:SS)`` or ``(elapsed H:MM:SS, about H:MM:SS left)``, the end of an item line.
TIMING: Final = re.compile(r"\(elapsed \d+:\d\d:\d\d(, about \d+:\d\d:\d\d left)?\)$")
LEGACY_DAYS: Final = ("2023-05-01", "2023-05-02", "2023-05-03")


def plain_checks(outcome: Outcome) -> None:
    """No escape and no Python ``None`` anywhere on stderr."""
    assert ANSI not in outcome.err, outcome.describe()
    assert not re.search(r"\bNone\b", outcome.err), outcome.describe()


def lines_of(outcome: Outcome, command: str) -> list[str]:
    return [line for line in outcome.err.splitlines() if line.startswith(f"{command} ")]


@dataclass(frozen=True)
class Backfilled:
    root: Path
    home: Path
    days: list[date]
    outcome: Outcome


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Backfilled:
    """``backfill --simulator`` over the three days before today, stderr a pipe."""
    root = tmp_path_factory.mktemp("progress")
    home = root / "home"
    last = utc_today() - timedelta(days=1)
    days = [last - timedelta(days=n) for n in reversed(range(DAYS))]
    outcome = run_cli(
        [
            "--home",
            str(home),
            "backfill",
            "--simulator",
            "--start",
            days[0].isoformat(),
            "--end",
            days[-1].isoformat(),
        ],
        cwd=root,
        env=FOOLING_ENV,
    )
    return Backfilled(root, home, days, outcome)


def test_backfill_off_a_terminal_prints_one_line_per_day_then_a_summary(
    backfilled: Backfilled,
) -> None:
    outcome = backfilled.outcome
    succeeded(outcome)
    plain_checks(outcome)
    snapshots = run_cli(
        ["--home", str(backfilled.home), "snapshots", "--format", "json"], cwd=backfilled.root
    )
    succeeded(snapshots)
    loads = {row["snapshot_date"]: row for row in json.loads(snapshots.out)}
    artists = len(default_roster())
    *days, summary = lines_of(outcome, "backfill")
    assert len(days) == DAYS, outcome.describe()
    for number, (line, day) in enumerate(zip(days, backfilled.days, strict=True), start=1):
        load = loads[day.isoformat()]
        loaded = (
            f"backfill {number}/{DAYS} {day}: {artists} inserted, 0 updated, 0 deleted, "
            f"0 quarantined; snapshot {load['snapshot_id']}, tag {load['tag']}; "
        )
        # The last day of a month (when the range holds one) names its month's compaction.
        files = sum(d.month == day.month and d <= day for d in backfilled.days)
        compacted = f"month {day:%Y-%m} compacted: {files} files into 1, sorted by artist; "
        fetched = f"fetched {artists} artists in "
        ends_month = (day + timedelta(days=1)).month != day.month and files >= 2
        assert line.startswith(loaded + (compacted if ends_month else "") + fetched), (
            outcome.describe()
        )
        assert TIMING.search(line), line
    assert re.fullmatch(
        rf"backfill done in \d+:\d\d:\d\d: {DAYS} of {DAYS} days loaded; rows: "
        rf"{DAYS * artists} inserted, 0 updated, 0 deleted, 0 quarantined; {DAYS} commits; "
        r"failures: 0 days failed data-quality checks",
        summary,
    ), summary


def test_a_range_that_fails_ends_with_its_reason_and_no_summary(backfilled: Backfilled) -> None:
    """Days finished before the failure keep their lines (printed as each finished); the
    reason is the last line, and the one line of the exit contract: no summary follows."""
    succeeded(backfilled.outcome)
    first, today = backfilled.days[0], utc_today()  # today has no bronze: it stops there
    outcome = run_cli(
        [
            "--home",
            str(backfilled.home),
            "backfill",
            "--start",
            first.isoformat(),
            "--end",
            today.isoformat(),
        ],
        cwd=backfilled.root,
        env=FOOLING_ENV,
    )
    assert outcome.code == 1, outcome.describe()
    plain_checks(outcome)
    *progress, last = outcome.err.splitlines()
    total = (today - first).days + 1
    assert progress == lines_of(outcome, "backfill"), outcome.describe()
    assert [line.split(":")[0] for line in progress] == [
        f"backfill {n}/{total} {day}" for n, day in enumerate(backfilled.days, start=1)
    ]
    assert all("rows unchanged, no commit" in line for line in progress), outcome.describe()
    assert last.startswith(f"{PROG}: stopped at {today}"), outcome.describe()
    assert "done in" not in outcome.err


def test_maintain_off_a_terminal_reports_each_table(backfilled: Backfilled) -> None:
    succeeded(backfilled.outcome)
    outcome = run_cli(
        ["--home", str(backfilled.home), "maintain", "--no-compact", "--format", "json"],
        cwd=backfilled.root,
        env=FOOLING_ENV,
    )
    succeeded(outcome)
    plain_checks(outcome)
    *tables, summary = lines_of(outcome, "maintain")
    total = len(TABLES)
    assert [line.split(":")[0] for line in tables] == [
        f"maintain {n}/{total} spotify.{name}" for n, name in enumerate(TABLES, start=1)
    ], outcome.describe()
    assert all(TIMING.search(line) for line in tables), outcome.describe()
    assert all("no data files compacted" in line for line in tables)  # --no-compact
    assert summary.startswith("maintain done in "), outcome.describe()
    assert f"{total} of {total} tables maintained" in summary
    assert [row["table"] for row in json.loads(outcome.out)] == [f"spotify.{n}" for n in TABLES]


# import-legacy: no Spark, so the terminal case runs in a real process on a pty ---------------


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """Three days of the original project's layout, ``YYYY-MM-DD/<artist name>``."""
    artist = {
        "id": PROBE_ARTIST_ID,
        "name": "Taylor Swift",
        "followers": {"href": None, "total": 100_000_000},
        "popularity": 99,
        "genres": ["pop"],
        "images": [],
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{PROBE_ARTIST_ID}"},
        "type": "artist",
        "uri": f"spotify:artist:{PROBE_ARTIST_ID}",
    }
    for day in LEGACY_DAYS:
        folder = tmp_path / "legacy" / day
        folder.mkdir(parents=True)
        (folder / "Taylor Swift").write_text(json.dumps(artist))
    return tmp_path / "legacy"


def test_import_legacy_off_a_terminal_prints_one_line_per_day(legacy: Path) -> None:
    outcome = run_cli(
        ["--home", str(legacy.parent / "home"), "import-legacy", str(legacy), "--format", "json"],
        cwd=legacy.parent,
        env=FOOLING_ENV,
    )
    succeeded(outcome)
    plain_checks(outcome)
    *days, summary = lines_of(outcome, "import-legacy")
    runs = {row["snapshot_date"]: row["run_id"] for row in json.loads(outcome.out)}
    assert len(days) == len(LEGACY_DAYS), outcome.describe()
    for number, (line, day) in enumerate(zip(days, LEGACY_DAYS, strict=True), start=1):
        assert line.startswith(
            f"import-legacy {number}/{len(LEGACY_DAYS)} {day}: imported; 1 record, "
            f"run {runs[day]} ("
        ), line
    assert summary.startswith("import-legacy done in "), summary
    assert "3 of 3 days imported (3 records)" in summary
    assert f"backfill --start {LEGACY_DAYS[0]} --end {LEGACY_DAYS[-1]}" in summary


def run_on_a_terminal(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """The CLI with stderr on a pseudo-terminal: status, stdout, and what the terminal got."""
    controller, terminal = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:  # a full pty buffer would block the CLI: read as it writes
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal side closed
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [str(CLI), *argv],
            cwd=cwd,
            env=clean_env({"TERM": "xterm-256color", "COLUMNS": "160"}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=TIMEOUT_S,
            check=False,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    return proc.returncode, proc.stdout.decode(), b"".join(received).decode(errors="replace")


def test_import_legacy_on_a_terminal_shows_a_bar(legacy: Path) -> None:
    code, out, screen = run_on_a_terminal(
        ["--home", str(legacy.parent / "home"), "import-legacy", str(legacy), "--format", "json"],
        legacy.parent,
    )
    assert code == 0, screen
    assert ANSI in screen  # a terminal gets the bar's cursor moves and colours
    text = ESCAPE.sub("", screen)
    assert "━" in text, text
    assert f"{len(LEGACY_DAYS)}/{len(LEGACY_DAYS)} days elapsed" in text, text
    assert " left " in text, text
    for day in LEGACY_DAYS:
        assert f"{day}: imported; 1 record, run " in text, text
    assert "import-legacy 1/" not in text  # the bar counts; lines above it are not numbered
    assert "import-legacy done in " in text
    assert "3 of 3 days imported" in text
    assert len(json.loads(out)) == len(LEGACY_DAYS)


# The reporter itself, on a terminal console --------------------------------------------------


def test_a_terminal_gets_lines_above_a_transient_bar() -> None:
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system="standard")
    with ItemProgress("backfill", 2, console=console) as progress:
        progress.item("2026-11-01: first")
        progress.item("2026-11-02: second")
        progress.finish("2 of 2 days loaded")
    written = screen.getvalue()
    text = ESCAPE.sub("", written)
    assert ANSI in written
    assert "2026-11-01: first" in text
    assert "2026-11-02: second" in text
    assert "backfill 1/2" not in text
    summary = text.rstrip().splitlines()[-1]
    assert re.fullmatch(r"backfill done in \d+:\d\d:\d\d: 2 of 2 days loaded", summary), text


def test_a_failure_on_a_terminal_erases_the_bar_and_prints_no_summary() -> None:
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    progress = ItemProgress("demo", 3, console=console)

    def fail_on_day_two() -> None:
        with progress:
            progress.item("2026-11-01: first")
            raise RuntimeError("day two failed")

    with pytest.raises(RuntimeError):
        fail_on_day_two()
    written = screen.getvalue()
    assert "2026-11-01: first" in ESCAPE.sub("", written)
    assert "done in" not in written
    assert written.endswith(ERASE_LINE), repr(written[-80:])  # the bar's line is cleared
    assert progress.done == 1

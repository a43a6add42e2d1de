"""The exit-code matrix: every command x {0 success, 2 bad usage, 1 failure, 3 no followers}.

The contract (ARCHITECTURE.md): 0 success; 3 when the Spotify app cannot provide followers;
1 for any other failure; 2 for bad usage; every non-zero exit prints a one-line reason on
stderr. Each row below runs one command through the console script and checks the status
and that stderr is exactly that one line (no warning before it, no traceback, no escapes).
Rows of 0, 1 and 3 run ``.venv/bin/spotify-lakehouse`` as a process (what a user's
terminal shows); rows of 2 call its ``main()`` with ``sys.argv`` set (bad usage is decided
while the command line is read, before any library runs; see ``tests/cli/_run.py``).
The test ids read as the matrix: ``test_exit_status[ingest-3-development-mode-app]``.

:func:`test_every_command_has_its_rows` keeps the matrix complete: a command registered on
the app without a success, a usage and a failure row (and a 3 row where followers matter)
fails it.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest
import requests

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.lease import LEASE_FILE
from ingest.capabilities import PROBE_ARTIST_ID
from ingest.simulator.server import SpotifySimulator
from tests.cli._run import CLI, Outcome, clean_env, reason, run_cli, run_main, succeeded
from tests.cli.conftest import DevelopmentDay, LoadedHome, Prefetch, spotify_env, utc_today

#: Commands whose outcome depends on what the Spotify app can read: each has a 3 row.
FOLLOWERS_COMMANDS: Final = frozenset({"ingest", "run", "transform", "backfill", "doctor"})
#: Ingest's exit-3 reason names the missing field, the restriction and the remedy.
NO_FOLLOWERS: Final = ("'followers'", "Development Mode", "Extended Quota Mode")


@dataclass
class World:
    """What a row may use: a fresh home, the shared homes, the two ways to run the CLI."""

    tmp: Path
    request: pytest.FixtureRequest
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    @property
    def fresh(self) -> Path:
        """A home that does not exist yet."""
        return self.tmp / "home"

    @property
    def yesterday(self) -> str:
        return (utc_today() - timedelta(days=1)).isoformat()

    def cli(
        self, *argv: str | Path, env: dict[str, str] | None = None, stdout: int | None = None
    ) -> Outcome:
        return run_cli([str(a) for a in argv], cwd=self.tmp, env=env, stdout=stdout)

    def main(self, *argv: str | Path) -> Outcome:
        return run_main([str(a) for a in argv], self.monkeypatch, self.capsys)

    def loaded(self) -> LoadedHome:
        home: LoadedHome = self.request.getfixturevalue("loaded_home")
        home.require()
        return home

    def development(self) -> DevelopmentDay:
        day: DevelopmentDay = self.request.getfixturevalue("development_day")
        return day

    def development_env(self) -> dict[str, str]:
        sim: SpotifySimulator = self.request.getfixturevalue("development_spotify")
        return spotify_env(sim)

    def corrupt(self) -> Path:
        """A home whose catalog.db is not a database (a bad copy, a disk fault)."""
        self.fresh.mkdir(parents=True)
        (self.fresh / "catalog.db").write_bytes(b"this is not an SQLite database\n" * 64)
        return self.fresh

    def damaged(self) -> Path:
        """A home whose bronze folder is a file: nothing can be written there."""
        self.fresh.mkdir(parents=True)
        (self.fresh / "bronze").write_text("not a folder\n")
        return self.fresh


@pytest.fixture
def world(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:
    return World(tmp_path, request, monkeypatch, capsys)


@dataclass(frozen=True)
class Row:
    """One cell of the matrix: a command, the status it must exit with, how to get there."""

    command: str
    code: int
    case: str
    run: Callable[[World], Outcome]
    #: Fragments of the reason line (non-zero) or of the output (0).
    expect: tuple[str, ...] = ()
    then: Callable[[World, Outcome], None] | None = None
    #: Slow steps the row waits for (tests/cli/conftest.py, SLOW_STEPS).
    needs: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return f"{self.command.replace(' ', '-')}-{self.code}-{self.case}"


# Rows that need more than one command line -------------------------------------------------


def _slow(step: str) -> Callable[[World], Outcome]:
    """A JVM-bound step, run in the background (tests/cli/conftest.py, Prefetch): ``run``
    and ``backfill`` are the steps that built the shared home."""

    def outcome(w: World) -> Outcome:
        slow: Prefetch = w.request.getfixturevalue("prefetch")
        return slow.step(step)

    return outcome


def _cost_into_a_closed_pipe(w: World) -> Outcome:
    """``cost | head -0``: the reader is gone before the first byte (EPIPE on write)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return w.cli("cost", "--format", "json", stdout=write_end)
    finally:
        os.close(write_end)


def _maintain_during_a_write(w: World) -> Outcome:
    """A load holds the home's write lease (shared flock): maintenance must refuse."""
    w.fresh.mkdir(parents=True)
    descriptor = os.open(w.fresh / LEASE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        return w.cli("--home", w.fresh, "maintain")
    finally:
        os.close(descriptor)


def _simulator_on_a_taken_port(w: World) -> Outcome:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        return w.cli("simulator", "--port", str(taken.getsockname()[1]))


def _read_until(stream: queue.Queue[str | None], marker: str, timeout_s: float) -> list[str]:
    lines: list[str] = []
    while not any(marker in line for line in lines):
        line = stream.get(timeout=timeout_s)
        if line is None:
            break
        lines.append(line)
    return lines


def _simulator_served_then_terminated(w: World) -> Outcome:
    """Start ``simulator --port 0``, use it as a client would, stop it with SIGTERM."""
    proc = subprocess.Popen(
        [str(CLI), "simulator", "--port", "0", "--mode", "development"],
        cwd=w.tmp,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        banner = _read_until(lines, "SPOTIFY_CLIENT_SECRET=", timeout_s=120)
        settings = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in banner
            if line.strip().startswith("export ")
        )
        assert "SPOTIFY_API_URL" in settings, "".join(banner)
        http = requests.Session()
        http.trust_env = False  # 127.0.0.1 directly, whatever proxy the machine has
        token = http.post(
            settings["SPOTIFY_TOKEN_URL"],
            data={"grant_type": "client_credentials"},
            auth=(settings["SPOTIFY_CLIENT_ID"], settings["SPOTIFY_CLIENT_SECRET"]),
            timeout=10,
        )
        token.raise_for_status()
        artist = http.get(
            f"{settings['SPOTIFY_API_URL']}/artists/{PROBE_ARTIST_ID}",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=10,
        )
        assert artist.status_code == 200
        assert "followers" not in artist.json()  # --mode development answers as such an app
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave a server behind; the status check then fails
            proc.wait()
        reader.join(timeout=10)
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.stderr.close()
    rest: list[str] = []
    while not lines.empty():
        line = lines.get()
        if line is not None:
            rest.append(line)
    return Outcome(("simulator",), proc.returncode, "".join(banner + rest), err, 0.0)


def _import_a_legacy_day(w: World) -> Outcome:
    """The original project's layout: ``YYYY-MM-DD/<artist name>``, one artist object each."""
    obj = {
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
    day = w.tmp / "legacy" / "2023-05-01"
    day.mkdir(parents=True)
    (day / "Taylor Swift").write_text(json.dumps(obj))
    return w.cli("--home", w.fresh, "import-legacy", w.tmp / "legacy", "--format", "json")


def _delete_a_loaded_artist_day(w: World) -> Outcome:
    """A day of two artists loaded by ``transform`` (a first load: no JVM), then one taken
    back (the command's own tests: tests/cli/test_delete_day.py)."""
    from tests.bronze_days import artist, write_day

    day = utc_today() - timedelta(days=1)
    write_day(LocalBronzeStore(w.fresh / "bronze"), day, [[artist(1), artist(2)]])
    loaded = w.cli("--home", w.fresh, "transform", "--date", day.isoformat())
    assert loaded.code == 0, loaded.describe()
    gone = artist(2)["id"]
    return w.cli(
        *("--home", w.fresh, "delete-day", "--date", day.isoformat(), "--artist", gone),
        *("--reason", "test", "--format", "json"),
    )


def _empty_legacy_folder(w: World) -> Outcome:
    (w.tmp / "legacy").mkdir()
    return w.cli("--home", w.fresh, "import-legacy", w.tmp / "legacy")


# Checks beyond the status -----------------------------------------------------------------


def _bronze_day(complete: bool, followers: bool) -> Callable[[World, Outcome], None]:
    def check(w: World, _: Outcome) -> None:
        manifest = LocalBronzeStore(w.fresh / "bronze").read_manifest(utc_today())
        assert (manifest is not None) is complete
        if manifest is not None:
            assert manifest.followers_available is followers

    return check


def _ingested_first_day(w: World, _: Outcome) -> None:
    days = LocalBronzeStore(w.fresh / "bronze").days()
    assert len(days) == 1


def _json_rows(count: int) -> Callable[[World, Outcome], None]:
    def check(_: World, outcome: Outcome) -> None:
        assert len(json.loads(outcome.out)) == count, outcome.describe()

    return check


def _gold_rows(_: World, outcome: Outcome) -> None:
    assert json.loads(outcome.out) == [{"n": 40}], outcome.describe()  # 20 artists x 2 days


def _chart_files(w: World, _: Outcome) -> None:
    assert (w.tmp / "chart.png").stat().st_size > 0
    assert (w.tmp / "chart.html").stat().st_size > 0


def _nothing_printed(_: World, outcome: Outcome) -> None:
    assert outcome.out == ""


ATHENA = ("AWS_REGION",)
#: Rows that read the shared home need its build steps.
LOADED = frozenset({"run", "backfill"})

MATRIX: Final = [
    # demo
    Row(
        "demo",
        0,
        "one-day-two-artists",
        _slow("demo"),
        (
            "Top 5 most followed artists today",
            "Data quality: 1/1 days passed",
            "/reports/dashboard/index.html",
        ),
        needs=frozenset({"demo"}),
    ),
    Row("demo", 2, "zero-days", lambda w: w.main("--home", w.fresh, "demo", "--days", "0")),
    Row(
        "demo",
        1,
        "damaged-home",
        lambda w: w.cli("--home", w.damaged(), "demo", "--days", "1"),
        ("File exists", "bronze"),
    ),
    # doctor
    Row(
        "doctor",
        0,
        "simulator",
        lambda w: w.cli("--home", w.fresh, "doctor", "--simulator", "--format", "json"),
        ('"followers"',),
    ),
    Row("doctor", 2, "bad-format", lambda w: w.main("doctor", "--format", "xml")),
    Row(
        "doctor",
        1,
        "no-java-on-path",
        lambda w: w.cli("--home", w.fresh, "doctor", "--simulator", env={"PATH": "/nonexistent"}),
        ("1 check(s) failed", "java"),
    ),
    Row(
        "doctor",
        3,
        "development-mode-app",
        lambda w: w.cli("--home", w.fresh, "doctor", env=w.development_env()),
        ("cannot read followers", "Development Mode", "Extended Quota Mode"),
    ),
    # ingest
    Row(
        "ingest",
        0,
        "simulator-past-day",
        lambda w: w.cli("--home", w.fresh, "ingest", "--simulator", "--date", w.yesterday),
        ("20 artists",),
        _ingested_first_day,
    ),
    Row("ingest", 2, "top-zero", lambda w: w.main("--home", w.fresh, "ingest", "--top", "0")),
    Row(
        "ingest",
        1,
        "no-credentials",
        lambda w: w.cli("--home", w.fresh, "ingest"),
        ("credentials", "SPOTIFY_CLIENT_ID", "--simulator"),
    ),
    Row(
        "ingest",
        3,
        "development-mode-app",
        lambda w: w.cli("--home", w.fresh, "ingest", env=w.development_env()),
        NO_FOLLOWERS,
        _bronze_day(complete=True, followers=False),
    ),
    # run
    Row("run", 0, "simulator-first-day", _slow("run"), ("inserted",), needs=frozenset({"run"})),
    Row("run", 2, "unknown-option", lambda w: w.main("--home", w.fresh, "run", "--dry")),
    Row(
        "run",
        1,
        "no-credentials",
        lambda w: w.cli("--home", w.fresh, "run"),
        ("credentials", "--simulator"),
    ),
    Row(
        "run",
        3,
        "development-mode-app",
        lambda w: w.cli("--home", w.fresh, "run", env=w.development_env()),
        NO_FOLLOWERS,
        _bronze_day(complete=True, followers=False),
    ),
    # transform
    Row(
        "transform",
        0,
        "reload-changes-nothing",
        _slow("transform"),
        ("rows unchanged, no commit",),
        needs=frozenset({"transform"}),
    ),
    Row("transform", 2, "extra-argument", lambda w: w.main("transform", "2026-11-01")),
    Row(
        "transform",
        1,
        "day-not-ingested",
        lambda w: w.cli("--home", w.fresh, "transform", "--date", "2026-01-05"),
        ("incomplete", "ingest --date 2026-01-05"),
    ),
    Row(
        "transform",
        3,
        "development-mode-day",
        lambda w: w.cli(
            "--home",
            w.development().home,
            "transform",
            "--date",
            w.development().day.isoformat(),
        ),
        NO_FOLLOWERS,
    ),
    # backfill
    Row(
        "backfill",
        0,
        "simulator-range",
        _slow("backfill"),
        ("inserted", "unchanged"),
        needs=frozenset({"backfill"}),
    ),
    Row(
        "backfill",
        2,
        "range-ends-before-it-starts",
        lambda w: w.main(
            "--home", w.fresh, "backfill", "--start", "2026-01-05", "--end", "2026-01-04"
        ),
    ),
    Row(
        "backfill",
        1,
        "range-not-ingested",
        lambda w: w.cli(
            "--home", w.fresh, "backfill", "--start", "2026-01-05", "--end", "2026-01-06"
        ),
        ("stopped at 2026-01-05", "no day loaded", "ingest --date 2026-01-05"),
    ),
    Row(
        "backfill",
        3,
        "development-mode-day",
        lambda w: w.cli(
            "--home",
            w.development().home,
            "backfill",
            "--start",
            w.development().day.isoformat(),
            "--end",
            w.development().day.isoformat(),
        ),
        NO_FOLLOWERS,
    ),
    # query
    Row(
        "query",
        0,
        "gold-view-json",
        lambda w: w.cli(
            "--home",
            w.loaded().home,
            "query",
            "SELECT count(*) AS n FROM Spotify_Gold_View",
            "--format",
            "json",
        ),
        then=_gold_rows,
        needs=LOADED,
    ),
    Row("query", 2, "no-sql", lambda w: w.main("--home", w.fresh, "query")),
    Row(
        "query",
        1,
        "not-sql",
        lambda w: w.cli("--home", w.fresh, "query", "SELEC 1"),
        ("cannot parse", "SELEC"),
    ),
    Row(
        "query",
        1,
        "athena-without-aws-settings",
        lambda w: w.cli("--home", w.fresh, "query", "SELECT 1", "--engine", "athena"),
        ATHENA,
    ),
    # snapshots
    Row(
        "snapshots",
        0,
        "two-loads",
        lambda w: w.cli("--home", w.loaded().home, "snapshots", "--format", "json"),
        then=_json_rows(2),
        needs=LOADED,
    ),
    Row("snapshots", 2, "bad-format", lambda w: w.main("snapshots", "--format", "xml")),
    Row(
        "snapshots",
        1,
        "nothing-loaded",
        lambda w: w.cli("--home", w.fresh, "snapshots"),
        ("nothing has been loaded", "--home"),
    ),
    # quality
    Row(
        "quality",
        0,
        "two-days",
        lambda w: w.cli("--home", w.loaded().home, "quality", "--format", "json"),
        then=_json_rows(2),
        needs=LOADED,
    ),
    Row("quality", 2, "bad-format", lambda w: w.main("quality", "--format", "yaml")),
    Row(
        "quality",
        1,
        "corrupt-catalog",
        lambda w: w.cli("--home", w.corrupt(), "quality"),
        ("not a database",),
    ),
    # maintain
    Row(
        "maintain",
        0,
        "no-compaction",
        _slow("maintain"),
        ("artists_silver",),
        needs=frozenset({"maintain"}),
    ),
    Row(
        "maintain",
        2,
        "zero-tag-retention",
        lambda w: w.main("--home", w.fresh, "maintain", "--tag-retention-days", "0"),
    ),
    Row(
        "maintain",
        1,
        "during-a-write",
        _maintain_during_a_write,
        ("write", "is running", "maintain"),
    ),
    # simulator
    Row(
        "simulator",
        0,
        "sigterm",
        _simulator_served_then_terminated,
        ("listening on http://127.0.0.1:", "simulator stopped"),
    ),
    Row("simulator", 2, "port-out-of-range", lambda w: w.main("simulator", "--port", "70000")),
    Row(
        "simulator",
        1,
        "port-taken",
        _simulator_on_a_taken_port,
        ("cannot listen on 127.0.0.1:", "--port 0"),
    ),
    # chart
    Row(
        "chart",
        0,
        "two-days",
        lambda w: w.cli(
            "--home", w.loaded().home, "chart", "--out", w.tmp / "chart.png", "--days", "2"
        ),
        ("chart.png", "chart.html"),
        _chart_files,
        needs=LOADED,
    ),
    Row(
        "chart",
        2,
        "out-not-png-or-html",
        lambda w: w.main("--home", w.fresh, "chart", "--out", w.tmp / "chart.txt"),
    ),
    Row(
        "chart",
        1,
        "nothing-loaded",
        lambda w: w.cli("--home", w.fresh, "chart", "--out", w.tmp / "chart.png"),
        ("no lakehouse catalog", "--home"),
    ),
    # dashboard (the page in a browser: tests/infra/test_dashboard.py)
    Row(
        "dashboard",
        0,
        "loaded",
        lambda w: w.cli("--home", w.loaded().home, "dashboard", "--out", w.tmp / "site"),
        ("index.html",),
        needs=LOADED,
    ),
    Row(
        "dashboard",
        2,
        "zero-days",
        lambda w: w.main("--home", w.fresh, "dashboard", "--out", w.tmp / "site", "--days", "0"),
    ),
    Row(
        "dashboard",
        1,
        "nothing-loaded",
        lambda w: w.cli("--home", w.fresh, "dashboard", "--out", w.tmp / "site"),
        ("nothing has been loaded", "--home"),
    ),
    # cost
    Row("cost", 0, "json", lambda w: w.cli("cost", "--format", "json"), ('"service": "total"',)),
    Row("cost", 2, "zero-artists", lambda w: w.main("cost", "--artists", "0")),
    Row(
        "cost",
        1,
        "stdout-closed",
        _cost_into_a_closed_pipe,
        ("stdout was closed",),
        _nothing_printed,
    ),
    # views deploy
    Row(
        "views deploy",
        0,
        "local",
        lambda w: w.cli("--home", w.fresh, "views", "deploy"),
        ("deployed spotify.spotify_gold_view (local)",),
    ),
    Row(
        "views deploy",
        2,
        "unknown-engine",
        lambda w: w.main("--home", w.fresh, "views", "deploy", "--engine", "bigquery"),
    ),
    Row(
        "views deploy",
        1,
        "corrupt-catalog",
        lambda w: w.cli("--home", w.corrupt(), "views", "deploy"),
        ("not a database",),
    ),
    Row(
        "views deploy",
        1,
        "athena-without-aws-settings",
        lambda w: w.cli("--home", w.fresh, "views", "deploy", "--engine", "athena"),
        ATHENA,
    ),
    # repair-catalog (its recovery of a deleted catalog: tests/cli/test_day_two.py)
    Row(
        "repair-catalog",
        0,
        "nothing-to-repair",
        lambda w: w.cli("--home", w.tmp, "repair-catalog", "--format", "json"),
        then=_json_rows(0),
    ),
    Row("repair-catalog", 2, "extra-argument", lambda w: w.main("repair-catalog", "spotify")),
    Row(
        "repair-catalog",
        1,
        "corrupt-catalog",
        lambda w: w.cli("--home", w.corrupt(), "repair-catalog"),
        ("not a database", "backup"),
    ),
    # delete-day
    Row(
        "delete-day", 0, "one-artist-day", _delete_a_loaded_artist_day, ('"tag_outcome": "moved"',)
    ),
    Row(
        "delete-day",
        2,
        "blank-reason",
        lambda w: w.main("--home", w.fresh, "delete-day", "--date", w.yesterday, "--reason", " "),
    ),
    Row(
        "delete-day",
        1,
        "nothing-to-delete",
        lambda w: w.cli("--home", w.tmp, "delete-day", "--date", w.yesterday, "--reason", "x"),
        ("nothing to delete",),
    ),
    # gaps (each kind of gap on a damaged home: tests/cli/test_gaps.py)
    Row(
        "gaps",
        0,
        "loaded-home",
        lambda w: w.cli(
            "--home", w.loaded().home, "gaps", "--start", w.loaded().first, "--format", "json"
        ),
        ('"kind": "no_bronze"',),  # today: the shared home's days end yesterday
    ),
    Row(
        "gaps",
        2,
        "end-before-start",
        lambda w: w.main("--home", w.tmp, "gaps", "--start", w.yesterday, "--end", "2020-01-01"),
    ),
    Row(
        "gaps", 1, "missing-home", lambda w: w.cli("--home", w.fresh, "gaps"), ("no lakehouse at",)
    ),
    # runs (what each command recorded: tests/cli/test_runs.py)
    Row(
        "runs",
        0,
        "loaded-home",
        lambda w: w.cli("--home", w.loaded().home, "runs", "--format", "json"),
        ('"kind": "backfill"', '"status": "succeeded"'),
    ),
    Row("runs", 2, "zero-last", lambda w: w.main("--home", w.tmp, "runs", "--last", "0")),
    Row(
        "runs", 1, "missing-home", lambda w: w.cli("--home", w.fresh, "runs"), ("no lakehouse at",)
    ),
    # import-legacy
    Row("import-legacy", 0, "one-day", _import_a_legacy_day, ('"status": "imported"',)),
    Row("import-legacy", 2, "no-source", lambda w: w.main("--home", w.fresh, "import-legacy")),
    Row(
        "import-legacy",
        1,
        "nothing-to-import",
        _empty_legacy_folder,
        ("no YYYY-MM-DD/<artist name> object",),
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _slow_commands_in_the_background(prefetch: Prefetch, request: pytest.FixtureRequest) -> None:
    """Start the JVM-bound work the collected rows need, before the first row runs."""
    wanted: set[str] = set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        row = callspec.params.get("row") if callspec is not None else None
        if isinstance(row, Row):
            wanted |= row.needs
    prefetch.start(wanted)


@pytest.mark.parametrize("row", MATRIX, ids=[row.id for row in MATRIX])
def test_exit_status(row: Row, world: World) -> None:
    outcome = row.run(world)
    if row.code == 0:
        succeeded(outcome, *row.expect)
    else:
        reason(outcome, row.code, *row.expect)
    if row.then is not None:
        row.then(world, outcome)


def registered_commands() -> set[str]:
    """Every command the app serves, sub-commands as ``group command`` (``views deploy``)."""
    from typer.main import get_command

    from infra.cli.main import app

    names: set[str] = set()

    def walk(group: object, prefix: str) -> None:
        for name, command in getattr(group, "commands", {}).items():
            if hasattr(command, "commands"):
                walk(command, f"{prefix}{name} ")
            else:
                names.add(f"{prefix}{name}")

    walk(get_command(app), "")
    return names


def test_every_command_has_its_rows() -> None:
    commands = registered_commands()
    assert {"demo", "doctor", "ingest", "views deploy", "simulator"} <= commands
    covered: dict[str, set[int]] = {}
    for row in MATRIX:
        covered.setdefault(row.command, set()).add(row.code)
    assert set(covered) == commands, "matrix rows for unknown commands, or commands without"
    for command in sorted(commands):
        wanted = {0, 1, 2} | ({3} if command in FOLLOWERS_COMMANDS else set())
        assert covered[command] >= wanted, f"{command} lacks rows for {wanted - covered[command]}"

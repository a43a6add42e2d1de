"""The ``spotify-lakehouse`` Typer app and what its commands share.

Commands live in :mod:`infra.cli.commands` (one module per area) and register themselves on
:data:`app`; :mod:`infra.cli.main` imports them (only ``query``'s for a query) and maps
failures to exit codes. Nothing here imports ``aws_cdk`` (it would start Node through jsii).

Two rules every command gets from here rather than implementing them itself:

* **Days** (:func:`parse_day`): ``YYYY-MM-DD`` only, never before the earliest day (Spotify's
  launch unless ``LAKEHOUSE_EARLIEST_DAY`` says otherwise), never in the future (UTC). The
  date options (:func:`day_option`) parse through it while the command line is read, so a
  bad day is exit 2 before the command has written anything.
* **stderr** (:class:`HeldLogs`): a non-zero exit prints exactly one line there, the reason.
  Without ``-v``, log records and Python warnings are held back while the command runs and
  printed after it succeeds; a failure only counts them in its reason line.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from catalog.paths import HOME_ENV, LakehousePaths
from infra.cli.output import OutputFormat
from views.engine import EngineName

app = typer.Typer(
    name="spotify-lakehouse",
    help="Daily Spotify artist followers in an Iceberg lakehouse, on AWS or on this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Days -----------------------------------------------------------------------------------------

#: Spotify's launch: no follower count can predate it, so an earlier day is a typo
#: (``1900-01-01`` once loaded a 46,355-day "gain"). Override with :data:`EARLIEST_DAY_ENV`.
DEFAULT_EARLIEST_DAY: Final = date(2008, 10, 7)
EARLIEST_DAY_ENV: Final = "LAKEHOUSE_EARLIEST_DAY"
#: The one accepted spelling. ``date.fromisoformat`` alone would also take ``20261102`` and
#: ISO week dates (``2026-W45-1``), which readers of a runbook would not recognise as days.
_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def utc_today() -> date:
    from ingest.pipeline import utc_today as today

    return today()


def earliest_day() -> date:
    """The first day the lakehouse accepts: ``LAKEHOUSE_EARLIEST_DAY`` or Spotify's launch."""
    text = os.environ.get(EARLIEST_DAY_ENV, "").strip()
    if not text:
        return DEFAULT_EARLIEST_DAY
    try:
        return check_day(text, today=date.max, earliest=date.min)
    except ValueError as e:
        raise typer.BadParameter(f"{e} (fix or unset it)", param_hint=EARLIEST_DAY_ENV) from e


def check_day(text: str, *, today: date, earliest: date) -> date:
    """``text`` as a day within ``earliest .. today``; ValueError naming the fix otherwise.

    Pure (the clock and the setting are arguments) so the rule is tested without either.
    """
    value = text.strip()
    if not _DAY.fullmatch(value):
        raise ValueError(f"expected a day as YYYY-MM-DD, got {text!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"{text!r} is not a calendar day ({e})") from e
    if day < earliest:
        raise ValueError(
            f"{day.isoformat()} is before the earliest day {earliest.isoformat()} "
            f"(Spotify's launch unless {EARLIEST_DAY_ENV} is set): pass a later day"
        )
    if day > today:
        raise ValueError(
            f"{day.isoformat()} is in the future (today is {today.isoformat()} UTC): "
            "pass today or an earlier day"
        )
    return day


def parse_day(text: str | None) -> date:
    """A day option's value (empty means today, UTC); bad usage (exit 2) when it is not a
    ``YYYY-MM-DD`` day between the earliest day and today. Every command's days go through
    here, as option parsers (``--date``, ``--start``, ``--end``, ``--as-of``) or called."""
    today = utc_today()
    if text is None or not text.strip():
        return today
    try:
        return check_day(text, today=today, earliest=earliest_day())
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e


def day_option(flag: str, help: str) -> Any:
    """A day option (``--date``, ``--start``, ``--end``, ``--as-of``), read by :func:`parse_day`
    while the command line is parsed. Help text is rich markup: write ``\\[`` for ``[``."""
    return typer.Option(flag, parser=parse_day, metavar="YYYY-MM-DD", help=help, show_default=False)


DayOption = Annotated[
    date | None,
    day_option(
        "--date",
        f"UTC day, from the earliest day ({EARLIEST_DAY_ENV}, default "
        f"{DEFAULT_EARLIEST_DAY}) to today \\[default: today]",
    ),
]
SimulatorOption = Annotated[
    bool, typer.Option("--simulator", help="Fetch from the built-in Spotify simulator")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Output format")]
SeedOption = Annotated[int, typer.Option("--seed", help="Simulator seed (same seed, same data)")]
EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        help="local: DuckDB over the home's tables; athena: Amazon Athena (ATHENA_WORKGROUP, "
        "ATHENA_OUTPUT_LOCATION, LAKEHOUSE_WAREHOUSE, AWS_REGION)",
    ),
]


def paths_of(ctx: typer.Context) -> LakehousePaths:
    """The lakehouse home chosen by ``--home`` / ``LAKEHOUSE_HOME``."""
    paths: LakehousePaths = ctx.obj
    return paths


def read_paths_of(ctx: typer.Context) -> LakehousePaths:
    """The home for a command that only reads it: on a home this user cannot write, with a
    private copy of its catalog (:func:`infra.local.home.for_reading`), removed when the
    command ends."""
    from infra.local.home import for_reading

    paths, done = for_reading(paths_of(ctx))
    ctx.call_on_close(done)
    return paths


# stderr ---------------------------------------------------------------------------------------

#: The packages whose INFO records ``-v`` shows; other libraries show WARNING and up only.
OWN_PACKAGES: Final = ("infra", "ingest", "glue", "catalog", "expectations", "views")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class HeldLogs(logging.Handler):
    """Log records (WARNING and up) held back until the command's outcome is known.

    The exit contract allows one stderr line on failure, and a library warning printed on
    the way (a 403 fallback, a retried conflict) would make it two or more. Held records
    are printed, one line each, after a success (:meth:`print_held`); a failure's reason line
    only counts them (:meth:`note`), since ``-v`` prints them as they happen.
    """

    #: Lines kept for printing; a long run's repeated warnings are counted beyond that.
    LIMIT: Final = 200

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.lines) >= self.LIMIT:
            return
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not hide the command's outcome
            message = str(record.msg)
        self.lines.append(_one_line(f"{record.levelname.lower()}: {record.name}: {message}"))

    def clear(self) -> None:
        self.lines, self.count = [], 0

    def print_held(self) -> None:
        """Print the held lines on stderr (after a success) and forget them."""
        for line in self.lines:
            print(line, file=sys.stderr)
        if self.count > len(self.lines):
            print(f"... {self.count - len(self.lines)} more (-v prints them all)", file=sys.stderr)
        self.clear()

    def note(self) -> str:
        """What a failure's reason line says about the held lines ('' when there are none)."""
        count = self.count
        self.clear()
        return f" ({count} log message(s) held back: -v prints them)" if count else ""


class _OwnInfo(logging.Filter):
    """``-v``: our packages from INFO, everything else from WARNING (py4j, GX are chatty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name.split(".")[0] in OWN_PACKAGES
        return own or record.levelno >= logging.WARNING


#: The handler of the command being run; :mod:`infra.cli.main` prints or counts it at the end.
held_logs = HeldLogs()


class _LiveLogs(logging.StreamHandler):  # type: ignore[type-arg]
    """``-v``: records as they come, on whatever ``sys.stderr`` is now (tests swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(_OwnInfo())
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        """StreamHandler's __init__ assigns it; the current sys.stderr always wins."""


live_logs = _LiveLogs()
live_logs.setLevel(logging.INFO)


def configure_logging(verbose: bool) -> None:
    """Route logs and Python warnings: live on stderr with ``-v``, held back otherwise.

    Idempotent (a test may call the CLI many times in one process): our two handlers are
    removed and the chosen one added again. Handlers get the level, not just the root
    logger, because some libraries raise their own loggers' level (GX sets INFO).
    """
    reset_logging()
    root = logging.getLogger()
    _saved_level.append(root.level)
    root.addHandler(live_logs if verbose else held_logs)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.captureWarnings(True)  # warnings.warn prints two lines: make it one log record


def reset_logging() -> None:
    """Take our handlers off the root logger again (the CLI's last step), so a process that
    runs commands in-process (tests, notebooks) keeps its own logging afterwards."""
    root = logging.getLogger()
    for handler in (held_logs, live_logs):
        root.removeHandler(handler)
    if _saved_level:
        root.setLevel(_saved_level.pop())
    held_logs.clear()
    logging.captureWarnings(False)


#: The root logger's level before :func:`configure_logging`, restored by :func:`reset_logging`.
_saved_level: list[int] = []


# The app --------------------------------------------------------------------------------------


@app.callback()
def _global(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar=HOME_ENV, help="Lakehouse home \\[default: ./lakehouse]"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress")] = False,
) -> None:
    configure_logging(verbose)
    paths = LakehousePaths.resolve(home)
    if paths.home.exists() and not paths.home.is_dir():  # every command would fail on it
        raise typer.BadParameter(
            f"{paths.home} is a file, not a lakehouse home: pass a directory (a new one is "
            "created by the first command that writes)",
            param_hint=f"--home / {HOME_ENV}",
        )
    ctx.obj = paths
    chosen_home[:] = [paths]


#: The home of the command being run, for reasons given after it failed (infra.cli.main).
chosen_home: list[LakehousePaths] = []

"""``spotify-lakehouse``: the command line over the lakehouse.

Exit status (ARCHITECTURE.md): 0 success; 3 when the Spotify app cannot provide followers;
1 for any other failure; 2 for bad usage. Every non-zero exit prints exactly one line on
stderr, the reason, and this module is the one place that prints it: commands raise, they
never print a reason or call ``sys.exit`` themselves. ``tests/cli`` holds the matrix of
every command against every exit status, through this entry point.

For the same reason the run history is finished here: a command that writes
(:data:`RECORDED_COMMANDS`) is a run, and its row in ``spotify.pipeline_runs`` gets the exit
status and the reason line this module settles (:mod:`infra.local.runs`), written before the
reason is printed and never changing it.
This module never imports ``aws_cdk`` (it would start Node through jsii).
"""

from __future__ import annotations

import errno
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

import typer
from typer.exceptions import TyperException

from catalog.errors import LakehouseError, exception_chain
from infra.cli import app as cli_app
from infra.cli.app import held_logs, reset_logging

#: The modules of ``infra.cli.commands`` whose import registers their commands on the app, in
#: the order the help lists them.
COMMAND_MODULES = (
    "query",
    "chart",
    "cost",
    "transform",
    "demo",
    "ingest",
    "repair",
    "dashboard",
    "delete_day",
    "history",
)
#: Commands one module serves alone, imported without the others: ``query`` is a short
#: process whose time is mostly imports. Any other command, or none (``--help``), registers
#: all; that stays cheap because command modules import the pipeline's modules (glue,
#: SQLAlchemy, requests, ...) only when a command runs.
_ALONE = {"query": "query", "snapshots": "query", "views": "query", "maintain": "query"}
#: Commands that write, each recorded as one run of this kind in ``spotify.pipeline_runs``
#: once its work has begun (bad usage and ``--help`` record nothing).
RECORDED_COMMANDS = {
    "ingest": "ingest",
    "run": "run",
    "transform": "transform",
    "backfill": "backfill",
    "demo": "demo",
    "maintain": "maintain",
    "delete-day": "delete-day",
    "import-legacy": "import-legacy",
}
#: Global options that take a value: the word after them is not the command.
_VALUED_OPTIONS = ("--home",)
PROG = "spotify-lakehouse"
#: What typer returns for Ctrl+C (128 + SIGINT); the contract makes it a failure, 1.
INTERRUPTED = 130


def _command_name(argv: Sequence[str]) -> str | None:
    after_option = False
    for word in argv:
        if after_option:
            after_option = False
        elif word in _VALUED_OPTIONS:
            after_option = True
        elif not word.startswith("-"):
            return word
    return None


def register(argv: Sequence[str] | None = None) -> typer.Typer:
    """The app with the commands ``argv`` runs registered (every command without ``argv``)."""
    name = _command_name(argv) if argv is not None else None
    alone = _ALONE.get(name or "")
    for module in (alone,) if alone else COMMAND_MODULES:
        importlib.import_module(f"infra.cli.commands.{module}")
    return cli_app.app


def __getattr__(name: str) -> typer.Typer:
    """``infra.cli.main.app``: the app with every command registered (what its help lists)."""
    if name == "app":
        return register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Terminal escapes some libraries put in messages (sqlglot underlines the bad token).
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


#: The run the command being executed records, once its work began (a kind, or nothing).
_recording: list[str] = []


def _finish_run(code: int, reason: str | None) -> None:
    """Record the command's run with its outcome (when it is one that writes and began)."""
    if _recording:
        _recording.clear()
        from infra.local import runs

        runs.finish(code, reason)


def _fail(message: str, code: int) -> NoReturn:
    reason = " ".join(_ANSI.sub("", message).split()) or "failed without a message"
    _finish_run(code, reason)
    print(f"{PROG}: {reason}{held_logs.note()}", file=sys.stderr, flush=True)
    sys.exit(code)


def _usage(error: TyperException) -> str:
    """A usage error's one line; click's 'no command' error has no message of its own."""
    message = error.format_message().strip()
    return message or f"no command given: pick one of the commands above ({PROG} --help)"


def _closed_pipe(exit_: SystemExit) -> bool:
    """Whether ``exit_`` is typer's or rich's answer to a closed stdout: both raise it while
    handling the EPIPE error (typer also wraps stdout in a PacifyFlushWrapper)."""
    if any(isinstance(e, OSError) and e.errno == errno.EPIPE for e in exception_chain(exit_)):
        return True
    return type(sys.stdout).__name__ == "PacifyFlushWrapper"


def _stdout_gone() -> NoReturn:
    """The reader of stdout went away (``| head``): say so once, without Python's second
    'Exception ignored ... BrokenPipeError' at exit (stdout is pointed at /dev/null)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced by something without a descriptor
        pass
    _fail("stdout was closed before the output was written (a pipe's reader exited)", 1)


#: What SQLite says of a file that is not (or no longer) a database.
_DAMAGED = ("malformed", "not a database", "file is encrypted")


def _damaged_catalog(error: BaseException) -> str | None:
    """The reason for a catalog SQLite cannot read, with the way out; None for other errors.

    SQLAlchemy wraps the ``sqlite3.DatabaseError`` (as ``orig`` and as the cause)."""
    import sqlite3

    from catalog.iceberg.repair import catalog_damaged_reason
    from catalog.paths import LakehousePaths

    for found in exception_chain(error):
        if isinstance(found, sqlite3.DatabaseError) and any(
            text in str(found) for text in _DAMAGED
        ):
            paths = cli_app.chosen_home[0] if cli_app.chosen_home else LakehousePaths.resolve()
            return catalog_damaged_reason(paths, found)
    return None


#: Error numbers of a write that found no room: the disk is full, or the user's quota is.
_NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: What they read as in messages of libraries that raise their own types (Spark through
#: py4j, pyarrow, SQLAlchemy): the C library's strerror texts.
_NO_ROOM_TEXTS = ("No space left on device", "Disk quota exceeded")


def _reason(error: Exception) -> str:
    """The reason line of an unexpected exception, with the next step where one is known.

    A write that found no room (ENOSPC/EDQUOT) is named as such, also when a library
    wrapped it in its own type (a Py4JJavaError, an ArrowIOError, a SQLAlchemy error: the
    OSError is in the chain, or only its text is in the message).
    """
    module = type(error).__module__
    name = type(error).__name__
    for current in exception_chain(error):
        no_room = isinstance(current, OSError) and current.errno in _NO_ROOM_ERRNOS
        if no_room or any(text in str(current) for text in _NO_ROOM_TEXTS):
            filename = getattr(current, "filename", None)
            if filename:
                return (
                    f"disk full: no space left on device writing {filename} ({name}); free "
                    "space on that disk, or point --home at a disk with room, then re-run"
                )
            home = cli_app.chosen_home[0].home if cli_app.chosen_home else "the home"
            return (
                f"disk full: a write found no space left on device ({name}); free space on "
                f"the disk of {home} (or of the output being written), or point --home at a "
                "disk with room, then re-run"
            )
    if module.startswith("botocore") and name == "NoRegionError":
        return (
            "no AWS region configured: set AWS_REGION (and credentials, e.g. AWS_PROFILE) to "
            "use AWS (--engine athena, s3:// locations), or use the local engine"
        )
    if module.startswith("botocore") and name == "NoCredentialsError":
        return (
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY to use AWS, or use the local engine"
        )
    damaged = _damaged_catalog(error)
    if damaged is not None:
        return damaged
    if isinstance(error, OSError) and error.filename is not None:
        return (
            f"{error.strerror or name}: {error.filename} ({name}); check that path (a home "
            "must be a directory this user can write, on a disk with room)"
        )
    text = str(error).strip()
    if text in ("", "None"):  # raise X() / X(None): name it rather than print 'None'
        return f"{name} without a message ({module}): re-run with -v to see the log"
    return f"{name}: {text}"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every failure to the contract's exit status."""
    try:
        _main(argv)
    finally:
        reset_logging()


def _main(argv: list[str] | None) -> None:
    try:
        # Without standalone mode, typer *returns* an exit code: a command's typer.Exit, and
        # 130 for Ctrl+C (its KeyboardInterrupt handling); both must end as failures here.
        args = sys.argv[1:] if argv is None else argv
        app = register(args)
        kind = RECORDED_COMMANDS.get(_command_name(args) or "")
        if kind is not None:
            from infra.local import runs

            runs.expect(kind)
            _recording[:] = [kind]
        status = app(args=argv, prog_name=PROG, standalone_mode=False)
        sys.stdout.flush()  # a closed pipe fails here, inside the mapping, not at exit
    except typer.Exit as e:
        status = e.exit_code
    except SystemExit as e:  # from a library: typer and rich exit 1 silently on EPIPE
        if _closed_pipe(e):
            _stdout_gone()
        if isinstance(e.code, str):
            _fail(e.code, 1)
        status = e.code or 0
    except typer.Abort:  # click's EOF on a prompt
        _fail("interrupted (end of input)", 1)
    except TyperException as e:  # usage errors (typer's vendored click): exit 2
        _fail(_usage(e), getattr(e, "exit_code", 2))
    except LakehouseError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 1)
    except BrokenPipeError:
        _stdout_gone()
    except Exception as e:  # the one place every other failure becomes one line
        _fail(_reason(e), 1)
    if isinstance(status, int) and not isinstance(status, bool) and status != 0:
        # typer.Exit(n), Ctrl+C (130), or sys.exit(n) below us: none printed a reason
        if status == INTERRUPTED:
            _fail("interrupted", 1)
        _fail(f"stopped with status {status}", status if status in (1, 2, 3) else 1)
    _finish_run(0, None)
    held_logs.print_held()

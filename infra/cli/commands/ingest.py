"""Commands that fetch from Spotify: ingest, run, doctor, import-legacy, simulator."""

from __future__ import annotations

import errno
import signal
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Final, Literal

import typer

from catalog.errors import LakehouseError
from infra.cli.app import (
    DayOption,
    FormatOption,
    SeedOption,
    SimulatorOption,
    app,
    console,
    paths_of,
    utc_today,
)
from infra.cli.commands.transform import transform
from infra.cli.output import OutputFormat, render
from infra.local.fetch import (
    DEFAULT_TOP,
    bronze_store_for,
    doctor_checks,
    ingest_and_report,
    open_connection,
    roster_from,
)

RosterOption = Annotated[
    Path | None,
    typer.Option("--roster", help="Artist ids file (JSON list or one id per line)"),
]
BackdatedOption = Annotated[
    bool,
    typer.Option("--allow-backdated", help="Record today's real numbers under a past day"),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Fetch again and replace the day's manifest")
]
TopOption = Annotated[
    int,
    typer.Option(
        "--top",
        min=1,
        help="Keep the N most followed artists of the roster (ranked from today's counts)",
    ),
]


@app.command()
def ingest(
    ctx: typer.Context,
    day: DayOption = None,
    simulator: SimulatorOption = False,
    roster: RosterOption = None,
    allow_backdated: BackdatedOption = False,
    force: ForceOption = False,
    seed: SeedOption = 42,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Fetch the roster's artists into bronze for one day."""
    chosen, artists = day or utc_today(), roster_from(roster)
    with open_connection(simulator, seed, artists) as connection:
        ingest_and_report(
            paths_of(ctx),
            connection,
            chosen,
            artists,
            allow_backdated=allow_backdated,
            force=force,
            top=top,
        )


@app.command()
def run(
    ctx: typer.Context,
    day: DayOption = None,
    simulator: SimulatorOption = False,
    roster: RosterOption = None,
    allow_backdated: BackdatedOption = False,
    force: ForceOption = False,
    seed: SeedOption = 42,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Ingest and transform one day."""
    chosen = day or utc_today()  # resolved once for both stages (midnight may pass between)
    ingest(ctx, chosen, simulator, roster, allow_backdated, force, seed, top)
    transform(ctx, chosen)


@app.command()
def doctor(
    ctx: typer.Context,
    simulator: SimulatorOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Check the Spotify credentials and what the app can read, Java, jars and the catalog.

    Exits 3 when the app cannot read followers, 1 when another check fails.
    """
    with ExitStack() as stack:
        found = doctor_checks(
            paths_of(ctx),
            lambda: stack.enter_context(open_connection(simulator, 0, roster_from(None))),
        )
    render(["check", "status", "detail"], [(c.name, c.status, c.detail) for c in found.checks], fmt)
    problem = found.problem()
    if problem is not None:
        raise problem


class NothingToImportError(LakehouseError):
    """The legacy source holds no ``YYYY-MM-DD/<artist name>`` object."""


@app.command("import-legacy")
def import_legacy_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(help="Folder or s3://bucket[/prefix] holding YYYY-MM-DD/<artist name>"),
    ],
    bronze: Annotated[
        str | None,
        typer.Option("--bronze", help="Target bronze: folder or s3://bucket/prefix [home's]"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-import days that are already complete")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Bring the original project's history into bronze, one completed day at a time."""
    from ingest.legacy import import_legacy, open_legacy_source

    store = bronze_store_for(paths_of(ctx), bronze)
    report = import_legacy(open_legacy_source(source), store, force=force)
    if not report.days:
        raise NothingToImportError(
            f"no YYYY-MM-DD/<artist name> object in {report.source} "
            f"({len(report.ignored_keys)} other key(s) ignored); point SOURCE at the folder or "
            "bucket prefix that holds the date folders"
        )
    rows = [
        (d.day, d.status, d.run_id, d.records, d.followers_available, len(d.skipped_keys))
        for d in report.days
    ]
    render(["snapshot_date", "status", "run_id", "records", "followers", "skipped"], rows, fmt)
    console.print(
        f"{len(report.imported)} day(s) imported into {store.location}, "
        f"{len(report.days) - len(report.imported)} left as they were; load them with "
        f"backfill --start {report.days[0].day} --end {report.days[-1].day}"
    )


#: Why a port cannot be bound: taken, privileged, or not an address of this machine.
PORT_ERRORS: Final = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


class SimulatorPortError(LakehouseError):
    """The simulator's port cannot be bound (in use, or privileged)."""


@app.command()
def simulator(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free)")
    ] = 8765,
    mode: Annotated[
        Literal["extended", "development"],
        typer.Option("--mode", help="extended: followers; development: Spotify Development Mode"),
    ] = "extended",
    seed: SeedOption = 42,
) -> None:
    """Serve the Spotify simulator until Ctrl+C or SIGTERM (both exit 0)."""
    from ingest.simulator.server import serve

    stop = threading.Event()
    # A supervisor (a test, systemd, docker stop) ends it with SIGTERM: a clean stop, exit 0,
    # as Ctrl+C is, rather than Python's default death by signal (status -15).
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        serve(port=port, mode=mode, seed=seed, stop=stop)
    except OSError as e:
        if e.errno not in PORT_ERRORS:
            raise
        raise SimulatorPortError(
            f"cannot listen on 127.0.0.1:{port} ({e.strerror or e}): pass another --port, "
            "or --port 0 for any free one"
        ) from e
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stop.is_set():
        print("simulator stopped", flush=True)

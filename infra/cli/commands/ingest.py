"""Commands that fetch from Spotify: ingest, run, doctor, import-legacy, simulator.

The work lives in :mod:`infra.local` (the pipeline, doctor, the legacy import), imported
when a command runs, not when it is registered.
"""

from __future__ import annotations

import errno
import signal
import threading
from collections.abc import Callable
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
    paths_of,
    utc_today,
)
from infra.cli.output import OutputFormat, progress_lines, render

#: ``--top`` when not given: the 20 most followed (a roster of 20 or fewer is kept whole).
DEFAULT_TOP: Final = 20

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


def _fetch_command(*, then_transform: bool) -> Callable[..., None]:
    """``ingest`` (``then_transform=False``) or ``run``: one set of options, one body."""

    def command(
        ctx: typer.Context,
        day: DayOption = None,
        simulator: SimulatorOption = False,
        roster: RosterOption = None,
        allow_backdated: BackdatedOption = False,
        force: ForceOption = False,
        seed: SeedOption = 42,
        top: TopOption = DEFAULT_TOP,
    ) -> None:
        from infra.local.pipeline import LocalPipeline
        from infra.local.spotify import SpotifyFetch, roster_from

        chosen = day or utc_today()  # resolved once for both stages (midnight may pass between)
        fetch = SpotifyFetch(
            simulator=simulator,
            roster=roster_from(roster),
            seed=seed,
            allow_backdated=allow_backdated,
            force=force,
            top=top,
        )
        with LocalPipeline(paths_of(ctx), fetch=fetch, progress=progress_lines()) as pipeline:
            if then_transform:
                pipeline.run(chosen)
            else:
                pipeline.ingest(chosen)

    return command


app.command("ingest", help="Fetch the roster's artists into bronze for one day.")(
    _fetch_command(then_transform=False)
)
app.command("run", help="Ingest and transform one day.")(_fetch_command(then_transform=True))


@app.command()
def doctor(
    ctx: typer.Context,
    simulator: SimulatorOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Check the Spotify credentials and what the app can read, Java, jars and the catalog.

    Exits 3 when the app cannot read followers, 1 when another check fails.
    """
    from infra.local.doctor import diagnose

    found = diagnose(paths_of(ctx), simulator=simulator)
    render(["check", "status", "detail"], [(c.name, c.status, c.detail) for c in found.checks], fmt)
    problem = found.problem()
    if problem is not None:
        raise problem


@app.command("import-legacy")
def import_legacy_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(help="Folder or s3://bucket\\[/prefix] holding YYYY-MM-DD/<artist name>"),
    ],
    bronze: Annotated[
        str | None,
        typer.Option("--bronze", help="Target bronze: folder or s3://bucket/prefix \\[home's]"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-import days that are already complete")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Bring the original project's history into bronze, one completed day at a time."""
    from infra.cli.progress import LegacyProgress
    from infra.local import runs
    from infra.local.legacy import import_history

    run = runs.begin(paths_of(ctx))  # a run in the home's spotify.pipeline_runs
    with LegacyProgress() as progress:
        done = import_history(
            paths_of(ctx), source, bronze=bronze, force=force, on_day=progress.day
        )
        days = done.report.days
        progress.finish(
            f"{progress.summary()}; into {done.bronze}; load them with "
            f"backfill --start {days[0].day} --end {days[-1].day}"
        )
    if run is not None:
        for d in days:
            run.day(d.day)
        run.tally.rows_fetched = sum(d.records for d in days if d.status == "imported")
    rows = [
        (d.day, d.status, d.run_id, d.records, d.followers_available, len(d.skipped_keys))
        for d in days
    ]
    render(["snapshot_date", "status", "run_id", "records", "followers", "skipped"], rows, fmt)


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

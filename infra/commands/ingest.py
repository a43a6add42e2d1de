"""Commands that fetch from Spotify: ingest, run, doctor, import-legacy, simulator."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Literal

import typer

from catalog.errors import LakehouseError
from infra.cli_app import (
    DayOption,
    FormatOption,
    SeedOption,
    SimulatorOption,
    app,
    console,
    parse_day,
    paths_of,
)
from infra.commands.transform import transform
from infra.fetch import (
    DEFAULT_TOP,
    DoctorFoundProblemsError,
    bronze_store_for,
    doctor_checks,
    ingest_and_report,
    open_connection,
    roster_from,
)
from infra.output import OutputFormat, render

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
    day: DayOption = "",
    simulator: SimulatorOption = False,
    roster: RosterOption = None,
    allow_backdated: BackdatedOption = False,
    force: ForceOption = False,
    seed: SeedOption = 42,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Fetch the roster's artists into bronze for one day."""
    chosen, artists = parse_day(day), roster_from(roster)
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
    day: DayOption = "",
    simulator: SimulatorOption = False,
    roster: RosterOption = None,
    allow_backdated: BackdatedOption = False,
    force: ForceOption = False,
    seed: SeedOption = 42,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Ingest and transform one day."""
    chosen = parse_day(day).isoformat()  # resolve "today" once for both stages
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
        checks, unavailable = doctor_checks(
            paths_of(ctx),
            lambda: stack.enter_context(open_connection(simulator, 0, roster_from(None))),
        )
    render(["check", "status", "detail"], [(c.name, c.status, c.detail) for c in checks], fmt)
    if unavailable is not None:
        raise unavailable
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        raise DoctorFoundProblemsError(
            f"doctor: {len(failed)} check(s) failed: {', '.join(failed)} (details above)"
        )


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


@app.command()
def simulator(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free)")] = 8765,
    mode: Annotated[
        Literal["extended", "development"],
        typer.Option("--mode", help="extended: followers; development: Spotify Development Mode"),
    ] = "extended",
    seed: SeedOption = 42,
) -> None:
    """Serve the Spotify simulator until Ctrl+C."""
    from ingest.simulator import serve

    serve(port=port, mode=mode, seed=seed)

"""``spotify-lakehouse``: the command line over the local lakehouse.

Exit status (ARCHITECTURE.md): 0 success; 3 when the Spotify app cannot provide followers;
1 for any other failure; 2 for bad usage. Every non-zero exit prints one line on stderr.
This module never imports ``aws_cdk`` (it would start Node through jsii).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from typer.exceptions import TyperException

from catalog.bronze import LocalBronzeStore
from catalog.errors import LakehouseError
from catalog.paths import HOME_ENV, LakehousePaths
from glue.transform import TransformResult
from infra.local import LocalRunner, days_between
from infra.output import OutputFormat, render, result_console

app = typer.Typer(
    name="spotify-lakehouse",
    help="Daily Spotify artist followers in an Iceberg lakehouse, on AWS or on this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)  # progress and notes; results go to stdout

DayOption = Annotated[
    str, typer.Option("--date", help="UTC day, YYYY-MM-DD (default: today)", show_default=False)
]
SimulatorOption = Annotated[
    bool, typer.Option("--simulator", help="Fetch from the built-in Spotify simulator")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Output format")]
SeedOption = Annotated[int, typer.Option("--seed", help="Simulator seed (same seed, same data)")]


def _paths(ctx: typer.Context) -> LakehousePaths:
    paths: LakehousePaths = ctx.obj
    return paths


def _day(text: str | None) -> date:
    if not text:
        return _today()
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from e


def _today() -> date:
    from ingest.pipeline import utc_today

    return utc_today()


@app.callback()
def _global(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar=HOME_ENV, help="Lakehouse home [default: ./lakehouse]"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = LakehousePaths.resolve(home)


# -- ingest ------------------------------------------------------------------------------


@contextmanager
def _connection(simulator: bool, seed: int, roster: Any) -> Iterator[Any]:
    from ingest.connection import open_real_api, open_simulator

    if simulator:
        with open_simulator(seed=seed, roster=roster) as connection:
            yield connection
    else:
        with open_real_api() as connection:
            yield connection


def _roster(path: Path | None) -> Any:
    from ingest.roster import default_roster, load_roster

    return load_roster(path) if path else default_roster()


def _ingest(
    paths: LakehousePaths,
    connection: Any,
    day: date,
    roster: Any,
    *,
    allow_backdated: bool,
    force: bool,
) -> None:
    from ingest.pipeline import ingest_day

    result = ingest_day(
        day,
        store=LocalBronzeStore(paths.ensure().bronze),
        client=connection.client,
        roster=roster,
        source=connection.source,
        allow_backdated=allow_backdated,
        force=force,
    )
    if result.already_complete:
        console.print(f"{day}: bronze already complete (run {result.run_id}); --force re-fetches")
    else:
        missing = f", unknown ids: {', '.join(result.missing_ids)}" if result.missing_ids else ""
        console.print(
            f"{day}: {result.records} artists in {len(result.parts)} parts, "
            f"run {result.run_id}{missing}"
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


@app.command()
def ingest(
    ctx: typer.Context,
    day: DayOption = "",
    simulator: SimulatorOption = False,
    roster: RosterOption = None,
    allow_backdated: BackdatedOption = False,
    force: ForceOption = False,
    seed: SeedOption = 42,
) -> None:
    """Fetch the roster's artists into bronze for one day."""
    chosen, artists = _day(day), _roster(roster)
    with _connection(simulator, seed, artists) as connection:
        _ingest(
            _paths(ctx), connection, chosen, artists, allow_backdated=allow_backdated, force=force
        )


def _report(result: TransformResult) -> None:
    if result.committed:
        console.print(
            f"{result.snapshot_date}: {result.inserted} inserted, {result.updated} updated, "
            f"snapshot {result.snapshot_id}, tag {result.tag}"
        )
    else:
        console.print(f"{result.snapshot_date}: {result.rows} rows unchanged, no commit")
    for record in result.rejected:
        console.print(f"  rejected ({record.source_file}): {record.reason}")


@app.command()
def transform(ctx: typer.Context, day: DayOption = "") -> None:
    """Run the Glue job locally for one day: bronze -> MERGE into silver -> tag."""
    runner = LocalRunner(_paths(ctx))
    try:
        _report(runner.transform(_day(day)))
    finally:
        runner.close()


@app.command()
def run(
    ctx: typer.Context,
    day: DayOption = "",
    simulator: SimulatorOption = False,
    roster: RosterOption = None,
    allow_backdated: BackdatedOption = False,
    force: ForceOption = False,
    seed: SeedOption = 42,
) -> None:
    """Ingest and transform one day."""
    chosen = _day(day).isoformat()  # resolve "today" once for both stages
    ingest(ctx, chosen, simulator, roster, allow_backdated, force, seed)
    transform(ctx, chosen)


@app.command()
def backfill(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--start", help="First UTC day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="Last UTC day, YYYY-MM-DD")],
    simulator: SimulatorOption = False,
    seed: SeedOption = 42,
) -> None:
    """Transform every day of a range from bronze, in order, in one Spark session.

    With --simulator each day is ingested from the simulator first.
    """
    paths = _paths(ctx)
    try:
        days = days_between(_day(start), _day(end))
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    runner = LocalRunner(paths)
    try:
        if simulator:
            artists = _roster(None)
            with _connection(True, seed, artists) as connection:
                runner.backfill(
                    days,
                    before_each=lambda d: _ingest(
                        paths, connection, d, artists, allow_backdated=False, force=False
                    ),
                    after_each=_report,
                )
        else:
            runner.backfill(days, after_each=_report)
    finally:
        runner.close()


# -- query -------------------------------------------------------------------------------


@app.command()
def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="Athena SQL; unqualified names are in `spotify`")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Read every Iceberg table as of this load date"),
    ] = None,
    engine: Annotated[
        Literal["local"], typer.Option("--engine", help="local: DuckDB over the lakehouse")
    ] = "local",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run Athena SQL against the lakehouse (time travel with --as-of)."""
    from views.local import LocalEngine

    result = LocalEngine(_paths(ctx)).execute(sql, as_of=_day(as_of) if as_of else None)
    render(result.columns, result.rows, fmt)


@app.command()
def snapshots(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """The load commits of silver: date, run, rows and the tag that names each."""
    from catalog.profiles import local_catalog
    from catalog.tables import ARTISTS_SILVER
    from catalog.timetravel import load_snapshots

    table = local_catalog(_paths(ctx)).load_table(ARTISTS_SILVER.identifier)
    rows = load_snapshots(table)
    columns = ["snapshot_id", "snapshot_date", "committed_at", "operation", "run_id", "rows", "tag"]
    render(columns, [[getattr(r, c) for c in columns] for r in rows], fmt, title="artists_silver")


# -- simulator and demo ------------------------------------------------------------------


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


@app.command()
def demo(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, help="Days ending today (UTC)")] = 30,
    artists: Annotated[int, typer.Option("--artists", min=1, help="Roster size")] = 20,
    seed: SeedOption = 42,
) -> None:
    """Start the simulator, run the pipeline for the last N days, answer the two questions."""
    from ingest.roster import demo_roster
    from views.local import LocalEngine
    from views.sqlfiles import BUSINESS_QUESTIONS, load_sql

    paths = _paths(ctx).ensure()
    roster = demo_roster(artists, seed=seed)
    today = _today()
    window = days_between(today - timedelta(days=days - 1), today)
    console.print(f"demo: {len(roster)} artists, {window[0]} .. {window[-1]}, home {paths.home}")
    runner = LocalRunner(paths)
    try:
        with _connection(True, seed, roster) as connection:
            runner.backfill(
                window,
                before_each=lambda d: _ingest(
                    paths, connection, d, roster, allow_backdated=False, force=False
                ),
                after_each=_report,
            )
    finally:
        runner.close()
    engine = LocalEngine(paths)
    out = result_console()
    for name, title in BUSINESS_QUESTIONS.items():
        result = engine.execute(load_sql(name))
        render(result.columns, result.rows, OutputFormat.table, title=title, console=out)
    cli = ".venv/bin/spotify-lakehouse"
    out.print(
        f"\nLakehouse: {paths.home}\nTry:\n"
        f'  {cli} --home {paths.home} query "SELECT * FROM Spotify_Gold_View LIMIT 5"\n'
        f"  {cli} --home {paths.home} query --as-of {window[len(window) // 2]} "
        '"SELECT date, count(*) FROM Spotify_Gold_View GROUP BY date ORDER BY date"\n'
        f"  {cli} --home {paths.home} snapshots"
    )


# -- entry point -------------------------------------------------------------------------


def _fail(message: str, code: int) -> None:
    print(f"spotify-lakehouse: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every failure to the contract's exit status."""
    try:
        app(args=argv, standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        _fail("aborted", 1)
    except TyperException as e:  # usage errors (typer's vendored click): exit 2
        _fail(e.format_message(), getattr(e, "exit_code", 2))
    except LakehouseError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 1)
    except Exception as e:  # the one place every other failure becomes one line
        _fail(f"{type(e).__name__}: {e}", 1)

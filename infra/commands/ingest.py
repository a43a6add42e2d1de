"""Commands that fetch from Spotify: ingest, run, simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from infra.cli_app import DayOption, SeedOption, SimulatorOption, app, parse_day, paths_of
from infra.commands.transform import transform
from infra.fetch import ingest_and_report, open_connection, roster_from

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
    chosen, artists = parse_day(day), roster_from(roster)
    with open_connection(simulator, seed, artists) as connection:
        ingest_and_report(
            paths_of(ctx), connection, chosen, artists, allow_backdated=allow_backdated, force=force
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
) -> None:
    """Ingest and transform one day."""
    chosen = parse_day(day).isoformat()  # resolve "today" once for both stages
    ingest(ctx, chosen, simulator, roster, allow_backdated, force, seed)
    transform(ctx, chosen)


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

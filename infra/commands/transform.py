"""Commands that run the Glue job locally: transform, backfill."""

from __future__ import annotations

from typing import Annotated

import typer

from glue.transform import TransformResult
from infra.cli_app import DayOption, SeedOption, SimulatorOption, app, console, parse_day, paths_of
from infra.fetch import ingest_and_report, open_connection, roster_from
from infra.local import LocalRunner, days_between


def report(result: TransformResult) -> None:
    """One line per loaded day on stderr, plus the records set aside."""
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
    runner = LocalRunner(paths_of(ctx))
    try:
        report(runner.transform(parse_day(day)))
    finally:
        runner.close()


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
    paths = paths_of(ctx)
    try:
        days = days_between(parse_day(start), parse_day(end))
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    runner = LocalRunner(paths)
    try:
        if simulator:
            artists = roster_from(None)
            with open_connection(True, seed, artists) as connection:
                runner.backfill(
                    days,
                    before_each=lambda d: ingest_and_report(
                        paths, connection, d, artists, allow_backdated=False, force=False
                    ),
                    after_each=report,
                )
        else:
            runner.backfill(days, after_each=report)
    finally:
        runner.close()

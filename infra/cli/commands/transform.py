"""Commands that run the Glue job locally (transform, backfill) and read its checks (quality)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from glue.transform import TransformResult
from infra.cli.app import (
    DayOption,
    FormatOption,
    SeedOption,
    SimulatorOption,
    app,
    console,
    parse_day,
    paths_of,
    utc_today,
)
from infra.cli.output import OutputFormat, render
from infra.local.fetch import ingest_and_report, open_connection, roster_from
from infra.local.runner import LocalRunner, days_between


def report(result: TransformResult) -> None:
    """One line per loaded day on stderr, plus its data-quality verdict."""
    if result.committed:
        console.print(
            f"{result.snapshot_date}: {result.inserted} inserted, {result.updated} updated, "
            f"snapshot {result.snapshot_id}, tag {result.tag}"
        )
    else:
        console.print(f"{result.snapshot_date}: {result.rows} rows unchanged, no commit")
    quality = result.quality
    if quality.failed_expectations or quality.quarantined_rows:
        verdict = "passed" if quality.success else "FAILED"
        console.print(
            f"  data quality {verdict}: {quality.quarantined_rows} of "
            f"{quality.evaluated_rows} rows quarantined, failed "
            f"{', '.join(quality.failed_expectations) or 'none'}; report {quality.report}"
        )


@app.command()
def transform(ctx: typer.Context, day: DayOption = None) -> None:
    """Run the Glue job locally for one day: bronze -> validate -> MERGE into silver -> tag."""
    chosen = day or utc_today()
    runner = LocalRunner(paths_of(ctx))
    try:
        report(runner.transform(chosen))
    finally:
        runner.close()


@app.command()
def backfill(
    ctx: typer.Context,
    start: Annotated[
        date, typer.Option("--start", parser=parse_day, metavar="YYYY-MM-DD", help="First UTC day")
    ],
    end: Annotated[
        date, typer.Option("--end", parser=parse_day, metavar="YYYY-MM-DD", help="Last UTC day")
    ],
    simulator: SimulatorOption = False,
    seed: SeedOption = 42,
) -> None:
    """Transform every day of a range from bronze, in order, in one Spark session.

    With --simulator each day is ingested from the simulator first. A failed day stops
    the run; the days before it stay loaded.
    """
    paths = paths_of(ctx)
    try:
        days = days_between(start, end)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--start/--end") from e
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


@app.command()
def quality(
    ctx: typer.Context,
    day: Annotated[
        date | None,
        typer.Option(
            "--date",
            parser=parse_day,
            metavar="YYYY-MM-DD",
            help="Only this UTC day [default: every day]",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The latest data-quality run of each day: verdict, failures, quarantine, report."""
    from catalog.iceberg.profiles import local_catalog
    from expectations.persist import latest_runs
    from expectations.results import RunSummary

    paths = paths_of(ctx)
    runs = latest_runs(local_catalog(paths), day) if paths.catalog_db.exists() else []
    if not runs and fmt is OutputFormat.table:
        where = f"for {day.isoformat()} " if day else ""
        console.print(
            f"no data-quality runs {where}in {paths.home}: run "
            "`spotify-lakehouse transform --date D` (or demo) first"
        )
        return
    render(
        list(RunSummary.FIELDS),
        [run.values() for run in runs],
        fmt,
        title="data quality (latest run per day)",
    )

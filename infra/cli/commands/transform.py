"""Commands that run the Glue job locally (transform, backfill) and read its checks (quality).

The pipeline (:mod:`infra.local.pipeline`) is imported when a command runs, not when it is
registered: ``--help``, ``cost`` and bad usage never pay for glue and pyiceberg.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from infra.cli.app import (
    DayOption,
    FormatOption,
    SeedOption,
    SimulatorOption,
    app,
    day_option,
    paths_of,
    read_paths_of,
    utc_today,
)
from infra.cli.output import OutputFormat, console, progress_lines, render


@app.command()
def transform(ctx: typer.Context, day: DayOption = None) -> None:
    """Run the Glue job locally for one day: bronze -> validate -> MERGE into silver -> tag."""
    from infra.local.pipeline import LocalPipeline

    with LocalPipeline(paths_of(ctx), progress=progress_lines()) as pipeline:
        pipeline.transform(day or utc_today())


@app.command()
def backfill(
    ctx: typer.Context,
    start: Annotated[date, day_option("--start", "First UTC day")],
    end: Annotated[date, day_option("--end", "Last UTC day")],
    simulator: SimulatorOption = False,
    seed: SeedOption = 42,
) -> None:
    """Transform every day of a range from bronze, in order, in one Spark session.

    With --simulator each day is ingested from the simulator first. A failed day stops
    the run; the days before it stay loaded.
    """
    from infra.local.pipeline import LocalPipeline, days_between
    from infra.local.spotify import SpotifyFetch, roster_from

    try:
        days = days_between(start, end)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--start/--end") from e
    from infra.cli.progress import DayProgress

    fetch = SpotifyFetch(simulator=True, roster=roster_from(None), seed=seed) if simulator else None
    with (
        DayProgress("backfill", len(days)) as progress,
        LocalPipeline(paths_of(ctx), fetch=fetch, progress=progress.pipeline()) as pipeline,
    ):
        pipeline.backfill(days)
        progress.finish(progress.summary())


@app.command()
def quality(
    ctx: typer.Context,
    day: Annotated[
        date | None, day_option("--date", "Only this UTC day \\[default: every day]")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The latest data-quality run of each day: verdict, failures, quarantine, report."""
    from expectations.results import RunSummary
    from infra.local.home import require_home
    from infra.local.quality import latest_quality_runs

    require_home(paths_of(ctx), "report on")  # a typo in --home is an error, not "no runs"
    paths = read_paths_of(ctx)
    runs = latest_quality_runs(paths, day)
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

"""The demo: simulator + the pipeline for the last N days + the two answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from infra.cli.app import SeedOption, app, earliest_day, paths_of, utc_today
from infra.cli.output import OutputFormat, console, render, result_console

#: How the demo's closing lines call the CLI: ``make demo`` installs it in the repo's .venv.
CLI = ".venv/bin/spotify-lakehouse"


@app.command()
def demo(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, help="Days ending today (UTC)")] = 30,
    artists: Annotated[int, typer.Option("--artists", min=1, help="Roster size")] = 20,
    seed: SeedOption = 42,
) -> None:
    """Start the simulator, run the pipeline for the last N days, answer the two questions."""
    from infra.cli.progress import DayProgress
    from infra.dashboard import write_dashboard
    from infra.local.pipeline import LocalPipeline, days_between
    from infra.local.quality import QualitySummary, latest_quality_runs
    from infra.local.spotify import SpotifyFetch
    from ingest.roster import demo_roster
    from views.chart import write_chart
    from views.local import LocalEngine
    from views.sqlfiles import BUSINESS_QUESTIONS, load_sql

    today = utc_today()
    first = today - timedelta(days=days - 1)
    if first < earliest_day():  # the one day rule of every command, before anything is written
        raise typer.BadParameter(
            f"{days} days ending {today} start {first}, before the earliest day "
            f"{earliest_day()}: pass fewer days",
            param_hint="--days",
        )
    window = days_between(first, today)
    paths = paths_of(ctx).ensure()
    roster = demo_roster(artists, seed=seed)
    console.print(f"demo: {len(roster)} artists, {window[0]} .. {window[-1]}, home {paths.home}")
    fetch = SpotifyFetch(simulator=True, roster=roster, seed=seed)
    with (
        DayProgress("demo", len(window)) as progress,
        LocalPipeline(paths, fetch=fetch, progress=progress.pipeline()) as pipeline,
    ):
        pipeline.backfill(window)
        progress.finish(progress.summary())
    # The demo's run is its pipeline: recorded now, so the dashboard below shows it (the
    # answers, chart and dashboard only read; a failure there is the command's, not the run's).
    from infra.local import runs

    run = runs.current()
    if run is not None:
        runs.write(run, 0, None)

    engine = LocalEngine(paths)
    out = result_console()
    for name, title in BUSINESS_QUESTIONS.items():
        result = engine.execute(load_sql(name))
        render(result.columns, result.rows, OutputFormat.table, title=title, console=out)
    chart = write_chart(engine, paths.reports / "charts" / "followers.png", days=days)
    dashboard = write_dashboard(paths, paths.reports / "dashboard", days=days)
    quality = QualitySummary.of(latest_quality_runs(paths), window)
    failed = quality.failed_expectations
    out.print(
        f"\nData quality: {quality.passed}/{quality.days} days passed every check, "
        f"{quality.evaluated_rows} rows evaluated, {quality.quarantined_rows} quarantined"
        + (f", failed or warned: {', '.join(failed)}" if failed else "")
    )
    if quality.latest_report:
        out.print(f"Reports: {paths.reports / 'quality'} (latest: {quality.latest_report})")
    out.print(
        f"\nDashboard: {dashboard}\nChart: {chart.png}\n       {chart.html}"
        f"\nLakehouse: {paths.home}\nTry:\n"
        f'  {CLI} --home {paths.home} query "SELECT * FROM Spotify_Gold_View LIMIT 5"\n'
        f"  {CLI} --home {paths.home} query --as-of {window[len(window) // 2]} "
        '"SELECT date, count(*) FROM Spotify_Gold_View GROUP BY date ORDER BY date"\n'
        f"  {CLI} --home {paths.home} snapshots\n"
        f"  {CLI} --home {paths.home} runs\n"
        f"  {CLI} --home {paths.home} gaps"
    )

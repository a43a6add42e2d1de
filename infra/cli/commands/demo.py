"""The demo: simulator + the pipeline for the last N days + the two answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console

from catalog.paths import LakehousePaths
from infra.cli.app import SeedOption, app, console, earliest_day, paths_of, utc_today
from infra.cli.commands.transform import report
from infra.cli.output import OutputFormat, render, result_console
from infra.local.fetch import ingest_and_report, open_connection
from infra.local.runner import LocalRunner, days_between


@app.command()
def demo(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, help="Days ending today (UTC)")] = 30,
    artists: Annotated[int, typer.Option("--artists", min=1, help="Roster size")] = 20,
    seed: SeedOption = 42,
) -> None:
    """Start the simulator, run the pipeline for the last N days, answer the two questions."""
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
    runner = LocalRunner(paths)
    try:
        with open_connection(True, seed, roster) as connection:
            runner.backfill(
                window,
                before_each=lambda d: ingest_and_report(
                    paths, connection, d, roster, allow_backdated=False, force=False
                ),
                after_each=report,
            )
    finally:
        runner.close()
    engine = LocalEngine(paths)
    out = result_console()
    for name, title in BUSINESS_QUESTIONS.items():
        result = engine.execute(load_sql(name))
        render(result.columns, result.rows, OutputFormat.table, title=title, console=out)
    chart = write_chart(engine, paths.reports / "charts" / "followers.png", days=days)
    _print_quality(out, paths, window)
    cli = ".venv/bin/spotify-lakehouse"
    out.print(
        f"\nChart: {chart.png}\n       {chart.html}"
        f"\nLakehouse: {paths.home}\nTry:\n"
        f'  {cli} --home {paths.home} query "SELECT * FROM Spotify_Gold_View LIMIT 5"\n'
        f"  {cli} --home {paths.home} query --as-of {window[len(window) // 2]} "
        '"SELECT date, count(*) FROM Spotify_Gold_View GROUP BY date ORDER BY date"\n'
        f"  {cli} --home {paths.home} snapshots"
    )


def _print_quality(out: Console, paths: LakehousePaths, window: list[date]) -> None:
    """One paragraph on the demo window's data quality, and where the reports are."""
    from catalog.iceberg.profiles import local_catalog
    from expectations.persist import latest_runs

    runs = [r for r in latest_runs(local_catalog(paths), None) if r.snapshot_date in window]
    failed = sorted({name for r in runs for name in r.failed_expectations})
    quarantined = sum(r.quarantined_rows for r in runs)
    passed = sum(r.success for r in runs)
    out.print(
        f"\nData quality: {passed}/{len(runs)} days passed every check, "
        f"{sum(r.evaluated_rows for r in runs)} rows evaluated, {quarantined} quarantined"
        + (f", failed or warned: {', '.join(failed)}" if failed else "")
    )
    latest = max(runs, key=lambda r: r.snapshot_date, default=None)
    if latest is not None and latest.report:
        out.print(f"Reports: {paths.reports / 'quality'} (latest: {latest.report})")

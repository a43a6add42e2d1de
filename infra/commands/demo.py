"""The demo: simulator + the pipeline for the last N days + the two answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from infra.cli_app import SeedOption, app, console, paths_of, utc_today
from infra.commands.transform import report
from infra.fetch import ingest_and_report, open_connection
from infra.local import LocalRunner, days_between
from infra.output import OutputFormat, render, result_console


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

    paths = paths_of(ctx).ensure()
    roster = demo_roster(artists, seed=seed)
    today = utc_today()
    window = days_between(today - timedelta(days=days - 1), today)
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
    cli = ".venv/bin/spotify-lakehouse"
    out.print(
        f"\nLakehouse: {paths.home}\nTry:\n"
        f'  {cli} --home {paths.home} query "SELECT * FROM Spotify_Gold_View LIMIT 5"\n'
        f"  {cli} --home {paths.home} query --as-of {window[len(window) // 2]} "
        '"SELECT date, count(*) FROM Spotify_Gold_View GROUP BY date ORDER BY date"\n'
        f"  {cli} --home {paths.home} snapshots"
    )

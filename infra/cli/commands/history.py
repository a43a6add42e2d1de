"""``spotify-lakehouse gaps``: what the lakehouse is missing, day by day, and the fix for each."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from infra.cli.app import FormatOption, app, day_option, paths_of, read_paths_of, utc_today
from infra.cli.output import OutputFormat, console, render


@app.command()
def gaps(
    ctx: typer.Context,
    start: Annotated[
        date | None,
        day_option("--start", "First UTC day \\[default: the first day the lakehouse knows]"),
    ] = None,
    end: Annotated[date | None, day_option("--end", "Last UTC day \\[default: today]")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Days with no complete bronze, bronze never loaded, a failed or stale load, or failed
    checks, each with the command that fixes it (exit 0 either way)."""
    from catalog.bronze.local import LocalBronzeStore
    from infra.local.gaps import Gap, lakehouse_gaps
    from infra.local.home import require_home
    from infra.local.quality import latest_quality_runs

    require_home(paths_of(ctx), "check")
    if start is not None and end is not None and end < start:
        raise typer.BadParameter(f"--end {end} is before --start {start}", param_hint="--end")
    paths = read_paths_of(ctx)
    catalog = None
    if paths.catalog_db.exists():
        from catalog.iceberg.profiles import local_catalog

        catalog = local_catalog(paths)
    days, found = lakehouse_gaps(
        LocalBronzeStore(paths.bronze),
        catalog,
        latest_quality_runs(paths),
        today=utc_today(),
        start=start,
        end=end,
    )
    if fmt is OutputFormat.table:
        if not days:
            console.print(f"nothing fetched or loaded in {paths.home} yet: run demo or run first")
            return
        console.print(
            f"{days[0]} .. {days[-1]}: {len(days) - len(found)} of {len(days)} day(s) complete"
            + (f", {len(found)} need attention" if found else "")
        )
        if not found:
            return
    render(list(Gap.FIELDS), [g.values() for g in found], fmt, title="gaps")

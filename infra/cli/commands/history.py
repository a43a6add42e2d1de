"""What happened to the lakehouse: ``gaps`` (what is missing, day by day, and the fix for each)
and ``runs`` (the run history, from ``spotify.pipeline_runs``). Both only read the home."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final

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


#: ``runs --last`` when not given: a screenful, the dashboard's "recent runs" too.
DEFAULT_LAST_RUNS: Final = 20
#: Columns of ``runs --format table``: one line per run on a terminal. json and csv carry
#: every column of ``spotify.pipeline_runs``.
RUN_TABLE_COLUMNS: Final = (
    "run_id",
    "kind",
    "days",
    "engine",
    "started_at",
    "seconds",
    "status",
    "exit_code",
    "fetched",
    "inserted",
    "updated",
    "deleted",
    "quarantined",
    "error",
)


def _days(row: dict[str, Any]) -> str:
    first, last = row.get("snapshot_date"), row.get("end_date")
    if first is None:
        return ""
    return str(first) if last in (None, first) else f"{first}..{last}"


def _seconds(row: dict[str, Any]) -> float | None:
    started, ended = row.get("started_at"), row.get("ended_at")
    if not isinstance(started, datetime) or not isinstance(ended, datetime):
        return None
    return round((ended - started).total_seconds(), 1)


def run_table_row(row: dict[str, Any]) -> list[Any]:
    """One run as ``runs --format table`` shows it."""
    started = row.get("started_at")
    return [
        row["run_id"],
        row["kind"],
        _days(row),
        row.get("engine"),
        started.strftime("%Y-%m-%d %H:%M:%S") if isinstance(started, datetime) else started,
        _seconds(row),
        row["status"],
        row.get("exit_code"),
        row.get("rows_fetched"),
        row.get("rows_inserted"),
        row.get("rows_updated"),
        row.get("rows_deleted"),
        row.get("rows_quarantined"),
        row.get("error") or "",
    ]


@app.command()
def runs(
    ctx: typer.Context,
    day: Annotated[
        date | None,
        day_option("--date", "Only runs of this UTC day (a range's runs included)"),
    ] = None,
    last: Annotated[
        int, typer.Option("--last", min=1, help="The N most recent runs")
    ] = DEFAULT_LAST_RUNS,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The run history, newest first: every ingest, transform, backfill, maintain and
    delete-day run on any engine, with its outcome, stage seconds and rows (read-only)."""
    from catalog.iceberg.run_log import read_runs, runs_table
    from catalog.iceberg.tables import PIPELINE_RUNS
    from infra.local.home import require_home

    require_home(paths_of(ctx), "list the runs of")
    paths = read_paths_of(ctx)
    rows: list[dict[str, Any]] = []
    if paths.catalog_db.exists():  # local_catalog() would create an empty catalog.db
        from catalog.iceberg.profiles import local_catalog

        table = runs_table(local_catalog(paths))
        if table is not None:
            rows = read_runs(table, day=day, last=last)
    if fmt is OutputFormat.table:
        if not rows:
            where = f"for {day.isoformat()} " if day else ""
            console.print(
                f"no runs {where}recorded in {PIPELINE_RUNS.qualified_name} of {paths.home} "
                "yet: every ingest, transform, backfill, maintain or delete-day adds one"
            )
            return
        render(
            list(RUN_TABLE_COLUMNS),
            [run_table_row(r) for r in rows],
            fmt,
            title=f"runs (newest first, last {last})",
        )
        return
    columns = PIPELINE_RUNS.column_names
    render(columns, [[r.get(c) for c in columns] for r in rows], fmt)

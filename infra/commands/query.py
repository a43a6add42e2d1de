"""Commands that read the lakehouse: query, snapshots."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from infra.cli_app import FormatOption, app, parse_day, paths_of
from infra.output import OutputFormat, render


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

    result = LocalEngine(paths_of(ctx)).execute(sql, as_of=parse_day(as_of) if as_of else None)
    render(result.columns, result.rows, fmt)


@app.command()
def snapshots(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """The load commits of silver: date, run, rows and the tag that names each."""
    from catalog.profiles import local_catalog
    from catalog.tables import ARTISTS_SILVER
    from catalog.timetravel import load_snapshots

    table = local_catalog(paths_of(ctx)).load_table(ARTISTS_SILVER.identifier)
    rows = load_snapshots(table)
    columns = ["snapshot_id", "snapshot_date", "committed_at", "operation", "run_id", "rows", "tag"]
    render(columns, [[getattr(r, c) for c in columns] for r in rows], fmt, title="artists_silver")

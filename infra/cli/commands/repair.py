"""``spotify-lakehouse repair-catalog``: register the warehouse's tables the catalog lost."""

from __future__ import annotations

import typer

from infra.cli.app import FormatOption, app, paths_of
from infra.cli.output import OutputFormat, console, render


@app.command("repair-catalog")
def repair_catalog_command(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Register every table found in the warehouse at its latest metadata file.

    For a catalog.db that was deleted or replaced: each table the catalog does not know is
    registered with its history, snapshots and tags intact; known tables are left alone.
    """
    from catalog.iceberg.repair import repair_catalog
    from infra.local.home import require_home

    paths = paths_of(ctx)
    require_home(paths, "repair")
    done = repair_catalog(paths)
    if not done:
        console.print(f"the catalog {paths.catalog_db} knows every table of {paths.warehouse}")
        if fmt is OutputFormat.table:
            return
    columns = ["table", "snapshots", "tags", "metadata"]
    render(columns, [[getattr(r, c) for c in columns] for r in done], fmt, title="registered")

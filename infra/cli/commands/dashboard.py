"""``spotify-lakehouse dashboard``: one self-contained interactive HTML page over the home."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infra.cli.app import app, read_paths_of
from infra.dashboard import DEFAULT_DAYS


@app.command()
def dashboard(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to write index.html into (created if missing)"),
    ],
    days: Annotated[
        int, typer.Option("--days", min=1, help="Days of the trend charts, ending the latest load")
    ] = DEFAULT_DAYS,
) -> None:
    """Write an offline HTML dashboard: trends, rank changes, DQ calendar, runs, table health."""
    from infra.dashboard import write_dashboard

    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file: pass a folder", param_hint="--out")
    page = write_dashboard(read_paths_of(ctx), out, days=days)
    print(page)

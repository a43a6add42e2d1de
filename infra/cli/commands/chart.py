"""``spotify-lakehouse chart``: followers and daily gains per artist, as PNG and HTML."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from infra.cli.app import EngineOption, app, day_option, read_paths_of
from infra.cli.output import console


@app.command()
def chart(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="PNG or HTML file; the other is written beside it")
    ],
    top: Annotated[int, typer.Option("--top", min=1, help="Most followed artists")] = 10,
    days: Annotated[int, typer.Option("--days", min=1, help="Days ending the latest load")] = 30,
    as_of: Annotated[
        date | None, day_option("--as-of", "Chart the data as of this load date")
    ] = None,
    engine: EngineOption = "local",
) -> None:
    """Chart followers over time and daily gains for the top artists."""
    from views.chart import chart_paths, write_chart
    from views.open_engine import open_engine

    try:
        chart_paths(out)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--out") from e
    files = write_chart(
        open_engine(engine, read_paths_of(ctx)),
        out,
        top=top,
        days=days,
        as_of=as_of,
    )
    console.print(f"chart: {files.png}")
    console.print(f"chart: {files.html}")

"""The ``spotify-lakehouse`` Typer app and what its commands share.

Commands live in :mod:`infra.commands` (one module per area) and register themselves on
:data:`app`; :mod:`infra.cli` imports them all and maps failures to exit codes. Nothing here
imports ``aws_cdk`` (it would start Node through jsii).
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from catalog.paths import HOME_ENV, LakehousePaths
from infra.output import OutputFormat

app = typer.Typer(
    name="spotify-lakehouse",
    help="Daily Spotify artist followers in an Iceberg lakehouse, on AWS or on this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
#: Progress and notes go to stderr; results (tables, json, csv) to stdout.
console = Console(stderr=True, soft_wrap=True)

DayOption = Annotated[
    str, typer.Option("--date", help="UTC day, YYYY-MM-DD (default: today)", show_default=False)
]
SimulatorOption = Annotated[
    bool, typer.Option("--simulator", help="Fetch from the built-in Spotify simulator")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Output format")]
SeedOption = Annotated[int, typer.Option("--seed", help="Simulator seed (same seed, same data)")]


def paths_of(ctx: typer.Context) -> LakehousePaths:
    """The lakehouse home chosen by ``--home`` / ``LAKEHOUSE_HOME``."""
    paths: LakehousePaths = ctx.obj
    return paths


def utc_today() -> date:
    from ingest.pipeline import utc_today as today

    return today()


def parse_day(text: str | None) -> date:
    """A ``YYYY-MM-DD`` option value; empty means today (UTC)."""
    if not text:
        return utc_today()
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from e


@app.callback()
def _global(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar=HOME_ENV, help="Lakehouse home [default: ./lakehouse]"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = LakehousePaths.resolve(home)

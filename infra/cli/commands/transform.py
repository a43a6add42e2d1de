"""Commands that run the Glue job locally (transform, backfill) and read its checks (quality).

The pipeline (:mod:`infra.local.pipeline`) is imported when a command runs, not when it is
registered: ``--help``, ``cost`` and bad usage never pay for glue and pyiceberg.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from catalog.errors import LakehouseError
from catalog.paths import LakehousePaths
from infra.cli.app import (
    DayOption,
    FormatOption,
    SeedOption,
    SimulatorOption,
    app,
    day_option,
    paths_of,
    read_paths_of,
    utc_today,
)
from infra.cli.output import (
    OutputFormat,
    console,
    plain,
    progress_lines,
    render,
    result_console,
)

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from glue.dry_run import DayPlan


DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Validate and print what the load would insert, update, delete and quarantine, "
        "artist by artist; write nothing (no commit, tag, quarantine, dq_results or report)",
    ),
]
DryRunFormatOption = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="Output format of --dry-run \\[default: table]"),
]


@app.command()
def transform(
    ctx: typer.Context,
    day: DayOption = None,
    dry_run: DryRunOption = False,
    fmt: DryRunFormatOption = None,
) -> None:
    """Run the Glue job locally for one day: bronze -> validate -> MERGE into silver -> tag."""
    _format_needs_dry_run(fmt, dry_run)
    if dry_run:
        _dry_run(ctx, [day or utc_today()], fmt or OutputFormat.table, whole_range=False)
        return
    from infra.local.pipeline import LocalPipeline

    with LocalPipeline(paths_of(ctx), progress=progress_lines()) as pipeline:
        pipeline.transform(day or utc_today())


@app.command()
def backfill(
    ctx: typer.Context,
    start: Annotated[date, day_option("--start", "First UTC day")],
    end: Annotated[date, day_option("--end", "Last UTC day")],
    simulator: SimulatorOption = False,
    seed: SeedOption = 42,
    dry_run: DryRunOption = False,
    fmt: DryRunFormatOption = None,
) -> None:
    """Transform every day of a range from bronze, in order, in one Spark session.

    With --simulator each day is ingested from the simulator first. A failed day stops
    the run; the days before it stay loaded. With --dry-run every day is judged and
    planned (each against the earlier days' would-be rows) and nothing is written.
    """
    from infra.local.pipeline import LocalPipeline, days_between
    from infra.local.spotify import SpotifyFetch, roster_from

    _format_needs_dry_run(fmt, dry_run)
    if dry_run and simulator:
        raise typer.BadParameter(
            "--simulator writes bronze, a dry run writes nothing: ingest the days first "
            "(`spotify-lakehouse ingest --simulator --date D`), then dry-run the range",
            param_hint="--dry-run/--simulator",
        )
    try:
        days = days_between(start, end)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--start/--end") from e
    if dry_run:
        _dry_run(ctx, days, fmt or OutputFormat.table, whole_range=True)
        return
    from infra.cli.progress import DayProgress

    fetch = SpotifyFetch(simulator=True, roster=roster_from(None), seed=seed) if simulator else None
    with (
        DayProgress("backfill", len(days)) as progress,
        LocalPipeline(paths_of(ctx), fetch=fetch, progress=progress.pipeline()) as pipeline,
    ):
        pipeline.backfill(days)
        progress.finish(progress.summary())


def _format_needs_dry_run(fmt: OutputFormat | None, dry_run: bool) -> None:
    """A load prints progress lines, not rows: ``--format`` is for its dry run only."""
    if fmt is not None and not dry_run:
        raise typer.BadParameter(
            "--format applies to --dry-run only (a load prints one line per day)",
            param_hint="--format",
        )


def _dry_run(ctx: typer.Context, days: list[date], fmt: OutputFormat, *, whole_range: bool) -> None:
    """Plan ``days`` on the home as it is, print the plans, and exit as the load would.

    Nothing of the home is written, not even the catalog's SQLite files (a reader of a
    WAL database checkpoints it): the catalog is read from a private copy
    (:func:`_private_catalog`), no lease is taken (nothing is written for maintenance to
    race with), and no Spark session is started. A refused day ends the command with the
    load's exit status and reason line: for one day the load's own exception, for a range
    the first refused day, after every day of the range has been printed.
    """
    from catalog.bronze.local import LocalBronzeStore
    from glue.dry_run import DryRunStoppedError, dry_run_context, existing_tables, plan_days

    paths = paths_of(ctx)
    with _private_catalog(paths) as catalog:
        context = dry_run_context(catalog)
        plans = plan_days(LocalBronzeStore(paths.bronze), days, context, existing_tables(catalog))
    _print_plans(plans, fmt, whole_range=whole_range)
    for number, plan in enumerate(plans):
        if plan.error is not None:
            if not whole_range:
                raise plan.error
            raise DryRunStoppedError(plan, before=number)


#: Attempts at a consistent copy of the catalog while another process writes to it.
CATALOG_COPY_ATTEMPTS = 5
CATALOG_COPY_PAUSE_S = 0.2


@contextmanager
def _private_catalog(paths: LakehousePaths) -> Iterator[Catalog]:
    """The home's catalog, read from a private copy removed afterwards.

    Why a copy: SQLite readers of a WAL database write (they create ``catalog.db-shm``, and
    the last one to close checkpoints the WAL into ``catalog.db``), so even a read would
    change the home's files; and a home this user cannot write cannot be opened at all
    (:func:`infra.local.home.for_reading`). The copy of ``catalog.db`` and its ``-wal`` is
    taken again while either changes under it (a load committing), so it is one state of
    the catalog. A home without a catalog gets an empty one; a warehouse holding tables the
    catalog does not know is refused as a load would refuse it (``repair-catalog``).
    """
    from pyiceberg.catalog.sql import SqlCatalog

    from catalog.iceberg.profiles import CATALOG_NAME, sqlite_uri, warehouse_uri
    from catalog.iceberg.repair import require_known_tables

    folder = Path(tempfile.mkdtemp(prefix="lakehouse-dry-run-"))
    try:
        copy = replace(paths, catalog_file=folder / "catalog.db")
        if paths.catalog_db.is_file():
            _copy_settled(paths.catalog_db, copy.catalog_db)
            require_known_tables(copy)
        else:
            require_known_tables(paths)
        catalog = SqlCatalog(CATALOG_NAME, uri=sqlite_uri(copy), warehouse=warehouse_uri(paths))
        try:
            yield catalog
        finally:
            catalog.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy_settled(db: Path, copy: Path) -> None:
    """Copy ``db`` and its ``-wal`` to ``copy``, again until neither changed meanwhile."""
    sources = [db, db.with_name(db.name + "-wal")]

    def state() -> list[tuple[int, int] | None]:
        found: list[tuple[int, int] | None] = []
        for source in sources:
            try:
                status = source.stat()
            except FileNotFoundError:
                found.append(None)
            else:
                found.append((status.st_size, status.st_mtime_ns))
        return found

    for _ in range(CATALOG_COPY_ATTEMPTS):
        before = state()
        for source in sources:
            target = copy.with_name(copy.name + source.name[len(db.name) :])
            target.unlink(missing_ok=True)
            if source.is_file():
                shutil.copyfile(source, target)
        if state() == before:
            return
        time.sleep(CATALOG_COPY_PAUSE_S)
    raise CatalogBusyError(
        f"the catalog {db} kept changing while the dry run copied it (a load is "
        "committing): run the dry run again when it has finished"
    )


class CatalogBusyError(LakehouseError):
    """The catalog changed under every attempt to copy it for a dry run."""


def _print_plans(plans: list[DayPlan], fmt: OutputFormat, *, whole_range: bool) -> None:
    """Each day's summary line and its per-artist changes (table), the days with their
    changes nested (json), or the changes as flat rows (csv). A single refused day prints
    only its quarantine lines here: its reason is the one line on stderr."""
    from glue.dry_run import ArtistChange

    if fmt is OutputFormat.json:
        print(json.dumps([plain(plan.as_record()) for plan in plans], indent=2))
        return
    if fmt is OutputFormat.csv:
        rows = [change.values() for plan in plans for change in plan.changes]
        render(list(ArtistChange.FIELDS), rows, fmt)
        return
    out = result_console()
    for plan in plans:
        if whole_range or not plan.refused:
            out.print(Text(plan.summary()), soft_wrap=True)
        if plan.changes:
            render(
                list(ArtistChange.FIELDS[1:]),
                [change.values()[1:] for change in plan.changes],
                fmt,
                console=out,
            )


@app.command()
def quality(
    ctx: typer.Context,
    day: Annotated[
        date | None, day_option("--date", "Only this UTC day \\[default: every day]")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The latest data-quality run of each day: verdict, failures, quarantine, report."""
    from expectations.results import RunSummary
    from infra.local.home import require_home
    from infra.local.quality import latest_quality_runs

    require_home(paths_of(ctx), "report on")  # a typo in --home is an error, not "no runs"
    paths = read_paths_of(ctx)
    runs = latest_quality_runs(paths, day)
    if not runs and fmt is OutputFormat.table:
        where = f"for {day.isoformat()} " if day else ""
        console.print(
            f"no data-quality runs {where}in {paths.home}: run "
            "`spotify-lakehouse transform --date D` (or demo) first"
        )
        return
    render(
        list(RunSummary.FIELDS),
        [run.values() for run in runs],
        fmt,
        title="data quality (latest run per day)",
    )

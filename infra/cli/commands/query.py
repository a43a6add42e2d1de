"""Commands that read and look after the lakehouse: query, snapshots, views deploy, maintain.

Imports are lazy: ``query`` pays only for what a query needs (DuckDB, sqlglot, pyiceberg's
table reader), not for maintenance or the catalog profiles of other commands.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated

import typer

from catalog.errors import LakehouseError
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS
from infra.cli.app import EngineOption, FormatOption, app, day_option, paths_of, read_paths_of
from infra.cli.output import OutputFormat, console, render

views_app = typer.Typer(help="The views defined in views/sql.", no_args_is_help=True)
app.add_typer(views_app, name="views")


@app.command()
def query(
    ctx: typer.Context,
    sql: Annotated[
        str,
        typer.Argument(
            help="Athena SQL (unqualified names are in `spotify`), or the name of a library "
            "query in views/sql, e.g. top_gainers_7d"
        ),
    ],
    as_of: Annotated[
        date | None, day_option("--as-of", "Read every Iceberg table as of this load date")
    ] = None,
    engine: EngineOption = "local",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run Athena SQL against the lakehouse (time travel with --as-of)."""
    from views.open_engine import open_engine
    from views.sqlfiles import QUERY_LIBRARY, load_sql

    text = load_sql(sql) if sql.strip() in QUERY_LIBRARY else sql
    if text is sql:
        _refuse_unknown_query_name(sql, QUERY_LIBRARY)
    result = open_engine(engine, read_paths_of(ctx)).execute(text, as_of=as_of)
    render(result.columns, result.rows, fmt)


class UnknownQueryNameError(LakehouseError):
    """A bare word that is not a library query (a typo of one, most likely)."""


def _refuse_unknown_query_name(sql: str, library: Mapping[str, str]) -> None:
    """A single word is not SQL: refuse it naming the library queries it is close to."""
    word = sql.strip()
    if not _NAME.fullmatch(word):
        return
    close = difflib.get_close_matches(word, list(library), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(f"`spotify-lakehouse query {c}`" for c in close) + "?"
    else:
        hint = f"the library queries are {', '.join(sorted(library))}"
    raise UnknownQueryNameError(f"{word!r} is neither SQL nor a library query: {hint}")


#: A bare name, as library queries are called (``top_gainers_7d``).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@app.command()
def snapshots(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """The load commits of silver: date, run, rows and the tag that names each."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from catalog.iceberg.profiles import local_catalog
    from catalog.iceberg.tables import ARTISTS_SILVER
    from catalog.iceberg.timetravel import TableNotLoadedError, load_snapshots

    paths = read_paths_of(ctx)
    name = ".".join(ARTISTS_SILVER.identifier)
    not_loaded = TableNotLoadedError(
        f"no table {name} in {paths.home}: nothing has been loaded there yet. Run "
        "`spotify-lakehouse run --date D` first (or demo), or pass the right --home."
    )
    if not paths.catalog_db.exists():  # local_catalog() would create an empty catalog.db
        raise not_loaded
    try:
        table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    except (NoSuchTableError, NoSuchNamespaceError) as e:
        raise not_loaded from e
    rows = load_snapshots(table)
    columns = ["snapshot_id", "snapshot_date", "committed_at", "operation", "run_id", "rows", "tag"]
    render(columns, [[getattr(r, c) for c in columns] for r in rows], fmt, title="artists_silver")


@views_app.command("deploy")
def views_deploy(ctx: typer.Context, engine: EngineOption = "local") -> None:
    """Ensure the Iceberg tables exist, then CREATE OR REPLACE every view from views/sql."""
    from views.deploy import deploy_views
    from views.open_engine import open_catalog, open_engine

    paths = paths_of(ctx)
    if engine == "local":  # creating the tables anew would fork the lost ones' history
        from catalog.iceberg.repair import require_known_tables

        require_known_tables(paths)
    for name in deploy_views(open_engine(engine, paths), open_catalog(engine, paths)):
        console.print(f"deployed {name} ({engine})")


@app.command()
def maintain(
    ctx: typer.Context,
    snapshot_retention_days: Annotated[
        int | None,
        typer.Option(
            "--snapshot-retention-days",
            min=0,
            help="Expire older snapshots (default: catalog.iceberg.maintenance's retention)",
        ),
    ] = None,
    tag_retention_days: Annotated[
        int | None,
        typer.Option(
            "--tag-retention-days",
            min=1,
            help="Keep daily tags this many days from now on: stored in the home, used by "
            "every later load and maintain (default: the stored setting, else "
            f"{DEFAULT_TAG_RETENTION_DAYS})",
        ),
    ] = None,
    compact: Annotated[bool, typer.Option("--compact/--no-compact", help="Compact files")] = True,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Expire snapshots (keeping daily tags within retention), compact, remove orphans."""
    from catalog.iceberg.maintenance import DEFAULT_SNAPSHOT_RETENTION_DAYS
    from catalog.iceberg.repair import require_known_tables
    from catalog.runtime.maintenance import maintain_local
    from infra.local.home import require_home

    paths = paths_of(ctx)
    require_home(paths, "maintain")  # a typo in --home must not create a new home
    # Without the catalog's record of the tables, orphan removal would take their files for
    # garbage: repair-catalog first.
    require_known_tables(paths)

    if snapshot_retention_days is None:
        snapshot_retention_days = DEFAULT_SNAPSHOT_RETENTION_DAYS
    from catalog.iceberg.tables import TABLES
    from infra.cli.progress import TableProgress
    from infra.local import runs

    runs.begin(paths)  # a run in spotify.pipeline_runs from here, whatever its outcome
    with TableProgress(len(TABLES)) as progress:
        results = maintain_local(
            paths,
            snapshot_retention_days=snapshot_retention_days,
            tag_retention_days=tag_retention_days,
            compact=compact,
            on_table=progress.table,
        )
        progress.finish(progress.summary())
    from infra.local.plans import warm_query_plans

    warm_query_plans(paths)  # maintain wrote new metadata files: the next query finds its plan
    columns = [
        "table",
        "dropped_tags",
        "extended_tags",
        "rewritten_data_files",
        "added_data_files",
        "expired_snapshots",
        "deleted_files",
        "orphan_files",
    ]
    rows = [[getattr(r, c) for c in columns] for r in results]
    render(columns, [[list(v) if isinstance(v, tuple) else v for v in row] for row in rows], fmt)

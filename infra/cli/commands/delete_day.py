"""``spotify-lakehouse delete-day``: take a day (or one artist-day) back out of the lakehouse.

Removes the rows from silver and the quarantine, one commit per table whose summary keeps
the reason, with ``snapshot-D`` moved to it (:mod:`catalog.iceberg.deletes` says why it
moves rather than goes); bronze is kept, so ``transform --date D`` loads the day again.

The command is a writer like a load: it refuses a home that lost its catalog's record of
a table (``repair-catalog`` first; a delete there would miss the rows it was asked to
remove) and holds the home's write lease, so ``maintain`` never runs beside it. What it
removed is printed like any command's rows (``--format table|json|csv``); one line on
stderr says what happened to each table's commit and tag. Nothing to delete is exit 1 with
no commit: a typo in ``--date`` or ``--artist`` must not pass for a success.

Each deletion is a run in ``spotify.pipeline_runs`` (kind ``delete-day``), under the run id its
commits carry, with silver's rows removed and silver's snapshot (:mod:`infra.local.runs`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from infra.cli.app import FormatOption, app, day_option, paths_of
from infra.cli.output import OutputFormat, console, render

if TYPE_CHECKING:
    from catalog.iceberg.deletes import DayDeletion

#: The columns printed, one row per removed row (``table`` says which table it left).
COLUMNS: Final = ("table", "artist_id", "name", "followers", "snapshot_id", "tag", "tag_outcome")
#: A Spotify artist id (22 base-62 characters), as ``catalog.bronze.payload`` checks them.
_ARTIST_ID: Final = re.compile(r"[0-9A-Za-z]{22}")


def _artist_id(value: str | None) -> str | None:
    """``--artist``: a Spotify artist id, or bad usage (exit 2) before anything is read."""
    if value is None:
        return None
    text = value.strip()
    if not _ARTIST_ID.fullmatch(text):
        raise typer.BadParameter(
            f"expected a Spotify artist id (22 letters and digits), got {value!r}"
        )
    return text


def _reason(value: str) -> str:
    """``--reason``: required and not blank, since it is kept in the commit as the why."""
    text = value.strip()
    if not text:
        raise typer.BadParameter("give the reason for the deletion; it is kept in the commit")
    return text


def rows_of(deletion: DayDeletion) -> list[list[Any]]:
    """One printed row per removed row, silver's first."""
    return [
        [
            part.table,
            row.artist_id,
            row.name,
            row.followers,
            part.snapshot_id,
            part.tag,
            part.tag_outcome.value,
        ]
        for part in deletion.tables
        for row in part.rows
    ]


def summary_line(deletion: DayDeletion) -> str:
    """The stderr line: what each table lost, its commit and tag, the reason, bronze kept."""
    parts = []
    for part in deletion.tables:
        if part.committed:
            tag = (
                f"tag {part.tag} {part.tag_outcome.value}"
                if part.tag
                else "no tag (beyond retention)"
            )
            parts.append(f"{len(part.rows)} from {part.table} (snapshot {part.snapshot_id}, {tag})")
        else:
            parts.append(f"none from {part.table} (no commit)")
    return (
        f"{deletion.selection.describe()}: removed {' and '.join(parts)}; run {deletion.run_id}, "
        f"reason: {deletion.reason}; bronze kept"
    )


@app.command("delete-day")
def delete_day_command(
    ctx: typer.Context,
    day: Annotated[date, day_option("--date", "UTC day to remove")],
    reason: Annotated[
        str,
        typer.Option("--reason", callback=_reason, help="Why: kept in the commit's summary"),
    ],
    artist: Annotated[
        str | None,
        typer.Option(
            "--artist",
            callback=_artist_id,
            metavar="ID",
            help="Only this artist's row of the day \\[default: every artist]",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Remove a day (or one artist-day) from silver and quarantine; bronze is kept.

    One commit per table, its summary keeping the reason; the day's snapshot tag moves to
    it, so as-of that day shows the day without those rows while as-of later days is
    unchanged. `transform --date D` loads the day from bronze again.
    """
    from catalog.iceberg.deletes import DaySelection, NothingToDeleteError, delete_day
    from catalog.iceberg.lease import write_lease
    from catalog.iceberg.profiles import local_catalog
    from catalog.iceberg.repair import require_known_tables
    from infra.local import runs
    from infra.local.home import require_home
    from ingest.pipeline import new_run_id

    paths = paths_of(ctx)
    require_home(paths, "delete from")  # a typo in --home must not create a new home
    require_known_tables(paths)
    selection = DaySelection(day, artist)
    if not paths.catalog_db.exists():  # local_catalog() would create an empty catalog.db
        raise NothingToDeleteError(
            f"nothing to delete: {paths.home} has no catalog, nothing was ever loaded there; "
            "nothing was committed"
        )
    run = runs.begin(paths)  # from here on a run, recorded whatever its outcome
    if run is not None:
        run.day(day)
    catalog = local_catalog(paths)
    with write_lease(paths, "write"):
        deletion = delete_day(
            catalog,
            selection,
            reason=reason,
            run_id=run.run_id if run is not None else new_run_id(),
        )
    from infra.local.plans import warm_query_plans

    warm_query_plans(paths, catalog)
    if run is not None:
        run.tally.rows_deleted = len(deletion.silver.rows)
        run.tally.snapshot_id = deletion.silver.snapshot_id
    console.print(summary_line(deletion))
    render(list(COLUMNS), rows_of(deletion), fmt, title=f"removed: {selection.describe()}")

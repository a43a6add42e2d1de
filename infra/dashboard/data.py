"""What the dashboard shows, read from a lakehouse home: no HTML here, only figures.

Four sources, each read the way the commands that print them read it:

* the gold view through the local engine (:class:`views.local.LocalEngine`), like
  ``chart`` and ``query``: followers, gains per day and ranks per artist and day;
* the latest data-quality run of every day (:func:`infra.local.quality.latest_quality_runs`),
  like ``quality``: the calendar and its links to the reports;
* runs: ``spotify.pipeline_runs`` when the catalog has it (read by
  :func:`catalog.iceberg.run_log.read_runs`, as ``runs`` reads it); otherwise derived from
  what every run leaves anyway: each ``dq_results`` run (validated_at) joined to the silver
  commit of the same day and ingest run (committed_at, inserted/updated/deleted rows), with
  the ingest start read from the run id (``YYYYMMDDTHHMMSSZ-xxxxxx``);
* table health from the Iceberg metadata of every table of the ``spotify`` namespace:
  snapshots, data files, bytes, records and load tags (no data file is read for it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from catalog.iceberg.tables import ARTISTS_SILVER, DQ_RESULTS, NAMESPACE, PIPELINE_RUNS
from catalog.iceberg.timetravel import TableNotLoadedError, load_snapshots, load_tags
from catalog.paths import LakehousePaths
from expectations.results import RunSummary

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from views.engine import QueryEngine

#: Runs listed under "recent runs".
DEFAULT_RECENT_RUNS: Final = 20
#: The run-history table (its one definition is :data:`catalog.iceberg.tables.PIPELINE_RUNS`).
PIPELINE_RUNS_TABLE: Final = PIPELINE_RUNS.name
#: The ingest run id's leading timestamp (``ingest.pipeline.new_run_id``).
_RUN_ID_START: Final = re.compile(r"^(\d{8}T\d{6}Z)-")
#: Severity whose failure fails a run (warnings are reported only).
_CRITICAL: Final = "critical"

_GOLD_SQL: Final = """
WITH latest AS (SELECT max(date) AS latest_date FROM Spotify_Gold_View)
SELECT g.artist_id, g.name, g.date, g.followers, g.followers_gained_per_day, g.follower_rank
FROM Spotify_Gold_View g CROSS JOIN latest l
WHERE g.date > date_add('day', -{days}, l.latest_date)
ORDER BY g.artist_id, g.date
"""


@dataclass
class ArtistTrend:
    """One artist's days in the window, oldest first (lists aligned with ``dates``)."""

    artist_id: str
    name: str
    dates: list[date] = field(default_factory=list)
    followers: list[int | None] = field(default_factory=list)
    gained_per_day: list[float | None] = field(default_factory=list)
    rank: list[int | None] = field(default_factory=list)

    @property
    def latest_followers(self) -> int:
        return next((f for f in reversed(self.followers) if f is not None), -1)


@dataclass(frozen=True)
class RunRow:
    """One pipeline run of a day, as derived from silver and dq_results."""

    snapshot_date: date
    run_id: str
    started_at: datetime | None
    validated_at: datetime | None
    committed_at: datetime | None
    dq_success: bool | None
    inserted: int | None
    updated: int | None
    deleted: int | None
    rows_after: int | None

    @property
    def ingest_to_validation_s(self) -> float | None:
        """Seconds from the ingest's start (run id, whole seconds) to the validation."""
        return _seconds(self.started_at, self.validated_at)

    @property
    def validation_to_commit_s(self) -> float | None:
        """Seconds from the validation to the silver commit (None: nothing to commit)."""
        return _seconds(self.validated_at, self.committed_at)


@dataclass(frozen=True)
class RecordedRuns:
    """``spotify.pipeline_runs`` as it is: its columns and its latest rows."""

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class TableHealth:
    """One Iceberg table's state from its metadata."""

    name: str
    snapshots: int
    current_snapshot_id: int | None
    last_commit: datetime | None
    data_files: int
    delete_files: int
    records: int
    size_bytes: int
    load_tags: int
    latest_tag: str | None
    metadata_location: str


@dataclass(frozen=True)
class DashboardData:
    """Everything the page shows, read once."""

    home: str
    generated_at: datetime
    days: int
    artists: tuple[ArtistTrend, ...]
    quality: tuple[RunSummary, ...]
    runs: tuple[RunRow, ...]
    recorded_runs: RecordedRuns | None
    tables: tuple[TableHealth, ...]

    @property
    def latest_day(self) -> date | None:
        return max((d for a in self.artists for d in a.dates), default=None)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def run_started_at(run_id: str) -> datetime | None:
    """When the ingest run ``run_id`` started, from its id; None for another id shape."""
    match = _RUN_ID_START.match(run_id)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def artist_trends(engine: QueryEngine, days: int) -> list[ArtistTrend]:
    """Every artist's last ``days`` days of the gold view, most followed (latest) first."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    result = engine.execute(_GOLD_SQL.format(days=int(days)))
    trends: dict[str, ArtistTrend] = {}
    for record in result.to_records():
        artist_id = str(record["artist_id"])
        trend = trends.setdefault(artist_id, ArtistTrend(artist_id, str(record["name"])))
        trend.name = str(record["name"])  # rows are by date: the latest name wins
        day = record["date"]
        if not isinstance(day, date):
            raise TypeError(f"gold view date is not a date: {day!r}")
        trend.dates.append(day)
        followers, gained, rank = (
            record["followers"],
            record["followers_gained_per_day"],
            record["follower_rank"],
        )
        trend.followers.append(int(followers) if isinstance(followers, int) else None)
        trend.gained_per_day.append(float(gained) if isinstance(gained, int | float) else None)
        trend.rank.append(int(rank) if isinstance(rank, int) else None)
    return sorted(trends.values(), key=lambda t: (-t.latest_followers, t.artist_id))


def trailing_mean(
    dates: Sequence[date], values: Sequence[float | None], window_days: int
) -> list[float | None]:
    """Mean of the known values within the ``window_days`` days ending each date.

    By calendar days, not by points: a gap in the loads shortens the window instead of
    reaching further back."""
    out: list[float | None] = []
    for i, day in enumerate(dates):
        start = day - timedelta(days=window_days - 1)
        known = [
            v
            for d, v in zip(dates[: i + 1], values[: i + 1], strict=True)
            if d >= start and v is not None
        ]
        out.append(sum(known) / len(known) if known else None)
    return out


def derived_runs(catalog: Catalog, limit: int = DEFAULT_RECENT_RUNS) -> list[RunRow]:
    """The latest ``limit`` runs, newest first, from dq_results and silver's load commits.

    Each data-quality run (one ``validation_id``) is one run; it is joined to the first
    silver commit of its day and ingest run made after it. A run whose load changed nothing
    has no commit (re-runs make none). Loads without a recorded validation are listed too.
    """
    from pyiceberg.exceptions import NoSuchTableError

    commits: dict[tuple[date, str], list[tuple[datetime, Mapping[str, str], int | None]]] = (
        defaultdict(list)
    )
    try:
        silver = catalog.load_table(ARTISTS_SILVER.identifier)
    except NoSuchTableError:
        silver = None
    if silver is not None:
        for load in load_snapshots(silver):
            snapshot = silver.metadata.snapshot_by_id(load.snapshot_id)
            summary = (
                snapshot.summary.additional_properties
                if snapshot is not None and snapshot.summary is not None
                else {}
            )
            commits[(load.snapshot_date, load.run_id or "")].append(
                (load.committed_at, summary, load.rows)
            )
    validations: dict[str, dict[str, Any]] = {}
    try:
        results = catalog.load_table(DQ_RESULTS.identifier)
    except NoSuchTableError:
        results = None
    if results is not None and results.current_snapshot() is not None:
        columns = (
            "snapshot_date",
            "run_id",
            "validation_id",
            "validated_at",
            "severity",
            "success",
        )
        for row in results.scan(selected_fields=columns).to_arrow().to_pylist():
            run = validations.setdefault(row["validation_id"], {**row, "success": True})
            if row["severity"] == _CRITICAL and not row["success"]:
                run["success"] = False
    rows: list[RunRow] = []
    used: set[tuple[date, str, datetime]] = set()
    for run in validations.values():
        day, run_id, validated = run["snapshot_date"], str(run["run_id"]), run["validated_at"]
        after = sorted(
            (c for c in commits.get((day, run_id), []) if c[0] >= validated), key=lambda c: c[0]
        )
        commit = after[0] if after else None
        if commit is not None:
            used.add((day, run_id, commit[0]))
        rows.append(_run_row(day, run_id, validated, bool(run["success"]), commit))
    for (day, run_id), made in commits.items():
        for commit in made:
            if (day, run_id, commit[0]) not in used:
                rows.append(_run_row(day, run_id, None, None, commit))
    rows.sort(key=lambda r: r.validated_at or r.committed_at or datetime.min.replace(tzinfo=UTC))
    return rows[::-1][:limit]


def _int(summary: Mapping[str, str], key: str) -> int | None:
    value = summary.get(key)
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def _run_row(
    day: date,
    run_id: str,
    validated: datetime | None,
    success: bool | None,
    commit: tuple[datetime, Mapping[str, str], int | None] | None,
) -> RunRow:
    summary: Mapping[str, str] = commit[1] if commit is not None else {}
    return RunRow(
        snapshot_date=day,
        run_id=run_id,
        started_at=run_started_at(run_id),
        validated_at=validated,
        committed_at=commit[0] if commit is not None else None,
        dq_success=success,
        inserted=_int(summary, "inserted_rows"),
        updated=_int(summary, "updated_rows"),
        deleted=_int(summary, "deleted_rows"),
        rows_after=commit[2] if commit is not None else None,
    )


def recorded_runs(catalog: Catalog, limit: int = DEFAULT_RECENT_RUNS) -> RecordedRuns | None:
    """The latest ``limit`` rows of ``spotify.pipeline_runs``, newest first (by
    ``started_at``), or None while it does not exist or holds no run yet (every load
    creates it; a home loaded outside the CLI has no recorded run, and its derived runs say
    more than an empty table). Its columns are shown as the table has them; every
    ``*_seconds`` column is a stage of the runs figure."""
    from catalog.iceberg.run_log import read_runs, runs_table

    table = runs_table(catalog)
    rows = read_runs(table, last=limit) if table is not None else []
    if table is None or not rows:
        return None
    return RecordedRuns(tuple(f.name for f in table.schema().fields), tuple(rows))


def table_health(catalog: Catalog) -> list[TableHealth]:
    """The state of every table of the namespace, from metadata alone, by name."""
    return [
        _health(catalog.load_table(identifier))
        for identifier in sorted(catalog.list_tables(NAMESPACE))
    ]


def _health(table: Table) -> TableHealth:
    snapshot = table.current_snapshot()
    summary: Mapping[str, str] = (
        snapshot.summary.additional_properties
        if snapshot is not None and snapshot.summary is not None
        else {}
    )
    data_files = _int(summary, "total-data-files")
    if data_files is None and snapshot is not None:  # a summary without totals: count
        data_files = sum(1 for _ in table.scan().plan_files())
    tags = load_tags(table)
    return TableHealth(
        name=".".join(table.name()[-2:]),
        snapshots=len(table.metadata.snapshots),
        current_snapshot_id=snapshot.snapshot_id if snapshot is not None else None,
        last_commit=(
            datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC) if snapshot else None
        ),
        data_files=data_files or 0,
        delete_files=_int(summary, "total-delete-files") or 0,
        records=_int(summary, "total-records") or 0,
        size_bytes=_int(summary, "total-files-size") or 0,
        load_tags=len(tags),
        latest_tag=tags[-1].name if tags else None,
        metadata_location=table.metadata_location,
    )


def read_dashboard(
    paths: LakehousePaths, *, days: int, recent_runs: int = DEFAULT_RECENT_RUNS
) -> DashboardData:
    """Read everything the page shows from the home ``paths`` (read-only)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from catalog.iceberg.profiles import local_catalog
    from infra.local.quality import latest_quality_runs
    from views.local import LocalEngine

    not_loaded = TableNotLoadedError(
        f"no table {ARTISTS_SILVER.qualified_name} in {paths.home}: nothing has been loaded "
        "there yet. Run `spotify-lakehouse run --date D` first (or demo), or pass the right "
        "--home."
    )
    if not paths.catalog_db.exists():  # local_catalog() would create an empty catalog.db
        raise not_loaded
    catalog = local_catalog(paths)
    try:
        catalog.load_table(ARTISTS_SILVER.identifier)
    except (NoSuchTableError, NoSuchNamespaceError) as e:
        raise not_loaded from e
    return DashboardData(
        home=str(paths.home),
        generated_at=datetime.now(UTC),
        days=days,
        artists=tuple(artist_trends(LocalEngine(paths), days)),
        quality=tuple(latest_quality_runs(paths)),
        runs=tuple(derived_runs(catalog, recent_runs)),
        recorded_runs=recorded_runs(catalog, recent_runs),
        tables=tuple(table_health(catalog)),
    )

"""Run history as data: one row per pipeline run in ``spotify.pipeline_runs``.

Every writer of the lakehouse leaves a :class:`RunRecord`: the CLI's commands
(:mod:`infra.local.runs`), the Glue job (:mod:`glue.job`, engine ``glue``) and the ingest
Lambda (:mod:`ingest.handler`, engine ``lambda``). The table is defined with the others
(:data:`catalog.iceberg.tables.PIPELINE_RUNS`); this module appends to it and reads it.

Why the record is spelled here again, in the standard library only: the Lambda must not
import pyiceberg (nor pyarrow), yet it writes the same row. It writes the record as JSON
beside its day in bronze (:func:`catalog.bronze.layout.run_record_key`) and the Glue job
folds those records into the table (:func:`append_runs` with ``skip_known``: a record
already folded, by ``run_id``, is not folded twice). So this module imports pyiceberg and
pyarrow only inside the functions that touch the table, and a test holds the dataclass's
fields equal to the table's columns, in order: one schema for every engine.

Writes are appends, one commit per call (a run's row, plus the Lambda records a Glue run
folds), retried on commit conflicts (:func:`catalog.iceberg.commits.retry_on_conflict`);
an append whose outcome is unknown is looked up by the id it put in its snapshot summary
rather than appended again. Recording a run must never fail or hide the run itself: the
callers catch what :func:`append_runs` raises and log a warning.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

#: Statuses of a run, from its exit status (ARCHITECTURE.md): 0, 3 (the Spotify app cannot
#: read followers), 2 (bad usage), anything else a failure.
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
FOLLOWERS_UNAVAILABLE: Final = "followers_unavailable"
BAD_USAGE: Final = "bad_usage"
_STATUS_OF_EXIT: Final = {0: SUCCEEDED, 2: BAD_USAGE, 3: FOLLOWERS_UNAVAILABLE}

#: Engines that record runs: the CLI on one machine, the Glue job, the ingest Lambda.
ENGINES: Final = ("local", "glue", "lambda")
#: Version of a run record's JSON (the Lambda's bronze-side record).
RECORD_VERSION: Final = 1
#: Longest error text kept: the reason line, cut so one bad message cannot bloat the table.
MAX_ERROR_CHARS: Final = 2000
#: Snapshot-summary property naming the append that recorded runs (its outcome, if unknown,
#: is looked up by it).
COMMIT_ID_PROPERTY: Final = "run-log-commit-id"
#: Snapshot-summary property listing the run ids an append recorded.
RUN_IDS_PROPERTY: Final = "run_ids"

#: Keys of a load's timings (:attr:`glue.transform.TransformResult.timings`) summed into
#: each stage column. They do not overlap: ``merge`` already holds ``silver_check``,
#: ``write`` and ``tag``; ``record`` holds ``report``, ``quarantine`` and ``dq_results``.
LOAD_STAGE_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "read": ("bronze_read", "tables"),
    "validate": ("bronze_checks", "validation"),
    "merge": ("merge",),
    "record": ("record",),
    "compact": ("compact",),
}


def status_of(exit_code: int) -> str:
    """The status a run's exit status means."""
    return _STATUS_OF_EXIT.get(exit_code, FAILED)


def one_line(text: str | None) -> str | None:
    """``text`` as one line of at most :data:`MAX_ERROR_CHARS` (None stays None)."""
    if text is None:
        return None
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


@dataclass(frozen=True)
class RunRecord:
    """One row of ``spotify.pipeline_runs``; fields are its columns, in order."""

    run_id: str
    kind: str
    snapshot_date: date | None
    end_date: date | None
    started_at: datetime
    ended_at: datetime | None
    status: str
    exit_code: int | None
    engine: str
    bronze_run_id: str | None = None
    rows_fetched: int | None = None
    rows_inserted: int | None = None
    rows_updated: int | None = None
    rows_deleted: int | None = None
    rows_quarantined: int | None = None
    api_requests: int | None = None
    rate_limit_waits: int | None = None
    snapshot_id: int | None = None
    fetch_seconds: float | None = None
    read_seconds: float | None = None
    validate_seconds: float | None = None
    merge_seconds: float | None = None
    record_seconds: float | None = None
    compact_seconds: float | None = None
    other_seconds: float | None = None
    error: str | None = None

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def to_row(self) -> dict[str, Any]:
        """The row as pyarrow takes it (dates and datetimes as they are)."""
        return asdict(self)

    def to_json(self) -> bytes:
        """The record as the Lambda keeps it in bronze (ISO dates, UTC timestamps)."""
        body: dict[str, Any] = {"record_version": RECORD_VERSION}
        for name, value in asdict(self).items():
            body[name] = value.isoformat() if isinstance(value, date | datetime) else value
        return json.dumps(body, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> RunRecord:
        """A record written by :meth:`to_json`; ValueError for anything else (keys of a
        later version that this one does not know are ignored)."""
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise TypeError("not a JSON object")
            values: dict[str, Any] = {}
            for f in fields(cls):
                value = body.get(f.name)
                if value is not None and f.name in ("snapshot_date", "end_date"):
                    value = date.fromisoformat(value)
                elif value is not None and f.name in ("started_at", "ended_at"):
                    value = datetime.fromisoformat(value).astimezone(UTC)
                values[f.name] = value
            for required in ("run_id", "kind", "started_at", "status", "engine"):
                if values[required] is None:
                    raise KeyError(required)
            return cls(**values)
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not a run record: {type(e).__name__}: {e}") from e


@dataclass
class RunTally:
    """What a run adds up as it goes: rows of each kind, stage seconds, the last commit.

    The local pipeline and the Glue job tell it each fetch and each day's load; its
    :meth:`record` turns the sums into the run's one row, with ``other_seconds`` the part
    of the wall time no stage accounts for (start-up, Spark, the simulator, waits), so the
    stages of a row add up to its duration.
    """

    rows_fetched: int | None = None
    rows_inserted: int | None = None
    rows_updated: int | None = None
    rows_deleted: int | None = None
    rows_quarantined: int | None = None
    snapshot_id: int | None = None
    bronze_run_id: str | None = None
    api_requests: int | None = None
    rate_limit_waits: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    #: Days the run was asked for or reached, in the order it met them.
    days: list[date] = field(default_factory=list)

    def day(self, day: date) -> None:
        if day not in self.days:
            self.days.append(day)

    def add_fetch(
        self,
        *,
        day: date,
        records: int,
        bronze_run_id: str,
        seconds: float,
        api_requests: int | None = None,
        rate_limit_waits: int | None = None,
    ) -> None:
        """One day fetched (or found complete) into bronze."""
        self.day(day)
        self.rows_fetched = (self.rows_fetched or 0) + records
        self.bronze_run_id = bronze_run_id
        self.seconds["fetch"] = self.seconds.get("fetch", 0.0) + seconds
        if api_requests is not None:
            self.api_requests = (self.api_requests or 0) + api_requests
        if rate_limit_waits is not None:
            self.rate_limit_waits = (self.rate_limit_waits or 0) + rate_limit_waits

    def add_load(
        self,
        *,
        day: date,
        inserted: int,
        updated: int,
        deleted: int,
        quarantined: int,
        snapshot_id: int | None,
        bronze_run_id: str,
        timings: Mapping[str, float],
    ) -> None:
        """One day loaded into silver (``snapshot_id`` None: nothing changed, no commit)."""
        self.day(day)
        self.rows_inserted = (self.rows_inserted or 0) + inserted
        self.rows_updated = (self.rows_updated or 0) + updated
        self.rows_deleted = (self.rows_deleted or 0) + deleted
        self.rows_quarantined = (self.rows_quarantined or 0) + quarantined
        if snapshot_id is not None:
            self.snapshot_id = snapshot_id
        self.bronze_run_id = bronze_run_id
        for stage, keys in LOAD_STAGE_KEYS.items():
            spent = sum(timings.get(k, 0.0) for k in keys)
            if spent or any(k in timings for k in keys):
                self.seconds[stage] = self.seconds.get(stage, 0.0) + spent

    def record(
        self,
        *,
        run_id: str,
        kind: str,
        engine: str,
        started_at: datetime,
        ended_at: datetime,
        exit_code: int,
        error: str | None,
        elapsed_s: float | None = None,
    ) -> RunRecord:
        """The run's row. ``elapsed_s`` (a monotonic clock's) defaults to the timestamps'."""
        elapsed = elapsed_s if elapsed_s is not None else (ended_at - started_at).total_seconds()
        stages = {k: round(v, 6) for k, v in self.seconds.items()}
        stages["other"] = round(max(0.0, elapsed - sum(stages.values())), 6)
        days = sorted(self.days)
        return RunRecord(
            run_id=run_id,
            kind=kind,
            snapshot_date=days[0] if days else None,
            end_date=days[-1] if days else None,
            started_at=started_at.astimezone(UTC),
            ended_at=ended_at.astimezone(UTC),
            status=status_of(exit_code),
            exit_code=exit_code,
            engine=engine,
            bronze_run_id=self.bronze_run_id,
            rows_fetched=self.rows_fetched,
            rows_inserted=self.rows_inserted,
            rows_updated=self.rows_updated,
            rows_deleted=self.rows_deleted,
            rows_quarantined=self.rows_quarantined,
            api_requests=self.api_requests,
            rate_limit_waits=self.rate_limit_waits,
            snapshot_id=self.snapshot_id,
            error=one_line(error) if exit_code != 0 else None,
            **{f"{stage}_seconds": spent for stage, spent in stages.items()},
        )


class ResponseCounter:
    """Counts the HTTP answers a ``requests`` session receives (every attempt of a retried
    request is one): the ``api_requests`` of a fetch. Installed as a session hook."""

    def __init__(self, session: Any) -> None:
        self.count = 0
        session.hooks.setdefault("response", []).append(self._seen)

    def _seen(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return response


# The table ------------------------------------------------------------------------------------


def runs_table(catalog: Catalog) -> Table | None:
    """``spotify.pipeline_runs`` as it is now, or None while it does not exist (readers
    never create it: a read-only home stays unwritten)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from catalog.iceberg.tables import PIPELINE_RUNS

    try:
        return catalog.load_table(PIPELINE_RUNS.identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None


def known_run_ids(table: Table) -> set[str]:
    """Every ``run_id`` the table holds (one column is read)."""
    if table.current_snapshot() is None:
        return set()
    ids = table.scan(selected_fields=("run_id",)).to_arrow().column("run_id").to_pylist()
    return {str(i) for i in ids}


def append_runs(
    catalog: Catalog, records: Sequence[RunRecord], *, skip_known: bool = False
) -> int | None:
    """Append ``records`` to ``spotify.pipeline_runs`` (created if missing) in one commit.

    ``skip_known``: leave out the records whose ``run_id`` the table already holds (folding
    the Lambda's records, which a re-run of the job finds again). Returns the snapshot id,
    or None when nothing was left to append. Commit conflicts are retried from the table's
    new state.
    """
    import pyarrow as pa
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from catalog.iceberg.commits import retry_on_conflict
    from catalog.iceberg.tables import PIPELINE_RUNS, ensure_table

    unique = list({r.run_id: r for r in records}.values())
    if not unique:
        return None
    # The table as ensure_table just read (or created) it serves the first attempt; a retry
    # (a conflict: someone committed in between) reads it again.
    fresh: list[Table] = [ensure_table(catalog, PIPELINE_RUNS)]
    commit_id = uuid.uuid4().hex

    def attempt() -> int | None:
        table = fresh.pop() if fresh else catalog.load_table(PIPELINE_RUNS.identifier)
        todo = unique
        if skip_known:
            known = known_run_ids(table)
            todo = [r for r in unique if r.run_id not in known]
        if not todo:
            return None
        arrow = pa.Table.from_pylist(
            [r.to_row() for r in todo], schema=schema_to_pyarrow(table.schema())
        )
        table.append(
            arrow,
            snapshot_properties={
                COMMIT_ID_PROPERTY: commit_id,
                RUN_IDS_PROPERTY: ",".join(r.run_id for r in todo),
            },
        )
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot is not None else None

    def landed() -> int | None:
        table = catalog.load_table(PIPELINE_RUNS.identifier)
        for snapshot in table.snapshots():
            summary = snapshot.summary
            props = summary.additional_properties if summary is not None else {}
            if props.get(COMMIT_ID_PROPERTY) == commit_id:
                return snapshot.snapshot_id
        return None

    return retry_on_conflict(
        attempt, what=f"record of run(s) in {PIPELINE_RUNS.qualified_name}", landed=landed
    )


def read_runs(
    table: Table, *, day: date | None = None, last: int | None = None
) -> list[dict[str, Any]]:
    """The rows, newest first (by ``started_at``): those whose days include ``day`` (a run
    of one day, or a range from ``snapshot_date`` to ``end_date``), at most ``last``."""
    if table.current_snapshot() is None:
        return []
    rows: list[dict[str, Any]] = table.scan().to_arrow().to_pylist()
    if day is not None:
        rows = [r for r in rows if _covers(r, day)]
    rows.sort(key=lambda r: (r["started_at"], r["run_id"]), reverse=True)
    return rows if last is None else rows[:last]


def _covers(row: Mapping[str, Any], day: date) -> bool:
    first, last = row.get("snapshot_date"), row.get("end_date") or row.get("snapshot_date")
    return first is not None and last is not None and first <= day <= last

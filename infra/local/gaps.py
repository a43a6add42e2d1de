"""Which days of a range are not loaded as they should be, and the command that fixes each.

``spotify-lakehouse gaps`` answers "what is missing" from what the lakehouse already holds,
without a log to trust: the bronze manifests (what was fetched completely), silver's load
commits and tags (what was loaded, from which bronze run) and ``dq_results`` (what was
validated, and how it went). A day is in one of these states, checked in this order:

* ``no_bronze``: nothing was fetched for the day (or only parts of a fetch that died before
  its manifest). Today's day is fetched by ``run``; a past day cannot be fetched from
  Spotify as it was (the API only knows today), so the fix offered is a backdated fetch, and
  a gap left alone is harmless: the gold view's ``followers_gained_per_day`` spans it.
* ``unreadable_manifest``: the day's manifest cannot be read; ``run --force`` fetches again
  and sets the unreadable bytes aside.
* ``not_loaded``: complete bronze that no load has validated yet.
* ``load_failed``: validated, but silver never took the day: the quality gate refused it, or
  the run was killed between its data-quality record and its commit.
* ``stale``: bronze was fetched again after the day was loaded, and the newer run has not
  been loaded (silver and the latest validation still name the older run).
* ``deleted``: ``delete-day`` removed the whole day (bronze kept): listed with its reason,
  so a deliberate hole is seen, with the way back.
* ``dq_failed``: loaded, but its latest validation failed or warned (rows quarantined, a
  bound crossed); the report says which rows and why.

Everything is read through :class:`~catalog.bronze.layout.BronzeStore` and a pyiceberg
catalog, so the same function serves a local home and an S3 + Glue deployment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Final

from catalog.bronze.layout import (
    DATASET_PREFIX,
    MANIFEST_NAME,
    BronzeError,
    BronzeStore,
    day_of_key,
)

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from expectations.results import RunSummary

PROG: Final = "spotify-lakehouse"


class GapKind(StrEnum):
    """Why a day needs attention (module docstring: the order they are checked in)."""

    NO_BRONZE = "no_bronze"
    UNREADABLE_MANIFEST = "unreadable_manifest"
    NOT_LOADED = "not_loaded"
    LOAD_FAILED = "load_failed"
    STALE = "stale"
    DELETED = "deleted"
    DQ_FAILED = "dq_failed"


@dataclass(frozen=True)
class Gap:
    """One day that is not as it should be: what is wrong, in words, and the way out."""

    day: date
    kind: GapKind
    detail: str
    fix: str

    #: Columns of ``gaps --format json|csv|table``, in order.
    FIELDS: ClassVar[tuple[str, ...]] = ("day", "kind", "detail", "fix")

    def values(self) -> list[str]:
        return [self.day.isoformat(), self.kind.value, self.detail, self.fix]


@dataclass(frozen=True)
class DayState:
    """What the lakehouse holds for one day, gathered once for the whole range."""

    manifest_run: str | None  # the complete bronze run (the manifest's), if any
    manifest_unreadable: str | None  # why the manifest cannot be read, if it cannot
    has_parts: bool  # any bronze part of the day, complete or not
    loaded_runs: frozenset[str]  # bronze runs silver's load commits of the day name
    loaded: bool  # a load commit or tag names the day
    quality: RunSummary | None  # the day's latest data-quality run
    deleted_reason: str | None = None  # the day's latest commit was delete-day of it all


def find_gaps(days: Sequence[date], states: dict[date, DayState], today: date) -> list[Gap]:
    """The gaps among ``days``, in date order (pure: the reading is :func:`day_states`)."""
    return [gap for day in days if (gap := _gap(day, states.get(day), today)) is not None]


def _gap(day: date, state: DayState | None, today: date) -> Gap | None:
    d = day.isoformat()
    if state is None or (state.manifest_run is None and state.manifest_unreadable is None):
        partial = state is not None and state.has_parts
        detail = (
            "bronze holds parts of a fetch that never finished (no manifest)"
            if partial
            else "nothing fetched for this day"
        )
        fix = (
            f"{PROG} run --date {d}"
            if day >= today
            else f"{PROG} run --date {d} --allow-backdated (records today's counts under "
            f"{d}), or leave it: followers_gained_per_day spans the gap"
        )
        return Gap(day, GapKind.NO_BRONZE, detail, fix)
    if state.manifest_unreadable is not None:
        return Gap(
            day,
            GapKind.UNREADABLE_MANIFEST,
            f"the manifest cannot be read: {state.manifest_unreadable}",
            f"{PROG} run --date {d} --force (the unreadable manifest is kept beside)",
        )
    run = state.manifest_run
    quality = state.quality
    validated = quality is not None and quality.run_id == run
    if not state.loaded and quality is None:
        return Gap(
            day,
            GapKind.NOT_LOADED,
            f"bronze run {run} is complete but was never loaded",
            f"{PROG} transform --date {d}",
        )
    if not state.loaded:
        assert quality is not None
        return Gap(
            day,
            GapKind.LOAD_FAILED,
            f"run {quality.run_id} was validated but silver never took the day"
            + _failures(quality),
            f"{PROG} quality --date {d} (why), then {PROG} transform --date {d}",
        )
    if state.deleted_reason is not None:
        return Gap(
            day,
            GapKind.DELETED,
            f"removed by delete-day: {state.deleted_reason}",
            f"{PROG} transform --date {d} loads it back from bronze (which was kept)",
        )
    if run not in state.loaded_runs and not validated:
        loaded = ", ".join(sorted(state.loaded_runs)) or "an earlier run"
        return Gap(
            day,
            GapKind.STALE,
            f"bronze was fetched again (run {run}) after the load of {loaded}",
            f"{PROG} transform --date {d}",
        )
    if quality is not None and not quality.success:
        return Gap(
            day,
            GapKind.DQ_FAILED,
            f"run {quality.run_id} loaded with failed checks" + _failures(quality),
            f"{PROG} quality --date {d} (the report names each row), then {PROG} run "
            f"--date {d} --force to fetch again if the API sent bad data",
        )
    return None


def _failures(quality: RunSummary) -> str:
    parts = []
    if quality.failed_expectations:
        parts.append("failed: " + ", ".join(quality.failed_expectations))
    if quality.quarantined_rows:
        parts.append(f"{quality.quarantined_rows} row(s) quarantined")
    return f" ({'; '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class SilverLoads:
    """Silver's load commits by day (the bronze runs they name) and every day a load
    commit or tag names (a commit without ``run_id`` still counts as a load)."""

    runs: dict[date, frozenset[str]]
    named: frozenset[date]
    #: Days whose latest load commit is a whole-day ``delete-day``, with its reason.
    deleted: dict[date, str]

    @classmethod
    def read(cls, catalog: Catalog | None) -> SilverLoads:
        if catalog is None:
            return cls({}, frozenset(), {})
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        from catalog.iceberg.deletes import SUMMARY_DELETE_ARTIST, SUMMARY_DELETE_REASON
        from catalog.iceberg.tables import ARTISTS_SILVER
        from catalog.iceberg.timetravel import load_snapshots, load_tags

        try:
            table = catalog.load_table(ARTISTS_SILVER.identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            return cls({}, frozenset(), {})
        runs: dict[date, set[str]] = {}
        latest: dict[date, dict[str, str]] = {}
        by_id = {s.snapshot_id: s for s in table.metadata.snapshots}
        for load in load_snapshots(table):  # oldest first
            runs.setdefault(load.snapshot_date, set()).update([load.run_id] if load.run_id else [])
            summary = by_id[load.snapshot_id].summary
            latest[load.snapshot_date] = dict(summary.additional_properties) if summary else {}
        deleted = {
            day: props[SUMMARY_DELETE_REASON]
            for day, props in latest.items()
            if SUMMARY_DELETE_REASON in props and SUMMARY_DELETE_ARTIST not in props
        }
        named = set(runs) | {tag.day for tag in load_tags(table)}
        return cls({d: frozenset(r) for d, r in runs.items()}, frozenset(named), deleted)


def day_states(
    store: BronzeStore,
    loads: SilverLoads,
    quality: Iterable[RunSummary],
    days: Sequence[date],
    keys: Iterable[str],
) -> dict[date, DayState]:
    """Everything :func:`find_gaps` looks at for ``days``: ``keys`` is one listing of the
    bronze dataset; a manifest is read only for a day that has one."""
    wanted = set(days)
    manifests: set[date] = set()
    with_parts: set[date] = set()
    for key in keys:
        day = day_of_key(key)
        if day in wanted:
            (manifests if key.endswith("/" + MANIFEST_NAME) else with_parts).add(day)
    latest = {run.snapshot_date: run for run in quality}
    states: dict[date, DayState] = {}
    for day in days:
        run: str | None = None
        unreadable: str | None = None
        if day in manifests:
            try:
                manifest = store.read_manifest(day)
            except BronzeError as e:
                unreadable = str(e)
            else:
                run = manifest.run_id if manifest is not None else None
        states[day] = DayState(
            manifest_run=run,
            manifest_unreadable=unreadable,
            has_parts=day in with_parts,
            loaded_runs=loads.runs.get(day, frozenset()),
            loaded=day in loads.named,
            quality=latest.get(day),
            deleted_reason=loads.deleted.get(day),
        )
    return states


def lakehouse_gaps(
    store: BronzeStore,
    catalog: Catalog | None,
    quality: Sequence[RunSummary],
    *,
    today: date,
    start: date | None = None,
    end: date | None = None,
) -> tuple[list[date], list[Gap]]:
    """The days checked and the gaps among them. Without ``start``, the range starts at the
    first day bronze, silver or ``dq_results`` knows (nothing known: no days); without
    ``end``, it ends today."""
    keys = store.list_keys(DATASET_PREFIX + "/")
    loads = SilverLoads.read(catalog)
    end = end or today
    if start is None:
        known = [d for k in keys if (d := day_of_key(k))] + list(loads.named)
        known += [r.snapshot_date for r in quality]
        if not known:
            return [], []
        start = min(known)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    states = day_states(store, loads, quality, days, keys)
    return days, find_gaps(days, states, today)

"""Load tags with pyiceberg: silver's (:mod:`glue.transform`), the quarantine's and
dq_results' (:mod:`expectations.persist`).

Carries out what :mod:`catalog.iceberg.tags.rule` decides through pyiceberg's
``manage_snapshots`` (the same refs Spark's ``CREATE OR REPLACE TAG`` writes: a tag kept
``n`` days has ``max-ref-age-ms`` of ``n`` days), reading what it decides from out of the
table metadata pyiceberg already holds (no metadata-table query, no data file). A tag is
set in the same commit as the write it names where there is one
(:func:`catalog.iceberg.writes.commit_with_tags`); each commit is redone on a commit
conflict (:mod:`catalog.iceberg.commits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from catalog.iceberg.commits import retry_on_conflict
from catalog.iceberg.tags.rule import (
    Hold,
    TagPlan,
    plan_load_tag,
    plan_repairs,
    plan_side_table_tag,
    tag_name,
)
from catalog.iceberg.timetravel import load_tags, main_history, summary_snapshot_date
from catalog.iceberg.writes import commit_with_tags

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction
    from pyiceberg.table.snapshots import Snapshot


def apply(table: Table, plan: TagPlan) -> None:
    """Create the tag, or replace it (move, re-age); nothing when the table already has it.

    Through :func:`~catalog.iceberg.writes.commit_with_tags` (one attempt, staged without
    copies), not ``table.manage_snapshots()``: pyiceberg's own transaction re-applies and
    deep-copies the whole metadata three times per tag, which at a year of daily tags was
    ~0.18 s of every day's quarantine tag. A lost race raises ``CommitFailedException`` for
    the caller's :func:`~catalog.iceberg.commits.retry_on_conflict` to decide again.
    """
    commit_with_tags(table, None, lambda _: (plan,))


def latest_load(table: Table, day: date) -> Snapshot | None:
    """The latest commit of ``day`` (summary ``snapshot_date``) on the main branch."""
    history = main_history(table)
    return max(
        (
            s
            for s in table.metadata.snapshots
            if summary_snapshot_date(s) == day and history.contains(s)
        ),
        key=lambda s: (s.sequence_number or 0, s.timestamp_ms),
        default=None,
    )


def latest_loads(table: Table) -> dict[date, int]:
    """Each day's latest load commit (summary ``snapshot_date``) on the main branch."""
    history = main_history(table)
    ordered = sorted(
        table.metadata.snapshots, key=lambda s: (s.sequence_number or 0, s.timestamp_ms)
    )
    latest: dict[date, int] = {}
    for snapshot in ordered:  # oldest first: the last one of a day wins
        day = summary_snapshot_date(snapshot)
        if day is not None and history.contains(snapshot):
            latest[day] = snapshot.snapshot_id
    return latest


@dataclass(frozen=True)
class LoadTagPlans:
    """The tags a load sets in its commit: its day's, and the repairs the rule asks for."""

    plans: tuple[TagPlan, ...]
    #: Names of the repaired tags (other days', or this day's when the load made no commit).
    repaired: tuple[str, ...]
    #: Days whose tags are not repaired because they are beyond the retention.
    aged_out: tuple[date, ...] = ()
    #: The load's own tag (``None``: no commit, or the day is beyond the retention).
    tag: str | None = None


def load_tag_plans(
    table: Table,
    day: date,
    snapshot_id: int | None,
    *,
    retention_days: int,
    today: date | None = None,
) -> LoadTagPlans:
    """The load-tag rule for a load of ``day`` into ``table`` (silver): ``snapshot-D`` on
    ``snapshot_id`` (the load's commit; ``None`` when it committed nothing), and every other
    retained day whose tag is missing or stale re-pointed at that day's latest load on main
    (:func:`~catalog.iceberg.tags.rule.plan_repairs`: the job died between a commit and its
    tag). ``table`` is read as it is: before the commit (it is then staged with it) or after.
    A day beyond the retention (``today`` UTC, default now) gets no tag.
    """
    today = today or datetime.now(UTC).date()
    latest = latest_loads(table)
    if snapshot_id is not None:
        latest.pop(day, None)
    tagged = {t.day: t.snapshot_id for t in load_tags(table)}
    repairs = plan_repairs(latest, tagged, retention_days, today)
    own = plan_load_tag(day, snapshot_id, retention_days, today) if snapshot_id else None
    plans = (*repairs.plans, own) if own is not None else repairs.plans
    return LoadTagPlans(
        plans,
        tuple(p.name for p in repairs.plans),
        repairs.aged_out,
        own.name if own is not None else None,
    )


def tag_day(
    catalog: Catalog,
    identifier: tuple[str, str],
    day: date,
    *,
    summary: Mapping[str, str],
    retention_days: int,
    committed: bool = True,
    today: date | None = None,
    table: Table | None = None,
) -> str | None:
    """Set ``snapshot-D`` on ``identifier`` as the rule for tables a run may leave unchanged
    decides (:func:`~catalog.iceberg.tags.rule.plan_side_table_tag`); returns the tag's name,
    or ``None`` for a day beyond the retention (``today`` UTC, default now).

    ``committed``: this run committed ``day`` there. Where the table has no snapshot at all,
    one empty commit with ``summary`` (``snapshot_date``, ``run_id``, ...) is made to be
    tagged, in the same catalog commit as the tag, so that an as-of read has something to
    resolve. ``table``: the table as just read (saves reading it again); read afresh on a
    retry.
    """
    name = tag_name(day)
    where = ".".join(identifier)
    today = today or datetime.now(UTC).date()

    def decide(table: Table) -> TagPlan | Hold:
        load = latest_load(table, day)
        current = table.current_snapshot()
        try:
            return plan_side_table_tag(
                day,
                committed=committed,
                tagged=name in table.metadata.refs,
                latest_load=load.snapshot_id if load is not None else None,
                current=current.snapshot_id if current is not None else None,
                retention_days=retention_days,
                today=today,
            )
        except LookupError as e:
            raise RuntimeError(f"{where} has {e} {name} with") from e

    given = [table] if table is not None else []

    def attempt() -> str | None:
        import pyarrow as pa

        loaded = given.pop() if given else catalog.load_table(identifier)
        decision = decide(loaded)
        if decision is Hold.NOTHING_TO_TAG:
            empty = pa.Table.from_pylist([], schema=loaded.schema().as_arrow())

            def append_empty(transaction: Transaction) -> None:
                transaction.append(empty, snapshot_properties=dict(summary))

            def tag_it(snapshot_id: int | None) -> list[TagPlan]:
                assert snapshot_id is not None  # the empty commit is a load of the day
                return [TagPlan(name, snapshot_id, retention_days)]

            commit_with_tags(loaded, append_empty, tag_it)
            return name
        if decision is Hold.BEYOND_RETENTION:
            return None
        if isinstance(decision, TagPlan):
            apply(loaded, decision)
        return name

    return retry_on_conflict(attempt, what=f"tag {name} on {where}", idempotent=True)

"""Load tags with pyiceberg: the quarantine and dq_results tables (:mod:`expectations.persist`).

Carries out what :mod:`catalog.iceberg.tags.rule` decides through pyiceberg's
``manage_snapshots`` (the same refs Spark's ``CREATE OR REPLACE TAG`` writes: a tag kept
``n`` days has ``max-ref-age-ms`` of ``n`` days). Each tag change is one metadata commit,
redone on a commit conflict (:mod:`catalog.iceberg.commits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from catalog.iceberg.commits import retry_on_conflict
from catalog.iceberg.tags.rule import Hold, TagPlan, plan_side_table_tag, tag_name
from catalog.iceberg.timetravel import main_history, summary_snapshot_date

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot


def apply(table: Table, plan: TagPlan) -> None:
    """Create the tag, or replace it (move, re-age); nothing when the table already has it."""
    from pyiceberg.table.refs import SnapshotRefType

    ref = table.metadata.refs.get(plan.name)
    if (
        ref is not None
        and ref.snapshot_ref_type == SnapshotRefType.TAG
        and plan.done_by(ref.snapshot_id, ref.max_ref_age_ms)
    ):
        return
    with table.manage_snapshots() as manage:
        if ref is not None:
            manage.remove_tag(plan.name)
        manage.create_tag(plan.snapshot_id, plan.name, max_ref_age_ms=plan.max_ref_age_ms)


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


def tag_day(
    catalog: Catalog,
    identifier: tuple[str, str],
    day: date,
    *,
    summary: Mapping[str, str],
    retention_days: int,
    committed: bool = True,
    today: date | None = None,
) -> str | None:
    """Set ``snapshot-D`` on ``identifier`` as the rule for tables a run may leave unchanged
    decides (:func:`~catalog.iceberg.tags.rule.plan_side_table_tag`); returns the tag's name,
    or ``None`` for a day beyond the retention (``today`` UTC, default now).

    ``committed``: this run committed ``day`` there. Where the table has no snapshot at all,
    one empty commit with ``summary`` (``snapshot_date``, ``run_id``, ...) is made to be
    tagged, so that an as-of read has something to resolve.
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

    def attempt() -> str | None:
        import pyarrow as pa

        table = catalog.load_table(identifier)
        decision = decide(table)
        if decision is Hold.NOTHING_TO_TAG:
            empty = pa.Table.from_pylist([], schema=table.schema().as_arrow())
            table.append(empty, snapshot_properties=dict(summary))
            decision = decide(table)
            assert isinstance(decision, TagPlan)  # the empty commit is a load of the day
        if decision is Hold.BEYOND_RETENTION:
            return None
        if isinstance(decision, TagPlan):
            apply(table, decision)
        return name

    return retry_on_conflict(attempt, what=f"tag {name} on {where}", idempotent=True)

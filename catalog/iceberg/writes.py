"""pyiceberg writes of one load: the data and its load tags in one catalog commit.

A load of day D used to be two commits (the data, then ``snapshot-D``) and the quarantine,
dq_results and silver writes each read their table again to find their own snapshot. Here a
write is staged in one :class:`~pyiceberg.table.Transaction` together with the tags that name
its snapshot (the day's own, and any repair the load-tag rule asks for), and committed once:
one ``UpdateTable`` on Glue, one row update in the SQLite catalog, one new metadata file.

**One attempt per commit.** pyiceberg retries a commit that lost the race by re-applying
its data change onto the new head, and drops every other staged ref update on the way (the
tag would be lost), without checking what the other writer did (an append of the same day
would be kept twice). So the transaction here makes one attempt: its requirement that
``main`` still points where it pointed when the table was read is checked by the catalog,
and a lost race raises ``CommitFailedException``, which
:func:`catalog.iceberg.commits.retry_on_conflict` turns into a redo from the new table state
(where the caller decides again, e.g. that day D is no longer a first load).

:func:`day_has_files` is the cheap question "may this table hold rows of day D?", answered
from metadata: the manifest list's partition summaries prune every month but D's, then the
manifests' per-file ``snapshot_date`` bounds; no data file is opened. It errs only towards
"yes" (a compacted file spanning D, a file without bounds), which costs a caller the slow
path, never a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING

from pyiceberg.table import Transaction

from catalog.iceberg.cached import staged_metadata
from catalog.iceberg.tags.rule import TagPlan

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.update import TableUpdate

#: The column every load-tagged table is filtered on (one value per load: the day).
DAY_COLUMN = "snapshot_date"
#: pyiceberg's table property for its own commit retries (its ``TableProperties``).
_COMMIT_NUM_RETRIES = "commit.retry.num-retries"


class OneCommitTransaction(Transaction):
    """pyiceberg's :class:`~pyiceberg.table.Transaction`, whose staged metadata is computed
    once per staged change, and not copied.

    pyiceberg recomputes ``table_metadata`` (the table's metadata with the staged updates
    applied, then deep-copied whole) each time it is read, and an append reads it about
    twenty times. Its cost grows with the metadata: with 240 days of daily snapshots and
    tags (~210 KB of metadata) that was 0.45 s of each commit, nearly all the growth of a
    day's cost with history (0.06 s left here). The staged updates only change by being
    replaced (a new tuple), the metadata models are frozen and each update builds new ones
    (it never changes the one it is applied to), so neither the recomputation nor the copy
    is needed: the result is kept per (table metadata, updates) pair. The catalog stages
    the commit itself from the updates, with the same function
    (:func:`catalog.iceberg.cached.staged_metadata`).
    """

    _memo: tuple[TableMetadata, tuple[TableUpdate, ...], TableMetadata] | None = None

    @property
    def table_metadata(self) -> TableMetadata:
        base, updates = self._table.metadata, self._updates
        memo = self._memo
        if memo is not None and memo[0] is base and memo[1] is updates:
            return memo[2]
        metadata = staged_metadata(base, updates)
        self._memo = (base, updates, metadata)
        return metadata


def day_has_files(table: Table, day: date, column: str = DAY_COLUMN) -> bool:
    """Whether the current snapshot has a data file that may hold rows of ``day``.

    Metadata only: partition summaries, then the files' column bounds (scan planning, no
    data read). ``False`` is certain; ``True`` means "maybe" (see the module docstring).
    """
    from pyiceberg.expressions import EqualTo, Reference
    from pyiceberg.expressions.literals import literal

    if table.metadata.current_snapshot_id is None:
        return False
    scan = table.scan(
        row_filter=EqualTo(term=Reference(column), value=literal(day.isoformat())),
        selected_fields=(column,),
    )
    return any(True for _ in scan.plan_files())


def single_attempt(table: Table) -> Table:
    """``table`` as a pyiceberg table whose commits make one attempt (see the module
    docstring). Only this in-memory copy's properties change: the catalog applies a commit's
    updates to the metadata it holds, so nothing of it is ever written."""
    from pyiceberg.table import Table

    metadata = table.metadata
    if metadata.properties.get(_COMMIT_NUM_RETRIES) == "0":
        return table
    properties = {**metadata.properties, _COMMIT_NUM_RETRIES: "0"}
    return Table(
        table.name(),
        metadata.model_copy(update={"properties": properties}),
        table.metadata_location,
        table.io,
        table.catalog,
    )


def stage_tags(transaction: Transaction, plans: Iterable[TagPlan]) -> None:
    """Stage each tag of ``plans`` (create, or replace to move or re-age it); a tag that is
    already what its plan says is left alone. The last plan of a name wins."""
    from pyiceberg.table.refs import SnapshotRefType
    from pyiceberg.table.update.snapshot import ManageSnapshots

    by_name = {plan.name: plan for plan in plans}
    refs = transaction.table_metadata.refs
    manage = ManageSnapshots(transaction)
    for plan in by_name.values():
        ref = refs.get(plan.name)
        if (
            ref is not None
            and ref.snapshot_ref_type == SnapshotRefType.TAG
            and plan.done_by(ref.snapshot_id, ref.max_ref_age_ms)
        ):
            continue
        if ref is not None:
            manage.remove_tag(plan.name)
        manage.create_tag(plan.snapshot_id, plan.name, max_ref_age_ms=plan.max_ref_age_ms)
    manage.commit()


def commit(transaction: Transaction) -> None:
    """Commit ``transaction`` (the one place a write of this module reaches the catalog)."""
    transaction.commit_transaction()


def commit_with_tags(
    table: Table,
    stage: Callable[[Transaction], None] | None,
    tags: Callable[[int | None], Iterable[TagPlan]],
) -> int | None:
    """Stage a data change and the tags ``tags`` asks for, then commit both at once.

    ``stage`` adds the data change to the transaction (an append, an overwrite, a delete;
    ``None`` for tags alone). ``tags`` gets the id of the snapshot the change made (``None``
    when it staged nothing) and returns the tags to set with it. Returns that id. Nothing is
    committed when there is neither a change nor a tag to set. A lost race raises
    ``CommitFailedException`` (one attempt: see the module docstring).
    """
    before = table.metadata.current_snapshot_id
    transaction = OneCommitTransaction(single_attempt(table))
    if stage is not None:
        stage(transaction)
    head = transaction.table_metadata.current_snapshot_id
    made = head if head is not None and head != before else None
    stage_tags(transaction, tags(made))
    commit(transaction)
    return made

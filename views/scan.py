"""Reading one Iceberg snapshot: DuckDB over the planned Parquet files, Arrow only if needed.

Silver is copy-on-write, so a snapshot is exactly its data files: pyiceberg plans them
(manifests pruned by partition and by column statistics with the query's pushable
predicates, and by ``snapshot_date <= D`` for ``--as-of``), and DuckDB reads them itself
with ``read_parquet``. That is the speed of DuckDB on Parquet: no materialisation into
Arrow, DuckDB's own projection and filter pushdown, its own parallelism.

Columns are bound by Iceberg field id, not by name: ``read_parquet(..., schema=MAP {id:
{name, type, default_value}})`` reads field 4 as ``followers`` whatever a file calls it, so
a renamed column reads right from old files, and a column added later reads as NULL there.

The Arrow path (pyiceberg's ``to_arrow``) stays for what needs it: a snapshot with delete
files (merge-on-read, which the tables do not use but a foreign writer might), and files
outside the local file system.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from catalog.iceberg.names import NAMESPACE
from views.errors import QueryError
from views.plan_cache import DATE, INT, STRING, CachedColumn, CachedFile, TableEntry
from views.tables import local_path

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.types import IcebergType

    from catalog.paths import LakehousePaths

#: Planned files by (metadata file, snapshot, filter), most recent last. A snapshot's
#: files never change (its manifests are immutable, and so is the metadata file naming
#: it), so a process that queries again (``demo``, the dashboard, a notebook) re-plans
#: nothing: reading a manifest costs ~2 ms of Python each, DuckDB's scan does not.
_PLANS: OrderedDict[tuple[str, int, str], tuple[str, ...]] = OrderedDict()
_PLANS_KEPT = 64


@dataclass(frozen=True)
class PlannedRead:
    """What DuckDB reads for one relation: files and their field-id column mapping.

    ``columns`` is the table's schema by field id (:func:`columns_of`), so a read planned
    from the disk cache (:mod:`views.plan_cache`) needs no pyiceberg schema. ``arrow`` is set
    instead of ``files`` when the snapshot needs pyiceberg's reader. ``until`` is the as-of
    day: rows after it are filtered out (``snapshot_date <= D``). ``row_filter`` records
    what was pushed: a pyiceberg expression, or the query's predicates on a cached plan.
    """

    relation: str
    columns: tuple[CachedColumn, ...]
    files: tuple[str, ...] = ()
    until: date | None = None
    arrow: pa.Table | None = None
    row_filter: object = None

    def athena_columns(self) -> dict[str, str]:
        """The relation's column types as Athena shows them (for the translator)."""
        return {c.name.lower(): c.athena_type for c in self.columns}


def constant_kind(field_type: IcebergType) -> str | None:
    """The kind of constant (:func:`views.plan_cache.typed_constant`) a column of
    ``field_type`` compares with exactly: ``date``, ``int``, ``string``, or None (no
    predicate on it is pushed)."""
    from pyiceberg.types import DateType, IntegerType, LongType, StringType

    if isinstance(field_type, DateType):
        return DATE
    if isinstance(field_type, IntegerType | LongType):
        return INT
    if isinstance(field_type, StringType):
        return STRING
    return None


def columns_of(schema: Schema) -> tuple[CachedColumn, ...]:
    """A pyiceberg schema as the reader needs it: field id, name, DuckDB and Athena types,
    and whether the files' bounds of the column are exact enough to prune on (dates and
    integers; Iceberg truncates string bounds)."""
    from views.trino_types import iceberg_type  # sqlglot: only when pyiceberg plans

    columns: list[CachedColumn] = []
    for f in schema.fields:
        kind = constant_kind(f.field_type)
        columns.append(
            CachedColumn(
                f.field_id,
                f.name,
                duckdb_type(f.field_type),
                iceberg_type(f.field_type),
                kind if kind in (DATE, INT) else None,
            )
        )
    return tuple(columns)


def table_entry(table: Table) -> TableEntry:
    """What the plan cache keeps of ``table``'s metadata file (no data files planned yet).

    The load tags are those the time-travel rule admits (in the main history, see
    :func:`catalog.iceberg.timetravel.resolve_as_of`), so :meth:`TableEntry.as_of` picks
    what it picks.
    """
    from catalog.iceberg.timetravel import SNAPSHOT_DATE_COLUMN, main_history_tags

    columns = columns_of(table.schema())
    tags: list[tuple[date, int]] = []
    if any(c.name == SNAPSHOT_DATE_COLUMN for c in columns):
        tags = [(t.day, t.snapshot_id) for t in main_history_tags(table)]
    current = table.current_snapshot()
    return TableEntry(
        metadata_location=table.metadata_location,
        location=table.location(),
        current_snapshot_id=current.snapshot_id if current is not None else None,
        columns=columns,
        load_tags=tuple(tags),
    )


def snapshot_files(table: Table, snapshot_id: int, relation: str) -> tuple[CachedFile, ...] | None:
    """Every data file of ``snapshot_id`` with its exact bounds, or ``None`` when the
    snapshot needs pyiceberg's Arrow reader (delete files, files off this machine)."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.types import PrimitiveType

    scan = table.scan(snapshot_id=snapshot_id)
    try:
        tasks = list(scan.plan_files())
    except (OSError, ValueError) as e:
        raise _unreadable(relation, e) from e
    schema = table.schema()
    kinds = {c.field_id: c for c in columns_of(schema) if c.bound_kind is not None}
    epoch = date(1970, 1, 1)
    files: list[CachedFile] = []
    for task in tasks:
        path = local_path(task.file.file_path)
        if path is None or task.delete_files:
            return None
        bounds: dict[str, tuple[object, object]] = {}
        lower, upper = task.file.lower_bounds or {}, task.file.upper_bounds or {}
        for field_id, column in kinds.items():
            if field_id not in lower or field_id not in upper:
                continue
            field_type = schema.find_field(field_id).field_type
            if not isinstance(field_type, PrimitiveType):
                continue
            low = from_bytes(field_type, lower[field_id])
            high = from_bytes(field_type, upper[field_id])
            if not isinstance(low, int) or not isinstance(high, int):
                continue
            if column.bound_kind == "date":  # Iceberg stores a date as days since the epoch
                bounds[column.name] = (epoch + timedelta(days=low), epoch + timedelta(days=high))
            else:
                bounds[column.name] = (low, high)
        files.append(CachedFile(path, task.file.record_count, bounds))
    return tuple(files)


def duckdb_type(field_type: IcebergType) -> str:
    """The DuckDB type of an Iceberg type (for ``read_parquet``'s field-id schema).

    One mapping from Iceberg, to the Trino type Athena shows (:func:`iceberg_type`), and
    sqlglot translates that type to DuckDB as it translates the queries: a nested type is
    spelled once, not once per engine.
    """
    from views.trino_types import iceberg_type

    return _duckdb_spelling(iceberg_type(field_type))


@functools.cache
def _duckdb_spelling(trino_type: str) -> str:
    from sqlglot import exp

    parsed = exp.DataType.build(trino_type, dialect="trino")
    if any(node.this == exp.DType.UNKNOWN for node in parsed.find_all(exp.DataType)):
        raise QueryError(f"the local engine cannot read Iceberg type {trino_type}: use Athena")
    return parsed.sql(dialect="duckdb")


def plan_read(
    table: Table | None,
    relation: str,
    snapshot_id: int | None,
    row_filter: object = None,
    until: date | None = None,
    *,
    entry: TableEntry | None = None,
    prune: Callable[[tuple[CachedFile, ...]], tuple[str, ...]] | None = None,
) -> PlannedRead:
    """Plan the files of ``snapshot_id`` that the query may need (no snapshot: none).

    With ``entry`` (the plan cache's view of the table's metadata file) and ``prune`` (the
    query's predicates on the files' bounds, :func:`views.plan_cache.prune`), the snapshot's
    files come from the entry, or are planned once with pyiceberg and added to it (the
    caller stores it); ``table`` is needed only then, and for the Arrow path. Without them
    (explicit ``FOR VERSION AS OF`` reads) pyiceberg plans with ``row_filter``.
    """
    if entry is not None and prune is not None:
        return _from_entry(table, relation, snapshot_id, row_filter, until, entry, prune)
    if table is None:
        raise QueryError(f"{NAMESPACE}.{relation}: nothing to plan the read from")
    return _with_pyiceberg(table, relation, snapshot_id, row_filter, until)


def _from_entry(
    table: Table | None,
    relation: str,
    snapshot_id: int | None,
    row_filter: object,
    until: date | None,
    entry: TableEntry,
    prune: Callable[[tuple[CachedFile, ...]], tuple[str, ...]],
) -> PlannedRead:
    columns = entry.columns
    if snapshot_id is None:
        return PlannedRead(relation, columns)
    cached = entry.snapshots.get(snapshot_id)
    if cached is None and table is not None:
        cached = snapshot_files(table, snapshot_id, relation)
        if cached is not None:
            entry.snapshots[snapshot_id] = cached
    if cached is not None:
        return PlannedRead(
            relation, columns, files=prune(cached), until=until, row_filter=row_filter
        )
    if table is None:
        raise QueryError(f"{NAMESPACE}.{relation}: a cached plan without its table")
    # the whole snapshot: ``until`` and the query's WHERE apply in DuckDB over it
    arrow = _to_arrow(table.scan(snapshot_id=snapshot_id), relation)
    return PlannedRead(relation, columns, until=until, arrow=arrow)


def _with_pyiceberg(
    table: Table, relation: str, snapshot_id: int | None, row_filter: object, until: date | None
) -> PlannedRead:
    from pyiceberg.expressions import AlwaysTrue, BooleanExpression

    schema = columns_of(table.schema())
    if snapshot_id is None:
        return PlannedRead(relation, schema)
    chosen = row_filter if isinstance(row_filter, BooleanExpression) else AlwaysTrue()
    key = (table.metadata_location, snapshot_id, repr(chosen))
    files = _PLANS.get(key)
    if files is not None:
        _PLANS.move_to_end(key)
        return PlannedRead(relation, schema, files=files, until=until, row_filter=chosen)
    scan = table.scan(row_filter=chosen, snapshot_id=snapshot_id)
    try:
        tasks = list(scan.plan_files())
    except (OSError, ValueError) as e:
        raise _unreadable(relation, e) from e
    paths = [local_path(t.file.file_path) for t in tasks]
    if None in paths or any(t.delete_files for t in tasks):
        return PlannedRead(relation, schema, until=until, arrow=_to_arrow(scan, relation))
    planned = tuple(path for path in paths if path is not None)
    _PLANS[key] = planned
    while len(_PLANS) > _PLANS_KEPT:
        _PLANS.popitem(last=False)
    return PlannedRead(relation, schema, files=planned, until=until, row_filter=chosen)


def _to_arrow(scan: object, relation: str) -> pa.Table:
    from pyiceberg.table import DataScan

    assert isinstance(scan, DataScan)
    try:
        return scan.to_arrow()
    except (OSError, ValueError) as e:
        raise _unreadable(relation, e) from e


def _unreadable(relation: str, error: Exception) -> QueryError:
    return QueryError(
        f"cannot read Iceberg data for {NAMESPACE}.{relation}: {error}. Check that the "
        "warehouse files under --home are intact (spotify-lakehouse maintain lists orphans)."
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation_sql(read: PlannedRead, arrow_name: str | None = None) -> str:
    """The ``SELECT`` that defines ``read.relation`` in DuckDB."""
    fields = read.columns
    if read.arrow is not None and arrow_name is not None:
        source = f"temp.main.{_identifier(arrow_name)}"
        columns = ", ".join(_identifier(f.name) for f in fields)
    elif not read.files:
        casts = ", ".join(f"CAST(NULL AS {f.duckdb_type}) AS {_identifier(f.name)}" for f in fields)
        return f"SELECT {casts} WHERE false"
    else:
        mapping = ", ".join(
            f"{f.field_id}: {{name: {_literal(f.name)}, type: "
            f"{_literal(f.duckdb_type)}, default_value: NULL}}"
            for f in fields
        )
        files = ", ".join(_literal(path) for path in read.files)
        source = f"read_parquet([{files}], schema = MAP {{{mapping}}})"
        columns = ", ".join(_identifier(f.name) for f in fields)
    where = f" WHERE snapshot_date <= DATE '{read.until.isoformat()}'" if read.until else ""
    return f"SELECT {columns} FROM {source}{where}"


def register_read(connection: duckdb.DuckDBPyConnection, read: PlannedRead) -> None:
    """Expose ``read`` as the view ``spotify.<relation>``."""
    arrow_name = None
    if read.arrow is not None:
        arrow_name = f"__iceberg_{read.relation}"
        connection.register(arrow_name, read.arrow)
    sql = relation_sql(read, arrow_name)
    connection.execute(f"CREATE VIEW {NAMESPACE}.{_identifier(read.relation)} AS {sql}")


def warm_plan(paths: LakehousePaths, table: Table) -> None:
    """Write the plan cache's entry for ``table`` as committed now, with its current
    snapshot's files, so the first query after a load plans nothing with pyiceberg.

    For the writer to call after its last commit of a load (the tag included: the entry is
    keyed by the metadata file that commit wrote). A snapshot that needs the Arrow path
    (delete files) is left out, as :func:`plan_read` leaves it out.
    """
    from views import plan_cache

    entry = table_entry(table)
    if entry.current_snapshot_id is not None:
        files = snapshot_files(table, entry.current_snapshot_id, table.name()[-1])
        if files is not None:
            entry.snapshots[entry.current_snapshot_id] = files
    plan_cache.store(paths, entry)

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
from datetime import date
from typing import TYPE_CHECKING

from sqlglot import exp

from catalog.iceberg.tables import NAMESPACE
from views.errors import QueryError
from views.tables import local_path
from views.trino_types import iceberg_type

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.types import IcebergType

#: Planned files by (metadata file, snapshot, filter), most recent last. A snapshot's
#: files never change (its manifests are immutable, and so is the metadata file naming
#: it), so a process that queries again (``demo``, the dashboard, a notebook) re-plans
#: nothing: reading a manifest costs ~2 ms of Python each, DuckDB's scan does not.
_PLANS: OrderedDict[tuple[str, int, str], tuple[str, ...]] = OrderedDict()
_PLANS_KEPT = 64


@dataclass(frozen=True)
class PlannedRead:
    """What DuckDB reads for one relation: files and their field-id column mapping.

    ``arrow`` is set instead of ``files`` when the snapshot needs pyiceberg's reader.
    ``until`` is the as-of day: rows after it are filtered out (``snapshot_date <= D``).
    """

    relation: str
    schema: Schema
    files: tuple[str, ...] = ()
    until: date | None = None
    arrow: pa.Table | None = None
    row_filter: BooleanExpression | None = None


def duckdb_type(field_type: IcebergType) -> str:
    """The DuckDB type of an Iceberg type (for ``read_parquet``'s field-id schema).

    One mapping from Iceberg, to the Trino type Athena shows (:func:`iceberg_type`), and
    sqlglot translates that type to DuckDB as it translates the queries: a nested type is
    spelled once, not once per engine.
    """
    return _duckdb_spelling(iceberg_type(field_type))


@functools.cache
def _duckdb_spelling(trino_type: str) -> str:
    parsed = exp.DataType.build(trino_type, dialect="trino")
    if any(node.this == exp.DType.UNKNOWN for node in parsed.find_all(exp.DataType)):
        raise QueryError(f"the local engine cannot read Iceberg type {trino_type}: use Athena")
    return parsed.sql(dialect="duckdb")


def plan_read(
    table: Table,
    relation: str,
    snapshot_id: int | None,
    row_filter: BooleanExpression | None = None,
    until: date | None = None,
) -> PlannedRead:
    """Plan the files of ``snapshot_id`` that ``row_filter`` may need (no snapshot: none)."""
    from pyiceberg.expressions import AlwaysTrue

    schema = table.schema()
    if snapshot_id is None:
        return PlannedRead(relation, schema)
    chosen = row_filter if row_filter is not None else AlwaysTrue()
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
    files = tuple(path for path in paths if path is not None)
    _PLANS[key] = files
    while len(_PLANS) > _PLANS_KEPT:
        _PLANS.popitem(last=False)
    return PlannedRead(relation, schema, files=files, until=until, row_filter=chosen)


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
    fields = read.schema.fields
    if read.arrow is not None and arrow_name is not None:
        source = f"temp.main.{_identifier(arrow_name)}"
        columns = ", ".join(_identifier(f.name) for f in fields)
    elif not read.files:
        casts = ", ".join(
            f"CAST(NULL AS {duckdb_type(f.field_type)}) AS {_identifier(f.name)}" for f in fields
        )
        return f"SELECT {casts} WHERE false"
    else:
        mapping = ", ".join(
            f"{f.field_id}: {{name: {_literal(f.name)}, type: "
            f"{_literal(duckdb_type(f.field_type))}, default_value: NULL}}"
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

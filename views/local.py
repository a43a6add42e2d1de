"""The local query engine: Athena SQL on DuckDB, over the Iceberg tables of one home.

How a query runs (:meth:`LocalEngine.execute`):

1. :func:`views.plan.plan_query` parses it as Athena SQL and lists the Iceberg tables it
   reads, through the views of ``views/sql`` (sqlglot's scopes, :mod:`views.references`).
2. Each table is loaded from the local pyiceberg catalog and its files planned
   (:func:`views.scan.plan_read`): at the current snapshot, or with ``as_of`` at the
   snapshot :func:`resolve_as_of` picks with ``snapshot_date <= D`` applied. The query's
   own ``WHERE`` conjuncts that compare the table's columns with constants
   (:mod:`views.pushdown`) prune partitions and files in that plan. Metadata tables
   (``"artists_silver$snapshots"`` ...) come from pyiceberg's ``table.inspect`` with
   Athena's column names.
3. A fresh in-memory DuckDB (:mod:`views.sandbox`: UTC, schema ``spotify`` first on the
   search path, NULLs last) gets one view per table over ``read_parquet`` of the planned
   files, bound by field id, is locked down to the warehouse, and gets the views created
   from the same Athena DDL, translated with types (:mod:`views.dialect`).
4. The query, translated the same way, runs; its columns carry Athena's names.

A new DuckDB connection per query keeps reads isolated: an as-of query can never see a
relation registered by an earlier query at another version.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

import duckdb
from pyiceberg.expressions import And
from pyiceberg.table import Table

from catalog.iceberg.tables import NAMESPACE
from catalog.iceberg.timetravel import (
    TimeTravelError,
    resolve_as_of,
    snapshot_at,
    snapshot_for_version,
)
from catalog.paths import LakehousePaths
from views.engine import QueryEngine, QueryResult, TableRead
from views.errors import AthenaRejectsError, QueryError, UnknownTableError
from views.plan import (
    MetadataRead,
    QueryPlan,
    VersionedRead,
    ViewDefinition,
    generate,
    plan_query,
)
from views.pushdown import row_filter
from views.sandbox import connect, lock_down
from views.scan import PlannedRead, plan_read, register_read
from views.tables import ReadOnlyCatalog, TableSource, load_table
from views.trino_types import ColumnTypes, arrow_columns, iceberg_columns

if TYPE_CHECKING:
    import pyarrow as pa

_LOAD_DATA: Final = "Check the name, or load data first (spotify-lakehouse run --date D)."

#: Athena's (Trino's) columns of ``$partitions``, from pyiceberg's names.
_PARTITIONS_COLUMNS = {
    "partition": "partition",
    "record_count": "record_count",
    "file_count": "file_count",
    "total_data_file_size_in_bytes": "total_size",
}


class LocalEngine(QueryEngine):
    """DuckDB in-process over the home's Iceberg tables (read through pyiceberg).

    Without ``catalog``, tables are read through :class:`views.tables.ReadOnlyCatalog`
    (the same catalog file, without SQLAlchemy). Each query loads each table once: its
    metadata file is read at the start of the query, so a query sees one version of it.
    """

    def __init__(self, paths: LakehousePaths, catalog: TableSource | None = None) -> None:
        self.paths = paths
        self._catalog = catalog
        self._tables: dict[str, Table] = {}

    @property
    def catalog(self) -> TableSource:
        if self._catalog is None:
            if not self.paths.catalog_db.exists():
                raise UnknownTableError(
                    f"no lakehouse catalog at {self.paths.catalog_db}: load data first "
                    "(spotify-lakehouse demo, or run --date D --simulator), or pass the "
                    "right --home."
                )
            self._catalog = ReadOnlyCatalog(self.paths)
        return self._catalog

    def execute(self, sql: str, *, as_of: date | None = None) -> QueryResult:
        self._tables = {}
        plan = plan_query(sql)
        connection = connect()
        try:
            reads, planned = self._plan_tables(connection, plan, as_of)
            relations: dict[str, ColumnTypes] = {
                r.relation: iceberg_columns(r.schema) for r in planned
            }
            metadata = [(m.relation, self._metadata(m)) for m in plan.metadata]
            relations.update({name: arrow_columns(table.schema) for name, table in metadata})
            for name, table in metadata:
                _register_arrow(connection, name, table)
            lock_down(connection, self._readable(plan))
            for read in planned:
                _ddl(connection, read, f"reading {NAMESPACE}.{read.relation}")
            for view in plan.views:
                _ddl(connection, _view_ddl(view, relations), f"creating view {view.name}")
            query = plan.to_sql("duckdb", relations)
            arrow = _run(connection, query, "running the query")
        finally:
            connection.close()
        columns = tuple(name.lower() for name in arrow.column_names)
        values = [column.to_pylist() for column in arrow.columns]
        rows = tuple(zip(*values, strict=True)) if values else ()
        return QueryResult(columns=columns, rows=rows, reads=tuple(reads))

    def deploy_view(self, view: ViewDefinition) -> None:
        """Check the view's DDL against the live tables (nothing is stored locally).

        The local engine creates views from ``views/sql`` for every query, so deploying is
        translating the same file, creating it over empty relations of the tables it reads
        and selecting from it: a broken view fails here, not in the first query.
        """
        plan = plan_query(f"SELECT * FROM {view.qualified_name}")
        connection = connect()
        try:
            relations: dict[str, ColumnTypes] = {}
            for name in plan.tables:
                read = PlannedRead(name, self._load(name).schema())
                relations[name] = iceberg_columns(read.schema)
                _ddl(connection, read, f"reading {NAMESPACE}.{name}")
            for needed in plan.views:
                ddl = generate(needed.create, "duckdb", relations)
                _ddl(connection, ddl, f"creating view {needed.name}")
            _run(connection, plan.to_sql("duckdb", relations), f"selecting from {view.name}")
        finally:
            connection.close()

    def _load(self, name: str) -> Table:
        """``name`` as this query sees it: loaded once, so one metadata version per query."""
        if name not in self._tables:
            self._tables[name] = load_table(self.catalog, name, hint=_LOAD_DATA)
        return self._tables[name]

    def _readable(self, plan: QueryPlan) -> list[Path]:
        """Directories DuckDB may read: the warehouse and each table's own location."""
        readable = [self.paths.warehouse]
        for name in plan.table_names:
            location = self._load(name).location()
            if location.startswith(("file://", "/")):
                readable.append(Path(location.removeprefix("file://")))
        return readable

    def _plan_tables(
        self, connection: duckdb.DuckDBPyConnection, plan: QueryPlan, as_of: date | None
    ) -> tuple[list[TableRead], list[PlannedRead]]:
        reads: list[TableRead] = []
        planned: list[PlannedRead] = []
        for name in plan.tables:
            table = self._load(name)
            pushed = row_filter(connection, table, plan.pushable(name))
            if as_of is None:
                snapshot = table.current_snapshot()
                snapshot_id = snapshot.snapshot_id if snapshot is not None else None
                reads.append(TableRead(f"{NAMESPACE}.{name}", snapshot_id))
                planned.append(plan_read(table, name, snapshot_id, pushed))
            else:
                resolved = resolve_as_of(table, as_of)
                combined = And(resolved.row_filter, pushed)
                reads.append(TableRead(f"{NAMESPACE}.{name}", resolved.snapshot_id, resolved))
                planned.append(plan_read(table, name, resolved.snapshot_id, combined, until=as_of))
        for versioned in plan.versioned:
            table = self._load(versioned.table)
            snapshot_id = _versioned_snapshot(connection, table, versioned)
            planned.append(plan_read(table, versioned.relation, snapshot_id))
            reads.append(TableRead(f"{NAMESPACE}.{versioned.table}", snapshot_id))
        return reads, planned

    def _metadata(self, read: MetadataRead) -> pa.Table:
        """A metadata table from ``table.inspect``, with Athena's column names."""
        inspect = self._load(read.table).inspect
        if read.kind == "snapshots":
            return inspect.snapshots()
        if read.kind == "history":
            return inspect.history()
        if read.kind == "files":
            return inspect.files()
        if read.kind == "manifests":
            return inspect.manifests()
        if read.kind == "refs":
            return inspect.refs()
        partitions = inspect.partitions()
        return partitions.select(list(_PARTITIONS_COLUMNS)).rename_columns(
            list(_PARTITIONS_COLUMNS.values())
        )


#: Translated view DDL by (Athena DDL, the types of the relations it reads).
_VIEW_DDL: dict[tuple[str, str], str] = {}


def _view_ddl(view: ViewDefinition, relations: dict[str, ColumnTypes]) -> str:
    """A view's DuckDB DDL, translated once per process for the same table schemas.

    Typing and rewriting the gold view costs ~0.1 s of sqlglot per query; the result
    depends only on the view's text and its relations' column types, so a process that
    queries again (``demo``, the dashboard) reuses it.
    """
    key = (view.athena_sql, repr(sorted(relations.items())))
    if key not in _VIEW_DDL:
        if len(_VIEW_DDL) >= 64:
            _VIEW_DDL.clear()
        _VIEW_DDL[key] = generate(view.create, "duckdb", relations)
    return _VIEW_DDL[key]


def _register_arrow(connection: duckdb.DuckDBPyConnection, relation: str, arrow: pa.Table) -> None:
    arrow_name = f"__iceberg_{relation}"
    connection.register(arrow_name, arrow)
    connection.execute(
        f'CREATE VIEW {NAMESPACE}."{relation}" AS SELECT * FROM temp.main."{arrow_name}"'
    )


def _versioned_snapshot(
    connection: duckdb.DuckDBPyConnection, table: Table, read: VersionedRead
) -> int:
    """The snapshot id an explicit ``FOR VERSION|TIMESTAMP AS OF`` clause names."""
    if read.version is not None:
        return snapshot_for_version(table, read.version).snapshot_id
    evaluated = _run(connection, f"SELECT CAST({read.timestamp_sql} AS TIMESTAMPTZ)", "AS OF")
    moment = evaluated.column(0)[0].as_py()
    if not isinstance(moment, datetime):
        raise TimeTravelError(f"FOR TIMESTAMP AS OF on {read.table} is not a timestamp")
    return snapshot_at(table, moment).snapshot_id


def _run(connection: duckdb.DuckDBPyConnection, sql: str, doing: str) -> pa.Table:
    """Run a query and fetch it as Arrow (no pytz needed for timestamptz, unlike fetchall).

    DuckDB sums integers into HUGEINT (128 bits) where Trino keeps BIGINT; those columns
    are cast back to BIGINT, so ``sum(followers_gained)`` is an int on both engines (an
    overflow fails, as it does on Athena).
    """
    try:
        relation = connection.sql(sql)
        if relation is None:
            raise QueryError(f"{doing}: the statement returned no rows to fetch: {sql}")
        types = [str(t).upper() for t in relation.dtypes]
        if "HUGEINT" in types:
            relation = relation.project(
                ", ".join(
                    _quoted(name)
                    if kind != "HUGEINT"
                    else f"CAST({_quoted(name)} AS BIGINT) AS {_quoted(name)}"
                    for name, kind in zip(relation.columns, types, strict=True)
                )
            )
        result: pa.Table = relation.to_arrow_table()
    except duckdb.Error as e:
        raise _duckdb_error(e, sql, doing) from e
    return result


def _quoted(name: str) -> str:
    escaped = name.replace('"', '""')
    return f'"{escaped}"'


def _ddl(connection: duckdb.DuckDBPyConnection, what: str | PlannedRead, doing: str) -> None:
    """Create a view: DDL text, or the relation of a planned read."""
    try:
        if isinstance(what, PlannedRead):
            register_read(connection, what)
        else:
            connection.execute(what)
    except duckdb.Error as e:
        raise _duckdb_error(e, what if isinstance(what, str) else what.relation, doing) from e


#: DuckDB's runtime errors that are Athena's too (Trino raises them at run time as well).
_ATHENA_RUNTIME_ERRORS = (
    "Division by zero",
    "Array subscript",
    "SQL array indices start at 1",
    "Out of Range Error",
)


def _duckdb_error(error: duckdb.Error, sql: str, doing: str) -> QueryError:
    reason = " ".join(str(error).split())
    if isinstance(error, duckdb.PermissionException) or "Permission Error" in reason:
        return QueryError(
            f"the local engine reads only the lakehouse's own tables ({reason}): query the "
            "tables and views of the spotify database, as on Athena."
        )
    if any(marker in reason for marker in _ATHENA_RUNTIME_ERRORS):
        athena_says = (
            reason.split("Error: ", 1)[-1].split(" Use TRY(")[0].split(" in expression")[0]
        )
        return AthenaRejectsError(
            f"Athena fails this query too, at run time: {athena_says}. Guard the expression "
            "(NULLIF for a divisor, element_at or a cardinality check for an array index)."
        )
    return QueryError(
        f"DuckDB failed {doing}: {reason}. Translated SQL: {' '.join(sql.split())}. If this "
        "is valid Athena SQL, it uses something the local engine lacks: try --engine athena."
    )

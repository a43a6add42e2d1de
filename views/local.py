"""The local query engine: Athena SQL on DuckDB, over the Iceberg tables of one home.

How a query runs (:meth:`LocalEngine.execute`):

1. :func:`views.plan.plan_query` parses it as Athena SQL and lists the Iceberg tables it
   reads, expanding views from ``views/sql`` to their base tables, with the columns needed.
2. Each of those tables is loaded from the local pyiceberg catalog and scanned to Arrow:
   at the current snapshot, or with ``as_of`` at the snapshot :func:`resolve_as_of` picks
   with ``snapshot_date <= D`` applied. Only referenced tables are read, only the columns
   the query mentions (a ``*`` reads them all).
3. A fresh in-memory DuckDB gets schema ``spotify`` (also the search path, so unqualified
   names resolve there as they do in Athena's ``spotify`` database), one relation per
   table, and the views created from the same Athena DDL translated by sqlglot.
4. The query, translated to DuckDB, runs with ``TimeZone='UTC'`` so ``CURRENT_DATE`` is the
   UTC date, as on Athena.

A new DuckDB connection per query keeps reads isolated: an as-of query can never see a
relation registered by an earlier query at another version.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.table import DataScan, Table

from catalog.paths import LakehousePaths
from catalog.profiles import local_catalog
from catalog.tables import NAMESPACE
from catalog.timetravel import (
    TimeTravelError,
    resolve_as_of,
    scan_as_of,
    snapshot_at,
    snapshot_for_version,
)
from views.engine import QueryEngine, QueryResult, TableRead
from views.errors import QueryError, UnknownTableError
from views.plan import QueryPlan, VersionedRead, generate, plan_query, view_definitions


class LocalEngine(QueryEngine):
    """DuckDB in-process over the home's Iceberg tables (read through pyiceberg)."""

    def __init__(self, paths: LakehousePaths, catalog: Catalog | None = None) -> None:
        self.paths = paths
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            if not self.paths.catalog_db.exists():
                raise UnknownTableError(
                    f"no lakehouse catalog at {self.paths.catalog_db}: load data first "
                    "(spotify-lakehouse demo, or run --date D --simulator), or pass the "
                    "right --home."
                )
            self._catalog = local_catalog(self.paths)
        return self._catalog

    def execute(self, sql: str, *, as_of: date | None = None) -> QueryResult:
        plan = plan_query(sql)
        connection = duckdb.connect(":memory:")
        try:
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute(f"CREATE SCHEMA {NAMESPACE}")
            connection.execute(f"SET search_path = '{NAMESPACE}'")
            reads = self._register_tables(connection, plan, as_of)
            for view in plan.views:
                _ddl(connection, generate(view.create, "duckdb"), f"creating view {view.name}")
            arrow = _run(connection, plan.to_sql("duckdb"), "running the query")
        finally:
            connection.close()
        columns = tuple(name.lower() for name in arrow.column_names)
        values = [column.to_pylist() for column in arrow.columns]
        rows = tuple(zip(*values, strict=True)) if values else ()
        return QueryResult(columns=columns, rows=rows, reads=tuple(reads))

    def _load(self, name: str) -> Table:
        try:
            return self.catalog.load_table((NAMESPACE, name))
        except NoSuchTableError as e:
            raise UnknownTableError(
                f"no table or view {NAMESPACE}.{name}; known: {', '.join(self._known())}. "
                "Check the name, or load data first (spotify-lakehouse run --date D)."
            ) from e

    def _known(self) -> list[str]:
        try:
            tables = [ident[-1] for ident in self.catalog.list_tables(NAMESPACE)]
        except NoSuchNamespaceError:
            tables = []
        return sorted({*tables, *view_definitions()})

    def _register_tables(
        self, connection: duckdb.DuckDBPyConnection, plan: QueryPlan, as_of: date | None
    ) -> list[TableRead]:
        reads: list[TableRead] = []
        for name, columns in plan.tables.items():
            table = self._load(name)
            fields = _projection(table, columns)
            if as_of is None:
                snapshot = table.current_snapshot()
                snapshot_id = snapshot.snapshot_id if snapshot is not None else None
                scan = table.scan(selected_fields=fields, snapshot_id=snapshot_id)
                reads.append(TableRead(f"{NAMESPACE}.{name}", snapshot_id))
            else:
                resolved = resolve_as_of(table, as_of)
                scan = scan_as_of(table, resolved, fields)
                reads.append(TableRead(f"{NAMESPACE}.{name}", resolved.snapshot_id, resolved))
            _register(connection, name, scan)
        for versioned in plan.versioned:
            table = self._load(versioned.table)
            snapshot_id = _versioned_snapshot(connection, table, versioned)
            fields = _projection(table, plan.tables.get(versioned.table))
            _register(
                connection,
                versioned.relation,
                table.scan(selected_fields=fields, snapshot_id=snapshot_id),
            )
            reads.append(TableRead(f"{NAMESPACE}.{versioned.table}", snapshot_id))
        return reads


def _projection(table: Table, columns: frozenset[str] | None) -> tuple[str, ...]:
    """The table's columns the query mentions, in schema order (``*`` for all).

    A query that mentions none (``SELECT count(*)``) still needs rows: read the first column.
    """
    if columns is None:
        return ("*",)
    names = [f.name for f in table.schema().fields]
    chosen = tuple(n for n in names if n.lower() in columns)
    return chosen or (names[0],)


def _register(connection: duckdb.DuckDBPyConnection, relation: str, scan: DataScan) -> None:
    """Expose a scan's Arrow table as ``spotify.<relation>`` in DuckDB."""
    try:
        arrow = scan.to_arrow()
    except (OSError, ValueError) as e:
        raise QueryError(
            f"cannot read Iceberg data for {NAMESPACE}.{relation}: {e}. Check that the "
            "warehouse files under --home are intact (spotify-lakehouse maintain lists orphans)."
        ) from e
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
    """Run a query and fetch it as Arrow (no pytz needed for timestamptz, unlike fetchall)."""
    try:
        relation = connection.sql(sql)
        if relation is None:
            raise QueryError(f"{doing}: the statement returned no rows to fetch: {sql}")
        result: pa.Table = relation.to_arrow_table()
    except duckdb.Error as e:
        raise _duckdb_error(e, sql, doing) from e
    return result


def _ddl(connection: duckdb.DuckDBPyConnection, sql: str, doing: str) -> None:
    try:
        connection.execute(sql)
    except duckdb.Error as e:
        raise _duckdb_error(e, sql, doing) from e


def _duckdb_error(error: duckdb.Error, sql: str, doing: str) -> QueryError:
    return QueryError(
        f"DuckDB failed {doing}: {error}. Translated SQL: {' '.join(sql.split())}. If this "
        "is valid Athena SQL, it uses something the local engine lacks: try --engine athena."
    )

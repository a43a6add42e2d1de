"""The local query engine: Athena SQL on DuckDB, over the Iceberg tables of one home.

How a query runs (:meth:`LocalEngine.execute`):

1. :func:`views.plan.plan_query` parses it as Athena SQL and lists the Iceberg tables it
   reads, expanding views from ``views/sql`` to their base tables, with the columns needed.
2. Each of those tables is loaded from the local pyiceberg catalog and scanned to Arrow:
   at the current snapshot, or with ``as_of`` at the snapshot :func:`resolve_as_of` picks
   with ``snapshot_date <= D`` applied (:func:`scan_as_of`). Only referenced tables are
   read, only the columns the query mentions (a ``*`` reads them all), and only the rows
   the query's own ``WHERE`` can keep when it compares the table's columns with constants
   (``snapshot_date >= DATE '...'``, ``BETWEEN``, ``IN``, ``CURRENT_DATE - INTERVAL
   ...``): pushed into the pyiceberg scan as a row filter, they prune monthly partitions
   and files by their stats. Metadata tables (``"artists_silver$snapshots"`` ...) come
   from pyiceberg's ``table.inspect`` with Athena's column names.
3. A fresh in-memory DuckDB gets schema ``spotify`` (also the search path, so unqualified
   names resolve there as they do in Athena's ``spotify`` database), one relation per
   table, and the views created from the same Athena DDL translated by sqlglot.
4. The query, translated to DuckDB, runs with ``TimeZone='UTC'`` so ``CURRENT_DATE`` is the
   UTC date, as on Athena.

A new DuckDB connection per query keeps reads isolated: an as-of query can never see a
relation registered by an earlier query at another version.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import reduce
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    LessThan,
    LessThanOrEqual,
    Or,
    Reference,
)
from pyiceberg.expressions.literals import Literal as IcebergLiteral
from pyiceberg.expressions.literals import literal
from pyiceberg.table import DataScan, Table
from pyiceberg.types import DateType, IcebergType, IntegerType, LongType, StringType
from sqlglot import exp

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
from views.plan import (
    MetadataRead,
    Predicate,
    QueryPlan,
    VersionedRead,
    ViewDefinition,
    generate,
    plan_query,
    view_definitions,
)

#: Athena's (Trino's) columns of ``$partitions``, from pyiceberg's names.
_PARTITIONS_COLUMNS = {
    "partition": "partition",
    "record_count": "record_count",
    "file_count": "file_count",
    "total_data_file_size_in_bytes": "total_size",
}


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
        connection = _connect()
        try:
            reads = self._register_tables(connection, plan, as_of)
            for metadata in plan.metadata:
                _register_arrow(connection, metadata.relation, self._metadata(metadata))
            for view in plan.views:
                _ddl(connection, generate(view.create, "duckdb"), f"creating view {view.name}")
            arrow = _run(connection, plan.to_sql("duckdb"), "running the query")
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
        connection = _connect()
        try:
            for name in plan.tables:
                schema = self._load(name).schema().as_arrow()
                _register_arrow(connection, name, schema.empty_table())
            for needed in plan.views:
                _ddl(connection, generate(needed.create, "duckdb"), f"creating view {needed.name}")
            _run(connection, plan.to_sql("duckdb"), f"selecting from view {view.name}")
        finally:
            connection.close()

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
            row_filter = _row_filter(connection, table, plan.pushable(name))
            if as_of is None:
                snapshot = table.current_snapshot()
                snapshot_id = snapshot.snapshot_id if snapshot is not None else None
                reads.append(TableRead(f"{NAMESPACE}.{name}", snapshot_id))
                scan = table.scan(
                    row_filter=row_filter, selected_fields=fields, snapshot_id=snapshot_id
                )
            else:
                resolved = resolve_as_of(table, as_of)
                scan = scan_as_of(table, resolved, fields, row_filter)
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


def _connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB: UTC, schema ``spotify`` first on the search path."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"CREATE SCHEMA {NAMESPACE}")
    connection.execute(f"SET search_path = '{NAMESPACE}'")
    return connection


def _row_filter(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    references: list[tuple[Predicate, ...]] | None,
) -> BooleanExpression:
    """The pyiceberg row filter implied by every reference's pushable predicates.

    Each reference contributes the AND of its predicates that can be typed for the column;
    the references are OR-ed (a self-join needs the rows of both). Anything uncertain is
    dropped, which only widens the scan: DuckDB applies the full WHERE afterwards.
    """
    if references is None:
        return AlwaysTrue()
    types = {f.name.lower(): (f.name, f.field_type) for f in table.schema().fields}
    alternatives: list[BooleanExpression] = []
    for predicates in references:
        terms = [t for p in predicates if (t := _term(connection, types, p)) is not None]
        if not terms:
            return AlwaysTrue()
        alternatives.append(reduce(And, terms))
    return reduce(Or, alternatives)


def _term(
    connection: duckdb.DuckDBPyConnection,
    types: dict[str, tuple[str, IcebergType]],
    predicate: Predicate,
) -> BooleanExpression | None:
    if predicate.column not in types:
        return None
    name, field_type = types[predicate.column]
    values: list[IcebergLiteral[Any]] = []
    for expression in predicate.values:
        constant = _typed_constant(connection, expression, field_type)
        if constant is None:
            return None
        values.append(constant)
    term = Reference(name)
    if predicate.op == "in":
        return In(term=term, values=set(values))
    value = values[0]
    if predicate.op == "=":
        return EqualTo(term=term, value=value)
    if predicate.op == "<":
        return LessThan(term=term, value=value)
    if predicate.op == "<=":
        return LessThanOrEqual(term=term, value=value)
    if predicate.op == ">":
        return GreaterThan(term=term, value=value)
    return GreaterThanOrEqual(term=term, value=value)


def _typed_constant(
    connection: duckdb.DuckDBPyConnection, expression: exp.Expr, field_type: IcebergType
) -> IcebergLiteral[Any] | None:
    """Evaluate a constant (DuckDB, UTC) and keep it only if it types exactly as the column."""
    try:
        evaluated = _run(connection, f"SELECT {generate(expression, 'duckdb')} AS v", "a constant")
    except QueryError:
        return None
    constant = evaluated.column(0)[0].as_py() if evaluated.num_rows == 1 else None
    if isinstance(field_type, DateType):
        if isinstance(constant, str):
            try:
                return literal(date.fromisoformat(constant))
            except ValueError:
                return None
        if isinstance(constant, datetime):
            # DuckDB's date +/- interval is a timestamp (Trino's date_add keeps a date); at
            # midnight it compares with a date column exactly as that date does
            midnight = constant.time() == time() and constant.utcoffset() in (None, timedelta())
            return literal(constant.date()) if midnight else None
        return literal(constant) if isinstance(constant, date) else None
    if isinstance(field_type, StringType) and isinstance(constant, str):
        return literal(constant)
    if isinstance(field_type, IntegerType | LongType) and type(constant) is int:
        return literal(constant)
    return None


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
    _register_arrow(connection, relation, arrow)


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

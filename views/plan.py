"""Engine-neutral planning of an Athena query: which Iceberg tables it reads, through views.

Both engines need the same answer before they run anything: time travel (``--as-of``)
must read *every* Iceberg table a query touches at its resolved snapshot, including the
tables behind a view, because Athena cannot apply ``FOR VERSION AS OF`` to a view. So a
query is parsed once (sqlglot, Athena dialect), each table reference is resolved in the
``spotify`` database, views defined in ``views/sql`` are expanded to their base tables
(recursively), and the columns each base table must provide are collected so the reader
can project them. The local engine registers those tables in DuckDB; the Athena engine
(later) can use the same plan to inline views with ``FOR VERSION AS OF``.

Table references are rewritten to ``spotify.<name>`` (dropping a catalog such as
``awsdatacatalog``) so DuckDB resolves them in its ``spotify`` schema. An explicit
``FOR VERSION AS OF`` / ``FOR TIMESTAMP AS OF`` clause is taken out of the SQL (DuckDB
rejects it) and becomes a :class:`VersionedRead` of its own relation. A metadata table as
Athena names it (``"artists_silver$snapshots"``) becomes a :class:`MetadataRead`.

For scans that scale, the planner also collects, per table reference, the conjuncts of the
enclosing ``WHERE`` that compare one of the table's columns with a constant
(:class:`Predicate`): a reader may push them into the Iceberg scan (partition and file
pruning) because the engine applies the full ``WHERE`` afterwards anyway. Predicates are
never taken from a view's outside: a filter on the gold view's ``date`` must not reach the
silver scan, or the first day's ``followers_gained`` would lose its previous snapshot.

:func:`athena_as_of_sql` is the Athena side of ``--as-of``: views are inlined as subqueries
and every Iceberg table becomes ``(SELECT * FROM t FOR VERSION AS OF <id> WHERE
snapshot_date <= DATE 'D')``, because Athena cannot time-travel a view.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal, get_args

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

from catalog.tables import NAMESPACE
from catalog.timetravel import SNAPSHOT_DATE_COLUMN
from views.dialect import athena_semantics_for_duckdb
from views.errors import QueryError, UnknownTableError
from views.sqlfiles import load_sql, sql_names

#: Catalog names a query may put in front of ``spotify``: Athena's default and the local one.
KNOWN_CATALOGS = frozenset({"awsdatacatalog", "lakehouse"})

#: Iceberg metadata tables, as Athena names them: ``"<table>$<kind>"``.
MetadataKind = Literal["snapshots", "history", "partitions", "files", "manifests", "refs"]
METADATA_KINDS: Final[tuple[str, ...]] = get_args(MetadataKind)

#: Comparison operators a :class:`Predicate` carries (``in`` holds several values).
PredicateOp = Literal["=", "<", "<=", ">", ">=", "in"]
_COMPARISONS: Final[dict[type[exp.Expr], PredicateOp]] = {
    exp.EQ: "=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}
_FLIPPED: Final[dict[PredicateOp, PredicateOp]] = {
    "=": "=",
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
    "in": "in",
}


@dataclass(frozen=True)
class ViewDefinition:
    """A view from ``views/sql``: its Athena DDL and the parsed statement."""

    name: str
    athena_sql: str
    create: exp.Create

    @property
    def qualified_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"


@dataclass(frozen=True)
class VersionedRead:
    """A table read with an explicit ``FOR VERSION|TIMESTAMP AS OF`` clause.

    ``relation`` is the name it is registered under in the ``spotify`` schema;
    ``version`` is a snapshot id or ref name, ``timestamp_sql`` a DuckDB expression for the
    moment (exactly one of them is set).
    """

    relation: str
    table: str
    version: int | str | None = None
    timestamp_sql: str | None = None


@dataclass(frozen=True)
class MetadataRead:
    """A read of an Iceberg metadata table, ``"<table>$<kind>"`` (current metadata)."""

    relation: str
    table: str
    kind: MetadataKind


@dataclass(frozen=True)
class Predicate:
    """``column <op> value(s)``: one conjunct of a ``WHERE`` a scan may apply early.

    ``values`` are constant Athena expressions (no column, no subquery); the reader
    evaluates them and drops the predicate when it cannot type them for the column.
    """

    column: str
    op: PredicateOp
    values: tuple[exp.Expr, ...]


@dataclass
class QueryPlan:
    """A parsed query, rewritten for DuckDB's ``spotify`` schema, and what it reads.

    ``tables`` maps each Iceberg table (plain reads, including those behind views) to the
    columns the query needs from it, ``None`` meaning all (a ``*`` over the table).
    ``views`` lists the views to create, dependencies first. ``filters`` holds, per plain
    table, one tuple of pushable predicates per reference to it; a reference with an empty
    tuple needs every row, so a reader may only filter when every reference has some.
    """

    statement: exp.Query
    tables: dict[str, frozenset[str] | None] = field(default_factory=dict)
    views: list[ViewDefinition] = field(default_factory=list)
    versioned: list[VersionedRead] = field(default_factory=list)
    metadata: list[MetadataRead] = field(default_factory=list)
    filters: dict[str, list[tuple[Predicate, ...]]] = field(default_factory=dict)

    @property
    def table_names(self) -> list[str]:
        """Every Iceberg table the query reads data of, plain or versioned, sorted."""
        return sorted(set(self.tables) | {v.table for v in self.versioned})

    def pushable(self, table: str) -> list[tuple[Predicate, ...]] | None:
        """The per-reference predicates of ``table``, or ``None`` if some reference has none."""
        references = self.filters.get(table, [])
        if not references or any(not conjuncts for conjuncts in references):
            return None
        return references

    def to_sql(self, dialect: str) -> str:
        """The rewritten query in ``dialect``; unsupported constructs raise QueryError."""
        return generate(self.statement, dialect)


def parse_athena(sql: str) -> exp.Expr:
    """Parse exactly one Athena (Trino) statement."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except ParseError as e:
        raise QueryError(f"cannot parse the SQL as Athena SQL: {e}. Fix the query.") from e
    if len(statements) != 1:
        raise QueryError(
            f"expected one SQL statement, got {len(statements)}: run them one at a time."
        )
    return statements[0]


def generate(expression: exp.Expr, dialect: str) -> str:
    """Translate an Athena AST to ``dialect``, refusing constructs the target lacks."""
    if dialect == "duckdb":
        expression = athena_semantics_for_duckdb(expression)
    try:
        return expression.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as e:
        raise QueryError(
            f"this Athena SQL cannot be translated to {dialect}: {e}. Rewrite that part, "
            "or run the query on Athena (--engine athena)."
        ) from e


@functools.cache
def _view_definitions() -> tuple[ViewDefinition, ...]:
    found: list[ViewDefinition] = []
    for name in sql_names():
        text = load_sql(name)
        statement = parse_athena(text)
        if isinstance(statement, exp.Create) and statement.kind == "VIEW":
            target = statement.this
            table = target if isinstance(target, exp.Table) else target.find(exp.Table)
            if table is None:
                raise QueryError(f"views/sql/{name}.sql creates a view without a name")
            found.append(ViewDefinition(table.name.lower(), text, statement))
    return tuple(found)


def view_definitions() -> dict[str, ViewDefinition]:
    """Every view defined in ``views/sql`` (files holding a ``CREATE ... VIEW``), by name."""
    return {v.name: v for v in _view_definitions()}


def plan_query(sql: str) -> QueryPlan:
    """Parse a read-only Athena query and find the Iceberg tables it reads (see module doc)."""
    statement = parse_athena(sql)
    if not isinstance(statement, exp.Query):
        raise QueryError(
            f"only queries (SELECT / WITH / set operations) run here, not "
            f"{statement.key.upper()}: tables are written by the pipeline, views are defined "
            "in views/sql."
        )
    plan = QueryPlan(statement=statement.copy())
    _Planner(plan, view_definitions()).walk(plan.statement, stack=())
    return plan


class _Planner:
    """Resolves table references of one statement, recursing into the views it uses."""

    def __init__(self, plan: QueryPlan, views: dict[str, ViewDefinition]) -> None:
        self.plan = plan
        self.views = views
        self.created: set[str] = set()

    def walk(self, statement: exp.Expr, stack: tuple[str, ...]) -> None:
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        columns = _needed_columns(statement)
        for table in list(statement.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier):
                continue
            name = table.name.lower()
            if not table.args.get("db") and name in ctes:
                continue
            _check_database(table)
            if "$" in name:
                self._use_metadata(table, name)
            elif name in self.views:
                self._use_view(table, name, stack)
            else:
                self._use_table(table, name, columns)

    def _use_metadata(self, table: exp.Table, name: str) -> None:
        read = metadata_read(name)
        if table.args.get("version") is not None:
            raise QueryError(f"FOR VERSION/TIMESTAMP AS OF cannot apply to {name!r}")
        if read.table in self.views:
            raise UnknownTableError(f"{read.table} is a view: it has no {read.kind} metadata")
        _qualify(table, read.relation)
        if read not in self.plan.metadata:
            self.plan.metadata.append(read)

    def _use_view(self, table: exp.Table, name: str, stack: tuple[str, ...]) -> None:
        if table.args.get("version") is not None:
            raise QueryError(
                f"FOR VERSION/TIMESTAMP AS OF cannot apply to the view {name} (Athena "
                "refuses it too): use --as-of, which reads the view's tables by snapshot date."
            )
        if name in stack:
            raise QueryError(f"views refer to each other in a cycle: {' -> '.join(stack)}")
        _qualify(table, name)
        if name in self.created:
            return
        view = self.views[name]
        create = view.create.copy()
        body = create.expression
        self.walk(body, stack=(*stack, name))
        self.created.add(name)
        self.plan.views.append(ViewDefinition(view.name, view.athena_sql, create))

    def _use_table(self, table: exp.Table, name: str, columns: frozenset[str] | None) -> None:
        version = table.args.get("version")
        if isinstance(version, exp.Version):
            read = _versioned_read(name, version, len(self.plan.versioned))
            self.plan.versioned.append(read)
            table.set("version", None)
            _qualify(table, read.relation)
            return
        self.plan.filters.setdefault(name, []).append(pushable_predicates(table))
        _qualify(table, name)
        if name in self.plan.tables:
            known = self.plan.tables[name]
            merged = None if known is None or columns is None else known | columns
            self.plan.tables[name] = merged
        else:
            self.plan.tables[name] = columns


def _check_database(table: exp.Table) -> None:
    db = table.db.lower()
    catalog = table.catalog.lower()
    if (db and db != NAMESPACE) or (catalog and catalog not in KNOWN_CATALOGS):
        raise UnknownTableError(
            f"{table.sql(dialect='athena')} is outside the {NAMESPACE!r} database; "
            f"name its tables as {NAMESPACE}.<table> or leave them unqualified."
        )


def metadata_read(name: str) -> MetadataRead:
    """Parse ``"<table>$<kind>"`` (Athena's name for an Iceberg metadata table)."""
    table, _, kind = name.lower().partition("$")
    if kind not in METADATA_KINDS:
        raise UnknownTableError(
            f"unknown Iceberg metadata table {name!r}: use {table}${' or $'.join(METADATA_KINDS)}"
        )
    kinds: dict[str, MetadataKind] = {k: k for k in get_args(MetadataKind)}
    return MetadataRead(relation=f"{table}${kind}", table=table, kind=kinds[kind])


def pushable_predicates(table: exp.Table) -> tuple[Predicate, ...]:
    """Conjuncts of the ``WHERE`` that reads ``table`` directly, of the form column-op-constant.

    Only the ``SELECT`` whose ``FROM``/``JOIN`` names the table counts (a filter outside a
    subquery or view never reaches in). A column must be qualified by the table's alias or
    name, or be unqualified in a ``SELECT`` reading nothing else. ``OR`` is not split.
    """
    holder = table.parent
    select = holder.parent if isinstance(holder, exp.From | exp.Join) else None
    if not isinstance(select, exp.Select):
        return ()
    where = select.args.get("where")
    if not isinstance(where, exp.Where):
        return ()
    alias = table.alias_or_name.lower()
    alone = not select.args.get("joins")
    found: list[Predicate] = []
    for conjunct in _conjuncts(where.this):
        found.extend(_predicates(conjunct, alias, alone))
    return tuple(found)


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    """The terms of a top-level ``AND`` chain, through parentheses."""
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


def _own_column(node: exp.Expr, alias: str, alone: bool) -> str | None:
    if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
        return None
    qualifier = node.table.lower()
    if (qualifier and qualifier != alias) or (not qualifier and not alone) or node.args.get("db"):
        return None
    return node.name.lower()


def _is_constant(node: exp.Expr) -> bool:
    return not any(
        isinstance(n, exp.Column | exp.Subquery | exp.Query | exp.AggFunc | exp.Window)
        for n in node.walk()
    )


def _predicates(conjunct: exp.Expr, alias: str, alone: bool) -> list[Predicate]:
    if isinstance(conjunct, exp.Between):
        column = _own_column(conjunct.this, alias, alone)
        low, high = conjunct.args.get("low"), conjunct.args.get("high")
        bounds = [b for b in (low, high) if b is not None and _is_constant(b)]
        if column is None or len(bounds) != 2:
            return []
        low_bound, high_bound = (b.copy() for b in bounds)
        return [Predicate(column, ">=", (low_bound,)), Predicate(column, "<=", (high_bound,))]
    if isinstance(conjunct, exp.In) and not conjunct.args.get("query"):
        column = _own_column(conjunct.this, alias, alone)
        values = conjunct.expressions
        if column and values and all(_is_constant(v) for v in values):
            return [Predicate(column, "in", tuple(v.copy() for v in values))]
        return []
    op = _COMPARISONS.get(type(conjunct))
    if op is None or not isinstance(conjunct, exp.Binary):
        return []
    left, right = conjunct.left, conjunct.right
    column = _own_column(left, alias, alone)
    if column and _is_constant(right):
        return [Predicate(column, op, (right.copy(),))]
    column = _own_column(right, alias, alone)
    if column and _is_constant(left):
        return [Predicate(column, _FLIPPED[op], (left.copy(),))]
    return []


def athena_as_of_sql(sql: str, versions: Mapping[str, tuple[int, date]]) -> str:
    """Rewrite a query for Athena so it reads each Iceberg table at a pinned snapshot.

    ``versions`` maps each table of :attr:`QueryPlan.table_names` to ``(snapshot id, D)``.
    Views are inlined (recursively) as subqueries under their own name, because Athena
    cannot apply ``FOR VERSION AS OF`` to a view; every plain table reference becomes
    ``(SELECT * FROM spotify.t FOR VERSION AS OF id WHERE snapshot_date <= DATE 'D') AS t``
    (keeping its alias). Explicit version clauses and metadata tables are left as written.
    """
    statement = parse_athena(sql)
    if not isinstance(statement, exp.Query):
        raise QueryError(f"--as-of applies to queries only, not {statement.key.upper()}")
    _inline_as_of(statement, view_definitions(), versions, stack=())
    return statement.sql(dialect="athena")


def _inline_as_of(
    statement: exp.Expr,
    views: dict[str, ViewDefinition],
    versions: Mapping[str, tuple[int, date]],
    stack: tuple[str, ...],
) -> None:
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in list(statement.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue
        name = table.name.lower()
        if (not table.args.get("db") and name in ctes) or "$" in name:
            continue
        _check_database(table)
        if table.args.get("version") is not None:
            continue
        alias = table.args.get("alias")
        alias = alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier(name))
        if name in views:
            if name in stack:
                raise QueryError(f"views refer to each other in a cycle: {' -> '.join(stack)}")
            body = views[name].create.expression.copy()
            _inline_as_of(body, views, versions, (*stack, name))
            table.replace(exp.Subquery(this=body, alias=alias))
            continue
        if name not in versions:
            raise QueryError(f"no as-of version resolved for {NAMESPACE}.{name}")
        snapshot_id, day = versions[name]
        pinned = parse_athena(
            f"SELECT * FROM {NAMESPACE}.{name} FOR VERSION AS OF {int(snapshot_id)} "
            f"WHERE {SNAPSHOT_DATE_COLUMN} <= DATE '{day.isoformat()}'"
        )
        table.replace(exp.Subquery(this=pinned, alias=alias))


def _qualify(table: exp.Table, relation: str) -> None:
    """Point a table reference at ``spotify.<relation>`` (DuckDB has no catalog level here)."""
    table.set("catalog", None)
    table.set("db", exp.to_identifier(NAMESPACE))
    table.set("this", exp.to_identifier(relation, quoted=not _is_plain(relation)))


def _is_plain(name: str) -> bool:
    return re.fullmatch(r"[a-z_][a-z0-9_]*", name) is not None


def _needed_columns(statement: exp.Expr) -> frozenset[str] | None:
    """Lower-case identifiers a statement mentions, or ``None`` if it projects a ``*``.

    Deliberately a superset (aliases and table names too): the reader intersects it with
    the table's schema, and over-reading one column is harmless while missing one fails.
    """
    for select in statement.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or (
                isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
            ):
                return None
    return frozenset(i.name.lower() for i in statement.find_all(exp.Identifier))


def _versioned_read(table: str, version: exp.Version, index: int) -> VersionedRead:
    relation = f"{table}__version_{index}"
    kind = str(version.this).upper()
    value = version.expression
    if kind == "VERSION":
        if isinstance(value, exp.Literal) and value.is_int:
            return VersionedRead(relation, table, version=int(value.this))
        if isinstance(value, exp.Literal) and value.is_string:
            return VersionedRead(relation, table, version=value.this)
        raise QueryError(
            f"FOR VERSION AS OF on {table} needs a snapshot id or a ref name literal, got "
            f"{value.sql(dialect='athena')}"
        )
    if kind == "TIMESTAMP":
        return VersionedRead(relation, table, timestamp_sql=generate(value, "duckdb"))
    raise QueryError(f"unsupported time-travel clause on {table}: FOR {kind} AS OF")

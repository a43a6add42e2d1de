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
enclosing ``WHERE`` that a scan may apply early (:mod:`views.predicates`).

Translation to DuckDB (:func:`generate`) goes through :func:`views.dialect.translate` with
every relation typed (:mod:`views.relations`), so Athena's type rules hold.

:func:`athena_as_of_sql` is the Athena side of ``--as-of``: views are inlined as subqueries
and every Iceberg table becomes ``(SELECT * FROM t FOR VERSION AS OF <id> WHERE
snapshot_date <= DATE 'D')``, because Athena cannot time-travel a view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal, get_args

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from catalog.iceberg.tables import NAMESPACE
from catalog.iceberg.timetravel import SNAPSHOT_DATE_COLUMN
from views.dialect import translate
from views.errors import QueryError, UnknownTableError
from views.parsing import ViewDefinition, parse_athena, view_definitions
from views.predicates import Predicate, PredicateOp, pushable_predicates
from views.trino_types import ColumnTypes

__all__ = [
    "MetadataRead",
    "Predicate",
    "PredicateOp",
    "QueryPlan",
    "VersionedRead",
    "ViewDefinition",
    "generate",
    "parse_athena",
    "plan_query",
    "view_definitions",
]

#: Catalog names a query may put in front of ``spotify``: Athena's default and the local one.
KNOWN_CATALOGS = frozenset({"awsdatacatalog", "lakehouse"})

#: Iceberg metadata tables, as Athena names them: ``"<table>$<kind>"``.
MetadataKind = Literal["snapshots", "history", "partitions", "files", "manifests", "refs"]
METADATA_KINDS: Final[tuple[str, ...]] = get_args(MetadataKind)


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

    def to_sql(self, dialect: str, relations: Mapping[str, ColumnTypes] | None = None) -> str:
        """The rewritten query in ``dialect``; unsupported constructs raise QueryError.

        ``relations`` types the relations it reads (by default the defined tables and views).
        """
        return generate(self.statement, dialect, relations)


def generate(
    expression: exp.Expr, dialect: str, relations: Mapping[str, ColumnTypes] | None = None
) -> str:
    """Translate an Athena AST to ``dialect``, refusing constructs the target lacks.

    For DuckDB the tree is checked, typed and rewritten to Athena's meaning first
    (:func:`views.dialect.translate`); a bare expression is typed as ``SELECT <it>``.
    """
    if dialect == "duckdb":
        from views.relations import with_views

        typed = with_views(relations or {})
        if isinstance(expression, exp.Query | exp.Create):
            expression = translate(expression, typed)
        else:
            query = translate(exp.select(expression.copy()), typed)
            expression = query.selects[0].unalias() if isinstance(query, exp.Query) else query
    try:
        return expression.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as e:
        raise QueryError(
            f"this Athena SQL cannot be translated to {dialect}: {e}. Rewrite that part, "
            "or run the query on Athena (--engine athena)."
        ) from e


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

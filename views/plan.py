"""Planning an Athena query's reads, for either engine: what it reads, and how.

The relations a query names, through its views, come from :func:`views.references.expand`
(sqlglot's scopes); this module decides what each one means for the engine:

* :func:`plan_query` (the local engine): every reference is pointed at ``spotify.<name>``,
  where DuckDB finds it. A plain table becomes an entry of :attr:`QueryPlan.tables` with the
  columns the query needs of it and, per reference, the conjuncts of its ``WHERE`` a scan may
  apply early (:mod:`views.predicates`). A view becomes a view to create, dependencies first.
  An explicit ``FOR VERSION|TIMESTAMP AS OF`` is taken out of the SQL (DuckDB rejects it)
  and becomes a :class:`VersionedRead` of a relation of its own; a metadata table as Athena
  names it (``"artists_silver$snapshots"``) becomes a :class:`MetadataRead`.
* :func:`athena_as_of_sql` (the Athena engine's ``--as-of``): views are inlined as
  subqueries and every Iceberg table becomes ``(SELECT * FROM t FOR VERSION AS OF <id> WHERE
  snapshot_date <= DATE 'D')``, because Athena cannot time-travel a view.

Translation to DuckDB (:func:`generate`) goes through :func:`views.dialect.translate` with
every relation typed (:mod:`views.relations`), so Athena's type rules hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from catalog.iceberg.names import NAMESPACE
from views.dialect import translate
from views.errors import QueryError, UnknownTableError
from views.outline import (
    METADATA_KIND_OF,
    METADATA_KINDS,
    MetadataKind,
    MetadataRead,
    PredicateOp,
    QueryOutline,
    ScanPredicate,
    VersionedRead,
    ViewRead,
)
from views.parsing import ViewDefinition, parse_athena, view_definitions
from views.predicates import Predicate, pushable_predicates
from views.references import Reference, expand, point_at
from views.trino_types import ColumnTypes

__all__ = [
    "METADATA_KINDS",
    "MetadataKind",
    "MetadataRead",
    "Predicate",
    "PredicateOp",
    "QueryPlan",
    "VersionedRead",
    "ViewDefinition",
    "athena_as_of_sql",
    "generate",
    "parse_athena",
    "plan_query",
    "view_definitions",
]


@dataclass
class QueryPlan:
    """A parsed query, rewritten for DuckDB's ``spotify`` schema, and what it reads.

    ``tables`` maps each Iceberg table (plain reads, including those behind views) to the
    columns the query needs from it, ``None`` meaning all (a ``*`` over the table).
    ``views`` lists the views to create, dependencies first. ``filters`` holds, per plain
    table, one tuple of pushable predicates per reference to it. What a reader does with
    them is :class:`views.outline.QueryOutline`'s (:meth:`outline`), the form it reads.
    """

    statement: exp.Query
    tables: dict[str, frozenset[str] | None] = field(default_factory=dict)
    views: list[ViewDefinition] = field(default_factory=list)
    versioned: list[VersionedRead] = field(default_factory=list)
    metadata: list[MetadataRead] = field(default_factory=list)
    filters: dict[str, list[tuple[Predicate, ...]]] = field(default_factory=dict)

    def to_sql(self, dialect: str, relations: Mapping[str, ColumnTypes] | None = None) -> str:
        """The rewritten query in ``dialect``; unsupported constructs raise QueryError.

        ``relations`` types the relations it reads (by default the defined tables and views).
        """
        return generate(self.statement, dialect, relations)

    def outline(self) -> QueryOutline:
        """What the query reads, as plain data (:mod:`views.outline`): the predicates'
        constants translated to DuckDB SQL now, those that cannot be dropped (which only
        widens a scan)."""
        return QueryOutline(
            tables=dict(self.tables),
            views=[ViewRead(v.name, v.athena_sql) for v in self.views],
            versioned=list(self.versioned),
            metadata=list(self.metadata),
            filters={
                name: [_scan_predicates(reference) for reference in references]
                for name, references in self.filters.items()
            },
        )


def _scan_predicates(predicates: tuple[Predicate, ...]) -> tuple[ScanPredicate, ...]:
    kept: list[ScanPredicate] = []
    for predicate in predicates:
        try:
            constants = tuple(generate(value, "duckdb") for value in predicate.values)
        except QueryError:
            continue
        kept.append(ScanPredicate(predicate.column, predicate.op, constants))
    return tuple(kept)


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
    """Parse a read-only Athena query and plan its reads on DuckDB (see module doc)."""
    plan = QueryPlan(statement=_query(sql))
    needed: dict[int, frozenset[str] | None] = {}
    for reference in expand(plan.statement, view_definitions(), once=True):
        if reference.is_metadata:
            _read_metadata(plan, reference)
        elif reference.view is not None:
            _read_view(plan, reference)
        else:
            statement = reference.statement
            if id(statement) not in needed:
                needed[id(statement)] = _needed_columns(statement)
            _read_table(plan, reference, needed[id(statement)])
    return plan


def _query(sql: str) -> exp.Query:
    statement = parse_athena(sql)
    if not isinstance(statement, exp.Query):
        raise QueryError(
            f"only queries (SELECT / WITH / set operations) run here, not "
            f"{statement.key.upper()}: tables are written by the pipeline, views are defined "
            "in views/sql."
        )
    return statement


def _read_metadata(plan: QueryPlan, reference: Reference) -> None:
    read = metadata_read(reference.name)
    if reference.version is not None:
        raise QueryError(f"FOR VERSION/TIMESTAMP AS OF cannot apply to {reference.name!r}")
    if read.table in view_definitions():
        raise UnknownTableError(f"{read.table} is a view: it has no {read.kind} metadata")
    point_at(reference.node, read.relation)
    if read not in plan.metadata:
        plan.metadata.append(read)


def _read_view(plan: QueryPlan, reference: Reference) -> None:
    if reference.version is not None:
        raise QueryError(
            f"FOR VERSION/TIMESTAMP AS OF cannot apply to the view {reference.name} (Athena "
            "refuses it too): use --as-of, which reads the view's tables by snapshot date."
        )
    point_at(reference.node, reference.name)
    if reference.view is not None and not reference.repeated:
        plan.views.append(reference.view)


def _read_table(plan: QueryPlan, reference: Reference, columns: frozenset[str] | None) -> None:
    name, table = reference.name, reference.node
    if reference.version is not None:
        read = _versioned_read(name, reference.version, len(plan.versioned))
        plan.versioned.append(read)
        table.set("version", None)
        point_at(table, read.relation)
        return
    plan.filters.setdefault(name, []).append(pushable_predicates(table))
    point_at(table, name)
    if name in plan.tables:
        known = plan.tables[name]
        plan.tables[name] = None if known is None or columns is None else known | columns
    else:
        plan.tables[name] = columns


def metadata_read(name: str) -> MetadataRead:
    """Parse ``"<table>$<kind>"`` (Athena's name for an Iceberg metadata table)."""
    table, _, kind = name.lower().partition("$")
    if kind not in METADATA_KINDS:
        raise UnknownTableError(
            f"unknown Iceberg metadata table {name!r}: use {table}${' or $'.join(METADATA_KINDS)}"
        )
    return MetadataRead(relation=f"{table}${kind}", table=table, kind=METADATA_KIND_OF[kind])


def athena_as_of_sql(sql: str, versions: Mapping[str, tuple[int, date]]) -> str:
    """Rewrite a query for Athena so it reads each Iceberg table at a pinned snapshot.

    ``versions`` maps each table of :attr:`QueryPlan.tables` to ``(snapshot id, D)``.
    Views are inlined (recursively) as subqueries under their own name, because Athena
    cannot apply ``FOR VERSION AS OF`` to a view; every plain table reference becomes
    ``(SELECT * FROM spotify.t FOR VERSION AS OF id WHERE snapshot_date <= DATE 'D') AS t``
    (keeping its alias). Explicit version clauses and metadata tables are left as written.
    """
    statement = _query(sql)
    for reference in expand(statement, view_definitions()):
        if reference.is_metadata or reference.version is not None:
            continue
        if reference.view is not None:
            body = reference.view.body
        elif reference.name in versions:
            body = _pinned(reference.name, *versions[reference.name])
        else:
            raise QueryError(f"no as-of version resolved for {NAMESPACE}.{reference.name}")
        alias = reference.node.args.get("alias") or exp.TableAlias(
            this=exp.to_identifier(reference.name)
        )
        reference.node.replace(exp.Subquery(this=body, alias=alias))
    return statement.sql(dialect="athena")


def _pinned(table: str, snapshot_id: int, day: date) -> exp.Select:
    """``SELECT * FROM spotify.<table> FOR VERSION AS OF <id> WHERE snapshot_date <= D``."""
    from catalog.iceberg.timetravel import SNAPSHOT_DATE_COLUMN  # pyiceberg: Athena's path only

    version = exp.Version(this="VERSION", kind="AS OF", expression=exp.Literal.number(snapshot_id))
    pinned = exp.table_(table, db=NAMESPACE)
    pinned.set("version", version)
    until = exp.cast(exp.Literal.string(day.isoformat()), exp.DType.DATE)
    return exp.select("*").from_(pinned).where(exp.column(SNAPSHOT_DATE_COLUMN) <= until)


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

"""What a query reads, as plain data: the part of a plan the local engine needs on every run.

:func:`views.plan.plan_query` parses a query with sqlglot and finds its reads through the
views (:class:`views.plan.QueryPlan`). Everything the engine then needs to *read* is small
and depends only on the query text and the code that planned it: the tables and the
columns wanted of each, the views to create, explicit ``FOR VERSION|TIMESTAMP AS OF``
reads, metadata tables, and per table reference the conjuncts a scan may apply early.
:class:`QueryOutline` holds exactly that, with the constants of those conjuncts already
translated to DuckDB SQL (:class:`ScanPredicate`), so it can be kept on disk
(:func:`views.plan_cache.remembered`) and a repeated query runs without importing
sqlglot's optimizer or parsing a line: parsing, scoping and typing cost a ``query``
process more than DuckDB answering it over the demo home.

This module imports nothing beyond the standard library, on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

#: Comparison operators a predicate carries (``in`` holds several values): the parsed
#: :class:`views.predicates.Predicate` and the plain :class:`ScanPredicate` alike.
PredicateOp = Literal["=", "<", "<=", ">", ">=", "in"]
_OPS: Final[dict[str, PredicateOp]] = {op: op for op in get_args(PredicateOp)}

#: Iceberg metadata tables, as Athena names them: ``"<table>$<kind>"``.
MetadataKind = Literal["snapshots", "history", "partitions", "files", "manifests", "refs"]
METADATA_KINDS: Final[tuple[str, ...]] = get_args(MetadataKind)
#: Each kind by its name, typed (parsing ``"<table>$<kind>"`` and reading an outline back).
METADATA_KIND_OF: Final[dict[str, MetadataKind]] = {kind: kind for kind in get_args(MetadataKind)}


@dataclass(frozen=True)
class ScanPredicate:
    """``column <op> constant(s)``: one conjunct a scan of the table may apply early.

    ``constants`` are DuckDB SQL expressions with Athena's meaning (translated when the
    query was planned); a reader evaluates them and drops the predicate when one does not
    type exactly as the column. Dropping only widens a scan: DuckDB applies the full
    ``WHERE`` afterwards anyway.
    """

    column: str
    op: PredicateOp
    constants: tuple[str, ...]


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
class ViewRead:
    """A view the query reads (directly or through another view): its name and Athena DDL.

    The DDL text identifies the translation (:func:`views.plan_cache.remembered`); the
    parsed definition is looked up by name only when that translation must be made.
    """

    name: str
    athena_sql: str


@dataclass
class QueryOutline:
    """What a planned query reads (see module doc), JSON-able with :meth:`to_json`.

    ``tables`` maps each Iceberg table (plain reads, including those behind views) to the
    columns the query needs from it, ``None`` meaning all (a ``*`` over the table).
    ``views`` lists the views to create, dependencies first. ``filters`` holds, per plain
    table, one tuple of scan predicates per reference to it; a reference with an empty
    tuple needs every row, so a reader may only filter when every reference has some.
    """

    tables: dict[str, frozenset[str] | None] = field(default_factory=dict)
    views: list[ViewRead] = field(default_factory=list)
    versioned: list[VersionedRead] = field(default_factory=list)
    metadata: list[MetadataRead] = field(default_factory=list)
    filters: dict[str, list[tuple[ScanPredicate, ...]]] = field(default_factory=dict)

    @property
    def table_names(self) -> list[str]:
        """Every Iceberg table the query reads data of, plain or versioned, sorted."""
        return sorted(set(self.tables) | {v.table for v in self.versioned})

    def pushable(self, table: str) -> list[tuple[ScanPredicate, ...]] | None:
        """The per-reference predicates of ``table``, or ``None`` if some reference has none."""
        references = self.filters.get(table, [])
        if not references or any(not conjuncts for conjuncts in references):
            return None
        return references

    def to_json(self) -> dict[str, Any]:
        """A JSON value :meth:`from_json` reads back equal (sets as sorted lists)."""
        return {
            "tables": {
                name: None if columns is None else sorted(columns)
                for name, columns in self.tables.items()
            },
            "views": [[v.name, v.athena_sql] for v in self.views],
            "versioned": [
                [v.relation, v.table, v.version, v.timestamp_sql] for v in self.versioned
            ],
            "metadata": [[m.relation, m.table, m.kind] for m in self.metadata],
            "filters": {
                name: [[[p.column, p.op, list(p.constants)] for p in ref] for ref in references]
                for name, references in self.filters.items()
            },
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> QueryOutline:
        """The outline :meth:`to_json` wrote; anything malformed raises ``ValueError``."""
        try:
            return cls(
                tables={
                    str(name): None if columns is None else frozenset(map(str, columns))
                    for name, columns in value["tables"].items()
                },
                views=[ViewRead(str(name), str(sql)) for name, sql in value["views"]],
                versioned=[
                    VersionedRead(str(relation), str(table), version, timestamp_sql)
                    for relation, table, version, timestamp_sql in value["versioned"]
                ],
                metadata=[
                    MetadataRead(str(relation), str(table), METADATA_KIND_OF[kind])
                    for relation, table, kind in value["metadata"]
                ],
                filters={
                    str(name): [
                        tuple(
                            ScanPredicate(str(column), _OPS[op], tuple(map(str, constants)))
                            for column, op, constants in reference
                        )
                        for reference in references
                    ]
                    for name, references in value["filters"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"not a query outline: {e}") from e

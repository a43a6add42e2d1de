"""Which relations a query names, through the views it reads: from sqlglot's scopes.

Both engines need this before they run anything. Time travel (``--as-of``) must read *every*
Iceberg table a query touches at its resolved snapshot, including the tables behind a view,
because Athena cannot apply ``FOR VERSION AS OF`` to a view; the local engine must register
each relation in DuckDB. So the answer comes from one place, and from sqlglot's own
machinery rather than a walk of the tree:

* identifiers are normalised as Athena resolves them (case-insensitively, quoted or not), so
  ``WITH Recent AS (...) SELECT * FROM recent`` reads the CTE on both engines;
* :func:`~sqlglot.optimizer.qualify_tables.qualify_tables` builds the scopes (CTEs,
  subqueries, derived tables, set operations), puts every stored relation in the ``spotify``
  database, aliases it by its own name and reports it once: a CTE, a derived table or an
  ``UNNEST`` is not a stored relation and never reaches :func:`references`. The alias keeps
  ``artists_silver.followers`` resolving when an engine points the reference elsewhere;
* :func:`expand` repeats that inside each view of ``views/sql`` a query reads, recursively,
  on a copy of the view's definition.

A name outside ``spotify`` (or behind an unknown catalog) is refused here, so neither engine
can be pointed at another database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Final

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_tables import qualify_tables

from catalog.iceberg.names import NAMESPACE
from views.errors import QueryError, UnknownTableError
from views.parsing import ViewDefinition

#: Catalog names a query may put in front of ``spotify``: Athena's default and the local one.
KNOWN_CATALOGS: Final = frozenset({"awsdatacatalog", "lakehouse"})

#: The dialect whose name resolution the query follows.
_DIALECT: Final = "athena"


@dataclass(frozen=True)
class Reference:
    """One relation a query names: ``node`` sits in ``statement``, the query or view body.

    ``name`` is the lower-case relation name in ``spotify``: a table, a view, or a metadata
    table as Athena names it (``"artists_silver$snapshots"``). For a view, ``view`` is a copy
    of its definition whose body was expanded just before this reference was given, unless
    ``repeated`` (:func:`expand` with ``once``, a view already expanded earlier).
    """

    node: exp.Table
    name: str
    statement: exp.Query
    view: ViewDefinition | None = None
    repeated: bool = False

    @property
    def version(self) -> exp.Version | None:
        """The reference's ``FOR VERSION|TIMESTAMP AS OF`` clause, if it has one."""
        version = self.node.args.get("version")
        return version if isinstance(version, exp.Version) else None

    @property
    def is_metadata(self) -> bool:
        return "$" in self.name


def references(statement: exp.Query) -> list[exp.Table]:
    """The stored relations ``statement`` names, qualified in ``spotify`` (in place).

    Identifiers are normalised and tables qualified by sqlglot (see the module doc); table
    functions are not relations and are left out.
    """
    found: list[exp.Table] = []
    normalize_identifiers(statement, dialect=_DIALECT)
    try:
        qualify_tables(statement, db=NAMESPACE, dialect=_DIALECT, on_qualify=found.append)
    except OptimizeError as e:
        raise QueryError(f"cannot resolve the query's tables: {e}. Fix the query.") from e
    tables = [table for table in found if isinstance(table.this, exp.Identifier)]
    for table in tables:
        _check_database(table)
    return tables


def expand(
    statement: exp.Query, views: Mapping[str, ViewDefinition], *, once: bool = False
) -> Iterator[Reference]:
    """Every relation ``statement`` names, and those behind each view it reads.

    A view's body (a fresh copy of its definition, :attr:`Reference.view`) is expanded
    before the view's own reference is given, so views come dependencies first, and a
    caller may rewrite the body before it replaces the reference. With ``once``, a view read
    again is given without a second expansion (:attr:`Reference.repeated`). Views that read
    each other in a cycle raise :class:`QueryError`.
    """
    expanded: dict[str, ViewDefinition] = {}

    def walk(query: exp.Query, stack: tuple[str, ...]) -> Iterator[Reference]:
        for table in references(query):
            reference = Reference(table, table.name, query)
            view = None if reference.is_metadata else views.get(reference.name)
            if view is None:
                yield reference
                continue
            if reference.name in stack:
                raise QueryError(f"views refer to each other in a cycle: {' -> '.join(stack)}")
            if once and reference.name in expanded:
                yield replace(reference, view=expanded[reference.name], repeated=True)
                continue
            copy = expanded[reference.name] = replace(view, create=view.create.copy())
            yield from walk(copy.body, (*stack, reference.name))
            yield replace(reference, view=copy)

    return walk(statement, ())


def point_at(table: exp.Table, relation: str) -> None:
    """Point a reference at ``spotify.<relation>``, keeping its alias (DuckDB has no catalog)."""
    table.set("catalog", None)
    table.set("db", exp.to_identifier(NAMESPACE))
    table.set("this", exp.to_identifier(relation))


def _check_database(table: exp.Table) -> None:
    db = table.db.lower()
    catalog = table.catalog.lower()
    if (db and db != NAMESPACE) or (catalog and catalog not in KNOWN_CATALOGS):
        raise UnknownTableError(
            f"{'.'.join(part.sql(dialect=_DIALECT) for part in table.parts)} is outside the "
            f"{NAMESPACE!r} database; "
            f"name its tables as {NAMESPACE}.<table> or leave them unqualified."
        )

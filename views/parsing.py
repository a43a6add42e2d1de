"""Parsing Athena SQL, and the views ``views/sql`` defines.

One place parses every statement either engine runs, so the checks Athena's grammar implies
apply to all of them: :func:`views.trino_checks.check_tokens` refuses ``::``, ``==`` and
backquotes before sqlglot's lenient parser would normalise them away.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from catalog.iceberg.names import NAMESPACE
from views.errors import QueryError
from views.sqlfiles import load_sql, sql_names
from views.trino_checks import check_tokens


@dataclass(frozen=True)
class ViewDefinition:
    """A view from ``views/sql``: its Athena DDL and the parsed statement."""

    name: str
    athena_sql: str
    create: exp.Create

    @property
    def qualified_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    @property
    def body(self) -> exp.Query:
        """The view's query (what follows ``AS``)."""
        body = self.create.expression
        if not isinstance(body, exp.Query):
            raise QueryError(f"views/sql/{self.name}.sql has no query body")
        return body


def parse_athena(sql: str) -> exp.Expr:
    """Parse exactly one Athena (Trino) statement."""
    check_tokens(sql)
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except ParseError as e:
        raise QueryError(f"cannot parse the SQL as Athena SQL: {e}. Fix the query.") from e
    if len(statements) != 1:
        raise QueryError(
            f"expected one SQL statement, got {len(statements)}: run them one at a time."
        )
    return statements[0]


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

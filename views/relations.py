"""The typed relations a query may read: Iceberg tables, their variants, and the views.

The translator (:mod:`views.dialect`) needs a type for every column it meets. Tables are
typed from their Iceberg schema: the live one when an engine has loaded the table (so an
added or renamed column is seen as Athena sees it), the definition in
:data:`catalog.iceberg.tables.TABLES` otherwise. Views are typed by annotating their own Athena
body against the tables, so the gold view's ``date`` is a DATE and ``followers_gained`` a
BIGINT without anyone spelling that twice.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sqlglot import exp

from views.dialect import typed_tree
from views.errors import QueryError
from views.parsing import ViewDefinition, view_definitions
from views.trino_types import ColumnTypes, iceberg_columns, projected_columns


@functools.cache
def _definition_tables() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    from catalog.iceberg.tables import TABLES  # pyiceberg schemas: imported when needed

    return tuple(
        (name, tuple(iceberg_columns(d.schema).items())) for name, d in sorted(TABLES.items())
    )


def defined_tables() -> dict[str, ColumnTypes]:
    """Column types of every table in :data:`catalog.iceberg.tables.TABLES` (no catalog needed)."""
    return {name: dict(columns) for name, columns in _definition_tables()}


def view_types(view: ViewDefinition, relations: Mapping[str, ColumnTypes]) -> ColumnTypes:
    """Output column types of ``view``, its body annotated against ``relations``."""
    return projected_columns(_as_query(typed_tree(view.body.copy(), relations)))


def _as_query(tree: exp.Expr) -> exp.Query:
    if not isinstance(tree, exp.Query):
        raise QueryError("a view body did not stay a query after qualification")
    return tree


@functools.cache
def _default_views() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    typed = with_views(defined_tables(), cache=False)
    views = view_definitions()
    return tuple((name, tuple(typed[name].items())) for name in sorted(views))


#: :func:`with_views` answers computed by an earlier process (:func:`remember`), by tables.
_REMEMBERED: dict[str, dict[str, ColumnTypes]] = {}


def _key(tables: Mapping[str, ColumnTypes]) -> str:
    return repr(sorted((name, sorted(columns.items())) for name, columns in tables.items()))


def remember(tables: Mapping[str, ColumnTypes], typed: Mapping[str, ColumnTypes]) -> None:
    """Take ``typed`` as :func:`with_views`'s answer for ``tables`` in this process.

    The local engine keeps that answer on disk (:func:`views.plan_cache.remembered`, keyed
    by the translating code too): typing the views costs ~0.3 s of sqlglot, and importing
    the table definitions it starts from costs pyiceberg.
    """
    if len(_REMEMBERED) >= 64:
        _REMEMBERED.clear()
    _REMEMBERED[_key(tables)] = {name: dict(columns) for name, columns in typed.items()}


def with_views(tables: Mapping[str, ColumnTypes], *, cache: bool = True) -> dict[str, ColumnTypes]:
    """``tables`` plus every view of ``views/sql``, each typed against what precedes it.

    With the defined tables' own types (the usual case) the views' types are computed once
    per process; live schemas that differ get their views typed afresh.
    """
    if cache and (known := _REMEMBERED.get(_key(tables))) is not None:
        return {name: dict(columns) for name, columns in known.items()}
    relations: dict[str, ColumnTypes] = {**defined_tables(), **tables}
    if cache and all(relations.get(n) == c for n, c in defined_tables().items()):
        relations.update({name: dict(columns) for name, columns in _default_views()})
        return relations
    pending = dict(view_definitions())
    while pending:
        progressed = False
        for name, view in list(pending.items()):
            try:
                relations[name] = view_types(view, relations)
            except QueryError:
                continue
            del pending[name]
            progressed = True
        if not progressed:
            raise QueryError(
                f"cannot type the views {', '.join(sorted(pending))} against the tables; "
                "check views/sql against catalog/iceberg/tables.py."
            )
    return relations

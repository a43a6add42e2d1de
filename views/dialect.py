"""Athena (Trino) SQL made to mean the same on DuckDB: checked, typed, then rewritten.

sqlglot translates syntax; semantics that depend on types it can only keep when it knows
the types. :func:`translate` gives it them and runs, on one parsed statement:

1. :func:`views.trino_checks.check_tree`: syntax Trino lacks (``ILIKE``) is refused.
2. Unnamed output columns are named as Trino names them, ``_col<position>``.
3. sqlglot's ``qualify`` with the lakehouse's schema (:mod:`views.trino_types`): every
   column bound to its relation, ``*`` expanded. Alias expansion is off, as in Trino, so a
   ``SELECT`` alias used in ``WHERE`` is the error Athena gives ("cannot be resolved").
4. sqlglot's ``annotate_types`` with the same schema and Trino's literal types.
5. :func:`views.trino_checks.check_types`: comparisons and arithmetic across types Trino
   does not coerce (DATE = VARCHAR) are refused.
6. :func:`views.trino_rewrites.rewrite`: integer division, casts that round half away from
   zero, DATE-returning date functions, whole-unit ``date_diff``, array subscripts.
7. :func:`push_below_windows`: a view of ``views/sql`` filtered on its date column (the
   gold view's ``date``) is inlined with its table read narrowed to what the visible rows
   need, exactly (:mod:`views.predicates`): DuckDB then skips the other days' row groups
   instead of sorting a year of rows through the view's windows.

NULL ordering needs no rewrite: both engines sort NULLs last in both directions, and
:func:`views.sandbox.connect` pins DuckDB's ``default_null_order`` so a changed default
cannot creep in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Final

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from catalog.iceberg.names import NAMESPACE
from views.errors import QueryError
from views.predicates import date_bounds, date_windows, narrowed_source
from views.trino_checks import check_tree, check_types, unresolved_column
from views.trino_rewrites import rewrite
from views.trino_types import ColumnTypes, TrinoTyped, mapping_schema

_NAMED = (exp.Alias, exp.Column, exp.Star, exp.Dot)


def name_outputs(tree: exp.Expr) -> None:
    """Name every unnamed projection ``_col<i>``, as Trino does (``SELECT 1`` is ``_col0``)."""
    for select in tree.find_all(exp.Select):
        for position, projection in enumerate(select.expressions):
            if not isinstance(projection, _NAMED):
                projection.replace(exp.alias_(projection.copy(), f"_col{position}"))


def typed_tree(tree: exp.Expr, relations: Mapping[str, ColumnTypes]) -> exp.Expr:
    """``tree`` qualified and annotated with Trino types (steps 2-4 of the module doc)."""
    schema = mapping_schema(relations)
    name_outputs(tree)
    original = tree.copy()
    try:
        tree = qualify(
            tree,
            schema=schema,
            dialect=TrinoTyped,
            db=NAMESPACE,
            expand_alias_refs=False,
            validate_qualify_columns=True,
            quote_identifiers=True,
            isolate_tables=False,
        )
    except OptimizeError as e:
        if "could not be resolved" in str(e):
            raise unresolved_column(str(e), original) from e
        raise QueryError(f"cannot resolve the query's names: {e}. Fix the query.") from e
    return annotate_types(tree, schema=schema, dialect=TrinoTyped)


def translate(statement: exp.Expr, relations: Mapping[str, ColumnTypes]) -> exp.Expr:
    """A copy of an Athena AST whose DuckDB rendering gives Athena's answers (or raises)."""
    tree = statement.copy()
    if isinstance(tree, exp.Create):
        body = tree.expression
        if isinstance(body, exp.Query):
            body.replace(translate(body, relations))
        return tree
    check_tree(tree)
    if not isinstance(tree, exp.Query):
        return tree
    tree = typed_tree(tree, relations)
    check_types(tree)
    return push_below_windows(rewrite(tree), relations)


#: Translated view bodies by (Athena DDL, relation types), most recent last: typing the gold
#: view costs ~0.1 s of sqlglot, and a narrowed read needs its body for every query.
_BODIES: OrderedDict[tuple[str, str], exp.Query] = OrderedDict()
_BODIES_KEPT: Final = 32


def _translated_body(
    athena_sql: str, body: exp.Query, relations: Mapping[str, ColumnTypes]
) -> exp.Query:
    key = (athena_sql, repr(sorted(relations.items())))
    cached = _BODIES.get(key)
    if cached is None:
        translated = translate(body, relations)
        if not isinstance(translated, exp.Query):
            raise QueryError("a view body did not stay a query after translation")
        cached = _BODIES[key] = translated
        while len(_BODIES) > _BODIES_KEPT:
            _BODIES.popitem(last=False)
    _BODIES.move_to_end(key)
    return cached.copy()


def push_below_windows(tree: exp.Expr, relations: Mapping[str, ColumnTypes]) -> exp.Expr:
    """Inline each view reference filtered on its date column, its table read narrowed.

    ``tree`` is typed and rewritten (DuckDB's meaning); the view's body is translated the
    same way and its one table reference replaced by :func:`views.predicates.
    narrowed_source`. The query's own ``WHERE`` stays: it drops the rows read only so
    that the visible rows see their previous one. A view or filter of another shape is
    left as it was.
    """
    from views.parsing import view_definitions

    views = view_definitions()
    for reference in list(tree.find_all(exp.Table)):
        view = views.get(reference.name.lower())
        if view is None or reference.db.lower() != NAMESPACE or reference.args.get("version"):
            continue
        for column, (lower, upper) in date_bounds(reference).items():
            body = _translated_body(view.athena_sql, view.body, relations)
            windows = date_windows(body, column)
            if windows is None or not (lower or upper):
                continue
            tables = [t for t in body.find_all(exp.Table) if t.db]
            if len(tables) != 1:
                break
            table = tables[0]
            source = narrowed_source(
                exp.table_(table.name, db=table.db, quoted=True),
                windows,
                lower[0] if lower else None,
                upper,
            )
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
            table.replace(exp.Subquery(this=source, alias=alias.copy()))
            outer = reference.args.get("alias") or exp.TableAlias(
                this=exp.to_identifier(reference.name)
            )
            reference.replace(exp.Subquery(this=body, alias=outer.copy()))
            break
    return tree

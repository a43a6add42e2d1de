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

NULL ordering needs no rewrite: both engines sort NULLs last in both directions, and
:func:`views.sandbox.connect` pins DuckDB's ``default_null_order`` so a changed default
cannot creep in.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from catalog.iceberg.tables import NAMESPACE
from views.errors import QueryError
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
    return rewrite(tree)

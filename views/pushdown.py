"""Predicates of a query pushed into the Iceberg file plan (partition and file pruning).

:func:`row_filter` turns the pushable conjuncts :mod:`views.predicates` found into a
pyiceberg row filter. Constants are evaluated by DuckDB itself (UTC), translated with
Athena's meaning, so ``CURRENT_DATE - INTERVAL '7' DAY`` or ``date_add('day', -1, DATE
'...')`` prune exactly the files the query's own ``WHERE`` would keep rows of. Anything
that cannot be typed exactly for the column is dropped, which only widens the plan: DuckDB
applies the full ``WHERE`` afterwards anyway.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import duckdb
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
from pyiceberg.table import Table
from pyiceberg.types import IcebergType

from views.outline import ScanPredicate
from views.plan_cache import typed_constant
from views.scan import constant_kind


def row_filter(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    references: list[tuple[ScanPredicate, ...]] | None,
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
    predicate: ScanPredicate,
) -> BooleanExpression | None:
    if predicate.column not in types:
        return None
    name, field_type = types[predicate.column]
    values: list[IcebergLiteral[Any]] = []
    for expression in predicate.constants:
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
    connection: duckdb.DuckDBPyConnection, expression: str, field_type: IcebergType
) -> IcebergLiteral[Any] | None:
    """Evaluate a constant (:func:`views.plan_cache.typed_constant`, DuckDB, UTC) and keep
    it only if it types exactly as the column."""
    kind = constant_kind(field_type)
    constant = None if kind is None else typed_constant(connection, expression, kind)
    return None if constant is None else literal(constant)

"""Conjuncts of a query's ``WHERE`` that a table scan may apply early (file pruning).

For scans that scale, the planner collects, per table reference, the conjuncts of the
enclosing ``WHERE`` that compare one of the table's columns with a constant
(:class:`Predicate`): a reader may push them into the Iceberg file plan (partition and file
pruning) because the engine applies the full ``WHERE`` afterwards anyway. Predicates are
never taken from a view's outside: a filter on the gold view's ``date`` must not reach the
silver scan, or the first day's ``followers_gained`` would lose its previous snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from sqlglot import exp

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
class Predicate:
    """``column <op> value(s)``: one conjunct of a ``WHERE`` a scan may apply early.

    ``values`` are constant Athena expressions (no column, no subquery); the reader
    evaluates them and drops the predicate when it cannot type them for the column.
    """

    column: str
    op: PredicateOp
    values: tuple[exp.Expr, ...]


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

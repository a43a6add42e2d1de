"""Conjuncts of a query's ``WHERE`` that a table scan may apply early (file pruning).

For scans that scale, the planner collects, per table reference, the conjuncts of the
enclosing ``WHERE`` that compare one of the table's columns with a constant
(:class:`Predicate`): a reader may push them into the Iceberg file plan (partition and file
pruning) because the engine applies the full ``WHERE`` afterwards anyway. Predicates are
never taken from a view's outside: a filter on the gold view's ``date`` must not reach the
silver scan, or the first day's ``followers_gained`` would lose its previous snapshot.

The translator does narrow that read, differently and exactly (:func:`date_windows`,
:func:`narrowed_source`, used by :func:`views.dialect.push_below_windows`): the filtered
days, the ``LOOKBACK_DAYS`` before them, and the older rows of the keys that have no row in
those days, so every row the query keeps sees its previous one. DuckDB then skips the row
groups of the other days (``top_5_most_followed_today`` over 3.65 M rows: 4.2 -> 0.4 CPU-s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope

from views.outline import PredicateOp

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
    if isinstance(node, exp.Cast) and node.to.this == exp.DType.DATE and _typed_date(node.this):
        node = node.this  # a DATE cast to DATE (typed trees only): the column itself
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


# --- Filters on a view's date column, below the view's windows (exact) -----------------
#
# A filter on the gold view's ``date`` cannot simply move below ``LAG``: the previous row of
# an artist's first visible day lies before the filtered range. It can move below exactly
# when the view's shape is known (:func:`date_windows`) and the read keeps what LAG needs:
#
# * an upper bound (``date <= U``, ``date < U``, ``date = U``) moves below as is: LAG looks
#   only backward, and a window partitioned by the date sees only its own day;
# * a lower bound X (``date >= X``, ``date > X``, ``date = X``) reads the table from
#   ``X - LOOKBACK_DAYS`` on, plus every older row of each key whose rows in that read all
#   pass the bound (it has no row in the lookback days, so its previous row, if any, is
#   older). A key with a row in the lookback days finds its previous row there; a key new
#   in the range has no older row and reads nothing more.
#
# Every visible row (one the query's own WHERE keeps) thus sees exactly the rows it saw
# over the whole table: its day's rows (all read) and its key's previous row. Rows that
# are read but not visible may compute other values; the query's WHERE, which stays,
# drops them. ``tests/views/test_window_pushdown.py`` compares the two plans on data with
# gaps, new keys and keys that leave.

#: Days read before a lower bound for the previous row (LAG) of each key. A key without a
#: row in those days costs a second read of its older rows only, so this trades rows read
#: on every query (8 days of 10,000 artists: 80,000 rows) against that rarer read.
LOOKBACK_DAYS: Final = 7

_LOWER: Final[frozenset[PredicateOp]] = frozenset({">=", ">", "="})
_UPPER: Final[frozenset[PredicateOp]] = frozenset({"<=", "<", "="})


@dataclass(frozen=True)
class DateWindows:
    """A view whose output column is its one table's date column, windowed exactly enough.

    ``key`` is the table column every ``LAG`` of the view partitions by (``None`` when the
    view has no LAG, only windows partitioned by the date).
    """

    table_name: str
    date_column: str
    key: str | None


def _trace(scope: Scope, column: exp.Column) -> tuple[exp.Table, str] | None:
    """The table column a qualified column of ``scope`` is, through CTEs and subqueries."""
    source = scope.sources.get(column.table)
    if isinstance(source, exp.Table):
        return source, column.name.lower()
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select):
        for projection in source.expression.expressions:
            if projection.alias_or_name.lower() == column.name.lower():
                inner = projection.unalias()
                return _trace(source, inner) if isinstance(inner, exp.Column) else None
    return None


def _traced(scope: Scope, node: exp.Expr | None) -> tuple[exp.Table, str] | None:
    return _trace(scope, node) if isinstance(node, exp.Column) else None


def _row_wise(scope: Scope) -> bool:
    """A plain ``SELECT`` of one source: no join, filter, grouping, limit or subquery."""
    select = scope.expression
    if not isinstance(select, exp.Select) or scope.is_subquery or scope.is_udtf:
        return False
    blocked = ("joins", "laterals", "where", "group", "having", "qualify", "limit", "offset")
    if any(select.args.get(arg) for arg in blocked) or select.args.get("distinct"):
        return False
    return len(scope.sources) == 1 and not scope.subqueries


def _is_lag_by_date(window: exp.Window) -> bool:
    """``LAG(x)`` or ``LAG(x, 1[, default])`` ordered by one ascending key, no frame."""
    function = window.this
    if not isinstance(function, exp.Lag) or window.args.get("spec") is not None:
        return False
    offset = function.args.get("offset")
    if offset is not None and not (isinstance(offset, exp.Literal) and offset.this == "1"):
        return False
    order = window.args.get("order")
    keys = order.expressions if isinstance(order, exp.Order) else []
    return len(keys) == 1 and not keys[0].args.get("desc")


def date_windows(body: exp.Query, output: str) -> DateWindows | None:
    """How a filter on ``output`` may move below the windows of a view's qualified ``body``.

    ``None`` unless: every scope is a row-wise ``SELECT`` over one source, the whole body
    reads one table once, ``output`` is that table's column D unchanged, aggregates appear
    only as window functions, and every window is partitioned by D or is a one-row ``LAG``
    ordered by D alone, all such LAGs partitioned by the same one table column.
    """
    try:
        root = build_scope(body)
    except (ValueError, KeyError):
        return None
    if root is None:
        return None
    scopes = list(root.traverse())
    if not all(_row_wise(scope) for scope in scopes):
        return None
    tables = [s for scope in scopes for s in scope.sources.values() if isinstance(s, exp.Table)]
    if len(tables) != 1:
        return None
    table = tables[0]
    if not isinstance(root.expression, exp.Select):
        return None
    projections = [
        p for p in root.expression.expressions if p.alias_or_name.lower() == output.lower()
    ]
    traced = _traced(root, projections[0].unalias()) if len(projections) == 1 else None
    if traced is None or traced[0] is not table:
        return None
    date_column = traced[1]
    for function in body.find_all(exp.AggFunc):
        parent = function.parent
        if not (isinstance(parent, exp.Window) and parent.this is function):
            return None
    keys: set[str] = set()
    for scope in scopes:
        for window in scope.find_all(exp.Window):
            partition = [_traced(scope, p) for p in window.args.get("partition_by") or []]
            if (table, date_column) in [(t, c) for t, c in filter(None, partition)]:
                continue  # one day's rows only: all read for every visible day
            if not _is_lag_by_date(window) or len(partition) != 1 or partition[0] is None:
                return None
            ordered = window.args["order"].expressions[0]
            if _traced(scope, ordered.this) != (table, date_column):
                return None
            if partition[0][0] is not table:
                return None
            keys.add(partition[0][1])
    if len(keys) > 1:
        return None
    return DateWindows(table.name.lower(), date_column, next(iter(keys), None))


def _typed_date(node: exp.Expr) -> bool:
    kind = node.type
    return isinstance(kind, exp.DataType) and kind.this == exp.DType.DATE


def date_bounds(
    reference: exp.Table,
) -> dict[str, tuple[list[tuple[PredicateOp, exp.Expr]], list[tuple[PredicateOp, exp.Expr]]]]:
    """Per column of ``reference`` (a typed tree), its DATE lower and upper bounds.

    A conjunct counts when it compares the column (or ``CAST(column AS DATE)`` of a DATE
    column, a no-op) with a DATE-typed constant; values are the tree's own nodes.
    """
    found: dict[
        str, tuple[list[tuple[PredicateOp, exp.Expr]], list[tuple[PredicateOp, exp.Expr]]]
    ] = {}
    for predicate in pushable_predicates(reference):
        if predicate.op == "in" or not all(_typed_date(v) for v in predicate.values):
            continue
        lower, upper = found.setdefault(predicate.column, ([], []))
        if predicate.op in _LOWER:
            lower.append((predicate.op, predicate.values[0]))
        if predicate.op in _UPPER:
            upper.append((predicate.op, predicate.values[0]))
    return found


_BOUND: Final[dict[PredicateOp, type[exp.Binary]]] = {
    "=": exp.LTE,  # an equality's upper bound; its lower bound is ">=" (see narrowed_source)
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def narrowed_source(
    relation: exp.Table,
    windows: DateWindows,
    lower: tuple[PredicateOp, exp.Expr] | None,
    upper: list[tuple[PredicateOp, exp.Expr]],
) -> exp.Query:
    """The read of ``relation`` that keeps only what the bounds' visible rows need (above).

    ``relation``: the view's table; bound values are DATE-typed constant expressions of the
    translated tree (copied, never moved). Built as a sqlglot tree, so the caller splices it
    in place of the view's table reference.
    """

    def date(alias: str | None = None) -> exp.Column:
        return exp.column(windows.date_column, table=alias, quoted=True)

    def compare(column: exp.Expr, op: PredicateOp, value: exp.Expr) -> exp.Expr:
        return _BOUND[op](this=column, expression=exp.paren(value.copy(), copy=False))

    def bounded(first: exp.Expr, alias: str | None = None) -> exp.Expr:
        return exp.and_(first, *(compare(date(alias), op, v) for op, v in upper))

    def table(alias: str | None = None) -> exp.Table:
        read = relation.copy()
        if alias is not None:
            read.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        return read

    if lower is None:
        return exp.select("*").from_(table()).where(bounded(exp.true()))
    op, value = lower
    first_op: PredicateOp = ">=" if op == "=" else op
    if windows.key is None:
        return exp.select("*").from_(table()).where(bounded(compare(date(), first_op, value)))
    since = exp.cast(
        exp.Sub(
            this=exp.paren(value.copy(), copy=False),
            expression=exp.Interval(
                this=exp.Literal.string(str(LOOKBACK_DAYS)), unit=exp.var("DAY")
            ),
        ),
        exp.DataType.build("DATE"),
    )
    key = "__key"
    recent = exp.select("*").from_(table()).where(bounded(exp.GTE(this=date(), expression=since)))
    flagged = (
        exp.select(exp.alias_(exp.column(windows.key, "__recent", quoted=True), key))
        .from_(table("__recent"))
        .where(bounded(exp.GTE(this=date("__recent"), expression=since.copy()), "__recent"))
        .group_by(exp.column(windows.key, "__recent", quoted=True))
        .having(compare(exp.Min(this=date("__recent")), first_op, value))
    )
    older = (
        exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("__older")))
        .from_(table("__older"))
        .join(
            flagged.subquery("__flagged"),
            join_type="SEMI",
            on=exp.NullSafeEQ(
                this=exp.column(windows.key, "__older", quoted=True),
                expression=exp.column(key, "__flagged"),
            ),
        )
        .where(exp.LT(this=date("__older"), expression=since.copy()))
    )
    return exp.union(recent, older, distinct=False)

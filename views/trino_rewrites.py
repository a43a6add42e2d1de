"""Rewrites that keep Athena's (Trino's) answers when the SQL runs on DuckDB.

Each rewrite runs on a tree that sqlglot has qualified and annotated with types
(:func:`views.dialect.translate`), and only where the two engines' capability flags
(:mod:`views.capabilities`) differ:

* ``integer_division_truncates``: ``int / int`` becomes DuckDB's ``//`` (truncates toward
  zero, and raises on a zero divisor as Trino does);
* ``decimal_division_stays_decimal``: ``decimal / decimal`` is cast back to DECIMAL with the
  wider operand's scale (DuckDB divides decimals as doubles), a zero divisor raises;
* ``cast_double_to_int_rounds_half_away``: ``CAST(<double> AS <integer>)`` rounds first
  (DuckDB's ``round`` is half away from zero, its cast half to even);
* ``date_arithmetic_keeps_date``: ``date_add``, ``date_trunc`` and ``DATE +/- INTERVAL``
  on a DATE are cast back to DATE (DuckDB returns a TIMESTAMP);
* ``date_diff_counts_whole_units``: ``date_diff`` becomes DuckDB's ``date_sub``, which
  counts whole units elapsed (``date_diff`` counts boundaries crossed);
* ``array_subscript_out_of_range_raises``: ``a[i]`` raises Trino's error outside
  ``1..cardinality(a)``; ``element_at`` keeps returning NULL;
* functions DuckDB spells differently: ``format_datetime`` (Joda pattern to strftime),
  ``at_timezone`` (DuckDB's ``timezone``).
"""

from __future__ import annotations

import re
from typing import Final

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from views.capabilities import ATHENA, DUCKDB, EngineCapabilities, differs
from views.trino_types import TrinoTyped

_INTEGERS: Final = exp.DataType.INTEGER_TYPES
_FRACTIONAL: Final = {exp.DType.DOUBLE, exp.DType.FLOAT, exp.DType.DECIMAL}
_DATE_UNITS: Final = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}

#: Joda-Time pattern letters (Trino's format_datetime) -> strftime, longest runs first.
_JODA: Final[dict[str, str]] = {
    "yyyy": "%Y",
    "yy": "%y",
    "y": "%Y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSSSSS": "%f",
    "SSS": "%g",
    "a": "%p",
    "ZZ": "%z",
    "Z": "%z",
    "z": "%Z",
    "DDD": "%j",
}
_JODA_RUN: Final = re.compile(r"'[^']*'|([A-Za-z])\1*")


def _kind(node: exp.Expr) -> exp.DType | None:
    kind = node.type
    return kind.this if isinstance(kind, exp.DataType) else None


def _raise(message: str) -> exp.Expr:
    return exp.Anonymous(this="error", expressions=[exp.Literal.string(message)])


def _nonzero(divisor: exp.Expr) -> exp.Expr:
    """``divisor``, or Trino's ``Division by zero`` error when it is 0."""
    zero = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=zero, true=_raise("Division by zero"))], default=divisor)


def _scale(node: exp.Expr) -> int:
    kind = node.type
    if isinstance(kind, exp.DataType) and kind.this == exp.DType.DECIMAL:
        params = kind.expressions
        if len(params) == 2:
            return int(params[1].name)
        return 0
    return 0


def _division(node: exp.Div) -> exp.Expr:
    left, right = _kind(node.left), _kind(node.right)
    if left in _INTEGERS and right in _INTEGERS:
        return exp.IntDiv(this=node.left.copy(), expression=node.right.copy())
    decimals = {left, right} <= {*_INTEGERS, exp.DType.DECIMAL} and exp.DType.DECIMAL in {
        left,
        right,
    }
    if decimals:
        scale = max(_scale(node.left), _scale(node.right))
        quotient = exp.Div(this=node.left.copy(), expression=_nonzero(node.right.copy()))
        return exp.cast(quotient, exp.DataType.build(f"DECIMAL(38, {scale})"))
    node.set("typed", False)
    return node


def _cast(node: exp.Cast) -> exp.Expr:
    if node.to.this in _INTEGERS and _kind(node.this) in _FRACTIONAL:
        node.this.replace(exp.Round(this=node.this.copy()))
    return node


def _as_date(node: exp.Expr) -> exp.Expr:
    return exp.cast(node, exp.DataType.build("DATE"))


def _unit(node: exp.Expr) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if isinstance(unit, exp.Expr) else "DAY"


def _date_function(node: exp.Expr) -> exp.Expr:
    operand = node.this
    if _kind(operand) == exp.DType.DATE and _unit(node) in _DATE_UNITS:
        return _as_date(node.copy())
    return node


def _date_interval(node: exp.Add | exp.Sub) -> exp.Expr:
    kinds = {_kind(node.left), _kind(node.right)}
    if kinds == {exp.DType.DATE, exp.DType.INTERVAL}:
        return _as_date(node.copy())
    return node


def _date_diff(node: exp.DateDiff) -> exp.Expr:
    start, end = node.expression, node.this
    return exp.Anonymous(
        this="date_sub",
        expressions=[exp.Literal.string(_unit(node).lower()), start.copy(), end.copy()],
    )


def _trino_index(bracket: exp.Bracket) -> exp.Expr:
    """The 1-based index Trino wrote: the parser shifted it to 0-based when it could type it."""
    index = bracket.expressions[0]
    offset = bracket.args.get("offset") or 0
    parsed_type = annotate_types(index.copy(), dialect=TrinoTyped).type
    shifted = isinstance(parsed_type, exp.DataType) and parsed_type.this in _INTEGERS
    if offset == 0 and shifted:
        if isinstance(index, exp.Literal):
            return exp.Literal.number(int(index.this) + 1)
        return exp.Add(this=exp.paren(index.copy()), expression=exp.Literal.number(1))
    unchanged: exp.Expr = index.copy()
    return unchanged


def _subscript(
    node: exp.Bracket, source: EngineCapabilities, target: EngineCapabilities
) -> exp.Expr:
    if node.args.get("json_access") or len(node.expressions) != 1:
        return node
    if _kind(node.this) != exp.DType.ARRAY:
        return node
    index = _trino_index(node)
    pinned = exp.Bracket(this=node.this.copy(), expressions=[index], offset=1)
    if node.args.get("safe") or not differs("array_subscript_out_of_range_raises", source, target):
        pinned.set("safe", node.args.get("safe"))
        return pinned
    length = exp.Anonymous(this="len", expressions=[node.this.copy()])
    too_far = exp.GT(this=index.copy(), expression=length.copy())
    message = exp.DPipe(
        this=exp.DPipe(
            this=exp.DPipe(
                this=exp.Literal.string(
                    "Array subscript must be less than or equal to array length: "
                ),
                expression=exp.cast(index.copy(), "VARCHAR"),
            ),
            expression=exp.Literal.string(" > "),
        ),
        expression=exp.cast(length, "VARCHAR"),
    )
    error = exp.Anonymous(this="error", expressions=[message])
    zero = exp.EQ(this=index.copy(), expression=exp.Literal.number(0))
    negative = exp.LT(this=index.copy(), expression=exp.Literal.number(0))
    return exp.Case(
        ifs=[
            exp.If(this=zero, true=_raise("SQL array indices start at 1")),
            exp.If(this=negative, true=_raise("Array subscript is negative")),
            exp.If(this=too_far, true=error),
        ],
        default=pinned,
    )


def joda_to_strftime(pattern: str) -> str:
    """A Joda-Time pattern (``format_datetime``) as a strftime format (DuckDB)."""
    out: list[str] = []
    position = 0
    for match in _JODA_RUN.finditer(pattern):
        out.append(pattern[position : match.start()].replace("%", "%%"))
        run = match.group(0)
        if run.startswith("'"):
            out.append("'" if run == "''" else run[1:-1].replace("%", "%%"))
        else:
            out.append(_JODA.get(run, run))
        position = match.end()
    out.append(pattern[position:].replace("%", "%%"))
    return "".join(out)


def _array_function(node: exp.Expr) -> exp.Expr:
    """Array functions whose DuckDB namesake means something else.

    ``slice(a, start, length)`` is DuckDB's ``list_slice(a, start, end)``; Trino's
    ``array_distinct`` keeps first occurrences in order, DuckDB's does not promise an order.
    """
    array = node.this
    if isinstance(node, exp.ArraySlice):
        start, length = node.args.get("start"), node.args.get("end")
        if not isinstance(start, exp.Expr) or not isinstance(length, exp.Expr):
            return node
        end = exp.Sub(
            this=exp.Add(this=start.copy(), expression=length.copy()),
            expression=exp.Literal.number(1),
        )
        return exp.Anonymous(this="list_slice", expressions=[array.copy(), start.copy(), end])
    if isinstance(node, exp.ArrayDistinct):
        x, i = exp.to_identifier("__element"), exp.to_identifier("__position")
        first = exp.EQ(
            this=exp.Anonymous(
                this="list_position", expressions=[array.copy(), exp.column(x.copy())]
            ),
            expression=exp.column(i.copy()),
        )
        keep = exp.Lambda(this=first, expressions=[x, i])
        return exp.Anonymous(this="list_filter", expressions=[array.copy(), keep])
    return node


def _typeof(node: exp.Typeof) -> exp.Expr:
    """``typeof(x)`` is Trino's type name of ``x``, known from the annotation."""
    from views.trino_checks import trino_type_name

    name = trino_type_name(node.this)
    return node if name == "unknown" else exp.Literal.string(name)


def _function(node: exp.Anonymous) -> exp.Expr:
    name = node.name.lower()
    args = node.expressions
    if name == "format_datetime" and len(args) == 2 and isinstance(args[1], exp.Literal):
        fmt = exp.Literal.string(joda_to_strftime(args[1].this))
        return exp.Anonymous(this="strftime", expressions=[args[0].copy(), fmt])
    if name == "at_timezone" and len(args) == 2:
        return exp.Anonymous(this="timezone", expressions=[args[1].copy(), args[0].copy()])
    return node


def rewrite(
    tree: exp.Expr, source: EngineCapabilities = ATHENA, target: EngineCapabilities = DUCKDB
) -> exp.Expr:
    """Apply every rewrite the two engines' flags call for, on an annotated tree (in place)."""

    def one(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Div) and differs("integer_division_truncates", source, target):
            return _division(node)
        if isinstance(node, exp.Cast) and differs(
            "cast_double_to_int_rounds_half_away", source, target
        ):
            return _cast(node)
        if differs("date_arithmetic_keeps_date", source, target):
            if isinstance(node, exp.DateAdd | exp.DateSub | exp.TimestampTrunc | exp.DateTrunc):
                return _date_function(node)
            if isinstance(node, exp.Add | exp.Sub):
                return _date_interval(node)
        if isinstance(node, exp.DateDiff) and differs(
            "date_diff_counts_whole_units", source, target
        ):
            return _date_diff(node)
        if isinstance(node, exp.Bracket):
            return _subscript(node, source, target)
        if isinstance(node, exp.Anonymous):
            return _function(node)
        if isinstance(node, exp.ArraySlice | exp.ArrayDistinct):
            return _array_function(node)
        if isinstance(node, exp.Typeof):
            return _typeof(node)
        return node

    # Post-order (children first), so a rewritten child is seen typed by its parent: the
    # replacement inherits the original node's Trino type.
    for node in reversed(list(tree.dfs())):
        new = one(node)
        if new is node:
            continue
        if new.type is None or _kind(new) == exp.DType.UNKNOWN:
            new.type = node.type
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree

"""What Athena (Trino) refuses, refused locally too, with Athena's reason.

DuckDB is lenient where Trino is strict: it casts ``'2026-11-04'`` to a DATE to compare it,
sees a ``SELECT`` alias in ``WHERE``, and accepts PostgreSQL's ``ILIKE``, ``::`` and ``==``.
A query relying on any of those "works locally" and fails on Athena, so the local engine
refuses them first, each with one :class:`~views.errors.AthenaRejectsError` that quotes the
offending expression, gives the error Athena reports and says how to write it instead.

Three layers, all sqlglot machinery: tokens (:func:`check_tokens`: ``::``, ``==``,
backquotes, which the parser would silently normalise away), the parsed tree
(:func:`check_tree`: ``ILIKE``), and the typed tree (:func:`check_types`: comparisons and
arithmetic between type families Trino does not coerce). Unresolvable columns come from
sqlglot's ``qualify`` (:func:`unresolved_column`), which the translator runs with alias
expansion off, as Trino resolves names.
"""

from __future__ import annotations

from typing import Final

from sqlglot import exp
from sqlglot.dialects.athena import Athena
from sqlglot.tokenizer_core import TokenType

from views.errors import AthenaRejectsError

_NUMERIC: Final = exp.DataType.NUMERIC_TYPES
_TEXT: Final = exp.DataType.TEXT_TYPES
_DATETIME: Final = {
    exp.DType.DATE,
    exp.DType.DATE32,
    exp.DType.TIMESTAMP,
    exp.DType.TIMESTAMPTZ,
    exp.DType.TIMESTAMPLTZ,
    exp.DType.TIMESTAMPNTZ,
    exp.DType.DATETIME,
    exp.DType.TIMESTAMP_S,
    exp.DType.TIMESTAMP_MS,
    exp.DType.TIMESTAMP_NS,
}
_COMPARISONS: Final[dict[type[exp.Expr], str]] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.NullSafeEQ: "IS NOT DISTINCT FROM",
    exp.NullSafeNEQ: "IS DISTINCT FROM",
}
_ARITHMETIC: Final[dict[type[exp.Expr], str]] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
}


def _reject(offending: str, athena_says: str, instead: str) -> AthenaRejectsError:
    return AthenaRejectsError(
        f"Athena would reject `{offending}`: {athena_says}. {instead} "
        "(the local engine keeps Athena's rules so a query that runs here runs there)."
    )


def check_tokens(sql: str) -> None:
    """Refuse PostgreSQL/Hive spellings that sqlglot's Athena parser would accept."""
    tokens = Athena().tokenize(sql)
    for position, token in enumerate(tokens):
        where = f"line {token.line}:{max(token.col - len(token.text) + 1, 1)}"
        before = tokens[position - 1].text if position else ""
        after = tokens[position + 1].text if position + 1 < len(tokens) else ""
        if token.token_type == TokenType.DCOLON:
            raise _reject(
                f"{before}::{after}",
                f"{where}: mismatched input '::'",
                f"Athena has no `::` cast: write CAST({before} AS {after})",
            )
        if token.token_type == TokenType.EQ and token.text == "==":
            raise _reject(
                f"{before} == {after}",
                f"{where}: mismatched input '='",
                f"Trino's equality operator is a single `=`: write {before} = {after}",
            )
        if sql[token.start : token.start + 1] == "`":
            raise _reject(
                f"`{token.text}`",
                f"{where}: backquoted identifiers are not supported; use double quotes to "
                "quote identifiers",
                f'Write "{token.text}"',
            )


def check_tree(tree: exp.Expr) -> None:
    """Refuse syntax Trino's grammar lacks but sqlglot parses (``ILIKE``)."""
    for node in tree.find_all(exp.ILike):
        text = node.sql(dialect="duckdb")
        raise _reject(
            text,
            "mismatched input 'ILIKE'",
            "Trino has no ILIKE: write lower(x) LIKE lower(pattern)",
        )


def trino_type_name(node: exp.Expr) -> str:
    """The type as Trino's messages print it (``varchar(10)`` for a string literal)."""
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    kind = node.type
    if not isinstance(kind, exp.DataType):
        return "unknown"
    return kind.sql(dialect="trino").lower().replace(", ", ",")


def _family(node: exp.Expr) -> str | None:
    kind = node.type.this if isinstance(node.type, exp.DataType) else None
    if kind is None or kind in {exp.DType.UNKNOWN, exp.DType.NULL}:
        return None
    if isinstance(node, exp.Null):
        return None
    if kind in _NUMERIC:
        return "number"
    if kind in _TEXT:
        return "text"
    if kind in _DATETIME:
        return "datetime"
    if kind == exp.DType.BOOLEAN:
        return "boolean"
    if kind == exp.DType.INTERVAL:
        return "interval"
    return None


def _comparable(left: exp.Expr, right: exp.Expr) -> bool:
    families = {_family(left), _family(right)}
    return None in families or len(families) == 1


def _hint(left: exp.Expr, right: exp.Expr) -> str:
    families = {_family(left), _family(right)}
    if families == {"datetime", "text"}:
        return "Compare with a typed literal (DATE '2026-11-04') or CAST(... AS DATE)"
    return "CAST one side to the other's type"


def _check_comparison(node: exp.Expr) -> None:
    if isinstance(node, exp.Between):
        for bound in (node.args.get("low"), node.args.get("high")):
            if isinstance(bound, exp.Expr) and not _comparable(node.this, bound):
                raise _reject(
                    node.sql(dialect="athena"),
                    f"Cannot check if {trino_type_name(node.this)} is BETWEEN "
                    f"{trino_type_name(bound)} and {trino_type_name(bound)}",
                    _hint(node.this, bound),
                )
        return
    if isinstance(node, exp.In):
        for item in node.expressions:
            if not _comparable(node.this, item):
                raise _reject(
                    node.sql(dialect="athena"),
                    "IN value and list items must be the same type or coercible to a common "
                    f"type. Cannot find common type between {trino_type_name(node.this)} and "
                    f"{trino_type_name(item)}",
                    _hint(node.this, item),
                )
        return
    operator = _COMPARISONS.get(type(node))
    if (
        operator is not None
        and isinstance(node, exp.Binary)
        and not _comparable(node.left, node.right)
    ):
        raise _reject(
            node.sql(dialect="athena"),
            f"Cannot apply operator: {trino_type_name(node.left)} {operator} "
            f"{trino_type_name(node.right)}",
            _hint(node.left, node.right),
        )


def _check_arithmetic(node: exp.Expr) -> None:
    operator = _ARITHMETIC.get(type(node))
    if operator is None or not isinstance(node, exp.Binary):
        return
    families = {_family(node.left), _family(node.right)}
    if families & {"text", "boolean"}:
        raise _reject(
            node.sql(dialect="athena"),
            f"Cannot apply operator: {trino_type_name(node.left)} {operator} "
            f"{trino_type_name(node.right)}",
            "CAST the text to a number (or a DATE) first; use || or concat() to join strings",
        )


def _check_concat(node: exp.Expr) -> None:
    if not isinstance(node, exp.DPipe):
        return
    for side in (node.left, node.right):
        if _family(side) in {"number", "datetime", "boolean"}:
            raise _reject(
                node.sql(dialect="athena"),
                f"Unexpected parameters ({trino_type_name(node.left)}, "
                f"{trino_type_name(node.right)}) for function concat",
                "CAST the non-text side AS VARCHAR first",
            )


def check_types(tree: exp.Expr) -> None:
    """Refuse comparisons and arithmetic between types Trino does not coerce."""
    for node in tree.walk():
        _check_comparison(node)
        _check_arithmetic(node)
        _check_concat(node)


def unresolved_column(message: str, tree: exp.Expr) -> AthenaRejectsError:
    """sqlglot's "could not be resolved" as Athena's "cannot be resolved", alias hint added."""
    name = message.split("'")[1] if message.count("'") >= 2 else message
    aliases = {
        projection.alias.lower()
        for select in tree.find_all(exp.Select)
        for projection in select.expressions
        if isinstance(projection, exp.Alias)
    }
    if name.lower() in aliases:
        instead = (
            f"{name!r} is a SELECT alias, which Athena does not see in WHERE, GROUP BY or "
            "HAVING: repeat the expression there, or select from a subquery"
        )
    else:
        instead = "Check the column name against the table (DESCRIBE it on Athena)"
    return _reject(name, f"Column '{name}' cannot be resolved", instead)

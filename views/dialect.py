"""Where Athena (Trino) and DuckDB disagree on the meaning of the same SQL text.

sqlglot translates syntax; a few semantics it leaves alone. The ones that change answers
are rewritten here, on the AST, before DuckDB SQL is generated:

* ``CAST(<double or decimal> AS <integer type>)``: Trino rounds half away from zero
  (``CAST(2.5 AS INTEGER)`` is 3), DuckDB rounds half to even (2). The contract's question
  ``CAST(avg(Followers_Gained) as INT)`` meets such ties, so the operand is wrapped in
  ``round()``, which DuckDB rounds half away from zero. Operand types come from sqlglot's
  annotator; an operand it cannot type (a bare column) is left as is.
"""

from __future__ import annotations

from typing import Final

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

_INTEGRAL: Final = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}
_FRACTIONAL: Final = {
    exp.DataType.Type.DOUBLE,
    exp.DataType.Type.FLOAT,
    exp.DataType.Type.DECIMAL,
}


def _round_fractional_to_integer(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Cast) and node.to.this in _INTEGRAL:
        operand = node.this
        if operand.type is not None and operand.type.this in _FRACTIONAL:
            operand.replace(exp.Round(this=operand.copy()))
    return node


def athena_semantics_for_duckdb(expression: exp.Expr) -> exp.Expr:
    """A copy of an Athena AST whose DuckDB rendering gives Athena's answers."""
    annotated = annotate_types(expression.copy(), dialect="athena")
    return annotated.transform(_round_fractional_to_integer)

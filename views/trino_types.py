"""Types as Trino gives them, for sqlglot's annotator: literals, date functions, table schemas.

Athena's rules (integer division, casts, DATE-returning functions) depend on operand types,
so the translator needs every column typed. The types come from where the data is defined:

* Iceberg tables: the live table's schema (or :data:`catalog.iceberg.tables.TABLES` when no table is
  loaded), mapped to Trino types by :func:`iceberg_columns`;
* metadata tables (``"t$snapshots"``): the Arrow schema pyiceberg returns
  (:func:`arrow_columns`);
* views from ``views/sql``: their bodies annotated against the tables above
  (:func:`views.relations.view_types`), so ``followers_gained`` is BIGINT and ``date`` a DATE.

:func:`iceberg_type` is the one mapping from Iceberg types: the local reader's DuckDB types
are these, translated by sqlglot (:func:`views.scan.duckdb_type`).

:class:`TrinoTyped` is the Trino dialect with the few annotations sqlglot leaves generic
made exact: ``2.5`` is ``DECIMAL(2,1)`` (not DOUBLE), ``2147483648`` a BIGINT, and
``date_trunc`` on a DATE stays a DATE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.optimizer.annotate_types import TypeAnnotator
from sqlglot.schema import MappingSchema

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.schema import Schema as IcebergSchema
    from pyiceberg.types import IcebergType

#: Column name -> Trino type (SQL text), per relation name in the ``spotify`` schema.
ColumnTypes = dict[str, str]
_INT_MAX: Final = 2**31 - 1


def _annotate_literal(annotator: TypeAnnotator, literal: exp.Literal) -> exp.Literal:
    """Trino's literal types: INTEGER, BIGINT past 2^31, DECIMAL(p,s), DOUBLE with exponent."""
    text = literal.this
    if literal.is_string:
        annotator._set_type(literal, exp.DType.VARCHAR)
    elif literal.is_int:
        big = abs(int(text)) > _INT_MAX
        annotator._set_type(literal, exp.DType.BIGINT if big else exp.DType.INT)
    elif "e" in text.lower():
        annotator._set_type(literal, exp.DType.DOUBLE)
    else:
        whole, _, fraction = text.lstrip("-").partition(".")
        digits = len(whole.lstrip("0")) + len(fraction)
        scale = len(fraction)
        precision = max(digits, scale, 1)
        annotator._set_type(literal, exp.DataType.build(f"DECIMAL({precision}, {scale})"))
    literal.meta["nonnull"] = True
    return literal


def _annotate_truncation(annotator: TypeAnnotator, node: exp.Expr) -> exp.Expr:
    """``date_trunc(unit, x)`` has the type of ``x`` (DATE stays DATE)."""
    operand = node.this
    annotator._set_type(node, operand.type if operand.type else exp.DType.UNKNOWN)
    return node


def _annotate_division(annotator: TypeAnnotator, node: exp.Div) -> exp.Div:
    """Integer / integer is the wider integer type in Trino (INTEGER / INTEGER is INTEGER)."""
    left, right = node.left.type, node.right.type
    integers = exp.DataType.INTEGER_TYPES
    if (
        isinstance(left, exp.DataType)
        and isinstance(right, exp.DataType)
        and left.this in integers
        and right.this in integers
    ):
        annotator._set_type(node, annotator._maybe_coerce(left, right))
        return node
    return annotator._annotate_div(node)


class TrinoTyped(Trino):
    """Trino, with sqlglot's annotator told Trino's literal and date-function types."""

    EXPRESSION_METADATA = {  # noqa: RUF012 (sqlglot's own class-level table)
        **Trino.EXPRESSION_METADATA,
        exp.Literal: {"annotator": _annotate_literal},
        exp.TimestampTrunc: {"annotator": _annotate_truncation},
        exp.DateTrunc: {"annotator": _annotate_truncation},
        exp.Div: {"annotator": _annotate_division},
    }


def iceberg_type(field_type: IcebergType) -> str:
    """The Trino type Athena shows for an Iceberg type."""
    from pyiceberg import types as t

    simple: dict[type[Any], str] = {
        t.StringType: "VARCHAR",
        t.LongType: "BIGINT",
        t.IntegerType: "INTEGER",
        t.DateType: "DATE",
        t.TimestamptzType: "TIMESTAMP(6) WITH TIME ZONE",
        t.TimestampType: "TIMESTAMP(6)",
        t.BooleanType: "BOOLEAN",
        t.DoubleType: "DOUBLE",
        t.FloatType: "REAL",
        t.BinaryType: "VARBINARY",
        t.UUIDType: "UUID",
        t.TimeType: "TIME(6)",
    }
    if type(field_type) in simple:
        return simple[type(field_type)]
    if isinstance(field_type, t.DecimalType):
        return f"DECIMAL({field_type.precision}, {field_type.scale})"
    if isinstance(field_type, t.ListType):
        return f"ARRAY({iceberg_type(field_type.element_type)})"
    if isinstance(field_type, t.MapType):
        return f"MAP({iceberg_type(field_type.key_type)}, {iceberg_type(field_type.value_type)})"
    if isinstance(field_type, t.StructType):
        fields = ", ".join(f'"{f.name}" {iceberg_type(f.field_type)}' for f in field_type.fields)
        return f"ROW({fields})"
    return "UNKNOWN"


def iceberg_columns(schema: IcebergSchema) -> ColumnTypes:
    """Column types of an Iceberg table schema, lower-case names, in schema order."""
    return {f.name.lower(): iceberg_type(f.field_type) for f in schema.fields}


def arrow_type(data_type: pa.DataType) -> str:
    """The Trino type of an Arrow column (metadata tables come from pyiceberg as Arrow)."""
    import pyarrow as pa

    if pa.types.is_boolean(data_type):
        return "BOOLEAN"
    if pa.types.is_int64(data_type):
        return "BIGINT"
    if pa.types.is_integer(data_type):
        return "INTEGER"
    if pa.types.is_floating(data_type):
        return "DOUBLE"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "VARCHAR"
    if pa.types.is_date(data_type):
        return "DATE"
    if pa.types.is_timestamp(data_type):
        zoned = getattr(data_type, "tz", None)
        return "TIMESTAMP(6) WITH TIME ZONE" if zoned else "TIMESTAMP(6)"
    if pa.types.is_map(data_type):
        return f"MAP({arrow_type(data_type.key_type)}, {arrow_type(data_type.item_type)})"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"ARRAY({arrow_type(data_type.value_type)})"
    if pa.types.is_struct(data_type):
        fields = ", ".join(f'"{f.name}" {arrow_type(f.type)}' for f in data_type)
        return f"ROW({fields})"
    return "UNKNOWN"


def arrow_columns(schema: pa.Schema) -> ColumnTypes:
    """Column types of an Arrow schema, lower-case names."""
    return {f.name.lower(): arrow_type(f.type) for f in schema}


def mapping_schema(relations: Mapping[str, ColumnTypes]) -> MappingSchema:
    """A sqlglot schema of the ``spotify`` database: relation -> column -> type."""
    from catalog.iceberg.names import NAMESPACE

    tables = {
        name: {column: exp.DataType.build(kind, dialect="trino") for column, kind in cols.items()}
        for name, cols in relations.items()
    }
    return MappingSchema({NAMESPACE: tables}, dialect=TrinoTyped, normalize=False)


def projected_columns(query: exp.Query) -> ColumnTypes:
    """Output column names and Trino types of an annotated, qualified query."""
    found: ColumnTypes = {}
    for projection in query.selects:
        kind = projection.type
        text = kind.sql(dialect="trino") if isinstance(kind, exp.DataType) else "UNKNOWN"
        found[projection.alias_or_name.lower()] = text or "UNKNOWN"
    return found

"""Where engines differ on the meaning of the same SQL, as capability flags (SQLMesh style).

SQLMesh describes each engine adapter by class-level flags (``SUPPORTS_INDEXES``,
``SUPPORTS_MATERIALIZED_VIEWS`` ...) and branches on the flags, never on the engine's name.
The translator here does the same: :mod:`views.trino_rewrites` compares the source
engine's flags (Athena engine v3, i.e. Trino) with the target's (DuckDB) and rewrites an
expression only where they differ. A new target engine is one more constant below, and
every rule it shares with Trino costs nothing.

Each flag is a fact checked against the engine's documentation and, for DuckDB, against
the installed version (``tests/views/test_capabilities.py`` pins the DuckDB ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class EngineCapabilities:
    """How one engine answers where engines commonly disagree."""

    name: str
    #: ``7 / 2`` on integers is 3 (truncated toward zero), not 3.5.
    integer_division_truncates: bool
    #: Integer (and decimal) division or modulus by zero raises instead of NULL or Infinity.
    division_by_zero_raises: bool
    #: ``decimal / decimal`` stays DECIMAL (scale of the wider operand), not DOUBLE.
    decimal_division_stays_decimal: bool
    #: ``CAST(2.5e0 AS INTEGER)`` is 3: a double rounds half away from zero, not to even.
    cast_double_to_int_rounds_half_away: bool
    #: ``date_add``/``date_trunc``/``DATE + INTERVAL`` on a DATE return a DATE (not TIMESTAMP).
    date_arithmetic_keeps_date: bool
    #: ``date_diff(unit, a, b)`` counts whole units elapsed, not unit boundaries crossed.
    date_diff_counts_whole_units: bool
    #: ``array[i]`` outside ``1..cardinality`` raises (``element_at`` gives NULL).
    array_subscript_out_of_range_raises: bool
    #: An unnamed output column is called ``_col<position>`` (0-based).
    unnamed_columns_are_positional: bool
    #: ``ILIKE``, ``x::type`` and ``==`` are accepted.
    accepts_postgres_syntax: bool
    #: A string may be compared with a DATE, or added to a number, by implicit cast.
    coerces_strings_implicitly: bool
    #: A ``SELECT`` alias may be referenced in ``WHERE``/``GROUP BY``/``HAVING``.
    select_aliases_visible_in_where: bool
    #: NULLs sort last by default in both directions (``ASC`` and ``DESC``).
    nulls_sort_last_both_ways: bool


#: Athena engine v3 (Trino): the meaning every query is written for.
ATHENA: Final = EngineCapabilities(
    name="athena",
    integer_division_truncates=True,
    division_by_zero_raises=True,
    decimal_division_stays_decimal=True,
    cast_double_to_int_rounds_half_away=True,
    date_arithmetic_keeps_date=True,
    date_diff_counts_whole_units=True,
    array_subscript_out_of_range_raises=True,
    unnamed_columns_are_positional=True,
    accepts_postgres_syntax=False,
    coerces_strings_implicitly=False,
    select_aliases_visible_in_where=False,
    nulls_sort_last_both_ways=True,
)

#: DuckDB 2.0 with the settings :func:`views.sandbox.connect` applies (``/`` is DuckDB's
#: float division, ``//`` its integer one; ``default_null_order`` set to ``nulls_last``).
DUCKDB: Final = EngineCapabilities(
    name="duckdb",
    integer_division_truncates=False,
    division_by_zero_raises=False,
    decimal_division_stays_decimal=False,
    cast_double_to_int_rounds_half_away=False,
    date_arithmetic_keeps_date=False,
    date_diff_counts_whole_units=False,
    array_subscript_out_of_range_raises=False,
    unnamed_columns_are_positional=False,
    accepts_postgres_syntax=True,
    coerces_strings_implicitly=True,
    select_aliases_visible_in_where=True,
    nulls_sort_last_both_ways=True,
)


def differs(flag: str, source: EngineCapabilities, target: EngineCapabilities) -> bool:
    """True when ``source`` and ``target`` disagree on ``flag`` (a field name)."""
    return bool(getattr(source, flag)) != bool(getattr(target, flag))

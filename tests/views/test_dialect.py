"""Athena semantics kept when the SQL runs on DuckDB: checked by running DuckDB itself."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from views.plan import generate


def duckdb_value(athena_sql: str) -> object:
    translated = generate(sqlglot.parse_one(athena_sql, read="athena"), "duckdb")
    [row] = duckdb.sql(translated).fetchall()
    return row[0]


@pytest.mark.parametrize(
    ("athena_sql", "athena_answer"),
    [
        ("SELECT CAST(2.5 AS INTEGER)", 3),  # Trino: half away from zero
        ("SELECT CAST(-2.5 AS BIGINT)", -3),
        ("SELECT CAST(3.5 AS INT)", 4),
        ("SELECT CAST(avg(x) AS INT) FROM (VALUES (22856), (22857)) AS t(x)", 22857),
        ("SELECT CAST(CAST(7 AS DOUBLE) / 2 AS INT)", 4),
        ("SELECT CAST('41' AS INT)", 41),  # strings are parsed, not rounded
        ("SELECT CAST(x AS INT) FROM (VALUES (5)) AS t(x)", 5),
    ],
)
def test_casts_to_integers_round_like_athena(athena_sql: str, athena_answer: int) -> None:
    assert duckdb_value(athena_sql) == athena_answer

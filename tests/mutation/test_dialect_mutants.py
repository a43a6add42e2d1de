"""views/dialect.py's own steps (naming outputs, qualifying, the translate pipeline).

``tests/views/`` (owned by the views rewrite) checks the dialect through DuckDB answers;
this module pins down what mutmut showed those leave open in ``views/dialect.py`` itself
(docs/mutation-testing.md). It lives here, not under ``tests/views/``, while that folder is
being rewritten.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from views.dialect import name_outputs, translate, typed_tree
from views.errors import QueryError

RELATIONS = {
    "artists_silver": {"artist_id": "varchar", "followers": "bigint", "snapshot_date": "date"}
}


def parse(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="athena")


def duckdb(sql: str) -> str:
    return translate(parse(sql), RELATIONS).sql("duckdb")


def test_unnamed_outputs_are_named_by_position_like_trino() -> None:
    tree = parse("SELECT 1, artist_id, followers + 1, s.*, x AS y, *, a.b FROM t AS s")
    name_outputs(tree)
    assert tree.sql("trino") == (
        "SELECT 1 AS _col0, artist_id, followers + 1 AS _col2, s.*, x AS y, *, a.b FROM t AS s"
    )


def test_every_select_of_a_query_is_named() -> None:
    tree = parse("SELECT 1 UNION ALL SELECT 2 FROM (SELECT 3) AS q")
    name_outputs(tree)
    assert tree.sql("trino") == (
        "SELECT 1 AS _col0 UNION ALL SELECT 2 AS _col0 FROM (SELECT 3 AS _col0) AS q"
    )


def test_translate_qualifies_names_and_leaves_the_statement_alone() -> None:
    statement = parse("SELECT 1, artist_id, followers / 2 FROM artists_silver")
    before = statement.sql("athena")
    translated = translate(statement, RELATIONS)
    assert statement.sql("athena") == before
    assert translated.sql("duckdb") == (
        'SELECT 1 AS "_col0", "artists_silver"."artist_id" AS "artist_id", '
        '"artists_silver"."followers" // 2 AS "_col2" '
        'FROM "spotify"."artists_silver" AS "artists_silver"'
    )


def test_star_is_expanded_from_the_schema() -> None:
    assert duckdb("SELECT s.* FROM artists_silver AS s") == (
        'SELECT "s"."artist_id" AS "artist_id", "s"."followers" AS "followers", '
        '"s"."snapshot_date" AS "snapshot_date" FROM "spotify"."artists_silver" AS "s"'
    )


def test_a_view_body_is_translated_inside_its_create() -> None:
    assert duckdb("CREATE VIEW v AS SELECT followers / 2 FROM artists_silver") == (
        'CREATE VIEW v AS SELECT "artists_silver"."followers" // 2 AS "_col0" '
        'FROM "spotify"."artists_silver" AS "artists_silver"'
    )


@pytest.mark.parametrize(
    "sql", ["CREATE TABLE x (a INT)", "INSERT INTO artists_silver (artist_id) VALUES ('a')"]
)
def test_statements_that_are_not_queries_pass_unchanged(sql: str) -> None:
    assert duckdb(sql) == parse(sql).sql("duckdb")


def test_ilike_is_refused_as_athena_would() -> None:
    with pytest.raises(QueryError, match="mismatched input 'ILIKE'"):
        duckdb("SELECT artist_id FROM artists_silver WHERE artist_id ILIKE 'a%'")


def test_an_alias_in_where_is_athenas_cannot_be_resolved() -> None:
    with pytest.raises(QueryError) as raised:
        duckdb("SELECT followers AS f FROM artists_silver WHERE f > 1")
    assert "Column 'f' cannot be resolved. 'f' is a SELECT alias" in str(raised.value)


def test_an_unknown_column_is_athenas_cannot_be_resolved() -> None:
    with pytest.raises(QueryError, match=r"Column 'nope' cannot be resolved\. Check the column"):
        duckdb("SELECT nope FROM artists_silver")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT a.x.y FROM artists_silver AS a", "Unknown column: x"),
        ("SELECT followers FROM artists_silver GROUP BY 5", "Unknown output column: 5"),
    ],
)
def test_other_name_errors_say_fix_the_query(sql: str, reason: str) -> None:
    with pytest.raises(QueryError) as raised:
        duckdb(sql)
    assert str(raised.value) == f"cannot resolve the query's names: {reason}. Fix the query."


def test_typed_tree_annotates_trino_types() -> None:
    tree = typed_tree(parse("SELECT followers, 1, 2.5 FROM artists_silver"), RELATIONS)
    types = [p.type.sql("trino") for p in tree.selects]  # type: ignore[attr-defined]
    assert types == ["BIGINT", "INTEGER", "DECIMAL(2, 1)"]

"""The relations a query names, from sqlglot's scopes (views.references), and what each
engine makes of them (views.plan): no data needed, the answers are the plans themselves."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from views.errors import QueryError, UnknownTableError
from views.parsing import ViewDefinition, parse_athena
from views.plan import athena_as_of_sql, plan_query
from views.references import expand
from views.sqlfiles import PARAMETERISED, bind_parameters, load_sql


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("WITH Recent AS (SELECT 1 AS x) SELECT x FROM recent", set()),
        ('WITH "RECENT" AS (SELECT 1 AS x) SELECT x FROM Recent', set()),
        ("WITH spotify_gold_view AS (SELECT 1 AS x) SELECT x FROM spotify_gold_view", set()),
        ("SELECT n FROM (SELECT count(*) AS n FROM Artists_Silver) AS t", {"artists_silver"}),
        ("SELECT 1 WHERE 1 IN (SELECT popularity FROM dq_results)", {"dq_results"}),
        ("SELECT name FROM artists_silver UNION ALL SELECT run_id FROM dq_results", None),
        ("SELECT g FROM artists_silver CROSS JOIN UNNEST(genres) AS u(g)", {"artists_silver"}),
    ],
)
def test_tables_come_from_scopes(sql: str, tables: set[str] | None) -> None:
    """CTEs (matched case-insensitively, as Athena does) are not tables, even one named
    like a view; subqueries, derived tables, set operations and UNNEST are seen through."""
    plan = plan_query(sql)
    assert set(plan.tables) == (tables if tables is not None else {"artists_silver", "dq_results"})
    assert plan.views == []


def test_a_versioned_read_keeps_its_name_as_alias() -> None:
    """The reference moves to a relation of its own; ``artists_silver.x`` still resolves."""
    plan = plan_query("SELECT artists_silver.name FROM Artists_Silver FOR VERSION AS OF 7")
    (read,) = plan.versioned
    assert (read.table, read.version) == ("artists_silver", 7)
    assert plan.statement.sql(dialect="athena") == (
        f"SELECT artists_silver.name FROM spotify.{read.relation} AS artists_silver"
    )


def test_a_view_read_twice_is_created_once_and_its_table_filtered_once() -> None:
    plan = plan_query(
        "SELECT g.name FROM spotify_gold_view AS g JOIN Spotify_Gold_View AS h "
        "ON g.artist_id = h.artist_id"
    )
    assert [v.name for v in plan.views] == ["spotify_gold_view"]
    assert list(plan.tables) == ["artists_silver"]
    assert len(plan.filters["artists_silver"]) == 1


def test_outside_the_database_is_refused_with_its_name() -> None:
    with pytest.raises(UnknownTableError, match=r"^other\.artists_silver is outside"):
        plan_query("SELECT 1 FROM Other.Artists_Silver")


def _view(name: str, body: str) -> ViewDefinition:
    sql = f"CREATE OR REPLACE VIEW spotify.{name} AS {body}"
    create = parse_athena(sql)
    assert isinstance(create, exp.Create)
    return ViewDefinition(name, sql, create)


def test_views_expand_dependencies_first_and_cycles_are_refused() -> None:
    views = {
        "a": _view("a", "SELECT x FROM b"),
        "b": _view("b", "SELECT x FROM artists_silver"),
        "c": _view("c", "SELECT x FROM d"),
        "d": _view("d", "SELECT x FROM c"),
    }
    statement = parse_athena("SELECT x FROM a")
    assert isinstance(statement, exp.Query)
    assert [r.name for r in expand(statement, views)] == ["artists_silver", "b", "a"]
    assert views["a"].create.sql() == "CREATE OR REPLACE VIEW spotify.a AS SELECT x FROM b"

    looping = parse_athena("SELECT x FROM c")
    assert isinstance(looping, exp.Query)
    with pytest.raises(QueryError, match="cycle: c -> d"):
        list(expand(looping, views))


def test_as_of_inlines_views_and_pins_tables_but_not_ctes() -> None:
    sql = (
        "WITH latest AS (SELECT max(date) AS d FROM Spotify_Gold_View) "
        "SELECT s.name FROM artists_silver AS s, latest WHERE s.snapshot_date = latest.d"
    )
    rewritten = athena_as_of_sql(sql, {"artists_silver": (42, date(2026, 10, 2))})
    pinned = (
        "(SELECT * FROM spotify.artists_silver FOR VERSION AS OF 42 "
        "WHERE snapshot_date <= CAST('2026-10-02' AS DATE))"
    )
    assert rewritten.count(pinned) == 2  # once behind the view, once read directly
    assert f"{pinned} AS s" in rewritten
    assert ") AS spotify_gold_view" in rewritten
    assert "AS s, latest AS latest WHERE" in rewritten
    assert sqlglot.parse_one(rewritten, read="athena") is not None


def test_as_of_needs_every_table_resolved() -> None:
    with pytest.raises(QueryError, match=r"no as-of version resolved for spotify\.dq_results"):
        athena_as_of_sql("SELECT 1 FROM dq_results", {})


def test_parameters_bind_in_the_text_and_nowhere_else() -> None:
    sql = "SELECT '?' AS q -- what ?\nFROM t WHERE d > -? /* ? */ AND n < ?"
    assert bind_parameters(sql, 7, 30) == (
        "SELECT '?' AS q -- what ?\nFROM t WHERE d > -7 /* ? */ AND n < 30"
    )
    with pytest.raises(QueryError, match="2 parameter"):
        bind_parameters(sql, 7)
    with pytest.raises(ValueError, match="non-negative"):
        bind_parameters(sql, -7, 30)


def test_the_gainer_windows_are_one_query() -> None:
    """top_gainers_7d and _30d are top_gainers.sql with 7 and 30: same SQL but the window."""
    parsed = {
        name: parse_athena(load_sql(name)).sql(dialect="athena", comments=False)
        for name in PARAMETERISED
    }
    assert parsed["top_gainers_7d"].replace("-7,", "-30,") == parsed["top_gainers_30d"]
    assert "WHERE date > date_add('day', -7, CURRENT_DATE) AND" in load_sql("top_gainers_7d")

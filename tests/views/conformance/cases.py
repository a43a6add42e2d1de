"""Athena (Trino) conformance cases: SQL, the answer Trino's documentation gives, the section.

Each case is one statement with the rows Trino returns for it, as ``query --format json``
prints them (integers as ints, DECIMAL as a number, DATE as ``YYYY-MM-DD``, TIMESTAMP as
ISO-8601), or the error Trino raises (a fragment of its message). ``doc`` names the section
of the Trino documentation (https://trino.io/docs/current/<doc>) the answer comes from.

Cases over ``Spotify_Gold_View`` and ``artists_silver`` read the fixture history of
``tests/views/test_conformance.py`` (three artists, days 2026-10-01, -02 and -04):

    a1 Ann: 100, 150, 175      b2 Bo: 300, 250, 250      c3 Cy: -, 150, NULL
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Case:
    sql: str
    doc: str
    rows: tuple[Row, ...] = ()
    error: str | None = None


MATH = "functions/math.html"
CONV = "functions/conversion.html"
DT = "functions/datetime.html"
STR = "functions/string.html"
ARR = "functions/array.html"
AGG = "functions/aggregate.html"
WIN = "functions/window.html"
COND = "functions/conditional.html"
CMP = "functions/comparison.html"
SELECT = "sql/select.html"
TYPES = "language/types.html"
IDENT = "language/reserved.html#identifiers"
DECIMAL = "functions/decimal.html"
LOGIC = "functions/logical.html"
GOLD = "FROM Spotify_Gold_View"


def one(value: Any, name: str = "_col0") -> tuple[Row, ...]:
    return ({name: value},)


CASES: tuple[Case, ...] = (
    # --- arithmetic (Mathematical operators; integer division truncates) -----------------
    Case("SELECT 7 / 2", MATH + "#mathematical-operators", one(3)),
    Case("SELECT -7 / 2", MATH + "#mathematical-operators", one(-3)),
    Case("SELECT 7 % 3", MATH + "#mathematical-operators", one(1)),
    Case("SELECT -7 % 3", MATH + "#mathematical-operators", one(-1)),
    Case("SELECT 7.0 / 2", DECIMAL + "#arithmetic-operators", one(3.5)),
    Case("SELECT 7e0 / 2", MATH + "#mathematical-operators", one(3.5)),
    Case("SELECT 1 / 0", MATH + "#mathematical-operators", error="Division by zero"),
    Case("SELECT 5 % 0", MATH + "#mathematical-operators", error="Division by zero"),
    Case("SELECT 2 + 3 * 4", MATH + "#mathematical-operators", one(14)),
    Case("SELECT 2.50 * 2", DECIMAL + "#arithmetic-operators", one(5)),
    Case("SELECT abs(-17.4)", MATH + "#abs", one(17.4)),
    Case("SELECT ceil(4.2)", MATH + "#ceil", one(5)),
    Case("SELECT floor(-4.2)", MATH + "#floor", one(-5)),
    Case("SELECT round(2.5)", MATH + "#round", one(3)),
    Case("SELECT round(-2.5)", MATH + "#round", one(-3)),
    Case("SELECT round(3.14159, 2)", MATH + "#round", one(3.14)),
    Case("SELECT truncate(-4.7e0)", MATH + "#truncate", one(-4.0)),
    Case("SELECT mod(-7, 2)", MATH + "#mod", one(-1)),
    Case("SELECT power(2, 10)", MATH + "#power", one(1024.0)),
    Case("SELECT sqrt(16)", MATH + "#sqrt", one(4.0)),
    Case("SELECT sign(-3)", MATH + "#sign", one(-1)),
    # --- casts (Conversion functions) ----------------------------------------------------
    Case("SELECT CAST(2.5 AS INTEGER)", CONV + "#cast", one(3)),
    Case("SELECT CAST(-2.5 AS BIGINT)", CONV + "#cast", one(-3)),
    Case("SELECT CAST(2.5e0 AS INTEGER)", CONV + "#cast", one(3)),
    Case("SELECT CAST(3.5e0 AS INTEGER)", CONV + "#cast", one(4)),
    Case("SELECT CAST('42' AS INTEGER)", CONV + "#cast", one(42)),
    Case("SELECT CAST('2020-05-11' AS DATE)", CONV + "#cast", one("2020-05-11")),
    Case("SELECT CAST(true AS INTEGER)", CONV + "#cast", one(1)),
    Case("SELECT CAST(12.3456 AS DECIMAL(4, 2))", CONV + "#cast", one(12.35)),
    Case("SELECT try_cast('abc' AS INTEGER)", CONV + "#try-cast", one(None)),
    Case("SELECT typeof(1)", CONV + "#typeof", one("integer")),
    Case("SELECT typeof(2.5)", CONV + "#typeof", one("decimal(2,1)")),
    Case("SELECT typeof(7 / 2)", CONV + "#typeof", one("integer")),
    # --- date and time ---------------------------------------------------------------------
    Case("SELECT date_add('day', 1, DATE '2020-03-01')", DT + "#date_add", one("2020-03-02")),
    Case("SELECT date_add('month', 1, DATE '2020-01-31')", DT + "#date_add", one("2020-02-29")),
    Case(
        "SELECT date_add('hour', 9, TIMESTAMP '2020-03-01 00:00:00')",
        DT + "#date_add",
        one("2020-03-01T09:00:00"),
    ),
    Case(
        "SELECT date_add('second', 86, TIMESTAMP '2020-03-01 00:00:00')",
        DT + "#date_add",
        one("2020-03-01T00:01:26"),
    ),
    Case(
        "SELECT DATE '2012-08-08' + INTERVAL '2' DAY", DT + "#interval-functions", one("2012-08-10")
    ),
    Case(
        "SELECT date_diff('day', DATE '2020-03-01', DATE '2020-03-02')", DT + "#date_diff", one(1)
    ),
    Case(
        "SELECT date_diff('second', TIMESTAMP '2020-03-01 00:00:00', "
        "TIMESTAMP '2020-03-02 00:00:00')",
        DT + "#date_diff",
        one(86400),
    ),
    Case(
        "SELECT date_diff('hour', TIMESTAMP '2020-03-01 00:00:00 UTC', "
        "TIMESTAMP '2020-03-02 00:00:00 UTC')",
        DT + "#date_diff",
        one(24),
    ),
    Case(
        "SELECT date_diff('day', TIMESTAMP '2020-01-01 23:00:00', TIMESTAMP '2020-01-02 01:00:00')",
        DT + "#date_diff",
        one(0),
    ),
    Case(
        "SELECT date_diff('month', DATE '2020-01-15', DATE '2020-03-14')", DT + "#date_diff", one(1)
    ),
    Case("SELECT date_trunc('month', DATE '2001-08-22')", DT + "#date_trunc", one("2001-08-01")),
    Case("SELECT date_trunc('year', DATE '2001-08-22')", DT + "#date_trunc", one("2001-01-01")),
    Case(
        "SELECT date_trunc('hour', TIMESTAMP '2001-08-22 03:04:05.321')",
        DT + "#date_trunc",
        one("2001-08-22T03:00:00"),
    ),
    Case("SELECT day_of_week(DATE '2020-01-05')", DT + "#day_of_week", one(7)),
    Case("SELECT day_of_week(DATE '2020-01-06')", DT + "#day_of_week", one(1)),
    Case("SELECT day_of_year(DATE '2020-02-01')", DT + "#day_of_year", one(32)),
    Case("SELECT year(DATE '2020-02-01')", DT + "#year", one(2020)),
    Case("SELECT month(DATE '2020-02-01')", DT + "#month", one(2)),
    Case(
        "SELECT format_datetime(TIMESTAMP '2020-01-05 10:04:05', 'yyyy-MM-dd HH:mm:ss')",
        DT + "#format_datetime",
        one("2020-01-05 10:04:05"),
    ),
    Case(
        "SELECT date_format(TIMESTAMP '2020-01-05 10:04:05', '%Y-%m-%d')",
        DT + "#mysql-date-functions",
        one("2020-01-05"),
    ),
    Case("SELECT from_iso8601_date('2020-05-11')", DT + "#from_iso8601_date", one("2020-05-11")),
    Case(
        "SELECT hour(at_timezone(TIMESTAMP '2021-08-22 00:00 UTC', 'Canada/Newfoundland'))",
        DT + "#at_timezone",
        one(21),
    ),
    Case(
        "SELECT minute(at_timezone(TIMESTAMP '2021-08-22 00:00 UTC', 'Canada/Newfoundland'))",
        DT + "#at_timezone",
        one(30),
    ),
    # --- strings ---------------------------------------------------------------------------
    Case("SELECT concat('a', 'b', 'c')", STR + "#concat", one("abc")),
    Case("SELECT concat('a', NULL)", STR + "#concat", one(None)),
    Case("SELECT 'a' || 'b'", STR + "#string-operators", one("ab")),
    Case("SELECT length('hello')", STR + "#length", one(5)),
    Case("SELECT lower('HeLLo'), upper('x')", STR + "#lower", ({"_col0": "hello", "_col1": "X"},)),
    Case("SELECT substr('abcdef', 2, 3)", STR + "#substr", one("bcd")),
    Case("SELECT replace('abcabc', 'b', 'x')", STR + "#replace", one("axcaxc")),
    Case("SELECT strpos('abc', 'c')", STR + "#strpos", one(3)),
    Case("SELECT split_part('a,b,c', ',', 2)", STR + "#split_part", one("b")),
    Case("SELECT split('a,b,c', ',')", STR + "#split", one(["a", "b", "c"])),
    Case("SELECT lpad('7', 3, '0')", STR + "#lpad", one("007")),
    Case("SELECT trim('  x  ')", STR + "#trim", one("x")),
    Case("SELECT reverse('abc')", STR + "#reverse", one("cba")),
    Case("SELECT starts_with('spotify', 'spot')", STR + "#starts_with", one(True)),
    Case(
        "SELECT regexp_like('1a 2b 14m', '\\d+b')", "functions/regexp.html#regexp_like", one(True)
    ),
    Case(
        "SELECT regexp_extract('1a 2b 14m', '\\d+')",
        "functions/regexp.html#regexp_extract",
        one("1"),
    ),
    # --- arrays ----------------------------------------------------------------------------
    Case("SELECT ARRAY[1, 2, 3][2]", ARR + "#subscript-operator", one(2)),
    Case(
        "SELECT ARRAY[1, 2, 3][5]",
        ARR + "#subscript-operator",
        error="Array subscript must be less than or equal to array length: 5 > 3",
    ),
    Case(
        "SELECT ARRAY[1, 2, 3][0]",
        ARR + "#subscript-operator",
        error="SQL array indices start at 1",
    ),
    Case("SELECT element_at(ARRAY[1, 2, 3], 5)", ARR + "#element_at", one(None)),
    Case("SELECT element_at(ARRAY[1, 2, 3], -1)", ARR + "#element_at", one(3)),
    Case("SELECT cardinality(ARRAY[1, 2, 3])", ARR + "#cardinality", one(3)),
    Case("SELECT contains(ARRAY[1, 2], 2)", ARR + "#contains", one(True)),
    Case("SELECT array_join(ARRAY['a', 'b'], '-')", ARR + "#array_join", one("a-b")),
    Case("SELECT array_max(ARRAY[4, 9, 2])", ARR + "#array_max", one(9)),
    Case("SELECT array_distinct(ARRAY[1, 1, 2])", ARR + "#array_distinct", one([1, 2])),
    Case("SELECT slice(ARRAY[1, 2, 3, 4], 2, 2)", ARR + "#slice", one([2, 3])),
    Case("SELECT sequence(1, 5)", ARR + "#sequence", one([1, 2, 3, 4, 5])),
    Case("SELECT transform(ARRAY[5, 6], x -> x + 1)", ARR + "#transform", one([6, 7])),
    Case("SELECT filter(ARRAY[5, -6, NULL, 7], x -> x > 0)", ARR + "#filter", one([5, 7])),
    Case("SELECT ARRAY[1, 2] || ARRAY[3]", ARR + "#concatenation-operator", one([1, 2, 3])),
    # --- NULL handling, conditionals, comparisons -----------------------------------------
    Case("SELECT greatest(1, 5, 3)", CMP + "#greatest", one(5)),
    Case("SELECT greatest(1, NULL)", CMP + "#greatest", one(None)),
    Case("SELECT least(4, NULL, 2)", CMP + "#least", one(None)),
    Case("SELECT coalesce(NULL, 2, 3)", COND + "#coalesce", one(2)),
    Case("SELECT nullif(1, 1)", COND + "#nullif", one(None)),
    Case("SELECT if(1 > 2, 'yes', 'no')", COND + "#if", one("no")),
    Case("SELECT try(1 / 0)", COND + "#try", one(None)),
    Case("SELECT NULL = NULL", CMP + "#comparison-operators", one(None)),
    Case(
        "SELECT NULL IS NOT DISTINCT FROM NULL",
        CMP + "#is-distinct-from-and-is-not-distinct-from",
        one(True),
    ),
    Case("SELECT 3 BETWEEN 2 AND 6", CMP + "#range-operator-between", one(True)),
    Case("SELECT NULL AND false", LOGIC + "#effect-of-null-on-logical-operators", one(False)),
    Case("SELECT NULL OR true", LOGIC + "#effect-of-null-on-logical-operators", one(True)),
    Case(
        "SELECT x FROM (VALUES 1, NULL, 2) AS t(x) ORDER BY x DESC",
        SELECT + "#order-by-clause",
        ({"x": 2}, {"x": 1}, {"x": None}),
    ),
    Case(
        "SELECT x FROM (VALUES 1, NULL, 2) AS t(x) ORDER BY x",
        SELECT + "#order-by-clause",
        ({"x": 1}, {"x": 2}, {"x": None}),
    ),
    # --- comparison type rules and syntax Trino refuses ----------------------------------
    Case(
        f"SELECT name {GOLD} WHERE date = '2026-10-02'",
        CMP + "#comparison-operators",
        error="Cannot apply operator: date = varchar(10)",
    ),
    Case(
        "SELECT 1 = '1'",
        CMP + "#comparison-operators",
        error="Cannot apply operator: integer = varchar(1)",
    ),
    Case("SELECT 'a' + 1", MATH + "#mathematical-operators", error="Cannot apply operator"),
    Case(
        f"SELECT followers * 2 AS double_followers {GOLD} WHERE double_followers > 0",
        SELECT + "#where-clause",
        error="Column 'double_followers' cannot be resolved",
    ),
    Case("SELECT 'a' ILIKE 'A'", STR + "#like", error="mismatched input 'ILIKE'"),
    Case("SELECT 1::integer", CONV + "#cast", error="mismatched input '::'"),
    Case("SELECT 1 == 1", CMP + "#comparison-operators", error="mismatched input '='"),
    Case(
        f"SELECT date {GOLD} WHERE date = DATE '2026-10-04' AND artist_id = 'a1'",
        TYPES + "#date",
        one("2026-10-04", "date"),
    ),
    # --- identifiers: case-insensitive, quoted or not ------------------------------------
    Case(
        "SELECT NAME, \"Followers\" FROM artists_silver WHERE ARTIST_ID = 'a1' "
        "AND snapshot_date = DATE '2026-10-01'",
        IDENT,
        ({"name": "Ann", "followers": 100},),
    ),
    Case(
        "SELECT count(*) AS n FROM SPOTIFY.Spotify_Gold_View",
        IDENT,
        ({"n": 8},),
    ),
    # --- aggregates over the gold view ----------------------------------------------------
    Case(
        f"SELECT count(*) AS n, count(followers) AS f {GOLD}", AGG + "#count", ({"n": 8, "f": 7},)
    ),
    Case(f"SELECT sum(followers_gained) AS s {GOLD}", AGG + "#sum", ({"s": 25},)),
    Case(
        f"SELECT avg(followers_gained) AS a {GOLD} WHERE artist_id = 'a1'",
        AGG + "#avg",
        ({"a": 37.5},),
    ),
    Case(
        f"SELECT CAST(avg(Followers_Gained) AS INT) AS a {GOLD} WHERE artist_id = 'a1'",
        CONV + "#cast",
        ({"a": 38},),
    ),
    Case(
        f"SELECT max_by(name, followers) AS top, min(date) AS first {GOLD}",
        AGG + "#max_by",
        ({"top": "Bo", "first": "2026-10-01"},),
    ),
    Case(
        f"SELECT count_if(followers_gained < 0) AS losses {GOLD}",
        AGG + "#count_if",
        ({"losses": 1},),
    ),
    Case(
        f"SELECT array_agg(name ORDER BY name) AS names {GOLD} WHERE date = DATE '2026-10-02'",
        AGG + "#array_agg",
        ({"names": ["Ann", "Bo", "Cy"]},),
    ),
    Case(f"SELECT bool_and(followers > 0) AS b {GOLD}", AGG + "#bool_and", ({"b": True},)),
    Case(f"SELECT approx_distinct(artist_id) AS n {GOLD}", AGG + "#approx_distinct", ({"n": 3},)),
    # --- window functions over the gold view ----------------------------------------------
    Case(
        f"SELECT artist_id, follower_rank {GOLD} WHERE date = DATE '2026-10-02' "
        "ORDER BY follower_rank, artist_id",
        WIN + "#rank",
        (
            {"artist_id": "b2", "follower_rank": 1},
            {"artist_id": "a1", "follower_rank": 2},
            {"artist_id": "c3", "follower_rank": 2},
        ),
    ),
    Case(
        f"SELECT artist_id, dense_rank() OVER (ORDER BY followers DESC) AS r {GOLD} "
        "WHERE date = DATE '2026-10-04' ORDER BY r",
        WIN + "#dense_rank",
        ({"artist_id": "b2", "r": 1}, {"artist_id": "a1", "r": 2}, {"artist_id": "c3", "r": 3}),
    ),
    Case(
        f"SELECT date, followers_gained / days_since_previous AS per_day {GOLD} "
        "WHERE artist_id = 'a1' ORDER BY date",
        WIN + "#lag",
        (
            {"date": "2026-10-01", "per_day": None},
            {"date": "2026-10-02", "per_day": 50},
            {"date": "2026-10-04", "per_day": 12},
        ),
    ),
    Case(
        f"SELECT followers_gained_per_day AS g {GOLD} WHERE artist_id = 'a1' AND "
        "date = DATE '2026-10-04'",
        WIN + "#lag",
        ({"g": 12.5},),
    ),
    Case(
        f"SELECT date, lead(followers) OVER (PARTITION BY artist_id ORDER BY date) AS nxt {GOLD} "
        "WHERE artist_id = 'b2' ORDER BY date",
        WIN + "#lead",
        (
            {"date": "2026-10-01", "nxt": 250},
            {"date": "2026-10-02", "nxt": 250},
            {"date": "2026-10-04", "nxt": None},
        ),
    ),
    Case(
        f"SELECT date, row_number() OVER (PARTITION BY date ORDER BY followers) AS n {GOLD} "
        "WHERE artist_id = 'c3' ORDER BY date",
        WIN + "#row_number",
        ({"date": "2026-10-02", "n": 1}, {"date": "2026-10-04", "n": 1}),
    ),
    Case(
        "SELECT date, sum(followers) OVER (PARTITION BY artist_id ORDER BY date) AS running "
        f"{GOLD} WHERE artist_id = 'a1' ORDER BY date",
        WIN + "#aggregate-functions",
        (
            {"date": "2026-10-01", "running": 100},
            {"date": "2026-10-02", "running": 250},
            {"date": "2026-10-04", "running": 425},
        ),
    ),
    Case(
        "SELECT DISTINCT first_value(name) OVER (PARTITION BY date ORDER BY followers DESC) "
        f"AS leader {GOLD} WHERE date = DATE '2026-10-04'",
        WIN + "#first_value",
        ({"leader": "Bo"},),
    ),
    Case(
        f"SELECT artist_id, followers, followers AS x, followers_gained AS x {GOLD} "
        "WHERE artist_id = 'b2' AND date = DATE '2026-10-02'",
        SELECT + "#select-clause",
        ({"artist_id": "b2", "followers": 250, "x": 250, "x_2": -50},),
    ),
)

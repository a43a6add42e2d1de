"""What a query reads, remembered as plain data (views.outline): exact, and never trusted blindly.

A repeated query runs from its remembered outline without parsing, so these tests pin
that the outline survives its JSON form unchanged for every kind of read (tables behind
views, explicit versions, metadata tables, scan predicates of each operator), that its
predicates' constants are the DuckDB translation with Athena's meaning, and that a
remembered value this code did not write is planned again, not used.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import views.local
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.local import LocalEngine
from views.outline import QueryOutline, ScanPredicate
from views.plan import plan_query

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
A, B = Artist("a" * 22, "Alpha"), Artist("b" * 22, "Bravo")

QUERIES = [
    "SELECT * FROM spotify_gold_view WHERE date = DATE '2026-03-02'",
    "SELECT artist_id FROM artists_silver WHERE snapshot_date BETWEEN DATE '2026-03-01' AND "
    "date_add('day', 1, DATE '2026-03-01') AND followers IN (1, 2, 3)",
    "SELECT a.artist_id FROM artists_silver a JOIN artists_silver b ON a.artist_id = "
    "b.artist_id WHERE a.followers > 5 AND b.snapshot_date < DATE '2026-03-02'",
    "SELECT count(*) FROM artists_silver FOR VERSION AS OF 123",
    "SELECT count(*) FROM artists_silver FOR TIMESTAMP AS OF TIMESTAMP '2026-03-01 00:00:00 UTC'",
    'SELECT * FROM "artists_silver$snapshots"',
    "SELECT snapshot_date FROM artists_silver WHERE 7 <= popularity",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_an_outline_survives_its_json_form(sql: str) -> None:
    outline = plan_query(sql).outline()
    assert QueryOutline.from_json(outline.to_json()) == outline


def test_scan_predicates_carry_duckdb_constants_with_athenas_meaning() -> None:
    outline = plan_query(QUERIES[1]).outline()
    (reference,) = outline.filters["artists_silver"]
    by_op = {(p.column, p.op): p for p in reference}
    upper = by_op[("snapshot_date", "<=")]
    assert isinstance(upper, ScanPredicate)
    assert "DATE" in upper.constants[0].upper()  # date_add on a DATE stays a DATE
    assert by_op[("followers", "in")].constants == ("1", "2", "3")
    flipped = plan_query(QUERIES[-1]).outline().filters["artists_silver"][0]
    assert [(p.column, p.op, p.constants) for p in flipped] == [("popularity", ">=", ("7",))]


@pytest.mark.parametrize(
    "value",
    [
        {"tables": 5},
        {},
        {"tables": {}, "views": [], "versioned": [], "metadata": [["x", "t", "nope"]]},
        {"tables": {}, "views": [], "versioned": [], "metadata": [], "filters": {"t": [[["c"]]]}},
    ],
    ids=["wrong-type", "empty", "unknown-kind", "short-predicate"],
)
def test_a_malformed_outline_is_refused(value: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a query outline"):
        QueryOutline.from_json(value)


def test_a_remembered_outline_this_code_did_not_write_is_planned_again(
    home: LakehousePaths, silver: SilverWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    silver.load(D1, {A: 10, B: 20})
    silver.load(D2, {A: 15, B: 21})
    sql = "SELECT artist_id, followers_gained FROM spotify_gold_view ORDER BY 1, 2"
    expected = LocalEngine(home).execute(sql).rows
    real = views.local.plan_cache.remembered

    def damaged(paths: LakehousePaths, key: object, compute: Any) -> Any:
        if isinstance(key, list) and key[0] == "outline":
            return {"tables": {"artists_silver": 7}}
        return real(paths, key, compute)

    monkeypatch.setattr(views.local.plan_cache, "remembered", damaged)
    assert LocalEngine(home).execute(sql).rows == expected

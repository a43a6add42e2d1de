"""The local engine's two ways of fetching a result (views.local._run): the same values.

A result whose columns are all of plain types is fetched as rows (no pyarrow import); any
other goes through Arrow. Whatever the path, a query answers the same Python values, so
``--format json`` prints the same document: checked here for every plain type, NULLs,
and a type that must stay on the Arrow path.
"""

from __future__ import annotations

import pytest

import views.local
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.local import LocalEngine

A, B = Artist("a" * 22, "Alpha"), Artist("b" * 22, "Bravo")

PLAIN = """
SELECT artist_id, name, snapshot_date, followers, popularity,
       CAST(popularity AS SMALLINT) AS small, CAST(popularity AS TINYINT) AS tiny,
       followers > 15 AS big, CAST(followers AS DOUBLE) / 3 AS third,
       CAST(followers AS DECIMAL(12, 2)) / 4 AS quarter, sum(followers) OVER () AS total,
       CAST(NULL AS VARCHAR) AS nothing
FROM artists_silver ORDER BY artist_id, snapshot_date
"""


def test_rows_and_arrow_fetch_the_same_values(
    home: LakehousePaths, silver: SilverWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    silver.load(date(2026, 3, 1), {A: 10, B: 20})
    as_rows = LocalEngine(home).execute(PLAIN)
    monkeypatch.setattr(views.local, "_row_safe", lambda kind: False)
    through_arrow = LocalEngine(home).execute(PLAIN)
    assert as_rows.columns == through_arrow.columns
    assert as_rows.rows == through_arrow.rows
    assert [type(v) for v in as_rows.rows[0]] == [type(v) for v in through_arrow.rows[0]]


def test_a_zoned_timestamp_is_fetched_through_arrow(
    home: LakehousePaths, silver: SilverWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date, datetime

    silver.load(date(2026, 3, 1), {A: 10})
    fetched_as_rows: list[str] = []
    real = views.local._row_safe

    def watched(kind: str) -> bool:
        safe = real(kind)
        if safe:
            fetched_as_rows.append(kind)
        return safe

    monkeypatch.setattr(views.local, "_row_safe", watched)
    sql = (
        "SELECT artist_id, from_iso8601_timestamp('2026-03-01T10:00:00Z') AS at FROM artists_silver"
    )
    result = LocalEngine(home).execute(sql)
    assert isinstance(result.rows[0][1], datetime)
    assert result.rows[0][1].utcoffset() is not None
    assert "VARCHAR" in fetched_as_rows  # the check ran, and refused the zoned column

"""Athena (Trino) conformance: each documented case, run as ``query --format json`` runs it.

The cases (``tests/views/conformance/cases.py``) give the rows Trino's documentation gives,
or its error. Each one runs through the local engine and the JSON rendering of the CLI
(:func:`infra.cli.output.json_records`); a few also through the CLI process entry point itself
(``infra.cli.main.main``), so the printing path is the real one. Values must match with their
JSON types: an int is not a float, a date is ``YYYY-MM-DD``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.paths import LakehousePaths
from infra.cli.output import json_records
from tests.views.conformance.cases import CASES, Case
from tests.views.conftest import Artist, SilverWriter
from views.errors import QueryError
from views.local import LocalEngine

ANN, BO, CY = Artist("a1", "Ann"), Artist("b2", "Bo"), Artist("c3", "Cy")
DAY1, DAY2, DAY4 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 4)


@pytest.fixture(scope="module")
def conformance_home(tmp_path_factory: pytest.TempPathFactory) -> LakehousePaths:
    paths = LakehousePaths.resolve(tmp_path_factory.mktemp("conformance") / "home").ensure()
    ensure_table(local_catalog(paths), ARTISTS_SILVER)
    silver = SilverWriter(paths)
    silver.load(DAY1, {ANN: 100, BO: 300})
    silver.load(DAY2, {ANN: 150, BO: 250, CY: 150})
    silver.load(DAY4, {ANN: 175, BO: 250, CY: None})
    return paths


def _same(got: Any, want: Any) -> bool:
    """Equal, and of the same JSON type (1 is not 1.0, True is not 1)."""
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(_same(got[k], want[k]) for k in want)
        )
    if isinstance(want, float):
        return type(got) is float and abs(got - want) <= 1e-9 * max(1.0, abs(want))
    return type(got) is type(want) and got == want


def _json(engine: LocalEngine, sql: str) -> list[dict[str, Any]]:
    result = engine.execute(sql)
    records: list[dict[str, Any]] = json.loads(
        json.dumps(json_records(result.columns, result.rows))
    )
    return records


def test_there_are_enough_documented_cases() -> None:
    assert len(CASES) >= 80
    assert all(case.doc for case in CASES)
    assert len({case.sql for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.sql[:60] for c in CASES])
def test_case_answers_as_trino_documents(conformance_home: LakehousePaths, case: Case) -> None:
    engine = LocalEngine(conformance_home)
    if case.error is not None:
        with pytest.raises(QueryError) as raised:
            engine.execute(case.sql)
        message = str(raised.value)
        assert case.error in message, message
        assert "\n" not in message
        return
    got = _json(engine, case.sql)
    assert _same(got, list(case.rows)), (got, case.rows, case.doc)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 7 / 2, CAST(2.5e0 AS INTEGER) AS r", [{"_col0": 3, "r": 3}]),
        (
            "SELECT date_add('day', 1, date) AS d FROM Spotify_Gold_View "
            "WHERE artist_id = 'a1' AND date = DATE '2026-10-04'",
            [{"d": "2026-10-05"}],
        ),
    ],
)
def test_cli_query_json_prints_the_same(
    conformance_home: LakehousePaths,
    capsys: pytest.CaptureFixture[str],
    sql: str,
    expected: list[dict[str, Any]],
) -> None:
    from infra.cli.main import main

    main(["--home", str(conformance_home.home), "query", sql, "--format", "json"])
    assert _same(json.loads(capsys.readouterr().out), expected)


def test_cli_refuses_other_files(
    conformance_home: LakehousePaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from infra.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(
            ["--home", str(conformance_home.home), "query", "SELECT * FROM read_csv('/etc/passwd')"]
        )
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "reads only the lakehouse's own tables" in err

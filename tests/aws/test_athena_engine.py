"""The pyathena engine against moto's server: SQL sent, as-of rewriting, polling, types,
failures. moto runs no SQL: each test seeds the result rows Athena would return."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
import requests

from catalog.iceberg.profiles import local_catalog
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.athena import AthenaEngine, AthenaSettings
from views.errors import AthenaQueryError, ScanLimitExceededError
from views.plan import view_definitions
from views.sqlfiles import GOLD_VIEW, TOP_5_MOST_FOLLOWED_TODAY, load_sql

OUTPUT = "s3://athena-results/queries/"
ANN, BO = Artist("a1", "Ann"), Artist("b2", "Bo")
DAY1, DAY2, DAY3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)


def _column(name: str, athena_type: str) -> dict[str, Any]:
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": 0,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena_type == "varchar",
    }


def _seed(aws: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Queue one result set; Athena's first row repeats the column names."""
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    body = {
        "results": [{"rows": [header, *data], "column_info": [_column(n, t) for n, t in columns]}]
    }
    response = requests.post(f"{aws}/moto-api/static/athena/query-results", json=body, timeout=10)
    assert response.status_code == 201


def _sent(aws: str) -> list[str]:
    client = boto3.client("athena")
    ids = client.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


@pytest.fixture
def athena(aws: str) -> AthenaEngine:
    settings = AthenaSettings(
        output_location=OUTPUT, region="us-east-1", endpoint_url=aws, poll_interval=0.01
    )
    return AthenaEngine(settings)


def test_sql_is_sent_as_written_and_values_come_back_typed(aws: str, athena: AthenaEngine) -> None:
    _seed(
        aws,
        [
            ("artist_id", "varchar"),
            ("Date", "date"),
            ("followers", "bigint"),
            ("followers_gained_per_day", "double"),
            ("fetched_at", "timestamp"),
            ("follower_rank", "bigint"),
        ],
        [
            ["a1", "2026-10-02", "115", "7.5", "2026-10-02 06:00:00.000", "1"],
            ["b2", "2026-10-02", "95", None, "2026-10-02 06:00:01.500", "2"],
        ],
    )
    sql = load_sql(TOP_5_MOST_FOLLOWED_TODAY)

    result = athena.execute(sql)

    assert _sent(aws) == [sql.strip()]  # pyathena trims the trailing newline
    assert result.columns == (
        "artist_id",
        "date",
        "followers",
        "followers_gained_per_day",
        "fetched_at",
        "follower_rank",
    )
    assert result.rows == (
        ("a1", DAY2, 115, 7.5, datetime(2026, 10, 2, 6, tzinfo=UTC), 1),
        ("b2", DAY2, 95, None, datetime(2026, 10, 2, 6, 0, 1, 500_000, tzinfo=UTC), 2),
    )
    execution = boto3.client("athena").get_query_execution(
        QueryExecutionId=athena.polls[-1].query_id
    )["QueryExecution"]
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(OUTPUT)
    assert execution["QueryExecutionContext"]["Database"] == "spotify"


@pytest.fixture
def slow_queries(aws: str) -> Iterator[None]:
    """Each state of an execution lasts three status requests."""
    transition = {
        "model_name": "athena::execution",
        "transition": {"progression": "manual", "times": 3},
    }
    requests.post(f"{aws}/moto-api/state-manager/set-transition", json=transition, timeout=10)
    yield
    requests.post(
        f"{aws}/moto-api/state-manager/unset-transition",
        json={"model_name": "athena::execution"},
        timeout=10,
    )


def test_the_engine_polls_until_the_query_finishes(
    aws: str, athena: AthenaEngine, slow_queries: None
) -> None:
    _seed(aws, [("n", "integer")], [["1"]])

    assert athena.execute("SELECT 1 AS n").rows == ((1,),)

    states = [p.state for p in athena.polls]
    assert states[0] == "QUEUED"
    assert "RUNNING" in states
    assert states[-1] == "SUCCEEDED"
    assert len(states) >= 4


def test_as_of_expands_the_view_and_pins_each_table(aws: str, tmp_path: Any) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table

    ensure_table(local_catalog(paths), ARTISTS_SILVER)
    silver = SilverWriter(paths)
    silver.load(DAY1, {ANN: 100, BO: 90})
    day2 = silver.load(DAY2, {ANN: 115, BO: 95})
    silver.load(DAY3, {ANN: 120, BO: 99})
    settings = AthenaSettings(region="us-east-1", endpoint_url=aws, poll_interval=0.01)
    athena = AthenaEngine(settings, catalog=lambda: local_catalog(paths))
    _seed(aws, [("name", "varchar"), ("followers", "bigint")], [["Ann", "115"]])

    result = athena.execute(
        "SELECT name, followers FROM Spotify_Gold_View WHERE date = DATE '2026-10-02' LIMIT 1",
        as_of=DAY2,
    )

    (sent,) = _sent(aws)
    # Athena cannot time-travel a view: it is inlined, its name kept as the alias only
    assert re.search(r"(from|join)\s+(spotify\.)?spotify_gold_view", sent.lower()) is None
    assert f"FOR VERSION AS OF {day2}" in sent
    assert "snapshot_date <= CAST('2026-10-02' AS DATE)" in sent
    assert sent.count("FOR VERSION AS OF") == 1
    assert ") AS spotify_gold_view" in sent
    assert result.rows == (("Ann", 115),)
    (read,) = result.reads
    assert (read.table, read.snapshot_id) == ("spotify.artists_silver", day2)


def _fail_executions(
    monkeypatch: pytest.MonkeyPatch, state: str, reason: str, scanned: int = 0
) -> None:
    """Make moto report every execution as ended in ``state`` (it never fails a query)."""
    from moto.athena.responses import AthenaResponse

    original = AthenaResponse.get_query_execution

    def failing(self: AthenaResponse) -> str:
        answer = json.loads(original(self))
        status = answer["QueryExecution"]["Status"]
        status.update(State=state, StateChangeReason=reason)
        status["AthenaError"] = {"ErrorCategory": 2, "ErrorType": 1001, "Retryable": False}
        answer["QueryExecution"]["Statistics"]["DataScannedInBytes"] = scanned
        return json.dumps(answer)

    monkeypatch.setattr(AthenaResponse, "get_query_execution", failing)


def test_a_failed_query_raises_with_athenas_reason(
    athena: AthenaEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    _fail_executions(monkeypatch, "FAILED", reason)

    with pytest.raises(AthenaQueryError, match="FAILED: COLUMN_NOT_FOUND") as raised:
        athena.execute("SELECT nope FROM artists_silver")

    error = raised.value
    assert not isinstance(error, ScanLimitExceededError)
    assert (error.state, error.reason, error.error_category) == ("FAILED", reason, 2)
    assert error.query_id == athena.polls[-1].query_id
    assert error.__cause__ is not None  # pyathena's error is kept


def test_a_scan_over_the_workgroup_limit_says_so(
    athena: AthenaEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_executions(
        monkeypatch, "CANCELLED", "Query cancelled! : Bytes scanned limit was exceeded", 10**10
    )

    with pytest.raises(ScanLimitExceededError, match="after 10,000,000,000 bytes") as raised:
        athena.execute("SELECT * FROM artists_silver")

    assert "BytesScannedCutoffPerQuery" in str(raised.value)
    assert raised.value.data_scanned_bytes == 10**10


def test_deploy_sends_the_view_file_as_is(aws: str, athena: AthenaEngine) -> None:
    athena.deploy_view(view_definitions()[GOLD_VIEW])
    assert _sent(aws) == [load_sql(GOLD_VIEW).strip()]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"work_group": ""}, "work_group"),
        ({"output_location": "results/queries/"}, "s3://"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_settings_are_checked(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AthenaSettings(**arguments)


def test_settings_from_the_environment() -> None:
    settings = AthenaSettings.from_env(
        {
            "ATHENA_WORKGROUP": "spotify",
            "ATHENA_OUTPUT_LOCATION": "s3://bucket/athena-results/",
            "AWS_REGION": "eu-west-1",
            "ATHENA_POLL_INTERVAL": "0.5",
        }
    )
    assert (settings.work_group, settings.output_location, settings.region) == (
        "spotify",
        "s3://bucket/athena-results/",
        "eu-west-1",
    )
    assert settings.poll_interval == 0.5
    with pytest.raises(ValueError, match="ATHENA_POLL_INTERVAL"):
        AthenaSettings.from_env({"ATHENA_POLL_INTERVAL": "soon"})

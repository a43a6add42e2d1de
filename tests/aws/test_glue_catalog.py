"""The Glue catalog profile (pyiceberg GlueCatalog) against moto's HTTP server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import boto3
import pytest
from moto.core.exceptions import JsonRESTError
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException

from catalog.iceberg.profiles import glue_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, NAMESPACE, TABLES, ensure_tables
from catalog.iceberg.tags import tag_name
from catalog.iceberg.timetravel import load_snapshots, resolve_as_of
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views.athena import AthenaEngine, AthenaSettings

BUCKET = "lakehouse-data"
ANN, BO = Artist("a1", "Ann"), Artist("b2", "Bo")
DAY1, DAY2, DAY3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)


@pytest.fixture
def glue(aws: str) -> Catalog:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return glue_catalog(
        warehouse=f"s3://{BUCKET}/warehouse",
        region="us-east-1",
        glue_endpoint=aws,
        s3_endpoint=aws,
    )


@pytest.fixture
def silver(glue: Catalog, tmp_path: Path) -> SilverWriter:
    ensure_tables(glue)
    return SilverWriter(LakehousePaths.resolve(tmp_path / "unused"), catalog=glue)


def test_tables_are_created_from_the_one_definition(glue: Catalog) -> None:
    created = ensure_tables(glue)

    assert set(created) == set(TABLES)
    table = glue.load_table(ARTISTS_SILVER.identifier)
    assert table.schema() == ARTISTS_SILVER.schema
    assert table.spec() == ARTISTS_SILVER.partition_spec
    assert table.format_version == 2
    for key, value in ARTISTS_SILVER.all_properties.items():
        if key != "format-version":
            assert table.properties[key] == value
    glue_table = boto3.client("glue").get_table(DatabaseName=NAMESPACE, Name="artists_silver")
    assert glue_table["Table"]["Parameters"]["table_type"].upper() == "ICEBERG"
    assert table.location().startswith(f"s3://{BUCKET}/warehouse/")
    assert ensure_tables(glue).keys() == created.keys()  # idempotent


def test_snapshots_and_as_of_through_glue(silver: SilverWriter) -> None:
    day1 = silver.load(DAY1, {ANN: 100, BO: 90}, run_id="r1")
    day2 = silver.load(DAY2, {ANN: 110, BO: 95}, run_id="r2")
    reload = silver.load(DAY2, {ANN: 111, BO: 96}, run_id="r2b")
    day3 = silver.load(DAY3, {ANN: 120, BO: 99}, run_id="r3")
    table = silver.table

    loads = load_snapshots(table)

    assert [(s.snapshot_id, s.run_id, s.tag) for s in loads] == [
        (day1, "r1", tag_name(DAY1)),
        (day2, "r2", None),
        (reload, "r2b", tag_name(DAY2)),
        (day3, "r3", tag_name(DAY3)),
    ]
    assert resolve_as_of(table, DAY2).snapshot_id == reload
    assert resolve_as_of(table, date(2026, 12, 1)).snapshot_id == day3


def test_athena_as_of_resolves_tags_in_glue(aws: str, silver: SilverWriter, glue: Catalog) -> None:
    silver.load(DAY1, {ANN: 100, BO: 90})
    day2 = silver.load(DAY2, {ANN: 110, BO: 95})
    silver.load(DAY3, {ANN: 120, BO: 99})
    athena = AthenaEngine(
        AthenaSettings(region="us-east-1", endpoint_url=aws, poll_interval=0.01), catalog=glue
    )

    result = athena.execute("SELECT count(*) AS n FROM artists_silver", as_of=DAY2)

    (read,) = result.reads
    assert read.snapshot_id == day2
    client = boto3.client("athena")
    (query_id,) = client.list_query_executions()["QueryExecutionIds"]
    sent = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Query"]
    assert f"FOR VERSION AS OF {day2}" in sent


class ConcurrentModificationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ConcurrentModificationException", message)


@pytest.fixture
def versioned_glue(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    """Give moto Glue's optimistic check: UpdateTable with a stale VersionId fails.

    Returns a list; each callable put in it runs inside one later UpdateTable (in order),
    before the check, as a competing writer committing in between.
    """
    from moto.glue.models import glue_backends
    from moto.glue.responses import GlueResponse

    original = GlueResponse.update_table
    competitors: list[Callable[[], None]] = []
    competing: list[bool] = []

    def update_table(self: GlueResponse) -> object:
        if competitors and not competing:  # the competitor's own UpdateTable runs plainly
            competing.append(True)
            try:
                competitors.pop(0)()
            finally:
                competing.clear()
        version = self.parameters.get("VersionId")
        name = self.parameters["TableInput"]["Name"]
        database = self.parameters["DatabaseName"]
        backend = glue_backends[self.current_account][self.region]
        current = backend.get_table(database, name)._current_version
        if version is not None and str(version) != str(current):
            raise ConcurrentModificationException(
                f"table {database}.{name} is at version {current}, not {version}"
            )
        return original(self)

    monkeypatch.setattr(GlueResponse, "update_table", update_table)
    return competitors


def test_a_concurrent_commit_fails_instead_of_winning(
    silver: SilverWriter, glue: Catalog, versioned_glue: list[Callable[[], None]]
) -> None:
    first = silver.load(DAY1, {ANN: 100, BO: 90})  # commits pass the check in turn
    glue_client = boto3.client("glue")
    committed = glue_client.get_table(DatabaseName=NAMESPACE, Name="artists_silver")["Table"]

    def competing_commit() -> None:
        current = glue_client.get_table(DatabaseName=NAMESPACE, Name="artists_silver")["Table"]
        table_input = {
            k: v
            for k, v in current.items()
            if k in {"Name", "Description", "TableType", "Parameters", "StorageDescriptor"}
        }
        table_input["Parameters"] = {**table_input["Parameters"], "competitor": "won"}
        glue_client.update_table(DatabaseName=NAMESPACE, TableInput=table_input)

    # a competitor commits before each of pyiceberg's attempts (the first and 4 retries)
    versioned_glue.extend([competing_commit] * 5)
    with pytest.raises(CommitFailedException, match="concurrent update"):
        silver.load(DAY2, {ANN: 110, BO: 95})

    parameters = glue_client.get_table(DatabaseName=NAMESPACE, Name="artists_silver")["Table"][
        "Parameters"
    ]
    assert parameters["competitor"] == "won"
    table = glue.load_table(ARTISTS_SILVER.identifier)
    current = table.current_snapshot()
    assert current is not None
    assert current.snapshot_id == first
    # Glue still holds a valid table: the pointer is the one the last successful commit
    # left (the failed attempts' metadata files are never published), the file it names
    # exists, and the table reads back exactly day 1's rows.
    assert parameters["metadata_location"] == committed["Parameters"]["metadata_location"]
    assert parameters["table_type"].upper() == "ICEBERG"
    bucket, _, key = parameters["metadata_location"].removeprefix("s3://").partition("/")
    assert boto3.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert table.metadata_location == parameters["metadata_location"]
    rows = table.scan().to_arrow().to_pylist()
    assert sorted((r["artist_id"], r["snapshot_date"], r["followers"]) for r in rows) == [
        (ANN.artist_id, DAY1, 100),
        (BO.artist_id, DAY1, 90),
    ]
    assert not versioned_glue  # every attempt met a competitor: the failure is the check's

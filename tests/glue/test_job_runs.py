"""The Glue job's run history: its own row (engine glue) at the end of every run, success or
failure, and the ingest Lambda's bronze-side records folded in once.

The job runs through its entry point (:func:`glue.job.main`) on the local catalog (first
loads: no Spark); the AWS path (S3 bronze, the Glue Data Catalog) runs on moto's server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.bronze.layout import run_record_key, run_records_prefix
from catalog.bronze.local import LocalBronzeStore
from catalog.bronze.s3 import S3BronzeStore
from catalog.iceberg.profiles import glue_catalog, local_catalog
from catalog.iceberg.run_log import RunRecord, read_runs, runs_table
from catalog.paths import LakehousePaths
from glue.job import main as job_main
from glue.job import record_job_run
from ingest.handler import LambdaRun
from tests.bronze_days import artist, write_day

TODAY = datetime.now(UTC).date()
D1, D2, D3 = (TODAY - timedelta(days=n) for n in (4, 3, 2))


def lambda_record(store: Any, day: date, records: int = 2) -> RunRecord:
    """What the ingest Lambda leaves in bronze after fetching ``day`` (its own writer)."""
    run = LambdaRun(day)
    run.fetched(f"bronze-{day.isoformat()}", records)
    written = run.write(store, 0, None)
    assert written is not None
    return written


def rows(paths: LakehousePaths) -> list[dict[str, Any]]:
    table = runs_table(local_catalog(paths))
    assert table is not None
    return read_runs(table)


def job(paths: LakehousePaths, *args: str) -> int:
    return job_main(["glue/job.py", "--home", str(paths.home), *args])


def test_the_job_records_its_runs_and_folds_each_lambda_record_once(tmp_path: Path) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    for day in (D1, D2):
        write_day(store, day, [[artist(i, followers=1_000 * i) for i in (1, 2)]], run_id=f"b{day}")
    first_ingest = lambda_record(store, D1)
    second_ingest = lambda_record(store, D2)
    # The record is beside the day, outside the artists dataset: no day reader sees it.
    assert store.list_keys(run_records_prefix(D1)) == [run_record_key(D1, first_ingest.run_id)]
    assert store.days() == [D1, D2]

    assert job(paths, "--snapshot_date", D1.isoformat()) == 0
    loaded, ingested = rows(paths)
    assert ingested == {**first_ingest.to_row()}  # folded as the Lambda wrote it
    assert (loaded["engine"], loaded["kind"], loaded["status"], loaded["exit_code"]) == (
        "glue",
        "transform",
        "succeeded",
        0,
    )
    assert (loaded["snapshot_date"], loaded["rows_inserted"], loaded["bronze_run_id"]) == (
        D1,
        2,
        f"b{D1}",
    )
    assert loaded["merge_seconds"] > 0
    assert loaded["validate_seconds"] > 0

    # A range over both days: D1 is skipped (loaded), D2 loaded; D1's Lambda record is found
    # again and not folded twice, D2's is folded; all in one commit with the job's row.
    before = len(runs_table(local_catalog(paths)).snapshots())  # type: ignore[union-attr]
    assert job(paths, "--start_date", D1.isoformat(), "--end_date", D2.isoformat()) == 0
    table = runs_table(local_catalog(paths))
    assert table is not None
    assert len(table.snapshots()) == before + 1
    found = read_runs(table)
    assert sorted(r["run_id"] for r in found if r["engine"] == "lambda") == sorted(
        [first_ingest.run_id, second_ingest.run_id]
    )
    backfill = found[0]
    assert (backfill["kind"], backfill["snapshot_date"], backfill["end_date"]) == (
        "backfill",
        D1,
        D2,
    )
    assert backfill["rows_inserted"] == 2  # D2 only

    # A failed run (no bronze for D3) is recorded too, with the job's reason line.
    assert job(paths, "--snapshot_date", D3.isoformat()) == 1
    failed = rows(paths)[0]
    assert (failed["engine"], failed["status"], failed["exit_code"]) == ("glue", "failed", 1)
    assert failed["snapshot_date"] == D3
    assert "incomplete" in failed["error"]
    assert len(rows(paths)) == 5


def test_a_run_that_cannot_record_keeps_its_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    write_day(LocalBronzeStore(paths.bronze), D1, [[artist(1, followers=10)]], run_id="b1")

    def broken(*_: Any, **__: Any) -> None:
        raise OSError("the catalog is unreachable")

    monkeypatch.setattr("catalog.iceberg.run_log.append_runs", broken)
    assert job(paths, "--snapshot_date", D1.isoformat()) == 0
    assert "was not recorded in spotify.pipeline_runs: OSError" in caplog.text


def test_on_aws_the_lambdas_s3_record_is_folded_through_the_glue_catalog(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lakehouse-data")
    bronze = S3BronzeStore("lakehouse-data", "bronze/", client=s3)
    ingest = lambda_record(bronze, D1, records=20)
    key = "bronze/" + run_record_key(D1, ingest.run_id)
    assert RunRecord.from_json(s3.get_object(Bucket="lakehouse-data", Key=key)["Body"].read())

    catalog = glue_catalog(
        warehouse="s3://lakehouse-data/warehouse",
        region="us-east-1",
        glue_endpoint=aws,
        s3_endpoint=aws,
    )
    started = datetime.now(UTC)
    own = RunRecord(
        run_id="glue-run-1",
        kind="transform",
        snapshot_date=D1,
        end_date=D1,
        started_at=started,
        ended_at=started + timedelta(seconds=3),
        status="succeeded",
        exit_code=0,
        engine="glue",
    )
    assert record_job_run(catalog, bronze, [D1], own) is not None
    again = RunRecord(**{**own.to_row(), "run_id": "glue-run-2"})
    record_job_run(catalog, bronze, [D1], again)
    table = runs_table(catalog)
    assert table is not None
    found = read_runs(table)
    assert [(r["run_id"], r["engine"]) for r in found] == [
        ("glue-run-2", "glue"),
        ("glue-run-1", "glue"),
        (ingest.run_id, "lambda"),  # once, though both runs found it
    ]
    assert [r["rows_fetched"] for r in found if r["engine"] == "lambda"] == [20]

"""The ingest Lambda's run records: one JSON record per invocation beside its day in bronze
(moto S3 + the simulator), for the Glue job to fold into ``spotify.pipeline_runs``."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.bronze.layout import run_records_prefix
from catalog.iceberg.run_log import RunRecord
from ingest.errors import NonRetryableIngestError
from ingest.handler import handler
from ingest.simulator.server import SpotifySimulator
from tests.conftest import FROZEN_TODAY
from tests.ingest.conftest import BUCKET, LambdaContext, bucket_keys

TODAY = FROZEN_TODAY
pytestmark = pytest.mark.usefixtures("frozen_today")


def records(s3: Any) -> list[RunRecord]:
    prefix = "bronze/" + run_records_prefix(TODAY)
    keys = [k for k in bucket_keys(s3) if k.startswith(prefix)]
    found = [RunRecord.from_json(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]
    return sorted(found, key=lambda r: r.started_at)


def test_each_invocation_leaves_its_record(lambda_env: Any, sim: SpotifySimulator) -> None:
    answer = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())
    again = handler({"snapshot_date": TODAY.isoformat()}, LambdaContext("req-0002"))
    first, second = records(lambda_env)
    assert (first.engine, first.kind, first.status, first.exit_code) == (
        "lambda",
        "ingest",
        "succeeded",
        0,
    )
    assert (first.snapshot_date, first.end_date) == (TODAY, TODAY)
    assert (first.rows_fetched, first.bronze_run_id) == (20, answer["run_id"])
    assert first.api_requests is not None
    assert first.api_requests >= 2
    assert first.rate_limit_waits == 0
    assert first.fetch_seconds is not None
    assert first.fetch_seconds > 0
    assert first.error is None
    # The duplicate invocation is a run of its own that fetched nothing.
    assert second.run_id != first.run_id
    assert (second.rows_fetched, second.api_requests) == (0, 0)
    assert second.bronze_run_id == again["run_id"] == answer["run_id"]
    # Nothing under the artists dataset changed shape: the day's manifest is still last.
    assert not any("_runs" in k for k in bucket_keys(lambda_env) if "/artists/" in k)


def test_followers_unavailable_and_failures_are_recorded(
    lambda_env: Any, sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.mode = "development"
    assert handler({"snapshot_date": TODAY.isoformat()}, LambdaContext())["status"] == (
        "followers_unavailable"
    )
    [unavailable] = records(lambda_env)
    assert (unavailable.status, unavailable.exit_code) == ("followers_unavailable", 3)
    assert unavailable.error is not None
    assert "followers" in unavailable.error

    lambda_env.put_object(Bucket=BUCKET, Key="config/roster.txt", Body=b"0" * 22)
    monkeypatch.setenv("ROSTER_KEY", "config/roster.txt")
    sim.mode = "extended"
    with pytest.raises(NonRetryableIngestError):
        handler({"snapshot_date": TODAY.isoformat(), "force": True}, LambdaContext())
    failed = records(lambda_env)[-1]
    assert (failed.status, failed.exit_code) == ("failed", 1)
    assert failed.error is not None
    assert failed.error.startswith("NoArtistsFoundError: ")

"""The ingest Lambda's answer: a plain JSON object for the state machine's Choice.

Its keys are docs/aws-contracts.md's (see :mod:`ingest.handler`): ``snapshot_date``,
``status``, ``followers_available``, ``run_id``, ``records``, ``missing_ids``,
``manifest_key``, and ``message`` when the credentials are missing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from catalog.bronze.s3 import S3BronzeStore
from ingest.pipeline import IngestResult
from ingest.status import IngestStatus


def result_summary(result: IngestResult, store: S3BronzeStore) -> dict[str, Any]:
    return day_summary(
        result.day,
        IngestStatus.ALREADY_COMPLETE if result.already_complete else IngestStatus.COMPLETE,
        followers_available=result.followers_available,
        run_id=result.run_id,
        records=result.records,
        missing_ids=result.missing_ids,
        key=store.object_key(result.manifest_key),
    )


def credentials_missing_summary(day: date, message: str) -> dict[str, Any]:
    """The answer for a secret without usable credentials: nothing was fetched or written."""
    return {
        "snapshot_date": day.isoformat(),
        "status": IngestStatus.CREDENTIALS_MISSING.value,
        "followers_available": None,
        "run_id": None,
        "records": 0,
        "missing_ids": [],
        "manifest_key": None,
        "message": message,
    }


def day_summary(
    day: date,
    status: IngestStatus,
    *,
    followers_available: bool,
    run_id: str,
    records: int,
    missing_ids: tuple[str, ...],
    key: str,
) -> dict[str, Any]:
    return {
        "snapshot_date": day.isoformat(),
        "status": status.value,
        "followers_available": followers_available,
        "run_id": run_id,
        "records": records,
        "missing_ids": list(missing_ids),
        "manifest_key": key,
    }

"""Report stores (folder, S3 on moto), the report page, settings and the conflict retry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from catalog.iceberg.commits import (
    CommitConflictError,
    CommitStateUnknownError,
    is_commit_conflict,
    is_commit_state_unknown,
    retry_on_conflict,
)
from expectations.frame import Candidate
from expectations.quarantine import QuarantinedRow
from expectations.report import render_report
from expectations.results import QualityRun
from expectations.runner import ExpectationOutcome, SuiteOutcome
from expectations.store import (
    LocalReportStore,
    ReportStoreError,
    S3ReportStore,
    open_report_store,
    report_key,
)
from expectations.suites import (
    MAX_DAILY_FOLLOWER_CHANGE_ENV,
    PANDAS_MAX_ROWS_ENV,
    QualitySettings,
)

DAY = date(2026, 11, 1)


def test_report_key_is_day_and_run() -> None:
    assert report_key(DAY, "run-1") == "quality/2026-11-01/run-1.html"
    assert report_key(DAY, "../x") == "quality/2026-11-01/.._x.html"


def test_local_store_writes_under_its_root(tmp_path: Path) -> None:
    store = open_report_store(str(tmp_path))
    assert isinstance(store, LocalReportStore)
    where = store.put(report_key(DAY, "r"), b"<html></html>")
    assert Path(where) == tmp_path / "quality" / "2026-11-01" / "r.html"
    assert Path(where).read_bytes() == b"<html></html>"
    with pytest.raises(ReportStoreError, match="escapes"):
        store.put("../outside.html", b"")


def test_s3_store_writes_under_the_prefix(aws: str) -> None:
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="data")
    store = open_report_store("s3://data/reports", client_factory=lambda: client)
    assert isinstance(store, S3ReportStore)
    where = store.put(report_key(DAY, "r"), b"<html>ok</html>")
    assert where == "s3://data/reports/quality/2026-11-01/r.html"
    stored = client.get_object(Bucket="data", Key="reports/quality/2026-11-01/r.html")
    assert stored["Body"].read() == b"<html>ok</html>"
    assert stored["ContentType"].startswith("text/html")
    missing = open_report_store("s3://no-such-bucket/reports", client_factory=lambda: client)
    with pytest.raises(ReportStoreError, match="s3:PutObject"):
        missing.put("quality/x.html", b"")


def test_report_lists_every_expectation_and_the_quarantined_record() -> None:
    failed = ExpectationOutcome("silver", "name_present", "critical", False, 2, 1, None, (1,))
    passed = ExpectationOutcome("silver", "artist_id_format", "critical", True, 2, 0, None)
    bad = Candidate(1, {"artist_id": "x"}, {"name": None, "id": "x"}, "part-7", "integer")
    run = QualityRun(
        snapshot_date=DAY,
        run_id="run-1",
        validation_id="v1",
        validated_at=datetime(2026, 11, 1, 7, tzinfo=UTC),
        outcomes=(SuiteOutcome("silver", "pandas", (failed, passed), 0.01, 2),),
        quarantined=(QuarantinedRow(bad, ("name_present",)),),
    )
    html = render_report(run)
    assert "FAIL" in html
    assert "artist_id_format" in html
    assert "part-7" in html
    assert "{&quot;id&quot;: &quot;x&quot;, &quot;name&quot;: null}" in html
    assert "http" not in html  # nothing to fetch: no link, no CDN


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert QualitySettings.from_env() == QualitySettings()
    monkeypatch.setenv(MAX_DAILY_FOLLOWER_CHANGE_ENV, "0.2")
    monkeypatch.setenv(PANDAS_MAX_ROWS_ENV, "10")
    assert QualitySettings.from_env() == QualitySettings(0.2, 10)
    monkeypatch.setenv(PANDAS_MAX_ROWS_ENV, "ten")
    with pytest.raises(ValueError, match=PANDAS_MAX_ROWS_ENV):
        QualitySettings.from_env()


def test_only_conflicts_are_retried_and_then_reported_clearly() -> None:
    from pyiceberg.exceptions import CommitFailedException

    calls: list[int] = []

    def conflicting() -> None:
        calls.append(1)
        raise CommitFailedException("Requirement failed: branch main has changed")

    with pytest.raises(CommitConflictError, match="3 times in a row") as caught:
        retry_on_conflict(conflicting, what="test", attempts=3, wait_multiplier_s=0.001)
    assert len(calls) == 3
    assert isinstance(caught.value.__cause__, CommitFailedException)

    def broken() -> None:
        calls.append(1)
        raise ValueError("not a conflict")

    calls.clear()
    with pytest.raises(ValueError, match="not a conflict"):
        retry_on_conflict(broken, what="test", wait_multiplier_s=0.001)
    assert len(calls) == 1
    assert is_commit_conflict(RuntimeError("ValidationException: Found conflicting files"))
    assert not is_commit_conflict(RuntimeError("ValidationException: Cannot find field"))


def test_an_unknown_commit_state_is_settled_before_anything_is_redone() -> None:
    from pyiceberg.exceptions import CommitStateUnknownException

    unknown = CommitStateUnknownException("500: Internal Server Error")
    assert is_commit_state_unknown(unknown)
    assert is_commit_state_unknown(RuntimeError("org.apache.iceberg...CommitStateUnknownException"))
    assert not is_commit_conflict(unknown)
    calls: list[str] = []

    def lost_answer() -> str:
        calls.append("commit")
        raise unknown

    # Not idempotent and nothing to check with: fail at once, never redo blindly.
    with pytest.raises(CommitStateUnknownError, match="not redone blindly") as caught:
        retry_on_conflict(lost_answer, what="test", wait_multiplier_s=0.001)
    assert calls == ["commit"]
    assert caught.value.__cause__ is unknown

    # The commit had landed: the check finds it and the operation is not run again.
    calls.clear()
    found = retry_on_conflict(
        lost_answer, what="test", landed=lambda: "snapshot-1", wait_multiplier_s=0.001
    )
    assert (found, calls) == ("snapshot-1", ["commit"])

    # It had not landed: redone once, after the check said so.
    outcomes = iter([unknown, None])
    checks: list[int] = []

    def flaky() -> str:
        error = next(outcomes)
        calls.append("commit")
        if error is not None:
            raise error
        return "snapshot-2"

    calls.clear()
    assert (
        retry_on_conflict(
            flaky, what="test", landed=lambda: checks.append(1), wait_multiplier_s=0.001
        )
        == "snapshot-2"
    )
    assert (calls, checks) == (["commit", "commit"], [1])

    # Idempotent (a MERGE recomputing its changes): simply redone, as a conflict is.
    calls.clear()
    with pytest.raises(CommitStateUnknownError, match="last of 2 commits"):
        retry_on_conflict(
            lost_answer, what="test", idempotent=True, attempts=2, wait_multiplier_s=0.001
        )
    assert calls == ["commit", "commit"]

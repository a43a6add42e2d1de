"""Seams: the Glue job started exactly as Glue starts it, under its role, on moto.

* arguments: AWS's own ``getResolvedOptions`` over a Glue-shaped ``sys.argv`` built from
  the template's default arguments and the state machine's task, in several orders;
* the load: ``dist/glue/job.py`` in a process of its own with the packaged project zip
  (``--extra-py-files``) on its path, Spark started with the stack's ``--conf`` (plus the
  keys that point Iceberg's GlueCatalog and S3FileIO at moto), the Glue role's policies
  enforced on every request (Spark's AWS SDK, pyiceberg, boto3), bronze in moto's S3
  written by the ingest path. One run loads a range of days as the state machine sends it
  (``--start_date``/``--end_date``: one commit and tag per day, in one Spark session); the
  same range again skips them (resumable, no Spark session needed); the daily run's one day
  (``--snapshot_date``) re-run re-loads idempotently (no new commit); a range that reaches a day
  without bronze stops there with the days before it kept; the weekly maintenance action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal._aws import Account, Credentials
from tests.rehearsal._glue import ORDERS, GlueJob, run_job
from tests.rehearsal._template import Template

ARGUMENTS_SEAM = "glue: job arguments (real getResolvedOptions)"
LOAD_SEAM = "glue: job on GlueCatalog + S3FileIO under its role"


@pytest.fixture(scope="module")
def job(template: Template) -> GlueJob:
    return GlueJob.from_template(template)


@pytest.mark.seam(ARGUMENTS_SEAM)
@pytest.mark.parametrize("order", ORDERS)
def test_the_job_parses_what_glue_passes(job: GlueJob, order: str) -> None:
    from glue.job import parse_arguments

    run = job.run_arguments("2026-11-01", end="2026-11-24")
    argv = job.argv(Path("/tmp/glue-scripts/job.py"), run, order)  # noqa: S108
    arguments = parse_arguments(argv)
    assert arguments.snapshot_date is None
    assert (arguments.start_date, arguments.end_date) == (date(2026, 11, 1), date(2026, 11, 24))
    assert len(arguments.days) == 24
    assert arguments.action == "transform"
    # A chunk of one day (the daily run) names its day with --snapshot_date.
    assert job.run_arguments("2026-11-24") == {
        "--snapshot_date": "2026-11-24",
        "--action": "transform",
    }
    assert arguments.catalog == "glue"
    assert arguments.bronze_uri == job.default_arguments["--bronze_uri"]
    assert arguments.warehouse == job.default_arguments["--warehouse"]
    assert arguments.reports_uri == job.default_arguments["--reports_uri"]
    assert arguments.region == job.default_arguments["--region"]
    assert str(arguments.tag_retention_days) == job.default_arguments["--tag_retention_days"]


@pytest.mark.seam(ARGUMENTS_SEAM)
def test_the_maintenance_run_parses_too(job: GlueJob) -> None:
    from glue.job import parse_arguments

    argv = job.argv(Path("job.py"), job.run_arguments("2026-11-29", "maintain"), "reversed")
    arguments = parse_arguments(argv)
    assert (arguments.action, arguments.snapshot_date) == ("maintain", date(2026, 11, 29))


@dataclass
class Deployed:
    account: Account
    template: Template
    job: GlueJob
    bucket: str
    credentials: Credentials
    script: Path
    py_files: Path


@pytest.fixture
def deployed(account: Account, template: Template, job: GlueJob) -> Deployed:
    from infra import package

    if not package.GLUE_SCRIPT.is_file() or not package.GLUE_PY_FILES.is_file():
        package.build_all()
    bucket_id, _ = template.only("AWS::S3::Bucket", "Data")
    bucket = template.name(bucket_id)
    s3 = account.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    database_id, _ = template.only("AWS::Glue::Database")
    database = template.properties(database_id)["DatabaseInput"]
    account.client("glue").create_database(DatabaseInput=database)
    job_id, _ = template.only("AWS::Glue::Job")
    credentials = account.assume(template, template.role_of(job_id))
    return Deployed(
        account, template, job, bucket, credentials, package.GLUE_SCRIPT, package.GLUE_PY_FILES
    )


def _bronze(deployed: Deployed, days: list[date]) -> None:
    """Complete bronze days in moto's S3, written by the ingest path (simulator source)."""
    from catalog.bronze.open_store import open_bronze_store
    from ingest.connection import client_for
    from ingest.pipeline import ingest_day
    from ingest.roster import default_roster
    from ingest.settings import SpotifySettings
    from ingest.simulator.server import SpotifySimulator

    store = open_bronze_store(
        deployed.job.default_arguments["--bronze_uri"], s3_client=deployed.account.client("s3")
    )
    with SpotifySimulator(seed=5) as sim:
        settings = SpotifySettings(
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            api_url=sim.api_url,
            token_url=sim.token_url,
        )
        for day in days:
            client = client_for(settings)
            try:
                ingest_day(
                    day,
                    store=store,
                    client=client,
                    roster=default_roster(),
                    source="simulator",
                    allow_backdated=True,
                    force=False,
                    top=20,
                )
            finally:
                client.close()


def _run(
    deployed: Deployed,
    run_arguments: dict[str, str],
    order: str,
    *,
    returncode: int = 0,
) -> dict[str, Any]:
    """Run the job with the template's default arguments and ``run_arguments``; its last
    line of stdout (the outcome as JSON)."""
    from catalog.runtime.awsjars import aws_spark_jars, moto_spark_conf

    job = deployed.job
    argv = job.argv(deployed.script, run_arguments, order)
    conf = moto_spark_conf(
        job.stack_conf,
        deployed.account.url,
        jars=aws_spark_jars(),
        access_key_id=deployed.credentials.access_key_id,
        secret_access_key=deployed.credentials.secret_access_key,
        session_token=deployed.credentials.session_token,
    )
    with deployed.account.enforced():
        run = run_job(
            argv,
            py_files=deployed.py_files,
            spark_conf=conf.merged(),
            credentials=deployed.credentials,
            endpoint=deployed.account.url,
        )
    assert run.returncode == returncode, run.failure()
    outcome: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    if returncode:
        outcome["stderr"] = run.stderr.strip().splitlines()[-1]
    return outcome


def _table(deployed: Deployed, name: str) -> Any:
    from catalog.iceberg.profiles import glue_catalog

    catalog = glue_catalog(
        warehouse=deployed.job.default_arguments["--warehouse"],
        region=deployed.job.default_arguments["--region"],
        glue_endpoint=deployed.account.url,
        s3_endpoint=deployed.account.url,
    )
    return catalog.load_table(("spotify", name))


@pytest.mark.seam(LOAD_SEAM)
@pytest.mark.timeout(1800)  # three Spark runs, each a JVM of its own: minutes on 2 busy cores
def test_a_range_loads_in_one_run_resumes_and_stops_at_a_missing_day(
    deployed: Deployed,
) -> None:
    job = deployed.job
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    _bronze(deployed, days)
    first, last = (d.isoformat() for d in days)

    # The state machine's chunk: both days in one run, one commit and one tag each.
    loaded = _run(deployed, job.run_arguments(first, end=last), "dates first")
    assert (loaded["loaded"], loaded["skipped"], loaded["failed"]) == ([first, last], [], None)
    results = [d["result"] for d in loaded["days"]]
    assert results[0]["inserted"] == 20
    assert results[1]["updated"] + results[1]["inserted"] > 0
    silver = _table(deployed, "artists_silver")
    assert silver.current_snapshot().snapshot_id == results[1]["snapshot_id"]
    refs = silver.refs()
    for day, result in zip(days, results, strict=True):
        tag = refs[f"snapshot-{day.isoformat()}"]
        assert tag.snapshot_id == result["snapshot_id"]
        summary = silver.snapshot_by_id(tag.snapshot_id).summary
        assert summary["snapshot_date"] == day.isoformat()
    assert silver.scan().to_arrow().num_rows == 40
    dq = _table(deployed, "dq_results").scan().to_arrow()
    assert {str(d) for d in dq.column("snapshot_date").to_pylist()} == {first, last}
    listing = deployed.account.client("s3").list_objects_v2(
        Bucket=deployed.bucket, Prefix="reports/quality/"
    )
    assert listing.get("KeyCount", 0) >= 2

    # The same chunk again (a re-started execution): both days skipped, no commit.
    again = _run(deployed, job.run_arguments(first, end=last), "glue's own first")
    assert (again["loaded"], again["skipped"]) == ([], [first, last])
    assert (
        _table(deployed, "artists_silver").current_snapshot().snapshot_id
        == (results[1]["snapshot_id"])
    )

    # The daily run's shape (a chunk of one day: --snapshot_date) re-run for a loaded day:
    # validated again, re-loaded idempotently: nothing changed, no new commit.
    daily = job.run_arguments(last)
    assert "--snapshot_date" in daily
    again_one_day = _run(deployed, daily, "reversed")
    assert again_one_day["snapshot_id"] is None

    # A range reaching a day without bronze stops there (exit 1); the days before it stay.
    stopped = _run(
        deployed, job.run_arguments(last, end=today.isoformat()), "template", returncode=1
    )
    assert (stopped["skipped"], stopped["failed"]) == ([last], today.isoformat())
    assert "is incomplete" in stopped["stderr"]
    assert "run the same range again" in stopped["stderr"]

    maintained = _run(deployed, job.run_arguments(today.isoformat(), "maintain"), "template")
    assert maintained["action"] == "maintain"
    assert set(_table(deployed, "artists_silver").refs()) >= {
        f"snapshot-{d.isoformat()}" for d in days
    }

"""Seams: the pipeline and freshness state machines, executed path by path in moto's server.

The definitions are the template's (DefinitionString, intrinsics resolved to the resources
created in moto from the same template); moto's ASL interpreter executes them, with the
gaps listed in tests/rehearsal/_sfn.py filled. What each execution touches is real moto:
the Lambda task runs the repository's ingest handler with the function's environment from
the template (only the Spotify URLs point at the simulator on 127.0.0.1), the Glue task
starts and polls moto's job runs, the load records are moto S3 objects, the gold view DDL is
a moto Athena query execution, and the notifications are moto SNS messages.

Retry intervals (5 and 10 minutes for the Lambda, 1 minute doubling up to 5 for a busy Glue
slot) are recorded, not slept: each test takes about a second (the 32-day backfill, ~15 s).

Not executed here: the maintenance state machine (its pruner is not run); IAM on the
executions (the state machines' and the function's roles are created with their policies but
not enforced: moto checks most non-S3 requests against ``*``, see _aws.py; the ingest Lambda
seam enforces the function's role); the EventBridge rules that alert on failed executions
(moto's Step Functions sends no status-change events; tests/infra checks the rules);
EventBridge Scheduler itself (a scheduled run's input is the
schedule target's ``Input`` from the template, with the time filled in); the Glue job's code
and the gold view's SQL (other seams; moto's job run only records its arguments and moto's
Athena runs no SQL); the Lambda's timeout and reserved concurrency. The range test moves the
Lambda's clock to each requested day (see its docstring).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest import pipeline as ingest_pipeline
from ingest.simulator.server import SpotifySimulator
from tests.rehearsal import _sfn
from tests.rehearsal._aws import Account
from tests.rehearsal._sfn import (
    Clients,
    Deployment,
    Execution,
    Interpreter,
    execute,
    published,
)
from tests.rehearsal._template import Template

REPO = Path(__file__).resolve().parents[2]
GOLD_VIEW_SQL = (REPO / "views" / "sql" / "spotify_gold_view.sql").read_text().strip()

#: The states of one day whose bronze is complete (inside the chunk's ingest Map).
INGESTED_DAY = ["Ingest", "DayComplete?", "DayIngested"]


def loaded_chunk(days: int) -> list[str]:
    """The states of a chunk of ``days`` days that is loaded: each day ingested in order,
    then one Glue run for them all, then a load record per day."""
    return [
        "IngestDays",
        *INGESTED_DAY * days,
        "Transform",
        "RecordLoads",
        *["RecordLoad"] * days,
    ]


#: The daily run: one chunk of one day.
LOADED_DAY = loaded_chunk(1)
#: After the chunks: the gold view is looked up, deployed when missing, and the result sent.
VIEW_MISSING = ["DeployViews?", "FindGoldView", "DeployGoldView", "PublishResult"]
VIEW_PRESENT = ["DeployViews?", "FindGoldView", "PublishResult"]
PLAN = ["Plan", "ValidRange?", "Chunks"]


@dataclass
class Rehearsal:
    client: Clients
    stack: Deployment
    moto: Interpreter
    sim: SpotifySimulator

    def run(self, machine: str, payload: dict[str, Any], timeout_s: float = 60) -> Execution:
        return execute(
            self.client("stepfunctions"), self.stack.machines[machine], payload, timeout_s
        )

    def scheduled(self, machine: str, day: date, hour: int) -> Execution:
        """An execution as the template's schedule starts it on ``day`` at ``hour`` UTC."""
        when = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        arn = self.stack.machines[machine]
        return self.run(machine, _sfn.scheduled_input(self.stack.template, arn, when))

    def fill_credentials(self) -> None:
        """What the runbook's first-deploy step does: the app's credentials (the
        simulator's, standing in for a Spotify app) into the store: the SecureString the
        stack names (its default), or the secret it created empty."""
        value = json.dumps(
            {"client_id": self.sim.client_id, "client_secret": self.sim.client_secret}
        )
        if self.stack.credentials_store == "ssm":
            self.client("ssm").put_parameter(
                Name=self.stack.credentials, Value=value, Type="SecureString", Overwrite=True
            )
        else:
            self.client("secretsmanager").put_secret_value(
                SecretId=self.stack.credentials, SecretString=value
            )

    def ingest_events(self) -> list[Any]:
        return [i.event for i in self.moto.lambda_runtime.of(self.stack.ingest_function)]

    def ingest_results(self) -> list[Any]:
        return [i.result for i in self.moto.lambda_runtime.of(self.stack.ingest_function)]

    def glue_runs(self) -> list[dict[str, Any]]:
        runs = self.client("glue").get_job_runs(JobName=self.stack.glue_job)["JobRuns"]
        return sorted(runs, key=lambda r: r["StartedOn"])

    def glue_ranges(self) -> list[tuple[str, str]]:
        """The first and last day of every Glue run, in start order: ``--start_date`` and
        ``--end_date``, or ``--snapshot_date`` twice for a run of one day."""
        ranges = []
        for run in self.glue_runs():
            args = run["Arguments"]
            if "--snapshot_date" in args:
                assert "--start_date" not in args
                ranges.append((args["--snapshot_date"], args["--snapshot_date"]))
            else:
                ranges.append((args["--start_date"], args["--end_date"]))
        return ranges

    def load_record(self, day: date) -> dict[str, Any] | None:
        s3 = self.client("s3")
        key = f"reports/loads/snapshot_date={day.isoformat()}.json"
        try:
            body = s3.get_object(Bucket=self.stack.bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        record: dict[str, Any] = json.loads(body)
        return record

    def load_record_keys(self) -> list[str]:
        listed = self.client("s3").list_objects_v2(
            Bucket=self.stack.bucket, Prefix="reports/loads/"
        )
        return [o["Key"] for o in listed.get("Contents", [])]

    def queries(self) -> list[dict[str, Any]]:
        athena = self.client("athena")
        ids = athena.list_query_executions(WorkGroup=self.stack.workgroup)["QueryExecutionIds"]
        return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]

    def alerts(self) -> list[tuple[str | None, str]]:
        return published(self.stack.alerts_topic)

    def results(self) -> list[tuple[str | None, str]]:
        return published(self.stack.runs_topic)


@pytest.fixture
def deployed(
    account: Account, template: Template, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Rehearsal]:
    """The stack in moto as the deploy leaves it: the credentials not filled in yet."""
    interpreter = _sfn.install(monkeypatch, account.url)
    try:
        clients = Clients(account)
        stack = _sfn.deploy(clients, template)
        with SpotifySimulator() as sim:
            interpreter.lambda_runtime.extra_environment.update(
                {"SPOTIFY_API_URL": sim.api_url, "SPOTIFY_TOKEN_URL": sim.token_url}
            )
            yield Rehearsal(clients, stack, interpreter, sim)
    finally:
        _sfn.restore_config(account.url)


@pytest.fixture
def rehearsal(deployed: Rehearsal) -> Rehearsal:
    """The stack after the runbook's first-deploy step: the credentials filled in."""
    deployed.fill_credentials()
    return deployed


def utc_today() -> date:
    return datetime.now(UTC).date()


def _record_as_loaded(
    day: date, ingest: dict[str, Any], glue_run: dict[str, Any]
) -> dict[str, Any]:
    """The load record the Transform state's Output defines, from what moto returned."""
    return {
        "snapshot_date": day.isoformat(),
        "status": "loaded",
        "ingest_status": ingest["status"],
        "run_id": ingest["run_id"],
        "records": ingest["records"],
        "missing_ids": ingest["missing_ids"],
        "glue_job_run_id": glue_run["Id"],
        "glue_execution_seconds": glue_run["ExecutionTime"],
    }


# --- 1. the daily run ------------------------------------------------------------------------
@pytest.mark.seam("state machine: followers available -> Glue -> load record -> view -> publish")
def test_daily_run_loads_records_deploys_the_missing_view_and_publishes(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    day = utc_today()
    run = r.scheduled("pipeline", day, 6)

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == PLAN + LOADED_DAY + VIEW_MISSING
    # The ingest Lambda: one invocation with the day of the schedule's time, a real answer.
    assert r.ingest_events() == [{"snapshot_date": day.isoformat(), "force": False}]
    (answer,) = r.ingest_results()
    assert answer["status"] == "complete"
    assert answer["records"] == 20
    manifest = r.client("s3").get_object(Bucket=r.stack.bucket, Key=answer["manifest_key"])
    assert json.loads(manifest["Body"].read())["run_id"] == answer["run_id"]
    # The Glue job: one run for that day (named explicitly, --snapshot_date), the job's
    # default arguments underneath, in the Flex class (a scheduled run: nobody waits for it).
    (glue_run,) = r.glue_runs()
    assert glue_run["JobRunState"] == "SUCCEEDED"
    assert glue_run["Arguments"]["--snapshot_date"] == day.isoformat()
    assert "--start_date" not in glue_run["Arguments"]
    assert glue_run["Arguments"]["--action"] == "transform"
    assert glue_run["Arguments"]["--catalog"] == "glue"
    (start,) = run.scheduled("startJobRun")
    assert json.loads(start["parameters"])["ExecutionClass"] == "FLEX"
    # The load record, as the freshness check will read it.
    record = _record_as_loaded(day, answer, glue_run)
    assert r.load_record(day) == record
    assert r.load_record_keys() == [f"reports/loads/snapshot_date={day.isoformat()}.json"]
    # The view was missing (Glue.EntityNotFoundException caught): its DDL ran in Athena.
    assert [f["error"] for f in run.failures()] == ["Glue.EntityNotFoundException"]
    (query,) = r.queries()
    assert query["Query"] == GOLD_VIEW_SQL
    assert query["WorkGroup"] == r.stack.workgroup
    assert query["QueryExecutionContext"] == {"Catalog": "AwsDataCatalog", "Database": "spotify"}
    # One result message, no alert, nothing slept.
    ((subject, message),) = r.results()
    assert subject == f"spotify-lakehouse: loaded {day.isoformat()}"
    assert json.loads(message) == {
        "first_day": day.isoformat(),
        "last_day": day.isoformat(),
        "days": [record],
        "execution": run.arn,
    }
    assert r.alerts() == []
    assert r.moto.retry_waits.seconds == []


@pytest.mark.seam("state machine: followers available -> Glue -> load record -> view -> publish")
def test_an_existing_gold_view_is_not_deployed_again(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.client("glue").create_table(
        DatabaseName="spotify",
        TableInput={"Name": "spotify_gold_view", "TableType": "VIRTUAL_VIEW"},
    )
    run = r.run("pipeline", {"snapshot_date": utc_today().isoformat()})
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == PLAN + LOADED_DAY + VIEW_PRESENT
    assert r.queries() == []
    assert len(r.results()) == 1


@pytest.mark.seam("state machine: followers available -> Glue -> load record -> view -> publish")
def test_deploy_views_runs_the_ddl_although_the_view_exists(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.client("glue").create_table(
        DatabaseName="spotify",
        TableInput={"Name": "spotify_gold_view", "TableType": "VIRTUAL_VIEW"},
    )
    run = r.run("pipeline", {"snapshot_date": utc_today().isoformat(), "deploy_views": True})
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == [*PLAN, *LOADED_DAY, "DeployViews?", "DeployGoldView", "PublishResult"]
    assert [q["Query"] for q in r.queries()] == [GOLD_VIEW_SQL]


# --- 2. the day is stopped with one alert ----------------------------------------------------
@pytest.mark.seam("state machine: followers unavailable -> one alert, no Glue, stopped")
def test_followers_unavailable_stops_the_day_with_one_alert(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sim.mode = "development"  # Spotify's Development Mode: no followers in the answers
    day = utc_today()
    run = r.scheduled("pipeline", day, 6)

    assert run.status == "SUCCEEDED", (run.error, run.cause)  # stopped on purpose: no alarm
    assert run.entered() == [
        *PLAN,
        "IngestDays",
        "Ingest",
        "DayComplete?",
        "RecordFollowersUnavailable",
        "FollowersUnavailable",
        "AlertFollowersUnavailable",
        "StoppedFollowersUnavailable",
    ]
    ((subject, message),) = r.alerts()
    assert subject == "spotify-lakehouse: the Spotify app cannot read followers"
    assert "Development Mode" in message
    assert message.endswith(f"Execution: {run.arn}")
    assert r.results() == []
    assert r.glue_runs() == []
    (answer,) = r.ingest_results()  # no retry
    assert answer["status"] == "followers_unavailable"
    assert r.load_record(day) == answer  # the answer, with its status, for the freshness check
    assert r.moto.retry_waits.seconds == []

    # The evening's freshness check accepts the stopped day: no second alert.
    freshness = r.scheduled("freshness", day, 9)
    assert freshness.status == "SUCCEEDED", (freshness.error, freshness.cause)
    assert freshness.entered() == ["FindTodaysLoad", "LoadedOrAlerted?", "DayAccountedFor"]


@pytest.mark.seam("state machine: credentials missing -> one alert, Spotify not called, stopped")
def test_unfilled_credentials_stop_the_day_with_one_alert(deployed: Rehearsal) -> None:
    r = deployed  # as the stack leaves it: the SSM SecureString not created yet
    assert r.stack.credentials_store == "ssm"
    day = utc_today()
    run = r.scheduled("pipeline", day, 6)

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == [
        *PLAN,
        "IngestDays",
        "Ingest",
        "DayComplete?",
        "RecordCredentialsMissing",
        "CredentialsMissing",
        "AlertCredentialsMissing",
        "StoppedCredentialsMissing",
    ]
    ((subject, message),) = r.alerts()
    assert "credentials" in (subject or "")
    # The alert names the parameter and the exact command that creates it.
    assert (
        f"aws ssm put-parameter --name {r.stack.credentials} --type SecureString --overwrite "
        """--value '{"client_id":"...","client_secret":"..."}' then re-run the day."""
    ) in message
    assert message.endswith(f"Execution: {run.arn}")
    assert r.sim.requests == []  # Spotify was not called
    assert r.glue_runs() == []
    assert r.results() == []
    (answer,) = r.ingest_results()
    assert answer["status"] == "credentials_missing"
    assert f"--name {r.stack.credentials} --type SecureString" in answer["message"]
    record = r.load_record(day)
    assert record is not None
    assert record["status"] == "credentials_missing"
    listed = r.client("s3").list_objects_v2(Bucket=r.stack.bucket, Prefix="bronze/")
    assert listed.get("KeyCount", 0) == 0  # nothing written to bronze

    # The command fixes it: the next run of the day loads it.
    r.fill_credentials()
    again = r.run("pipeline", {"snapshot_date": day.isoformat()})
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert r.load_record(day)["status"] == "loaded"  # type: ignore[index]


# --- 3. the Glue run fails -------------------------------------------------------------------
@pytest.mark.seam("state machine: Glue run fails -> execution fails, no load record")
def test_a_failed_glue_run_fails_the_execution_without_a_load_record(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    r.moto.glue_runs.outcomes.append("FAILED")
    day = utc_today()
    run = r.run("pipeline", {"snapshot_date": day.isoformat()})

    assert run.status == "FAILED"
    assert run.error == "States.TaskFailed", run.cause
    assert run.entered() == [*PLAN, "IngestDays", *INGESTED_DAY, "Transform"]
    (glue_run,) = r.glue_runs()  # not retried: a person re-runs the day once it is fixed
    assert glue_run["JobRunState"] == "FAILED"
    assert [f["error"] for f in run.failures()] == ["States.TaskFailed"]
    assert r.load_record(day) is None
    assert r.load_record_keys() == []
    assert r.results() == []
    assert r.alerts() == []  # the failure's EventBridge rule tells a person, not the pipeline
    assert r.moto.retry_waits.seconds == []


@pytest.mark.seam("state machine: Glue slot busy -> waits and retries")
def test_a_busy_glue_slot_is_waited_out(rehearsal: Rehearsal) -> None:
    r = rehearsal
    glue = r.client("glue")
    r.moto.glue_runs.outcomes.append("RUNNING")  # e.g. the weekly maintenance run
    glue.start_job_run(JobName=r.stack.glue_job, Arguments={"--action": "maintain"})
    # The Transform state's first start is refused (MaxConcurrentRuns 1); the maintenance
    # run ends while the state machine waits; the retry starts the day's run.
    r.moto.retry_waits.on_wait = lambda _: r.moto.glue_runs.finish(r.stack.glue_job)
    run = r.run("pipeline", {"snapshot_date": utc_today().isoformat()})

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert [f["error"] for f in run.failures()] == [
        "Glue.ConcurrentRunsExceededException",
        "Glue.EntityNotFoundException",
    ]
    assert r.moto.retry_waits.seconds == [60]
    assert [g["Arguments"]["--action"] for g in r.glue_runs()] == ["maintain", "transform"]
    assert run.entered() == PLAN + LOADED_DAY + VIEW_MISSING


@pytest.mark.seam("state machine: Glue slot busy -> waits and retries")
def test_the_daily_run_queues_behind_a_backfill_chunk(rehearsal: Rehearsal) -> None:
    """A backfill's chunk holds the job's one slot for many minutes: the scheduled daily run
    waits (1 minute, doubling, never more than 5 minutes apart) until the slot is free,
    then loads its day, instead of failing at the first refusal."""
    r = rehearsal
    r.moto.glue_runs.outcomes.append("RUNNING")
    r.client("glue").start_job_run(  # a backfill's chunk, as the Transform state starts it
        JobName=r.stack.glue_job,
        Arguments={"--start_date": "2025-01-01", "--end_date": "2025-01-31"},
    )
    refused = 0

    def chunk_runs_on(_: float) -> None:
        nonlocal refused
        refused += 1
        if refused == 6:  # ~17 minutes later the chunk's run ends
            r.moto.glue_runs.finish(r.stack.glue_job)

    r.moto.retry_waits.on_wait = chunk_runs_on
    day = utc_today()
    run = r.scheduled("pipeline", day, 6)

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert r.moto.retry_waits.seconds == [60, 120, 240, 300, 300, 300]
    failures = [f["error"] for f in run.failures()]
    assert failures.count("Glue.ConcurrentRunsExceededException") == 6
    assert r.glue_ranges() == [("2025-01-01", "2025-01-31"), (day.isoformat(), day.isoformat())]
    assert r.load_record(day)["status"] == "loaded"  # type: ignore[index]
    assert run.entered() == PLAN + LOADED_DAY + VIEW_MISSING


# --- 4. a range of days ----------------------------------------------------------------------
@pytest.mark.seam("state machine: date range -> days in order, one Glue run per chunk")
def test_a_range_runs_day_by_day_in_order(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each day's ingest answer is the handler's own for that day as the Lambda gives it on
    that day: the Lambda's clock reads the requested day (the handler refuses any other day
    against the real API; see the backfill test below)."""
    r = rehearsal
    runtime = r.moto.lambda_runtime
    monkeypatch.setattr(
        ingest_pipeline,
        "utc_today",
        lambda: date.fromisoformat(runtime.invocations_started[-1]["snapshot_date"]),
    )
    last = utc_today()
    days = [last - timedelta(days=2), last - timedelta(days=1), last]
    run = r.run("pipeline", {"start_date": days[0].isoformat(), "end_date": last.isoformat()})

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == PLAN + loaded_chunk(3) + VIEW_MISSING
    assert r.ingest_events() == [{"snapshot_date": d.isoformat(), "force": False} for d in days]
    # One Glue run loads the three days, after the three ingests; Standard: started by hand.
    (glue_run,) = r.glue_runs()
    assert r.glue_ranges() == [(days[0].isoformat(), last.isoformat())]
    scheduled = [e["resource"] for e in run.scheduled("")]
    assert scheduled == ["invoke"] * 3 + ["startJobRun.sync"] + ["putObject"] * 3 + [
        "getTable",
        "startQueryExecution.sync",
        "publish",
    ]
    (start,) = run.scheduled("startJobRun")
    assert json.loads(start["parameters"])["ExecutionClass"] == "STANDARD"
    records = [
        _record_as_loaded(d, answer, glue_run)
        for d, answer in zip(days, r.ingest_results(), strict=True)
    ]
    assert [r.load_record(d) for d in days] == records
    ((subject, message),) = r.results()
    assert subject == f"spotify-lakehouse: loaded {days[0].isoformat()} to {last.isoformat()}"
    assert json.loads(message)["days"] == records


@pytest.mark.seam("state machine: backfill of past days whose bronze is complete")
def test_a_backfill_reloads_past_days_from_complete_bronze(rehearsal: Rehearsal) -> None:
    r = rehearsal
    last = utc_today() - timedelta(days=1)
    days = [last - timedelta(days=2), last - timedelta(days=1), last]
    _ingest_into_bronze(r, days)  # e.g. ingested by the daily runs of those days
    run = r.run("pipeline", {"start_date": days[0].isoformat(), "end_date": last.isoformat()})
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert [a["status"] for a in r.ingest_results()] == ["already_complete"] * 3
    assert r.glue_ranges() == [(days[0].isoformat(), last.isoformat())]


@pytest.mark.seam("state machine: backfill of past days whose bronze is complete")
def test_a_long_backfill_is_one_glue_run_per_chunk(rehearsal: Rehearsal) -> None:
    """32 days: two chunks (31 days, then 1), each ingested in order and then loaded by one
    Glue run; every day gets its load record naming its chunk's run. A year is 12 runs
    (tests/infra checks the chunks of 365 and 366 days from the same expression)."""
    r = rehearsal
    last = utc_today() - timedelta(days=1)
    days = [last - timedelta(days=31 - i) for i in range(32)]
    _ingest_into_bronze(r, days)
    run = r.run(
        "pipeline",
        {"start_date": days[0].isoformat(), "end_date": last.isoformat(), "flex": True},
        timeout_s=180,
    )

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == PLAN + loaded_chunk(31) + loaded_chunk(1) + VIEW_MISSING
    assert r.ingest_events() == [{"snapshot_date": d.isoformat(), "force": False} for d in days]
    assert r.glue_ranges() == [
        (days[0].isoformat(), days[30].isoformat()),
        (last.isoformat(), last.isoformat()),
    ]
    first_run, last_run = (g["Arguments"] for g in r.glue_runs())
    assert (first_run["--start_date"], first_run["--end_date"]) == (
        days[0].isoformat(),
        days[30].isoformat(),
    )
    assert last_run["--snapshot_date"] == last.isoformat()  # a chunk of one day
    scheduled = [e["resource"] for e in run.scheduled("") if e["resource"] != "putObject"]
    assert scheduled[:33] == ["invoke"] * 31 + ["startJobRun.sync", "invoke"]
    assert [json.loads(s["parameters"])["ExecutionClass"] for s in run.scheduled("startJob")] == [
        "FLEX",
        "FLEX",
    ]
    first, second = r.glue_runs()
    answers = r.ingest_results()
    expected = [
        _record_as_loaded(d, a, first if i < 31 else second)
        for i, (d, a) in enumerate(zip(days, answers, strict=True))
    ]
    assert [r.load_record(d) for d in days] == expected
    ((_, message),) = r.results()
    assert json.loads(message)["days"] == expected


def _ingest_into_bronze(r: Rehearsal, days: list[date]) -> None:
    """Complete bronze for ``days`` in the stack's bucket, the way each day's own ingest
    leaves it (the simulator serves past days)."""
    from catalog.bronze.s3 import S3BronzeStore
    from ingest.connection import client_for
    from ingest.roster import default_roster

    store = S3BronzeStore(r.stack.bucket, "bronze/", client=r.client("s3"))
    client = client_for(r.sim.settings())
    try:
        for day in days:
            ingest_pipeline.ingest_day(
                day,
                store=store,
                client=client,
                roster=default_roster(),
                source="simulator",
                allow_backdated=False,
            )
    finally:
        client.close()


# --- 5. an invalid range ---------------------------------------------------------------------
@pytest.mark.seam("state machine: invalid range -> InvalidRange, nothing run")
@pytest.mark.parametrize(
    ("start", "end"),
    [(0, -1), (-400, 0)],
    ids=["end-before-start", "longer-than-max-backfill"],
)
def test_an_invalid_range_fails_before_anything_runs(
    rehearsal: Rehearsal, start: int, end: int
) -> None:
    r = rehearsal
    today = utc_today()
    payload = {
        "start_date": (today + timedelta(days=start)).isoformat(),
        "end_date": (today + timedelta(days=end)).isoformat(),
    }
    run = r.run("pipeline", payload)
    assert run.status == "FAILED"
    assert run.error == "InvalidRange"
    assert run.entered() == ["Plan", "ValidRange?", "InvalidRange"]
    assert r.ingest_events() == []
    assert r.glue_runs() == []
    assert r.alerts() == r.results() == []


# --- 6. ingest failures ----------------------------------------------------------------------
@pytest.mark.seam("state machine: NonRetryableIngestError -> no retry")
@pytest.mark.parametrize(
    ("offset", "cause"), [(-1, "BackdatedRefusedError"), (1, "FutureDayError")]
)
def test_a_permanent_ingest_failure_is_not_retried(
    rehearsal: Rehearsal, offset: int, cause: str
) -> None:
    r = rehearsal
    day = utc_today() + timedelta(days=offset)  # the real API cannot serve it
    run = r.run("pipeline", {"snapshot_date": day.isoformat()})

    assert run.status == "FAILED"
    assert run.error == "NonRetryableIngestError"
    assert run.entered() == [*PLAN, "IngestDays", "Ingest"]
    assert len(run.scheduled("invoke")) == 1
    assert r.ingest_events() == [{"snapshot_date": day.isoformat(), "force": False}]
    (failure,) = run.failures()
    assert failure["error"] == "NonRetryableIngestError"
    assert json.loads(failure["cause"])["errorMessage"].startswith(f"{cause}: ")
    assert r.moto.retry_waits.seconds == []
    assert r.glue_runs() == []
    assert r.load_record_keys() == []


@pytest.mark.seam("state machine: retryable ingest error -> retried after 5 and 10 minutes")
def test_a_transient_ingest_failure_is_retried_twice(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = rehearsal
    # Parameter Store throttles every read (SSM's ThrottlingException over the wire): a
    # SecretError, which may clear by itself or after a person looks.
    from moto.ssm.exceptions import SSMException
    from moto.ssm.models import SimpleSystemManagerBackend

    def throttled(*_: Any, **__: Any) -> Any:
        raise SSMException("ThrottlingException", "Rate exceeded")

    monkeypatch.setattr(SimpleSystemManagerBackend, "get_parameter", throttled)
    run = r.run("pipeline", {"snapshot_date": utc_today().isoformat()})

    assert run.status == "FAILED"
    assert run.error == "SecretError"
    assert run.entered() == [*PLAN, "IngestDays", "Ingest"]
    assert len(run.scheduled("invoke")) == 3
    assert [f["error"] for f in run.failures()] == ["SecretError"] * 3
    assert "ThrottlingException" in json.loads(run.failures()[0]["cause"])["errorMessage"]
    assert r.moto.retry_waits.seconds == [300, 600]
    assert r.glue_runs() == []


# --- the freshness check ---------------------------------------------------------------------
@pytest.mark.seam("state machine: freshness -> succeeds with a load record, fails without")
def test_freshness_accepts_the_record_of_the_daily_run(rehearsal: Rehearsal) -> None:
    r = rehearsal
    day = utc_today()
    loaded = r.scheduled("pipeline", day, 6)
    assert loaded.status == "SUCCEEDED", (loaded.error, loaded.cause)
    run = r.scheduled("freshness", day, 9)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.entered() == ["FindTodaysLoad", "LoadedOrAlerted?", "DayAccountedFor"]


@pytest.mark.seam("state machine: freshness -> succeeds with a load record, fails without")
def test_freshness_fails_without_a_load_record(rehearsal: Rehearsal) -> None:
    r = rehearsal
    yesterday = utc_today() - timedelta(days=1)
    r.client("s3").put_object(  # another day's record does not count
        Bucket=r.stack.bucket,
        Key=f"reports/loads/snapshot_date={yesterday.isoformat()}.json",
        Body=json.dumps({"snapshot_date": yesterday.isoformat(), "status": "loaded"}),
    )
    run = r.scheduled("freshness", utc_today(), 9)
    assert run.status == "FAILED"
    assert run.error == "DayNotLoaded"
    assert run.entered() == ["FindTodaysLoad", "DayNotLoaded"]
    assert [f["error"] for f in run.failures()] == ["S3.NoSuchKeyException"]


@pytest.mark.seam("state machine: freshness -> succeeds with a load record, fails without")
@pytest.mark.parametrize(
    ("body", "accounted"),
    [
        ({"status": "loaded"}, True),
        ({}, True),  # a record written before the status field existed was a load
        ({"status": "followers_unavailable"}, True),
        ({"status": "credentials_missing"}, True),
        ({"status": "something_else"}, False),
    ],
    ids=["loaded", "no-status", "followers-unavailable", "credentials-missing", "unknown"],
)
def test_freshness_reads_the_record_status(
    rehearsal: Rehearsal, body: dict[str, Any], accounted: bool
) -> None:
    r = rehearsal
    day = utc_today()
    r.client("s3").put_object(
        Bucket=r.stack.bucket,
        Key=f"reports/loads/snapshot_date={day.isoformat()}.json",
        Body=json.dumps({"snapshot_date": day.isoformat(), **body}),
    )
    run = r.scheduled("freshness", day, 9)
    if accounted:
        assert run.status == "SUCCEEDED", (run.error, run.cause)
        assert run.entered()[-1] == "DayAccountedFor"
    else:
        assert run.status == "FAILED"
        assert run.entered() == ["FindTodaysLoad", "LoadedOrAlerted?", "DayNotLoaded"]

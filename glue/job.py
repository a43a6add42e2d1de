"""The Glue job: the script Glue 5 runs, and the module the CLI runs locally.

On Glue, arguments come through ``awsglue.utils.getResolvedOptions`` (the day is always
explicit: the UTC day of the schedule's scheduled time, never "today" computed here);
elsewhere through argparse with the same names (docs/aws-contracts.md). Both paths end in
:func:`glue.transform.transform_day`, the one transform:

* ``--snapshot_date D``: that day (validated and loaded again if it was loaded already: a
  re-load is idempotent);
* ``--start_date D1 --end_date D2``: every day of the range in order, in one Spark session,
  one commit and tag per day, stopping at the first day that fails and skipping the days
  already loaded from their current bronze run (:mod:`glue.days`). The state machine sends
  its days this way, a chunk at a time, so a year is a dozen Glue runs.

* ``--catalog local`` (default): the home's SQLite catalog, bronze folder and reports folder.
* ``--catalog glue``: the Glue Data Catalog through Iceberg's GlueCatalog and S3FileIO in
  Spark and pyiceberg's GlueCatalog for table creation and the quality tables; bronze
  through :func:`catalog.bronze.s3.open_bronze_store`; reports under ``--reports_uri``.
* ``--action maintain`` runs :func:`catalog.iceberg.maintenance.maintain` instead of a day's load.
* ``--tag_retention_days N`` (the stack passes its setting to every run) makes N the home's
  tag retention, stored as silver's table property before anything is written, so the loads
  and maintenance of every run agree; without it the stored setting is used (default 400).

Every run ends with its row in ``spotify.pipeline_runs`` (engine ``glue``, kind ``transform``,
``backfill`` for a range, or ``maintain``), success or failure, in the same commit as the
ingest Lambda's run records found in bronze for the run's days
(:func:`catalog.bronze.layout.run_records_prefix`), each folded once (by its run id). A
failure to record is a warning: it never changes the job's outcome.

Run locally: ``python -m glue.job --snapshot_date 2026-11-24 --home ./lakehouse``, or
``python -m glue.job --start_date 2026-11-01 --end_date 2026-11-24 --home ./lakehouse``.
``make rehearse`` starts this module the way Glue does (AWS's own ``getResolvedOptions``,
a Glue-shaped ``sys.argv``, the stack's ``--conf``) against moto's server.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from catalog.errors import LakehouseError
from catalog.iceberg.profiles import CATALOG_NAME, glue_catalog, local_catalog
from catalog.iceberg.run_log import RunRecord, RunTally
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS
from catalog.paths import LakehousePaths
from catalog.runtime.spark import ICEBERG_EXTENSIONS
from expectations.store import LocalReportStore, open_report_store
from expectations.suites import QualitySettings
from glue.days import RangeOutcome, days_between, load_range
from glue.transform import JobContext, TransformResult, transform_day

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyspark.sql import SparkSession

    from catalog.bronze.layout import BronzeStore

log = logging.getLogger(__name__)

Action = Literal["transform", "maintain"]
CatalogKind = Literal["local", "glue"]
ACTIONS: Final = ("transform", "maintain")
CATALOGS: Final = ("local", "glue")

#: One of the two ways to name the days is required (:func:`parse_arguments` checks it):
#: ``--snapshot_date`` or ``--start_date`` with ``--end_date``.
DAY_ARGUMENTS: Final = ("snapshot_date", "start_date", "end_date")
#: Job arguments (docs/aws-contracts.md), plus ``home`` for local runs. Glue's resolver
#: fails on an option it was not asked for and on one asked for but absent, so only the ones
#: present in argv are requested.
OPTIONAL_ARGUMENTS: Final = (
    *DAY_ARGUMENTS,
    "bronze_uri",
    "warehouse",
    "reports_uri",
    "catalog",
    "region",
    "action",
    "tag_retention_days",
    "home",
)
#: The engine of the runs this job records in ``spotify.pipeline_runs``.
ENGINE: Final = "glue"
#: What ``--catalog glue`` cannot run without.
GLUE_REQUIRED: Final = ("bronze_uri", "warehouse", "reports_uri", "region")


class JobArgumentError(LakehouseError):
    """The job was started with arguments it cannot run with (exit 2, like bad CLI usage)."""

    exit_code = 2


@dataclass(frozen=True)
class JobArguments:
    #: The one day (``--snapshot_date``); None when a range is given.
    snapshot_date: date | None
    action: Action = "transform"
    catalog: CatalogKind = "local"
    home: str | None = None
    bronze_uri: str | None = None
    warehouse: str | None = None
    reports_uri: str | None = None
    region: str | None = None
    #: ``--tag_retention_days``: the home's new tag retention; None: the stored one.
    tag_retention_days: int | None = None
    #: The range (``--start_date``/``--end_date``, both included); None for one day.
    start_date: date | None = None
    end_date: date | None = None

    @property
    def is_range(self) -> bool:
        return self.start_date is not None

    @property
    def days(self) -> list[date]:
        """The days to load, oldest first."""
        if self.start_date is not None and self.end_date is not None:
            return days_between(self.start_date, self.end_date)
        assert self.snapshot_date is not None  # parse_arguments guarantees one of the two
        return [self.snapshot_date]

    @property
    def today(self) -> date:
        """The run's day: ``--snapshot_date``, else the range's last day."""
        return self.snapshot_date or self.days[-1]


Resolver = Callable[[list[str], list[str]], dict[str, str]]


def _glue_resolver() -> Resolver | None:
    """AWS's ``getResolvedOptions`` where ``awsglue`` is importable (on Glue, and in the dev
    venv through ``awsgluedataplanepython``), with its parse error translated into ours."""
    try:
        from awsglue.utils import (
            GlueArgumentError,
            getResolvedOptions,
        )
    except ImportError:
        return None

    def resolve(argv: list[str], options: list[str]) -> dict[str, str]:
        try:
            return cast(dict[str, str], getResolvedOptions(argv, options))
        except GlueArgumentError as e:
            raise JobArgumentError(
                f"the Glue job's arguments do not parse: {e} (docs/aws-contracts.md lists them)"
            ) from e

    return resolve


def _argparse(argv: Sequence[str]) -> dict[str, str]:
    """Like Glue's resolver: ``argv`` is the whole ``sys.argv``, script path first."""
    parser = argparse.ArgumentParser(prog="glue.job", description=__doc__)
    parser.add_argument("--snapshot_date", default=None, help="UTC day to load, YYYY-MM-DD")
    parser.add_argument("--start_date", default=None, help="first day of a range to load")
    parser.add_argument("--end_date", default=None, help="last day of the range (included)")
    parser.add_argument("--action", choices=ACTIONS, default=None, help="default: transform")
    parser.add_argument("--catalog", choices=CATALOGS, default=None, help="default: local")
    parser.add_argument("--home", default=None, help="lakehouse home (local runs)")
    parser.add_argument("--bronze_uri", default=None, help="s3://bucket/bronze (glue)")
    parser.add_argument("--warehouse", default=None, help="s3://bucket/warehouse (glue)")
    parser.add_argument("--reports_uri", default=None, help="s3://bucket/reports (glue)")
    parser.add_argument("--region", default=None, help="AWS region of the Glue catalog")
    parser.add_argument(
        "--tag_retention_days", default=None, help="store as the tag retention (default: kept)"
    )
    parser.add_argument("--JOB_NAME", default=None)  # Glue passes it; harmless locally
    parsed = vars(parser.parse_args(list(argv[1:])))
    return {k: v for k, v in parsed.items() if v is not None}


def parse_arguments(argv: Sequence[str]) -> JobArguments:
    """Job arguments from Glue's resolver when running on Glue, argparse otherwise.

    ``argv`` is the whole ``sys.argv``: the script path first, then the arguments in an
    order Glue does not fix, Glue's own (``--JOB_ID``, ``--JOB_RUN_ID``, ``--TempDir``,
    ``--job-bookmark-option``, ...) mixed in. ``getResolvedOptions`` skips ``argv[0]``
    itself; handing it ``sys.argv[1:]`` would drop the first real argument, which fails the
    job whenever Glue happens to put ``--snapshot_date`` first.
    """
    resolver = _glue_resolver()
    if resolver is not None:
        present = [a for a in OPTIONAL_ARGUMENTS if f"--{a}" in argv[1:]]
        raw: dict[str, str] = resolver(list(argv), present)
    else:
        raw = _argparse(argv)
    day, start, end = (_date(raw, name) for name in DAY_ARGUMENTS)
    if (start is None) != (end is None) or (day is None) == (start is None):
        raise JobArgumentError(
            "the job needs --snapshot_date YYYY-MM-DD (one day) or --start_date and "
            "--end_date (a range), not both"
        )
    if start is not None and end is not None and end < start:
        raise JobArgumentError(
            f"--end_date {end.isoformat()} is before --start_date {start.isoformat()}"
        )
    action = raw.get("action", "transform")
    kind = raw.get("catalog", "local")
    if action not in ACTIONS or kind not in CATALOGS:
        raise JobArgumentError(
            f"--action must be one of {', '.join(ACTIONS)} and --catalog one of "
            f"{', '.join(CATALOGS)}; got --action {action!r} --catalog {kind!r}"
        )
    retention = _retention(raw.get("tag_retention_days"))
    if action == "maintain" and day is None:
        raise JobArgumentError("--action maintain needs --snapshot_date (today), not a range")
    arguments = JobArguments(
        snapshot_date=day,
        action=cast(Action, action),
        catalog=cast(CatalogKind, kind),
        home=raw.get("home"),
        bronze_uri=raw.get("bronze_uri"),
        warehouse=raw.get("warehouse"),
        reports_uri=raw.get("reports_uri"),
        region=raw.get("region"),
        tag_retention_days=retention,
        start_date=start,
        end_date=end,
    )
    missing = [a for a in GLUE_REQUIRED if arguments.catalog == "glue" and not raw.get(a)]
    if missing:
        raise JobArgumentError(
            f"--catalog glue needs {', '.join('--' + m for m in missing)} "
            "(docs/aws-contracts.md lists what the stack passes)"
        )
    return arguments


def _retention(value: str | None) -> int | None:
    """``--tag_retention_days``: a whole number of days, at least one; None when absent."""
    if value is None:
        return None
    days = int(value) if value.strip().isdigit() else 0
    if days < 1:
        raise JobArgumentError(
            f"--tag_retention_days must be a whole number of days >= 1, got {value!r} "
            f"(leave it out to keep the stored retention, default {DEFAULT_TAG_RETENTION_DAYS})"
        )
    return days


def _date(raw: dict[str, str], name: str) -> date | None:
    value = raw.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise JobArgumentError(f"--{name} must be YYYY-MM-DD, got {value!r}") from e


def glue_spark_conf(warehouse: str) -> dict[str, str]:
    """Spark conf of the ``lakehouse`` catalog over the Glue Data Catalog and S3.

    The one definition: the job sets what is absent from its session, and the CDK stack
    builds the job's ``--conf`` from it (plus ``spark.sql.extensions`` and
    ``glue.skip-archive``), so the two cannot drift.
    """
    prefix = f"spark.sql.catalog.{CATALOG_NAME}"
    return {
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{prefix}.warehouse": warehouse,
        "spark.sql.session.timeZone": "UTC",
    }


def glue_session(warehouse: str) -> SparkSession:
    """Glue's session with the catalog conf set where the stack's ``--conf`` did not.

    Catalog settings are read when a catalog is first used, so they can be set on the
    running session; ``spark.sql.extensions`` is fixed when the session starts and must
    come from the job's ``--conf`` / ``--datalake-formats iceberg``.
    """
    from pyspark.sql import SparkSession

    session = SparkSession.builder.getOrCreate()
    for key, value in glue_spark_conf(warehouse).items():
        if session.conf.get(key, None) is None:
            session.conf.set(key, value)
    extensions = session.conf.get("spark.sql.extensions", "") or ""
    if ICEBERG_EXTENSIONS not in extensions:
        raise LakehouseError(
            f"the Glue job's Spark session lacks {ICEBERG_EXTENSIONS} (MERGE INTO needs it); "
            "start the job with --datalake-formats iceberg and --conf "
            f"spark.sql.extensions={ICEBERG_EXTENSIONS}"
        )
    return session


def run_local_day(
    spark: SparkSession | Callable[[], SparkSession],
    paths: LakehousePaths,
    day: date,
    *,
    tag_retention_days: int | None = None,
    settings: QualitySettings | None = None,
) -> TransformResult:
    """The local flavour: SQLite catalog, bronze and reports folders, a reused session.

    ``spark`` may be a factory: it is called only once the day has rows to load.
    ``tag_retention_days``: store it as the home's tag retention first (None: the stored one).
    """
    from catalog.bronze.local import LocalBronzeStore

    context = _local_context(paths, tag_retention_days, settings)
    return transform_day(spark, LocalBronzeStore(paths.bronze), day, context)


def _local_context(
    paths: LakehousePaths, tag_retention_days: int | None, settings: QualitySettings | None
) -> JobContext:
    return JobContext(
        catalog=local_catalog(paths),
        reports=LocalReportStore(paths.reports),
        settings=settings or QualitySettings.from_env(),
        tag_retention_days=tag_retention_days,
    )


def run_local_range(
    spark: SparkSession | Callable[[], SparkSession],
    paths: LakehousePaths,
    days: Sequence[date],
    *,
    tag_retention_days: int | None = None,
    settings: QualitySettings | None = None,
) -> RangeOutcome:
    """The local flavour of a range (:func:`glue.days.load_range`): one session and one
    context for every day, stopping at the first failure, skipping days already loaded."""
    from catalog.bronze.local import LocalBronzeStore

    context = _local_context(paths, tag_retention_days, settings)
    return load_range(spark, LocalBronzeStore(paths.bronze), days, context)


def _required(value: str | None, name: str) -> str:
    if not value:
        raise JobArgumentError(f"--catalog glue needs --{name} (docs/aws-contracts.md)")
    return value


def _glue_context(arguments: JobArguments) -> JobContext:
    return JobContext(
        catalog=glue_catalog(
            warehouse=_required(arguments.warehouse, "warehouse"),
            region=_required(arguments.region, "region"),
        ),
        reports=open_report_store(_required(arguments.reports_uri, "reports_uri")),
        settings=QualitySettings.from_env(),
        tag_retention_days=arguments.tag_retention_days,
    )


class RangeStoppedError(LakehouseError):
    """A range stopped at a day that failed; the days before it are loaded. Its exit
    status is that day's (1, or 3 when the app cannot read followers)."""

    def __init__(self, outcome: RangeOutcome) -> None:
        failed = outcome.failed
        assert failed is not None
        loaded = len(outcome.loaded) + len(outcome.skipped)
        super().__init__(
            f"the range {outcome.start_date.isoformat()}..{outcome.end_date.isoformat()} "
            f"stopped at {failed.snapshot_date.isoformat()} ({loaded} day(s) before it are "
            f"loaded, {len(outcome.not_attempted)} not attempted): {failed.error}; fix that "
            "day, then run the same range again (loaded days are skipped)"
        )
        self.exit_code = failed.exit_code
        self.outcome = outcome


def _range_result(outcome: RangeOutcome) -> dict[str, Any]:
    if outcome.failed is not None:
        # The progress goes to stdout first: the error line alone would hide what did load.
        print(json.dumps(outcome.to_json(), default=str))
        raise RangeStoppedError(outcome)
    return outcome.to_json()


def run_glue(arguments: JobArguments) -> dict[str, Any]:
    """The AWS flavour: Glue catalog, S3 bronze and reports, Glue's own session (taken
    when a day has rows to load: a range whose days are all loaded already needs none)."""
    tally = _run_tally()
    warehouse = _required(arguments.warehouse, "warehouse")
    if arguments.action == "maintain":
        from catalog.iceberg.maintenance import maintain

        done = maintain(
            glue_session(warehouse),
            tag_retention_days=arguments.tag_retention_days,
            today=arguments.today,
            catalog_name=CATALOG_NAME,
        )
        return {"action": "maintain", "tables": [asdict(t) for t in done]}
    from catalog.bronze.open_store import open_bronze_store

    store = open_bronze_store(_required(arguments.bronze_uri, "bronze_uri"))
    context = _glue_context(arguments)

    def spark() -> SparkSession:
        return glue_session(warehouse)

    if arguments.is_range:
        return _range_result(_tallied(tally, load_range(spark, store, arguments.days, context)))
    tally.day(arguments.today)
    return asdict(_tally_load(tally, transform_day(spark, store, arguments.today, context)))


def run_local(arguments: JobArguments) -> dict[str, Any]:
    """The one-machine flavour of :func:`run_glue`, with a session of its own."""
    from catalog.runtime.spark import build_local_session

    tally = _run_tally()
    paths = LakehousePaths.resolve(arguments.home)
    if arguments.action == "maintain":
        from catalog.runtime.maintenance import maintain_local

        done = maintain_local(
            paths, tag_retention_days=arguments.tag_retention_days, today=arguments.today
        )
        return {"action": "maintain", "tables": [asdict(t) for t in done]}

    def session() -> SparkSession:
        return build_local_session(paths, app_name=f"glue-job-{arguments.today}")

    if arguments.is_range:
        outcome = run_local_range(
            session, paths, arguments.days, tag_retention_days=arguments.tag_retention_days
        )
        return _range_result(_tallied(tally, outcome))
    tally.day(arguments.today)
    result = run_local_day(
        session, paths, arguments.today, tag_retention_days=arguments.tag_retention_days
    )
    return asdict(_tally_load(tally, result))


@dataclass
class JobRun:
    """The run :func:`main` records: what its days added up to, and whether the work began
    (a run that never reached :func:`run_glue` or :func:`run_local` records nothing)."""

    tally: RunTally = field(default_factory=RunTally)
    began: bool = False


_job_run: ContextVar[JobRun | None] = ContextVar("glue_job_run", default=None)


def _run_tally() -> RunTally:
    """The tally of the run :func:`main` records (a throwaway one outside it)."""
    run = _job_run.get()
    if run is None:
        return RunTally()
    run.began = True
    return run.tally


def _tally_load(tally: RunTally, result: TransformResult) -> TransformResult:
    tally.add_load(
        day=result.snapshot_date,
        inserted=result.inserted,
        updated=result.updated,
        deleted=result.deleted,
        quarantined=result.quarantined,
        snapshot_id=result.snapshot_id,
        bronze_run_id=result.run_id,
        timings=result.timings,
    )
    return result


def _tallied(tally: RunTally, outcome: RangeOutcome) -> RangeOutcome:
    """Tell ``tally`` every day of a range the job reached, loaded or failed."""
    for day in outcome.days:
        tally.day(day.snapshot_date)
        if day.result is not None:
            _tally_load(tally, day.result)
        elif day.run_id is not None:
            tally.bronze_run_id = day.run_id
    return outcome


def new_job_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<6 hex>``, the shape of every run id (they sort by start time)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_kind(arguments: JobArguments) -> str:
    """The job run's kind in ``spotify.pipeline_runs``."""
    if arguments.action == "maintain":
        return "maintain"
    return "backfill" if arguments.is_range else "transform"


def lambda_records(store: BronzeStore, days: Sequence[date]) -> list[RunRecord]:
    """The run records the ingest Lambda left in bronze for ``days`` (an unreadable one is
    skipped with a warning: it must not keep the others, or the job's own row, out)."""
    from catalog.bronze.layout import run_records_prefix

    found: list[RunRecord] = []
    for day in days:
        for key in store.list_keys(run_records_prefix(day)):
            try:
                found.append(RunRecord.from_json(store.get(key)))
            except (ValueError, FileNotFoundError) as e:
                log.warning("run record %s%s skipped: %s", store.location, key, e)
    return found


def record_job_run(
    catalog: Catalog, store: BronzeStore | None, days: Sequence[date], record: RunRecord
) -> int | None:
    """Append the job's row and the Lambda's records of ``days`` not folded yet, in one
    commit; the snapshot id (None: nothing appended)."""
    from catalog.iceberg.run_log import append_runs

    folded = lambda_records(store, days) if store is not None else []
    return append_runs(catalog, [record, *folded], skip_known=True)


def _record_run(
    arguments: JobArguments,
    tally: RunTally,
    *,
    run_id: str,
    started_at: datetime,
    started: float,
    exit_code: int,
    error: str | None,
) -> None:
    """Write the run's row (and fold the Lambda's records); a failure is a warning only."""
    try:
        record = tally.record(
            run_id=run_id,
            kind=run_kind(arguments),
            engine=ENGINE,
            started_at=started_at,
            ended_at=datetime.now(UTC),
            exit_code=exit_code,
            error=error,
            elapsed_s=time.perf_counter() - started,
        )
        store: BronzeStore | None = None
        transform = arguments.action == "transform"
        if arguments.catalog == "glue":
            catalog: Catalog = glue_catalog(
                warehouse=_required(arguments.warehouse, "warehouse"),
                region=_required(arguments.region, "region"),
            )
            if transform:
                from catalog.bronze.open_store import open_bronze_store

                store = open_bronze_store(_required(arguments.bronze_uri, "bronze_uri"))
        else:
            from catalog.bronze.local import LocalBronzeStore

            paths = LakehousePaths.resolve(arguments.home)
            catalog = local_catalog(paths)
            store = LocalBronzeStore(paths.bronze) if transform else None
        days = arguments.days if transform else []
        record_job_run(catalog, store, days, record)
    except Exception as e:  # the job's outcome stands whatever happens here
        log.warning(
            "the job's run %s was not recorded in spotify.pipeline_runs: %s: %s",
            run_id,
            type(e).__name__,
            " ".join(str(e).split())[:300],
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point; returns the process exit status (0, 1, 2 or 3).

    ``argv`` defaults to the whole ``sys.argv`` (script path first), as Glue passes it.
    A run whose arguments parsed ends with its row in ``spotify.pipeline_runs``.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    started_at, started = datetime.now(UTC), time.perf_counter()
    run_id = new_job_run_id(started_at)
    run = JobRun()
    token = _job_run.set(run)
    arguments: JobArguments | None = None

    def record(exit_code: int, error: str | None) -> None:
        if arguments is not None and run.began:
            _record_run(
                arguments,
                run.tally,
                run_id=run_id,
                started_at=started_at,
                started=started,
                exit_code=exit_code,
                error=error,
            )

    try:
        arguments = parse_arguments(sys.argv if argv is None else argv)
        outcome = run_glue(arguments) if arguments.catalog == "glue" else run_local(arguments)
    except LakehouseError as e:
        # Recorded first: writing the run row logs (the S3 and Glue clients), and the reason
        # must stay the last line on stderr, as with every command of the project: Glue keeps
        # it in the run's error log, and the state machine shows it as the ErrorMessage.
        record(e.exit_code, str(e))
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except Exception as e:  # recorded, then raised as it came: Glue reports it
        record(1, f"{type(e).__name__}: {e}")
        raise
    finally:
        _job_run.reset(token)
    record(0, None)
    print(json.dumps(outcome, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

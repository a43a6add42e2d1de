"""Validated loads on the real Spark + Iceberg runtime: quarantine, results, reports, retries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.commits import CommitConflictError
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_QUARANTINE, DQ_RESULTS
from expectations.suites import QualitySettings
from glue.job import run_local_day
from glue.merge import merge_day
from glue.transform import JobContext, NoValidRowsError, prepare_day, spark_table_name
from infra.cli.main import main
from infra.local.pipeline import BackfillStoppedError, LocalPipeline, Progress
from tests.bronze_days import artist, write_day
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

D1 = date(2026, 11, 1)
TABLE = "lakehouse.spotify.artists_silver"


def roster(day: date, n: int = 5) -> list[Any]:
    return [artist(i, followers=1_000_000 * i + day.day * 100) for i in range(1, n + 1)]


def quarantine(lh: SparkLakehouse) -> list[dict[str, Any]]:
    table = local_catalog(lh.paths).load_table(ARTISTS_QUARANTINE.identifier)
    rows: list[dict[str, Any]] = table.scan().to_arrow().to_pylist()
    return sorted(rows, key=lambda r: (r["snapshot_date"], r["row_id"]))


def dq_results(lh: SparkLakehouse) -> list[dict[str, Any]]:
    table = local_catalog(lh.paths).load_table(DQ_RESULTS.identifier)
    rows: list[dict[str, Any]] = table.scan().to_arrow().to_pylist()
    return rows


def snapshot_count(lh: SparkLakehouse, identifier: tuple[str, str]) -> int:
    return len(local_catalog(lh.paths).load_table(identifier).snapshots())


def silver_commits(lh: SparkLakehouse) -> list[dict[str, str]]:
    rows = lh.spark.sql(f"SELECT summary FROM {TABLE}.snapshots ORDER BY committed_at").collect()
    return [dict(r["summary"]) for r in rows]


def cli(lh: SparkLakehouse, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(["--home", str(lh.paths.home), *args])
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out if code == 0 else err


def test_a_malformed_row_is_quarantined_and_the_rest_merged(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    bad = artist(7, followers=1.5, popularity=250)
    bad["id"] = "not-a-spotify-id"
    write_day(store, D1, [[*roster(D1), bad]])
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)

    assert (result.inserted, result.rows, result.quarantined) == (5, 5, 1)
    [row] = quarantine(lakehouse)
    assert row["artist_id"] == "not-a-spotify-id"
    assert json.loads(row["raw_record"]) == bad
    assert row["failed_expectations"] == [
        "artist_id_format",
        "followers_present",
        "followers_integer",
        "popularity_null_or_in_range",
    ]
    assert (row["snapshot_date"], row["run_id"], row["row_id"]) == (D1, "run-1", 5)
    loaded = {r["artist_id"] for r in lakehouse.spark.sql(f"SELECT * FROM {TABLE}").collect()}
    assert loaded == {artist(i)["id"] for i in range(1, 6)}

    results = {r["expectation"]: r for r in dq_results(lakehouse)}
    assert results["artist_id_format"]["success"] is False
    assert results["artist_id_format"]["unexpected_count"] == 1
    assert results["artist_id_format"]["evaluated_rows"] == 6
    assert json.loads(results["row_count_within_roster"]["observed_value"]) == 6
    assert results["name_present"]["success"] is True
    assert {r["run_id"] for r in results.values()} == {"run-1"}
    assert {r["quarantined_rows"] for r in results.values()} == {1}


def test_an_all_bad_day_is_refused_and_explained(
    lakehouse: SparkLakehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[artist(1, name=None), artist(2, followers=-5)]])
    code, err = cli(lakehouse, capsys, "transform", "--date", D1.isoformat())
    assert code == 1
    assert err.count("\n") == 1
    assert "no row of 2026-11-01 passed validation" in err
    assert "name_present" in err
    assert "followers_in_range" in err
    assert not lakehouse.spark.catalog.tableExists(TABLE) or silver_commits(lakehouse) == []
    assert [r["failed_expectations"] for r in quarantine(lakehouse)] == [
        ["name_present"],
        ["followers_in_range"],
    ]
    [run] = json.loads(cli(lakehouse, capsys, "quality", "--format", "json")[1])
    assert run["success"] is False
    assert (run["evaluated_rows"], run["quarantined_rows"]) == (2, 2)


def test_a_rerun_makes_no_commit_and_no_duplicate_quarantine_rows(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[*roster(D1), artist(8, name=None)]])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    silver_before = len(silver_commits(lakehouse))
    quarantine_before = snapshot_count(lakehouse, ARTISTS_QUARANTINE.identifier)

    again = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert not again.committed
    assert len(silver_commits(lakehouse)) == silver_before
    assert snapshot_count(lakehouse, ARTISTS_QUARANTINE.identifier) == quarantine_before
    assert len(quarantine(lakehouse)) == 1
    runs = {r["validation_id"] for r in dq_results(lakehouse)}
    assert len(runs) == 2  # every run is recorded, even one that changed nothing


def test_a_fixed_rerun_replaces_the_quarantine_and_moves_the_tag(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[*roster(D1), artist(8, name=None)]], run_id="run-a")
    first = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    write_day(store, D1, [[*roster(D1), artist(8)]], run_id="run-b", replace=True)
    second = run_local_day(lakehouse.spark, lakehouse.paths, D1)

    assert (second.inserted, second.quarantined) == (1, 0)
    assert quarantine(lakehouse) == []
    tags = lakehouse.spark.sql(f"SELECT name, snapshot_id FROM {TABLE}.refs WHERE type='TAG'")
    assert {r["name"]: r["snapshot_id"] for r in tags.collect()} == {
        "snapshot-2026-11-01": second.snapshot_id
    }
    assert second.snapshot_id != first.snapshot_id


def test_duplicates_load_the_latest_fetch_and_quarantine_the_other(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    day_dir = datetime(2026, 11, 1, 6, tzinfo=UTC)
    # Two parts of one run: the second (later) fetch of artist 1 must win.
    write_day(
        store,
        D1,
        [[artist(1, followers=10)], [artist(1, followers=20), artist(2)]],
        fetched_at=day_dir,
    )
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert (result.inserted, result.quarantined) == (2, 1)
    [row] = quarantine(lakehouse)
    assert row["failed_expectations"] == ["artist_day_unique"]
    assert json.loads(row["raw_record"])["followers"]["total"] == 10
    followers = lakehouse.spark.sql(
        f"SELECT followers FROM {TABLE} WHERE artist_id = '{artist(1)['id']}'"
    ).first()
    assert followers is not None
    assert followers[0] == 20


def test_a_big_follower_jump_and_a_backdated_fetch_warn_but_load(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    d2 = D1 + timedelta(days=2)
    write_day(store, D1, [roster(D1)])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    jumped = roster(d2)
    jumped[2] = artist(3, followers=9_000_000)  # 3 M -> 9 M in two days
    manifest = write_day(store, d2, [jumped])
    path = lakehouse.paths.bronze / f"spotify/artists/snapshot_date={d2}/_manifest.json"
    body = json.loads(path.read_text())
    body["backdated"] = True
    path.write_text(json.dumps(body))
    assert manifest.run_id == "run-1"

    result = run_local_day(lakehouse.spark, lakehouse.paths, d2)
    assert (result.inserted, result.quarantined) == (5, 0)
    assert result.quality.success is True
    assert result.quality.failed_expectations == [
        "follower_change_within_bound",
        "fetch_not_backdated",
    ]
    report = Path(result.quality.report or "").read_text()
    assert artist(3)["id"] in report


def test_validation_on_spark_gives_the_same_verdict_as_on_pandas(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[*roster(D1), artist(7, id="short"), artist(1, followers=3)]])
    verdicts = []
    for engine_rows in (1_000_000, 0):  # pandas, then Spark (every day above 0 rows)
        settings = QualitySettings(pandas_max_rows=engine_rows)
        result = run_local_day(lakehouse.spark, lakehouse.paths, D1, settings=settings)
        verdicts.append((result.quarantined, result.quality.failed_expectations))
    assert verdicts[0] == verdicts[1] == (2, ["artist_id_format", "artist_day_unique"])
    engines = {
        r["validation_id"]: r["engine"] for r in dq_results(lakehouse) if r["suite"] == "silver"
    }
    assert sorted(engines.values()) == ["pandas", "spark"]


def test_the_report_is_self_contained_and_lists_the_failing_row(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    bad = artist(9, name="<script>alert(1)</script>", followers=None)
    bad["followers"] = None
    write_day(store, D1, [[*roster(D1), bad]], run_id="run-r")
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    path = lakehouse.paths.reports / "quality" / "2026-11-01" / "run-r.html"
    assert result.quality.report == str(path)
    html = path.read_text()

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.references: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.references += [v or "" for k, v in attrs if k in {"src", "href", "srcset"}]

    parser = Links()
    parser.feed(html)
    assert parser.references == []
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parser.tags)
    assert "url(" not in html
    assert "@import" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # data is escaped, never markup
    assert artist(9)["id"] in html
    assert "followers_present" in html


def test_backfill_of_ten_days_is_ten_load_commits_in_order(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    days = [D1 + timedelta(days=n) for n in range(10)]
    for day in reversed(days):  # written out of order; loaded in order
        write_day(store, day, [roster(day)])
    with LocalPipeline(lakehouse.paths) as pipeline:
        results = pipeline.backfill(list(reversed(days))).transforms
    assert [r.snapshot_date for r in results] == days
    commits = silver_commits(lakehouse)
    assert [c["snapshot_date"] for c in commits] == [d.isoformat() for d in days]


def test_a_failed_day_stops_the_backfill_with_earlier_days_committed(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    days = [D1 + timedelta(days=n) for n in range(3)]
    write_day(store, days[0], [roster(days[0])])
    write_day(store, days[1], [[artist(1, id=None)]])
    write_day(store, days[2], [roster(days[2])])
    reported: list[date] = []
    with pytest.raises(BackfillStoppedError) as stopped:
        LocalPipeline(
            lakehouse.paths, progress=Progress(loaded=lambda r: reported.append(r.snapshot_date))
        ).backfill(days)
    assert stopped.value.day == days[1]
    assert isinstance(stopped.value.__cause__, NoValidRowsError)
    assert reported == [days[0]]
    assert "2026-11-01..2026-11-01 done, 1 of them committed" in str(stopped.value)
    assert [c["snapshot_date"] for c in silver_commits(lakehouse)] == ["2026-11-01"]


def _stale_writer(lh: SparkLakehouse) -> Any:
    """A second writer: a session whose catalog caches table state (read now, commit later)."""
    other = lh.spark.newSession()
    other.conf.set("spark.sql.catalog.lakehouse.cache-enabled", "true")
    other.sql(f"SELECT count(*) FROM {TABLE}").collect()  # caches the table as of now
    return other


def _frame(lh: SparkLakehouse, session: Any, followers: int) -> Any:
    from catalog.iceberg.tables import ARTISTS_SILVER
    from catalog.runtime.spark import spark_schema

    rows = prepare_day(LocalBronzeStore(lh.paths.bronze), D1).rows.rows
    rows[0] = {**rows[0], "followers": followers}
    values = [tuple(r.get(c) for c in ARTISTS_SILVER.column_names) for r in rows]
    return session.createDataFrame(values, schema=spark_schema(ARTISTS_SILVER.schema))


def test_a_commit_conflict_with_another_writer_is_retried(lakehouse: SparkLakehouse) -> None:
    from catalog.iceberg.commits import retry_on_conflict

    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    writer_a = _stale_writer(lakehouse)
    # Writer B rewrites day 1 after A has read the table, then A commits.
    write_day(store, D1, [[*roster(D1)[:4], artist(5, followers=5)]], run_id="b", replace=True)
    run_local_day(lakehouse.spark, lakehouse.paths, D1)

    attempts: list[int] = []

    def merge() -> Any:
        attempts.append(1)
        return merge_day(writer_a, TABLE, _frame(lakehouse, writer_a, 777), day=D1, run_id="a")

    outcome = retry_on_conflict(merge, what="test merge", wait_multiplier_s=0.01)
    assert len(attempts) == 2  # the first lost to writer B, the retry saw B's commit
    # Quiet: Spark's two ERROR lines for the aborted first attempt are not logged (the JVM's
    # stderr is not this test's to capture, so ask its log4j what the loggers let through).
    log4j = lakehouse.spark._jvm.org.apache.logging.log4j.LogManager  # type: ignore[union-attr]
    for writer in ("ReplaceDataExec", "AppendDataExec", "WriteToDataSourceV2Exec"):
        logger = log4j.getLogger(f"org.apache.spark.sql.execution.datasources.v2.{writer}")
        assert not logger.isErrorEnabled(), writer
    assert outcome.updated == 1
    assert [c["run_id"] for c in silver_commits(lakehouse)] == ["run-1", "b", "a"]


def test_a_conflict_that_persists_fails_clearly(lakehouse: SparkLakehouse) -> None:
    from catalog.iceberg.commits import retry_on_conflict

    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    bump = iter(range(1, 100))

    def merge() -> Any:
        writer_a = _stale_writer(lakehouse)
        lakehouse.spark.sql(  # writer B wins every time
            f"UPDATE {TABLE} SET followers = followers + {next(bump)} WHERE snapshot_date = "
            f"DATE '{D1}'"
        )
        return merge_day(writer_a, TABLE, _frame(lakehouse, writer_a, 1), day=D1, run_id="a")

    with pytest.raises(CommitConflictError, match="another writer committed first 2 times"):
        retry_on_conflict(merge, what="test merge", attempts=2, wait_multiplier_s=0.01)


def test_dq_results_and_quality_through_the_cli(
    lakehouse: SparkLakehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[*roster(D1), artist(9, popularity=101)]], run_id="run-q")
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    code, out = cli(
        lakehouse,
        capsys,
        "query",
        "--format",
        "json",
        "SELECT expectation, unexpected_count FROM dq_results WHERE NOT success",
    )
    assert code == 0, out
    assert json.loads(out) == [
        {"expectation": "popularity_null_or_in_range", "unexpected_count": 1}
    ]

    code, out = cli(lakehouse, capsys, "quality", "--date", D1.isoformat(), "--format", "json")
    assert code == 0, out
    [run] = json.loads(out)
    assert list(run) == [
        "snapshot_date",
        "run_id",
        "success",
        "evaluated_rows",
        "quarantined_rows",
        "failed_expectations",
        "report",
    ]
    assert run["snapshot_date"] == "2026-11-01"
    assert run["run_id"] == "run-q"
    assert run["success"] is False
    assert (run["evaluated_rows"], run["quarantined_rows"]) == (6, 1)
    assert run["failed_expectations"] == ["popularity_null_or_in_range"]
    assert Path(run["report"]).is_file()


def test_job_context_is_reused_across_days(
    lakehouse: SparkLakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two days (each with its own JobContext, as run_local_day builds them) share one GX
    context: its setup (~3 s) is paid once per process, and both days validate through it."""
    from expectations import runner
    from expectations.store import LocalReportStore

    built: list[runner.QualityContext] = []
    validated: list[date] = []
    original_init = runner.QualityContext.__init__
    original_validate = runner.QualityContext.validate_silver

    def counting_init(self: runner.QualityContext) -> None:
        built.append(self)
        original_init(self)

    def recording_validate(
        self: runner.QualityContext, *args: Any, **kwargs: Any
    ) -> runner.SuiteOutcome:
        assert self is built[0]
        validated.append(kwargs["day"])
        return original_validate(self, *args, **kwargs)

    monkeypatch.setattr(runner.QualityContext, "__init__", counting_init)
    monkeypatch.setattr(runner.QualityContext, "validate_silver", recording_validate)
    runner.quality_context.cache_clear()  # start from a process with no context yet
    store = LocalBronzeStore(lakehouse.paths.bronze)
    d2 = D1 + timedelta(days=1)
    for day in (D1, d2):
        write_day(store, day, [roster(day)])
        run_local_day(lakehouse.spark, lakehouse.paths, day)

    assert len(built) == 1
    assert validated == [D1, d2]
    context = JobContext(
        catalog=local_catalog(lakehouse.paths), reports=LocalReportStore(lakehouse.paths.reports)
    )
    assert context.quality is built[0]
    assert spark_table_name(context.definition) == TABLE


def test_query_as_of_reads_quarantine_and_dq_results_by_their_own_tags(
    lakehouse: SparkLakehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    d2 = D1 + timedelta(days=1)
    write_day(store, D1, [[*roster(D1), artist(8, name=None)]])
    write_day(store, d2, [[*roster(d2), artist(8, name=None), artist(9, followers=-1)]])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    run_local_day(lakehouse.spark, lakehouse.paths, d2)
    per_run = len([r for r in dq_results(lakehouse) if r["snapshot_date"] == D1])

    def as_of(day: date, sql: str) -> list[dict[str, Any]]:
        code, out = cli(lakehouse, capsys, "query", "--format", "json", "--as-of", str(day), sql)
        assert code == 0, out
        rows: list[dict[str, Any]] = json.loads(out)
        return rows

    quarantined = "SELECT count(*) AS n, max(snapshot_date) AS last FROM artists_quarantine"
    results = "SELECT count(*) AS n, max(snapshot_date) AS last FROM dq_results"
    assert as_of(D1, quarantined) == [{"n": 1, "last": "2026-11-01"}]
    assert as_of(d2, quarantined) == [{"n": 3, "last": "2026-11-02"}]
    assert as_of(D1, results) == [{"n": per_run, "last": "2026-11-01"}]
    assert as_of(d2, results) == [{"n": 2 * per_run, "last": "2026-11-02"}]
    code, err = cli(lakehouse, capsys, "query", "--as-of", "2026-10-31", results)
    assert code != 0
    assert "no load tag at or before 2026-10-31" in err

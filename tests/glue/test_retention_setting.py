"""The home's one tag retention, as the job reads and sets it (issue 9, item 9).

Silver's table property holds it: the job's ``--tag_retention_days`` (the stack's setting on
AWS) stores it there; a run without it (every local load) uses what is stored; the Glue
Data Catalog keeps it like the SQLite catalog does. First loads only: no Spark.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import glue_catalog, local_catalog
from catalog.iceberg.tables import (
    ARTISTS_SILVER,
    LOAD_TABLES,
    TABLES,
    TAG_RETENTION_PROPERTY,
    TagRetentionSettingError,
    ensure_tables,
    store_tag_retention,
    tag_retention_of,
)
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS, MS_PER_DAY, tag_name
from catalog.paths import LakehousePaths
from glue.job import main as job_main
from glue.job import run_local_day
from tests.bronze_days import artist, write_day


def no_spark() -> Any:
    raise AssertionError("a first load needs no Spark")


def home(tmp_path: Path, days: list[date]) -> LakehousePaths:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    for n, day in enumerate(days):
        write_day(
            store, day, [[artist(i, followers=1_000 * i + n) for i in (1, 2)]], run_id=f"r{n}"
        )
    return paths


def tag_ages(paths: LakehousePaths, day: date) -> dict[str, int | None]:
    """``max-ref-age-ms`` of the tag of ``day`` on every load-tagged table (None: no such
    tag)."""
    catalog = local_catalog(paths)
    ages: dict[str, int | None] = {}
    for name in LOAD_TABLES:
        ref = catalog.load_table(TABLES[name].identifier).metadata.refs.get(tag_name(day))
        ages[name] = ref.max_ref_age_ms if ref is not None else None
    return ages


def test_the_jobs_retention_is_stored_and_every_later_run_uses_it(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    old, recent, later = (today - timedelta(days=n) for n in (40, 5, 1))
    paths = home(tmp_path, [old, recent, later])

    # No setting yet: the default, and nothing stored by a run that was given none.
    run_local_day(no_spark, paths, old)
    silver = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert TAG_RETENTION_PROPERTY not in silver.properties
    assert set(tag_ages(paths, old).values()) == {DEFAULT_TAG_RETENTION_DAYS * MS_PER_DAY}

    # The Glue job's argument, as the stack passes it: stored, then obeyed.
    assert job_main(["glue/job.py", "--home", str(paths.home), "--tag_retention_days", "28",
                     "--snapshot_date", recent.isoformat()]) == 0  # fmt: skip
    silver = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert silver.properties[TAG_RETENTION_PROPERTY] == "28"
    assert set(tag_ages(paths, recent).values()) == {28 * MS_PER_DAY}

    # A later run without the argument (the CLI's, a new catalog connection): still 28.
    result = run_local_day(no_spark, paths, later)
    assert result.tag == tag_name(later)
    assert set(tag_ages(paths, later).values()) == {28 * MS_PER_DAY}
    # ... and the 40-day-old tag is beyond it: not repaired, not re-aged by that load.
    assert set(tag_ages(paths, old).values()) == {DEFAULT_TAG_RETENTION_DAYS * MS_PER_DAY}


def test_a_damaged_setting_is_refused_with_the_way_out(tmp_path: Path) -> None:
    day = datetime.now(UTC).date() - timedelta(days=1)
    paths = home(tmp_path, [day])
    silver = ensure_tables(local_catalog(paths))["artists_silver"]
    with silver.transaction() as transaction:
        transaction.set_properties({TAG_RETENTION_PROPERTY: "four weeks"})
    with pytest.raises(TagRetentionSettingError) as refused:
        run_local_day(no_spark, paths, day)
    assert refused.value.exit_code == 1
    assert "maintain --tag-retention-days" in str(refused.value)
    with pytest.raises(TagRetentionSettingError):
        tag_retention_of({TAG_RETENTION_PROPERTY: "0"})
    assert tag_retention_of({}) == DEFAULT_TAG_RETENTION_DAYS


def test_a_bad_job_argument_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["glue/job.py", "--home", str(tmp_path), "--snapshot_date", "2026-11-01"]
    assert job_main([*argv, "--tag_retention_days", "0"]) == 2
    assert "--tag_retention_days must be a whole number of days >= 1" in capsys.readouterr().err


def test_the_glue_catalog_keeps_the_setting(aws: str) -> None:
    boto3.client("s3").create_bucket(Bucket="lakehouse-data")

    def connect() -> Any:
        return glue_catalog(
            warehouse="s3://lakehouse-data/warehouse",
            region="us-east-1",
            glue_endpoint=aws,
            s3_endpoint=aws,
        )

    silver = ensure_tables(connect())["artists_silver"]
    assert tag_retention_of(silver.properties) == DEFAULT_TAG_RETENTION_DAYS
    store_tag_retention(silver, 28)
    again = connect().load_table(ARTISTS_SILVER.identifier)  # a new connection, as a new run
    assert tag_retention_of(again.properties) == 28
    before = again.metadata_location
    store_tag_retention(again, 28)  # already so: no commit
    assert connect().load_table(ARTISTS_SILVER.identifier).metadata_location == before

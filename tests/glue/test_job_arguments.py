"""The Glue entry point's arguments: Glue's resolver (a fake ``awsglue``) and argparse."""

from __future__ import annotations

import itertools
import sys
import types
from datetime import date
from pathlib import Path

import pytest

from glue.job import JobArgumentError, JobArguments, glue_spark_conf, parse_arguments

GLUE_ARGV = [
    "glue.py",
    "--JOB_NAME",
    "spotify-transform",
    "--snapshot_date",
    "2026-11-24",
    "--bronze_uri",
    "s3://data/bronze",
    "--warehouse",
    "s3://data/warehouse",
    "--reports_uri",
    "s3://data/reports",
    "--catalog",
    "glue",
    "--region",
    "eu-west-1",
    "--action",
    "transform",
    "--tag_retention_days",
    "30",
]


def fake_get_resolved_options(argv: list[str], options: list[str]) -> dict[str, str]:
    """Like awsglue's: each requested option must be present; unrequested ones are ignored."""
    values = {k.removeprefix("--"): v for k, v in itertools.pairwise(argv) if k.startswith("--")}
    missing = [o for o in options if o not in values]
    if missing:
        raise SystemExit(f"the following arguments are required: {', '.join(missing)}")
    return {o: values[o] for o in options}


@pytest.fixture
def on_glue(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    requested: list[list[str]] = []
    utils = types.ModuleType("awsglue.utils")

    def resolver(argv: list[str], options: list[str]) -> dict[str, str]:
        requested.append(list(options))
        return fake_get_resolved_options(argv, options)

    utils.getResolvedOptions = resolver  # type: ignore[attr-defined]
    package = types.ModuleType("awsglue")
    package.utils = utils  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "awsglue", package)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    return requested


def test_glue_arguments_come_from_get_resolved_options(on_glue: list[list[str]]) -> None:
    arguments = parse_arguments(GLUE_ARGV)
    assert arguments == JobArguments(
        snapshot_date=date(2026, 11, 24),
        action="transform",
        catalog="glue",
        bronze_uri="s3://data/bronze",
        warehouse="s3://data/warehouse",
        reports_uri="s3://data/reports",
        region="eu-west-1",
        tag_retention_days=30,
    )
    [options] = on_glue
    assert options[0] == "snapshot_date"
    assert "home" not in options  # only options present in argv are requested


def test_glue_maintain_with_defaults(on_glue: list[list[str]]) -> None:
    argv = [*GLUE_ARGV[:5], "--action", "maintain", *GLUE_ARGV[5:15]]
    arguments = parse_arguments(argv)
    assert (arguments.action, arguments.tag_retention_days) == ("maintain", 400)


def test_glue_catalog_needs_its_uris(on_glue: list[list[str]]) -> None:
    with pytest.raises(JobArgumentError, match="--bronze_uri, --warehouse, --reports_uri"):
        parse_arguments(
            [
                "glue.py",
                "--snapshot_date",
                "2026-11-24",
                "--catalog",
                "glue",
                "--region",
                "eu-west-1",
            ]
        )


def test_a_missing_snapshot_date_is_refused_by_glue(on_glue: list[list[str]]) -> None:
    with pytest.raises(SystemExit, match="snapshot_date"):
        parse_arguments(["glue.py", "--catalog", "local"])


def test_argparse_without_awsglue() -> None:
    assert "awsglue" not in sys.modules
    arguments = parse_arguments(["--snapshot_date", "2026-11-24", "--home", "lakehouse-home"])
    assert arguments == JobArguments(snapshot_date=date(2026, 11, 24), home="lakehouse-home")
    with pytest.raises(JobArgumentError, match="YYYY-MM-DD"):
        parse_arguments(["--snapshot_date", "24/11/2026"])
    with pytest.raises(JobArgumentError, match="tag_retention_days"):
        parse_arguments(["--snapshot_date", "2026-11-24", "--tag_retention_days", "many"])
    with pytest.raises(SystemExit):
        parse_arguments(["--snapshot_date", "2026-11-24", "--action", "vacuum"])


def test_glue_spark_conf_is_the_contracts() -> None:
    conf = glue_spark_conf("s3://data/warehouse")
    assert conf["spark.sql.catalog.lakehouse"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.lakehouse.catalog-impl"] == (
        "org.apache.iceberg.aws.glue.GlueCatalog"
    )
    assert conf["spark.sql.catalog.lakehouse.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert conf["spark.sql.catalog.lakehouse.warehouse"] == "s3://data/warehouse"


def test_iceberg_extensions_are_defined_once() -> None:
    import catalog.spark
    import glue.job

    assert glue.job.ICEBERG_EXTENSIONS is catalog.spark.ICEBERG_EXTENSIONS
    assert "ICEBERG_EXTENSIONS: Final" not in Path(glue.job.__file__).read_text()

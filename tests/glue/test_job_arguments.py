"""The Glue entry point's arguments, parsed by AWS's own ``getResolvedOptions``.

``awsgluedataplanepython`` (a dev dependency) is the ``awsglue`` library Glue runs, so these
tests see exactly what Glue does: the whole ``sys.argv`` (script path first), Glue's own
arguments mixed in, in any order. A stand-in resolver once hid that the job dropped its
first real argument.
"""

from __future__ import annotations

import itertools
import sys
from datetime import date
from pathlib import Path

import pytest

import glue.job
from glue.job import JobArgumentError, JobArguments, glue_spark_conf, parse_arguments

#: What the stack passes (DefaultArguments + the state machine's task), as name/value pairs.
JOB_PAIRS = [
    ("--snapshot_date", "2026-11-24"),
    ("--bronze_uri", "s3://data/bronze"),
    ("--warehouse", "s3://data/warehouse"),
    ("--reports_uri", "s3://data/reports"),
    ("--catalog", "glue"),
    ("--region", "eu-west-1"),
    ("--action", "transform"),
    ("--tag_retention_days", "30"),
]
#: What Glue adds on its own (its job id, run id, temp dir, bookmark option, ...).
GLUE_OWN_PAIRS = [
    ("--JOB_ID", "j_0123456789abcdef"),
    ("--JOB_RUN_ID", "jr_0123456789abcdef"),
    ("--JOB_NAME", "spotify-lakehouse-load"),
    ("--TempDir", "s3://aws-glue-assets-123456789012-eu-west-1/temporary/"),
    ("--job-bookmark-option", "job-bookmark-disable"),
    ("--enable-continuous-cloudwatch-log", "true"),
]
SCRIPT = "/tmp/glue-scripts/job.py"  # noqa: S108 (Glue's own script path shape)
EXPECTED = JobArguments(
    snapshot_date=date(2026, 11, 24),
    action="transform",
    catalog="glue",
    bronze_uri="s3://data/bronze",
    warehouse="s3://data/warehouse",
    reports_uri="s3://data/reports",
    region="eu-west-1",
    tag_retention_days=30,
)


def glue_argv(pairs: list[tuple[str, str]]) -> list[str]:
    return [SCRIPT, *itertools.chain.from_iterable(pairs)]


def test_the_real_resolver_is_used() -> None:
    import awsglue.utils

    resolver = glue.job._glue_resolver()
    assert resolver is not None
    assert resolver.__closure__ is not None
    assert any(c.cell_contents is awsglue.utils.getResolvedOptions for c in resolver.__closure__)


@pytest.mark.parametrize(
    "order",
    [
        "snapshot_date first",
        "glue's own first",
        "interleaved",
        "reversed",
    ],
)
def test_glue_argv_in_any_order(order: str) -> None:
    mine, theirs = list(JOB_PAIRS), list(GLUE_OWN_PAIRS)
    if order == "snapshot_date first":
        pairs = mine + theirs
    elif order == "glue's own first":
        pairs = theirs + mine
    elif order == "interleaved":
        pairs = [p for pair in itertools.zip_longest(theirs, mine) for p in pair if p]
    else:
        pairs = list(reversed(mine + theirs))
    assert parse_arguments(glue_argv(pairs)) == EXPECTED


def test_snapshot_date_first_was_lost_when_argv0_was_dropped() -> None:
    """The old call shape (``sys.argv[1:]``) loses the first argument to Glue's resolver."""
    argv = glue_argv(JOB_PAIRS)
    with pytest.raises(JobArgumentError, match="snapshot_date"):
        parse_arguments(argv[1:])


def test_main_reads_sys_argv_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[JobArguments] = []

    def fake_run_glue(arguments: JobArguments) -> dict[str, str]:
        seen.append(arguments)
        return {"ok": "yes"}

    monkeypatch.setattr(glue.job, "run_glue", fake_run_glue)
    monkeypatch.setattr(sys, "argv", glue_argv(JOB_PAIRS + GLUE_OWN_PAIRS))
    assert glue.job.main() == 0
    assert seen == [EXPECTED]


def test_glue_maintain_with_defaults() -> None:
    pairs = [p for p in JOB_PAIRS if p[0] not in ("--action", "--tag_retention_days")]
    arguments = parse_arguments(glue_argv([*pairs, ("--action", "maintain")]))
    # No --tag_retention_days: the home's stored retention is used (default 400).
    assert (arguments.action, arguments.tag_retention_days) == ("maintain", None)
    assert arguments.catalog == "glue"


def test_glue_catalog_needs_its_uris() -> None:
    argv = glue_argv(
        [("--snapshot_date", "2026-11-24"), ("--catalog", "glue"), ("--region", "eu-west-1")]
    )
    with pytest.raises(JobArgumentError, match="--bronze_uri, --warehouse, --reports_uri"):
        parse_arguments(argv)


def test_a_missing_snapshot_date_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert glue.job.main([SCRIPT, "--catalog", "local", "--JOB_ID", "j_1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "snapshot_date" in err[0]


def test_bad_values_are_refused() -> None:
    with pytest.raises(JobArgumentError, match="YYYY-MM-DD"):
        parse_arguments([SCRIPT, "--snapshot_date", "24/11/2026"])
    with pytest.raises(JobArgumentError, match="tag_retention_days"):
        parse_arguments([SCRIPT, "--snapshot_date", "2026-11-24", "--tag_retention_days", "x"])
    with pytest.raises(JobArgumentError, match="--action must be one of"):
        parse_arguments([SCRIPT, "--snapshot_date", "2026-11-24", "--action", "vacuum"])


def test_argparse_without_awsglue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ``awsglue`` is absent (a plain install), argparse reads the same argv shape."""
    monkeypatch.setattr(glue.job, "_glue_resolver", lambda: None)
    argv = [SCRIPT, "--snapshot_date", "2026-11-24", "--home", "lakehouse-home"]
    assert parse_arguments(argv) == JobArguments(
        snapshot_date=date(2026, 11, 24), home="lakehouse-home"
    )
    with pytest.raises(SystemExit):
        parse_arguments([SCRIPT, "--snapshot_date", "2026-11-24", "--action", "vacuum"])


def test_glue_spark_conf_is_the_contracts() -> None:
    conf = glue_spark_conf("s3://data/warehouse")
    assert conf["spark.sql.catalog.lakehouse"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.lakehouse.catalog-impl"] == (
        "org.apache.iceberg.aws.glue.GlueCatalog"
    )
    assert conf["spark.sql.catalog.lakehouse.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert conf["spark.sql.catalog.lakehouse.warehouse"] == "s3://data/warehouse"


def test_iceberg_extensions_are_defined_once() -> None:
    import catalog.runtime.spark

    assert glue.job.ICEBERG_EXTENSIONS is catalog.runtime.spark.ICEBERG_EXTENSIONS
    assert "ICEBERG_EXTENSIONS: Final" not in Path(glue.job.__file__).read_text()

"""The Glue job: the script Glue 5 runs, and the module the CLI runs locally.

On Glue, arguments come through ``awsglue.utils.getResolvedOptions`` (``--snapshot_date``
is always explicit: the UTC day of the schedule's scheduled time, never "today" computed
here); elsewhere through argparse with the same names. Both paths end in
:func:`glue.transform.transform_day`, the one transform.

Run locally: ``python -m glue.job --snapshot_date 2026-11-24 --home ./lakehouse``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from catalog.bronze import LocalBronzeStore
from catalog.errors import LakehouseError
from catalog.paths import LakehousePaths
from catalog.profiles import local_catalog
from catalog.tables import ensure_tables
from catalog.tags import DEFAULT_TAG_RETENTION_DAYS
from glue.transform import TransformResult, load_day, prepare_day

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

REQUIRED_ARGUMENTS = ("snapshot_date",)
OPTIONAL_ARGUMENTS = ("home", "tag_retention_days")


@dataclass(frozen=True)
class JobArguments:
    snapshot_date: date
    home: str | None = None
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS


def _glue_resolver() -> Any:
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        return None
    return getResolvedOptions


def parse_arguments(argv: Sequence[str]) -> JobArguments:
    """Job arguments from Glue's resolver when running on Glue, argparse otherwise."""
    resolver = _glue_resolver()
    if resolver is not None:
        present = [a for a in OPTIONAL_ARGUMENTS if f"--{a}" in argv]
        raw: dict[str, str] = resolver(list(argv), [*REQUIRED_ARGUMENTS, *present])
    else:
        parser = argparse.ArgumentParser(prog="glue.job", description=__doc__)
        parser.add_argument("--snapshot_date", required=True, help="UTC day to load, YYYY-MM-DD")
        parser.add_argument("--home", default=None, help="lakehouse home (local runs)")
        parser.add_argument("--tag_retention_days", default=str(DEFAULT_TAG_RETENTION_DAYS))
        parser.add_argument("--JOB_NAME", default=None)  # Glue passes it; harmless locally
        raw = {k: v for k, v in vars(parser.parse_args(list(argv))).items() if v is not None}
    try:
        day = date.fromisoformat(raw["snapshot_date"])
    except ValueError as e:
        raise SystemExit(f"--snapshot_date must be YYYY-MM-DD, got {raw['snapshot_date']!r}") from e
    return JobArguments(
        snapshot_date=day,
        home=raw.get("home"),
        tag_retention_days=int(raw.get("tag_retention_days", DEFAULT_TAG_RETENTION_DAYS)),
    )


def run_local_day(
    spark: SparkSession | Callable[[], SparkSession],
    paths: LakehousePaths,
    day: date,
    *,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
) -> TransformResult:
    """The local flavour: SQLite catalog, bronze folder, an existing (reused) session.

    ``spark`` may be a factory: it is called only once bronze has passed every check.
    """
    prepared = prepare_day(LocalBronzeStore(paths.bronze), day)
    ensure_tables(local_catalog(paths))
    session = spark() if callable(spark) else spark
    return load_day(session, prepared, tag_retention_days=tag_retention_days)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point; returns the process exit status (0, 1, or 3)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    from catalog.spark import build_local_session

    paths = LakehousePaths.resolve(arguments.home)
    spark = build_local_session(paths, app_name=f"glue-job-{arguments.snapshot_date}")
    try:
        result = run_local_day(
            spark, paths, arguments.snapshot_date, tag_retention_days=arguments.tag_retention_days
        )
    except LakehouseError as e:
        log.error("%s", e)
        return e.exit_code
    print(json.dumps(asdict(result), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

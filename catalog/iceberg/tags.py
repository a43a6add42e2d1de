"""Names shared by the writer (the Glue job) and the readers (time travel, `snapshots`).

Every load of day D is one Iceberg commit whose snapshot summary carries
``snapshot_date=D`` and ``run_id=R``, followed by the tag ``snapshot-D`` pointing at it
(created, or replaced so it names the latest load of D). Compaction and maintenance commits
carry no ``snapshot_date`` and are invisible to time travel.
"""

from __future__ import annotations

from datetime import date
from typing import Final

#: Snapshot-summary property naming the UTC day a commit loaded.
SUMMARY_SNAPSHOT_DATE: Final = "snapshot_date"
#: Snapshot-summary property naming the ingest run whose bronze was loaded.
SUMMARY_RUN_ID: Final = "run_id"
#: Prefix of the daily load tags: ``snapshot-2026-11-24``.
TAG_PREFIX: Final = "snapshot-"
#: How long a daily tag is kept (Iceberg ref ``max-ref-age-ms``). An as-of date older than
#: this has no tag left and is a clear error, never a silent fallback.
DEFAULT_TAG_RETENTION_DAYS: Final = 400


def tag_name(day: date) -> str:
    return f"{TAG_PREFIX}{day.isoformat()}"


def tag_date(name: str) -> date | None:
    """The day a load tag stands for, or ``None`` for any other ref name."""
    if not name.startswith(TAG_PREFIX):
        return None
    try:
        return date.fromisoformat(name.removeprefix(TAG_PREFIX))
    except ValueError:
        return None


def tag_retained(day: date, today: date, retention_days: int) -> bool:
    """The one tag-retention rule: the load tag of ``day`` is kept while
    ``today - day <= retention_days`` (days, UTC).

    Maintenance drops the tags it rejects; the writer neither creates nor repairs them.
    """
    return (today - day).days <= retention_days

"""The load-tag rule, decided once: names, retention, which tag goes where, which one answers.

Every load of day D is one Iceberg commit whose snapshot summary carries
``snapshot_date=D`` and ``run_id=R``, followed by the tag ``snapshot-D`` pointing at it
(created, or replaced so it names the latest load of D). Compaction and maintenance commits
carry no ``snapshot_date`` and are invisible to time travel.

This module decides *what* happens to a tag and nothing else: pure Python over dates, ids and
ages, no Spark, no pyiceberg. Two thin appliers do *how*:
:mod:`catalog.iceberg.tags.with_pyiceberg` (``manage_snapshots``, for the job's loads of
silver, quarantine and dq_results, in the load's own commit where there is one) and
:mod:`catalog.iceberg.tags.with_spark` (``ALTER TABLE ... CREATE OR REPLACE TAG`` / ``DROP
TAG``, for maintenance). The rules:

* naming: :func:`tag_name`, :func:`tag_date`, :func:`load_tag_date`;
* retention: the tag of D is kept while ``today - D <= retention_days``
  (:func:`tag_retained`, default :data:`DEFAULT_TAG_RETENTION_DAYS`); a day beyond it never
  gets a tag, so a late backfill is never tagged, dropped, re-tagged. A tag carries its age
  limit as ``max-ref-age-ms`` (:func:`tag_retention_ms`);
* create / move: :func:`plan_load_tag` (the tag a load gets), :func:`plan_repairs` (silver:
  missing or stale tags re-pointed at each day's latest load), :func:`plan_side_table_tag`
  (tables a run may leave unchanged: a day still needs a tag there);
* upkeep (maintenance): :func:`plan_upkeep` drops tags past retention and re-creates a kept
  tag whose ``max-ref-age-ms`` (measured from the commit, not from D) would run out first;
* as-of: :func:`as_of_tag` picks d*, the latest load tag at or before D;
  :func:`retention_days_of` says in messages how long the tags are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
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
#: Milliseconds in a day: ``max-ref-age-ms`` is counted in them.
MS_PER_DAY: Final = 86_400_000


# --- naming --------------------------------------------------------------------------------


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


def load_tag_date(name: str, ref_type: str) -> date | None:
    """The day of a load tag: a ref of type tag named ``snapshot-D``; ``None`` for any other
    ref (a branch named like a tag included). ``ref_type`` as Spark's ``refs`` table gives it
    (``TAG``) or as pyiceberg does (``tag``)."""
    return tag_date(name) if ref_type.lower() == "tag" else None


# --- retention -----------------------------------------------------------------------------


def tag_retained(day: date, today: date, retention_days: int) -> bool:
    """The one tag-retention rule: the load tag of ``day`` is kept while
    ``today - day <= retention_days`` (days, UTC).

    Maintenance drops the tags it rejects; the writers neither create nor repair them.
    """
    return (today - day).days <= retention_days


def tag_retention_ms(days: int = DEFAULT_TAG_RETENTION_DAYS) -> int:
    """``max-ref-age-ms`` of a tag kept ``days`` days (Spark's ``RETAIN <days> DAYS``)."""
    return days * MS_PER_DAY


def retention_days_of(max_ref_ages: Iterable[int | None]) -> int:
    """How long tags with these ``max-ref-age-ms`` are kept, in whole days (at least one):
    the longest; the default when none carries an age limit."""
    ages = [age for age in max_ref_ages if age is not None]
    if not ages:
        return DEFAULT_TAG_RETENTION_DAYS
    return max(1, round(max(ages) / MS_PER_DAY))


def needed_max_ref_age_ms(
    day: date, committed_at: datetime, retention_days: int, now: datetime
) -> float:
    """The ``max-ref-age-ms`` the tag of ``day`` needs so that Iceberg's own expiry (which
    counts from the tagged *commit*) keeps it until the retention rule drops it: until the
    end of day ``day + retention_days`` (UTC), and at least until ``now``."""
    keep_until = datetime.combine(day + timedelta(days=retention_days + 1), time(), UTC)
    return (max(keep_until, now) - committed_at).total_seconds() * 1000


# --- create / move / repair ----------------------------------------------------------------


@dataclass(frozen=True)
class LoadTag:
    """A ``snapshot-D`` tag as a table has it: the latest load of day D."""

    name: str
    day: date
    snapshot_id: int
    max_ref_age_ms: int | None


@dataclass(frozen=True)
class TagPlan:
    """Create, move or re-age one tag: ``name`` on ``snapshot_id``, kept ``retain_days``."""

    name: str
    snapshot_id: int
    retain_days: int

    @property
    def max_ref_age_ms(self) -> int:
        return tag_retention_ms(self.retain_days)

    def done_by(self, snapshot_id: int | None, max_ref_age_ms: int | None) -> bool:
        """Whether a tag on ``snapshot_id`` aged ``max_ref_age_ms`` already is this plan."""
        return (snapshot_id, max_ref_age_ms) == (self.snapshot_id, self.max_ref_age_ms)


def plan_load_tag(day: date, snapshot_id: int, retention_days: int, today: date) -> TagPlan | None:
    """The tag that names ``snapshot_id`` as the latest load of ``day``; ``None`` when the day
    is beyond the tag retention (maintenance would drop the tag: it is never set)."""
    if not tag_retained(day, today, retention_days):
        return None
    return TagPlan(tag_name(day), snapshot_id, retention_days)


@dataclass(frozen=True)
class Repairs:
    """What :func:`plan_repairs` decided: tags to set, and days left untagged on purpose."""

    plans: tuple[TagPlan, ...]
    aged_out: tuple[date, ...]


def plan_repairs(
    latest_loads: Mapping[date, int],
    tagged: Mapping[date, int],
    retention_days: int,
    today: date,
) -> Repairs:
    """Every day whose tag is missing, or names another snapshot than its latest load on main
    (the job died between a re-load's commit and its tag), gets the tag of that load; a day
    beyond retention is left alone (maintenance removed its tag on purpose, or will).

    ``latest_loads``: each day's latest load commit on main; ``tagged``: where each day's tag
    points now.
    """
    plans: list[TagPlan] = []
    aged_out: list[date] = []
    for day, snapshot_id in sorted(latest_loads.items()):
        if tagged.get(day) == snapshot_id:
            continue
        plan = plan_load_tag(day, snapshot_id, retention_days, today)
        if plan is None:
            aged_out.append(day)
        else:
            plans.append(plan)
    return Repairs(tuple(plans), tuple(aged_out))


class Hold(Enum):
    """Why :func:`plan_side_table_tag` sets no tag now."""

    BEYOND_RETENTION = "beyond retention"
    TAG_STAYS = "tag stays"
    NOTHING_TO_TAG = "nothing to tag"


def plan_side_table_tag(
    day: date,
    *,
    committed: bool,
    tagged: bool,
    latest_load: int | None,
    current: int | None,
    retention_days: int,
    today: date,
) -> TagPlan | Hold:
    """The tag of ``day`` on a table a run of that day may leave unchanged (the quarantine
    when its rows did not change, dq_results when bronze was refused before any judging).

    Every table resolves its own tags, so the day needs one there too. ``committed``: this
    run committed ``day`` there, so the tag moves to ``latest_load`` (the day's latest load on
    main; there must be one). Otherwise a tag already there stays (an unchanged re-run leaves
    no trace), and a missing one names ``latest_load``, else ``current`` (the table's current
    snapshot; an as-of read filters out later days), else :attr:`Hold.NOTHING_TO_TAG`: the
    caller commits an empty load of the day and asks again. A day beyond the retention gets
    no tag (:attr:`Hold.BEYOND_RETENTION`), and so no empty commit either.
    """
    if not tag_retained(day, today, retention_days):
        return Hold.BEYOND_RETENTION
    if not committed and tagged:
        return Hold.TAG_STAYS
    if committed and latest_load is None:
        raise LookupError(f"no commit of {day.isoformat()} on the main branch to tag")
    target = latest_load if latest_load is not None else current
    if target is None:
        return Hold.NOTHING_TO_TAG
    return TagPlan(tag_name(day), target, retention_days)


# --- upkeep (maintenance) ------------------------------------------------------------------


@dataclass(frozen=True)
class Upkeep:
    """What maintenance does to a table's load tags: names to drop, tags to re-create."""

    drop: tuple[str, ...]
    extend: tuple[TagPlan, ...]


def plan_upkeep(
    tags: Iterable[LoadTag],
    committed_at: Mapping[int, datetime],
    *,
    retention_days: int,
    today: date,
    now: datetime,
) -> Upkeep:
    """Drop the tags past retention; re-create (same snapshot, longer ``RETAIN``) each kept
    tag whose age limit would run out before the retention drops it
    (:func:`needed_max_ref_age_ms`), so snapshot expiry never drops a tag this rule keeps.

    ``committed_at``: each retained snapshot's commit time (UTC); a tag whose snapshot is not
    there, or that has no age limit, is left as it is.
    """
    drop: list[str] = []
    extend: list[TagPlan] = []
    for tag in tags:
        if not tag_retained(tag.day, today, retention_days):
            drop.append(tag.name)
            continue
        commit = committed_at.get(tag.snapshot_id)
        if commit is None or tag.max_ref_age_ms is None:
            continue
        needed_ms = needed_max_ref_age_ms(tag.day, commit, retention_days, now)
        if tag.max_ref_age_ms < needed_ms:
            extend.append(TagPlan(tag.name, tag.snapshot_id, math.ceil(needed_ms / MS_PER_DAY)))
    return Upkeep(tuple(sorted(drop)), tuple(sorted(extend, key=lambda p: p.name)))


# --- as-of ---------------------------------------------------------------------------------


def as_of_tag(tags: Iterable[LoadTag], day: date) -> LoadTag | None:
    """d*: the load tag of the latest day at or before ``day`` among ``tags`` (the table's
    tags in its main history), or ``None``: then nothing answers, never the current state."""
    return max((t for t in tags if t.day <= day), key=lambda t: t.day, default=None)


@dataclass(frozen=True)
class ChosenTag:
    """The as-of rule's answer for one table: ``day`` is the asked date D, ``tag_date`` the
    d* whose tag :func:`as_of_tag` chose, ``snapshot_id`` the snapshot that tag points at.

    Pure, so a reader without pyiceberg (the query's plan cache, :mod:`views.plan_cache`)
    holds the same answer :func:`catalog.iceberg.timetravel.resolve_as_of` gives (its
    :class:`~catalog.iceberg.timetravel.AsOf` adds the row filter).
    """

    snapshot_id: int
    tag_date: date
    day: date

    @property
    def tag(self) -> str:
        return tag_name(self.tag_date)

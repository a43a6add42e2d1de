"""The daily-load tag rule: its one owner.

:mod:`~catalog.iceberg.tags.rule` decides what happens to a ``snapshot-D`` tag (its name, how
long it is kept, where a load, a repair or maintenance puts it, which tag answers an as-of
read); it is pure and re-exported here. Two thin appliers carry its decisions out:
:mod:`~catalog.iceberg.tags.with_pyiceberg` (``manage_snapshots``, in the load's own commit
where there is one: the job's tags on silver, the quarantine and dq_results) and
:mod:`~catalog.iceberg.tags.with_spark` (Spark SQL: maintenance's upkeep). They are imported
by name, not from here, so that importing the rule costs neither pyiceberg nor Spark.
"""

from catalog.iceberg.tags.rule import (
    DEFAULT_TAG_RETENTION_DAYS,
    MS_PER_DAY,
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    TAG_PREFIX,
    ChosenTag,
    Hold,
    LoadTag,
    Repairs,
    TagPlan,
    Upkeep,
    as_of_tag,
    load_tag_date,
    needed_max_ref_age_ms,
    plan_load_tag,
    plan_repairs,
    plan_side_table_tag,
    plan_upkeep,
    retention_days_of,
    tag_date,
    tag_name,
    tag_retained,
    tag_retention_ms,
)

__all__ = [
    "DEFAULT_TAG_RETENTION_DAYS",
    "MS_PER_DAY",
    "SUMMARY_RUN_ID",
    "SUMMARY_SNAPSHOT_DATE",
    "TAG_PREFIX",
    "ChosenTag",
    "Hold",
    "LoadTag",
    "Repairs",
    "TagPlan",
    "Upkeep",
    "as_of_tag",
    "load_tag_date",
    "needed_max_ref_age_ms",
    "plan_load_tag",
    "plan_repairs",
    "plan_side_table_tag",
    "plan_upkeep",
    "retention_days_of",
    "tag_date",
    "tag_name",
    "tag_retained",
    "tag_retention_ms",
]

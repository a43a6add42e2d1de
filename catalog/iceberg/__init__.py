"""The Iceberg side: table definitions, catalogs, commits, load tags, time travel, upkeep.

:mod:`~catalog.iceberg.tables` (the one schema module), :mod:`~catalog.iceberg.profiles`
(local SQLite or Glue catalog), :mod:`~catalog.iceberg.commits` (retry on commit conflicts),
:mod:`~catalog.iceberg.tags` (the daily-load tag rule), :mod:`~catalog.iceberg.writes` (a
pyiceberg write and its tags in one commit; "may the table hold rows of day D?" from
metadata), :mod:`~catalog.iceberg.timetravel` (as-of resolution),
:mod:`~catalog.iceberg.maintenance` and :mod:`~catalog.iceberg.lease`.
Imports pyiceberg, never pyspark at module level (Spark callers pass their session in).
"""

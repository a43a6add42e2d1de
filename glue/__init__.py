"""The Glue job: bronze -> validated rows -> one Iceberg MERGE and load tag per day.

:mod:`~glue.job` (the entry point Glue runs, argument parsing), :mod:`~glue.transform`
(one day or a range), :mod:`~glue.rows` (bronze to rows) and :mod:`~glue.merge` (the MERGE;
its tag is :mod:`catalog.iceberg.tags`'s). The same code runs locally through
:mod:`infra.local`. Imports :mod:`expectations` and :mod:`catalog`.
"""

"""Where the lakehouse keeps its data, and the rules every stage shares about it.

Three rooms: :mod:`catalog.bronze` (raw answers, one folder per day), :mod:`catalog.iceberg`
(tables, commits, the load-tag rule, time travel, maintenance) and :mod:`catalog.runtime`
(the JVM, jars and Spark session). Beside them: home paths, shared errors, atomic files.
``catalog`` imports no other package of this project: ingest, glue, expectations, views and
infra all build on it.
"""

"""The views room: Athena SQL (the gold view, the query library) and the engines that run it.

What it holds:

* the SQL, in ``views/sql`` (:mod:`views.sqlfiles` loads it by name; :mod:`views.parsing`
  parses it as Athena SQL and finds the views it defines);
* the engine seam, :class:`views.engine.QueryEngine` / :class:`views.engine.QueryResult`,
  opened by name with :func:`views.open_engine.open_engine`: :class:`views.local.LocalEngine`
  (DuckDB over the local Iceberg tables) and :class:`views.athena.AthenaEngine`;
* engine-neutral planning: :mod:`views.references` (the relations a query names, through
  its views, from sqlglot's scopes) and :mod:`views.plan` (what each engine reads);
* the Athena-to-DuckDB translation that keeps Athena's meaning (:mod:`views.dialect` and the
  ``trino_*`` modules), and the local read path (:mod:`views.tables`, :mod:`views.scan`,
  :mod:`views.pushdown`, :mod:`views.sandbox`).

What it may import: :mod:`catalog` (table definitions, the time-travel rule, profiles), and
never :mod:`infra`, :mod:`glue` or :mod:`ingest` (``.importlinter`` holds the rule); the CLI in
``infra.cli`` calls in. Time travel itself lives in :mod:`catalog.iceberg.timetravel`.
"""

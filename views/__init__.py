"""Athena SQL (the gold view, the business questions) and the engines that run it.

Public API: :class:`views.engine.QueryEngine` / :class:`views.engine.QueryResult`,
:class:`views.local.LocalEngine` (DuckDB over the local Iceberg tables), the SQL files
through :mod:`views.sqlfiles`, and engine-neutral planning (view expansion, tables read)
in :mod:`views.plan`. Time travel itself lives in :mod:`catalog.iceberg.timetravel`.
"""

"""The pipeline on one machine: ingest and the Glue transform, in one process.

Wires the same stage code AWS runs (``ingest``, ``glue``) to local folders, the SQLite
catalog and one SparkSession: :mod:`~infra.local.pipeline` (:class:`LocalPipeline`: ingest,
transform, run, backfill), :mod:`~infra.local.spotify` (where a day is fetched from),
:mod:`~infra.local.doctor` (what this machine and Spotify app can do),
:mod:`~infra.local.legacy` (the original project's history into bronze) and
:mod:`~infra.local.quality` (the loads' data-quality verdicts). Imports the stages and
:mod:`catalog`, never the CLI.
"""

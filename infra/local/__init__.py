"""The pipeline on one machine: ingest, the Glue transform and maintenance, in one process.

Wires the same stage code AWS runs (``ingest``, ``glue``) to local folders, the SQLite
catalog and one SparkSession. Imports the stages and :mod:`catalog`, never the CLI.
"""

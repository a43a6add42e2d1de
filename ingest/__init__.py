"""Ingest: Spotify Web API (or the built-in simulator) -> raw JSON in bronze, one day at a time.

Entry points: :func:`ingest.pipeline.ingest_day`, :mod:`ingest.connection` (client for the
real API or the simulator), :mod:`ingest.roster`, :func:`ingest.simulator.server.serve`.
"""

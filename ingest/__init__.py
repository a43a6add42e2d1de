"""Ingest: Spotify Web API (or the built-in simulator) -> raw JSON in bronze, one day at a time.

Entry points: :func:`ingest.pipeline.ingest_day`, :mod:`ingest.handler` (the Lambda),
:mod:`ingest.connection` (a client for the real API),
:func:`ingest.simulator.connection.open_simulator` (a client for a simulator started
for it), :mod:`ingest.roster`, :func:`ingest.simulator.server.serve`.
"""

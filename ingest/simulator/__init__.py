"""The Spotify simulator: the Web API's artist endpoints on 127.0.0.1, for demos and tests.

:mod:`~ingest.simulator.server` (the HTTP server), :mod:`~ingest.simulator.artists` (the
followers model) and :mod:`~ingest.simulator.faults` (injected 429s, 5xx, bad bodies).
Production code never imports this room at module level; the Lambda zip leaves it out.
"""

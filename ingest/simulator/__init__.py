"""The Spotify simulator: the Web API's artist endpoints on 127.0.0.1, for demos and tests.

:mod:`~ingest.simulator.server` (the HTTP server), :mod:`~ingest.simulator.artists` (the
followers model), :mod:`~ingest.simulator.faults` (injected 429s, 5xx, bad bodies) and
:mod:`~ingest.simulator.connection` (a simulator plus a client connected to it).
Production code never imports this room (``.importlinter``; a test imports the handler in
a fresh interpreter and finds none of it loaded); the Lambda zip leaves it out.
"""

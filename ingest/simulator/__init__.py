"""The Spotify simulator: the Web API's artist endpoints on 127.0.0.1, for demos and tests.

:mod:`~ingest.simulator.server` (:class:`~ingest.simulator.server.SpotifySimulator`, the
server's lifecycle, and ``serve``), :mod:`~ingest.simulator.handler` (the HTTP request
handler), :mod:`~ingest.simulator.routes` (which path answers what),
:mod:`~ingest.simulator.tokens` (the token grant and bearer checks),
:mod:`~ingest.simulator.answers` (JSON answers and error shapes),
:mod:`~ingest.simulator.state` (what the handlers share; recorded requests),
:mod:`~ingest.simulator.artists` (the followers model), :mod:`~ingest.simulator.faults`
(injected 429s, 5xx, bad bodies) and :mod:`~ingest.simulator.connection` (a simulator plus
a client connected to it). Production code never imports this room (``.importlinter``; a
test imports the handler in a fresh interpreter and finds none of it loaded); the Lambda
zip leaves it out.
"""

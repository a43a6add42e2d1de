"""A simulator and a client connected to it, as one :class:`~ingest.connection.SpotifyConnection`.

The counterpart of :func:`ingest.connection.open_real_api` for demos, the CLI's
``--simulator`` and tests; it lives in the simulator room so that production code, which
imports :mod:`ingest.connection`, never loads the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ingest.connection import SpotifyConnection, client_for
from ingest.retry import RetryPolicy
from ingest.roster import Roster
from ingest.simulator.artists import Mode
from ingest.simulator.server import SpotifySimulator


@contextmanager
def open_simulator(
    *,
    seed: int = 0,
    mode: Mode = "extended",
    roster: Roster | None = None,
    retry: RetryPolicy | None = None,
) -> Iterator[SpotifyConnection]:
    """Start a simulator that knows ``roster`` (plus the default 20) and connect to it
    (source "simulator"); both stop when the block ends."""
    with SpotifySimulator(
        seed=seed, mode=mode, extra_artists=roster.artists if roster else ()
    ) as sim:
        client = client_for(sim.settings(), retry=retry)
        try:
            yield SpotifyConnection(client=client, source="simulator", simulator=sim)
        finally:
            client.close()

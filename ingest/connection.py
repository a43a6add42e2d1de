"""One place that decides where ingest talks to: the real API, or a simulator's endpoints.

The CLI (``--simulator`` or not), the demo and the Lambda handler all need a client plus the
``source`` to record in the manifest; building both here keeps the choice consistent (the
simulator source sends ``X-Simulator-Date`` and may serve past days; the real one may not).
Starting a simulator is the simulator room's own business:
:func:`ingest.simulator.connection.open_simulator` returns the same
:class:`SpotifyConnection`. Nothing here imports the simulator at run time, so the Lambda,
which imports this module, never loads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from catalog.bronze.layout import Source
from ingest.budget import TimeBudget
from ingest.client import DEFAULT_MAX_WORKERS, DEFAULT_TIMEOUT, SpotifyClient
from ingest.retry import RetryPolicy
from ingest.settings import SpotifySettings

if TYPE_CHECKING:
    from ingest.simulator.server import SpotifySimulator


@dataclass(frozen=True)
class SpotifyConnection:
    """A ready client, the source to record, and the simulator when there is one."""

    client: SpotifyClient
    source: Source
    simulator: SpotifySimulator | None = None


def client_for(
    settings: SpotifySettings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_workers: int = DEFAULT_MAX_WORKERS,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    budget: TimeBudget | None = None,
) -> SpotifyClient:
    """A client for ``settings``. Loopback endpoints (the simulator) get a session that
    ignores proxy variables, so HTTP(S)_PROXY cannot route 127.0.0.1 traffic elsewhere.
    ``budget``: the Lambda's deadline for every wait (None for local runs: no deadline)."""
    session = requests.Session()
    if settings.is_loopback:
        session.trust_env = False
    return SpotifyClient(
        settings,
        session=session,
        retry=retry,
        sleep=sleep,
        clock=clock,
        max_workers=max_workers,
        timeout=timeout,
        budget=budget,
    )


@contextmanager
def open_real_api(
    environ: Mapping[str, str] | None = None, *, retry: RetryPolicy | None = None
) -> Iterator[SpotifyConnection]:
    """Spotify as configured by the ``SPOTIFY_*`` environment variables (source "spotify").

    Raises :class:`~ingest.errors.MissingCredentialsError` when credentials are not set.
    """
    client = client_for(SpotifySettings.from_env(environ), retry=retry)
    try:
        yield SpotifyConnection(client=client, source="spotify")
    finally:
        client.close()

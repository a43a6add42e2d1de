"""A Spotify Web API simulator: a real HTTP server on 127.0.0.1 with Spotify's contracts.

Why a real server rather than mocks: the client's TLS-free loopback path exercises the same
code (sessions, timeouts, retries, headers, byte-exact bodies) as production, and the demo
can serve past days, which real Spotify cannot. This module is its lifecycle:
:class:`SpotifySimulator` (start, stop, where to connect, behaviour, recorded requests) and
:func:`serve` (the ``simulator`` CLI command). The endpoints are in
:mod:`~ingest.simulator.routes`, the token grant in :mod:`~ingest.simulator.tokens`, the
HTTP handling in :mod:`~ingest.simulator.handler`.

Every request is recorded (minus its Authorization header) for tests to inspect, and a
:class:`~ingest.simulator.faults.FaultPlan` injects faults on demand: 429 with Retry-After,
5xx, slow answers, expiring tokens, malformed bodies and objects. ``latency_s`` delays every
answer (benchmarks), and ``batch_endpoint=False`` takes ``GET /artists`` away from an app
that still reads followers, to exercise the per-artist path with real numbers.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Final, TextIO

from ingest.roster import Artist, default_roster
from ingest.settings import (
    API_URL_ENV,
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    TOKEN_URL_ENV,
    SpotifySettings,
)
from ingest.simulator.artists import MODES, Mode
from ingest.simulator.faults import FaultPlan
from ingest.simulator.handler import SimulatorServer
from ingest.simulator.routes import API_PREFIX, DATE_HEADER
from ingest.simulator.state import RecordedRequest, SimulatorState
from ingest.simulator.tokens import (
    DEFAULT_CLIENT_ID,
    DEFAULT_TOKEN_LIFETIME_S,
    TOKEN_PATH,
    expire_all,
)

__all__ = ["SpotifySimulator", "serve"]

HOST: Final = "127.0.0.1"
#: How often the serving thread checks for shutdown (also how long ``stop()`` may take).
SHUTDOWN_POLL_S: Final = 0.05


def _names(artists: Iterable[Artist]) -> dict[str, str]:
    return {a.id: a.name or f"Artist {a.id[:6]}" for a in artists}


class SpotifySimulator:
    """The simulator as a context manager: ``with SpotifySimulator(seed=7) as sim: ...``.

    It knows the 20 default artists plus ``extra_artists``; :meth:`register` adds more at
    any time (a dict lookup per id, so 10,000-artist rosters are fine). Credentials are
    random per instance unless given.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        mode: Mode = "extended",
        extra_artists: Iterable[Artist] = (),
        port: int = 0,
        token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | None = None,
        latency_s: float = 0.0,
        batch_endpoint: bool = True,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"simulator mode must be one of {', '.join(MODES)}, not {mode!r}")
        artists = _names(default_roster())
        artists.update(_names(extra_artists))
        self._state = SimulatorState(
            seed=seed,
            mode=mode,
            client_id=client_id,
            client_secret=client_secret or secrets.token_hex(16),
            token_lifetime_s=token_lifetime_s,
            artists=artists,
            latency_s=latency_s,
            batch_endpoint=batch_endpoint,
        )
        self._port = port
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> SpotifySimulator:
        """Bind 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = SimulatorServer((HOST, self._port), self._state)
        self._state.api_url = self.base_url + API_PREFIX
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_S},
            name="spotify-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> SpotifySimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Where and how to connect ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; use it as a context manager")
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def client_id(self) -> str:
        return self._state.client_id

    @property
    def client_secret(self) -> str:
        return self._state.client_secret

    def settings(self) -> SpotifySettings:
        """Connection settings pointing at this simulator."""
        return SpotifySettings(
            client_id=self.client_id,
            client_secret=self.client_secret,
            api_url=self.api_url,
            token_url=self.token_url,
        )

    # Behaviour ---------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self._state.seed

    @property
    def mode(self) -> Mode:
        return self._state.mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"simulator mode must be one of {', '.join(MODES)}, not {mode!r}")
        self._state.mode = mode

    @property
    def latency_s(self) -> float:
        """Delay added to every answer, in seconds."""
        return self._state.latency_s

    @latency_s.setter
    def latency_s(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must not be negative, got {seconds}")
        self._state.latency_s = seconds

    @property
    def batch_endpoint(self) -> bool:
        """Whether ``GET /artists?ids=`` is served (else 403, as for Development Mode)."""
        return self._state.batch_endpoint

    @batch_endpoint.setter
    def batch_endpoint(self, enabled: bool) -> None:
        self._state.batch_endpoint = enabled

    @property
    def faults(self) -> FaultPlan:
        return self._state.faults

    def register(self, artists: Iterable[Artist]) -> None:
        """Make more artist ids known (served from the next request on)."""
        names = _names(artists)
        with self._state.lock:
            self._state.artists.update(names)

    def expire_tokens(self) -> None:
        """Expire every issued token now, as if an hour had passed."""
        expire_all(self._state)

    # Inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._state.lock:
            return list(self._state.requests)

    def clear_requests(self) -> None:
        with self._state.lock:
            self._state.requests.clear()


def serve(
    port: int = 0,
    mode: Mode = "extended",
    seed: int = 0,
    *,
    extra_artists: Iterable[Artist] = (),
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> None:
    """Run the simulator in the foreground until Ctrl+C (or ``stop`` is set), after
    printing the settings that point a client at it (the ``simulator`` CLI command)."""
    with SpotifySimulator(seed=seed, mode=mode, port=port, extra_artists=extra_artists) as sim:
        print(
            f"Spotify simulator ({mode} mode, seed {seed}) listening on {sim.base_url}\n"
            "Point a client at it with:\n"
            f"  export {API_URL_ENV}={sim.api_url}\n"
            f"  export {TOKEN_URL_ENV}={sim.token_url}\n"
            f"  export {CLIENT_ID_ENV}={sim.client_id}\n"
            f"  export {CLIENT_SECRET_ENV}={sim.client_secret}\n"
            f"Past days: send the header '{DATE_HEADER}: YYYY-MM-DD'. Stop with Ctrl+C.",
            file=out,
            flush=True,
        )
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("simulator stopped", file=out, flush=True)

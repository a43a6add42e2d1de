"""A Spotify Web API simulator: a real HTTP server on 127.0.0.1 with Spotify's contracts.

Why a real server rather than mocks: the client's TLS-free loopback path exercises the same
code (sessions, timeouts, retries, headers, byte-exact bodies) as production, and the demo
can serve past days, which real Spotify cannot. Served endpoints:

* ``POST /api/token``: client-credentials grant with HTTP Basic auth.
* ``GET /v1/artists?ids=a,b``: up to 50 ids, ``null`` for a well-formed unknown id, 400 for a
  malformed one; 403 in development mode (Spotify removed it for Development Mode apps).
* ``GET /v1/artists/{id}``: one artist; 404 unknown, 400 malformed.

The day served is today's UTC date unless the request has ``X-Simulator-Date: YYYY-MM-DD``.
Every request is recorded (minus its Authorization header) for tests to inspect, and a
:class:`~ingest.simulator.faults.FaultPlan` injects faults on demand: 429 with Retry-After,
5xx, slow answers, expiring tokens, malformed bodies and objects. ``latency_s`` delays every
answer (benchmarks), and ``batch_endpoint=False`` takes ``GET /artists`` away from an app
that still reads followers, to exercise the per-artist path with real numbers.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from catalog.bronze.payload import is_artist_id
from ingest.roster import Artist, default_roster
from ingest.settings import (
    API_URL_ENV,
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    TOKEN_URL_ENV,
    SpotifySettings,
)
from ingest.simulator.artists import MODES, Mode, artist_object, followers
from ingest.simulator.faults import (
    Fault,
    FaultPlan,
    MalformedBody,
    MalformedObject,
    RateLimited,
    ServerError,
    Slow,
    TokenExpired,
)

__all__ = [
    "DATE_HEADER",
    "FaultPlan",
    "RecordedRequest",
    "SpotifySimulator",
    "followers",
    "serve",
]

log = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"
TOKEN_PATH: Final = "/api/token"  # noqa: S105 (a URL path)
API_PREFIX: Final = "/v1"
ARTISTS_PATH: Final = API_PREFIX + "/artists"
#: Request header choosing the day the simulator serves (backdated demo days).
DATE_HEADER: Final = "X-Simulator-Date"
MAX_IDS_PER_REQUEST: Final = 50
DEFAULT_TOKEN_LIFETIME_S: Final = 3600
DEFAULT_CLIENT_ID: Final = "simulator-client"
#: How often the serving thread checks for shutdown (also how long ``stop()`` may take).
SHUTDOWN_POLL_S: Final = 0.05


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it; ``Authorization`` is never recorded."""

    at: datetime  # UTC wall clock, on arrival
    monotonic: float  # time.monotonic() on arrival, for measuring waits between requests
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int  # the status the simulator answered
    #: time.monotonic() when the answer was about to be written (after any delay).
    answered_monotonic: float = 0.0

    @property
    def ids(self) -> list[str]:
        """The ids of a ``GET /artists?ids=`` request (empty for other requests)."""
        raw = self.query.get("ids", [""])[0]
        return [i for i in raw.split(",") if i]


class _Answer(Exception):
    """Internal: stop handling and send this status, body and headers."""

    def __init__(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        *,
        raw: bytes | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})
        self.raw = raw  # sent as is instead of the JSON of ``payload`` (malformed answers)


def _api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> _Answer:
    return _Answer(status, {"error": {"status": status, "message": message}}, headers)


def _oauth_error(status: int, error: str, description: str) -> _Answer:
    # The accounts service answers in OAuth's shape, not the Web API's.
    return _Answer(status, {"error": error, "error_description": description})


class _SimulatorState:
    """Everything the request handlers share; guarded by one lock where mutable."""

    def __init__(
        self,
        *,
        seed: int,
        mode: Mode,
        client_id: str,
        client_secret: str,
        token_lifetime_s: int,
        artists: Mapping[str, str],
        latency_s: float,
        batch_endpoint: bool,
    ) -> None:
        self.seed = seed
        self.mode: Mode = mode
        self.latency_s = latency_s
        self.batch_endpoint = batch_endpoint
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime_s = token_lifetime_s
        self.artists = dict(artists)
        self.faults = FaultPlan()
        self.api_url = ""  # set once the port is known
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.requests: list[RecordedRequest] = []


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent client connections (benchmarks)

    def __init__(self, address: tuple[str, int], state: _SimulatorState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; every answer has a length
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms on Linux), which would dwarf any latency a benchmark sets.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator: " + format, *args)

    def _handle(self, method: str) -> None:
        arrived, arrived_mono = datetime.now(UTC), time.monotonic()
        state = self.server.state
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        body = self._read_body()
        fault = state.faults.take(method, url.path)
        try:
            if fault is not None:
                self._early_fault(fault)
            payload = self._route(method, url.path, query, body)
            answer = _late_fault(fault, _Answer(200, payload))
        except _Answer as a:
            answer = a
        except Exception:  # a simulator bug still gets an answer, as a real 500 would
            log.exception("simulator failed on %s %s", method, self.path)
            answer = _api_error(500, "Internal simulator error")
        if state.latency_s > 0:
            time.sleep(state.latency_s)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    arrived,
                    arrived_mono,
                    method,
                    url.path,
                    query,
                    headers,
                    answer.status,
                    answered_monotonic=time.monotonic(),
                )
            )
        self._send(answer)

    def _early_fault(self, fault: Fault) -> None:
        """Apply a fault that replaces or delays the normal answer."""
        if isinstance(fault, RateLimited):
            wait = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            raise _api_error(429, "API rate limit exceeded", wait)
        if isinstance(fault, ServerError):
            raise _api_error(fault.status, "Service unavailable")
        if isinstance(fault, TokenExpired):
            presented = self.headers.get("Authorization", "").removeprefix("Bearer ")
            state = self.server.state
            with state.lock:
                if presented in state.tokens:
                    state.tokens[presented] = 0.0
            raise _api_error(401, "The access token expired")
        if isinstance(fault, Slow):
            if fault.release is None:
                time.sleep(fault.delay_s)
            else:
                fault.release.wait(fault.delay_s)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, answer: _Answer) -> None:
        if answer.raw is not None:
            data = answer.raw
        else:
            data = json.dumps(answer.payload, separators=(",", ":")).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", str(uuid.uuid4()))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its read timeout, e.g. on a Slow fault): nothing to do.
            log.debug("simulator: client left before the answer to %s", self.path)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
        if path == TOKEN_PATH:
            if method != "POST":
                raise _oauth_error(405, "invalid_request", "Use POST")
            return self._token(body)
        if method != "GET":
            raise _api_error(405, "Method not allowed")
        if path == ARTISTS_PATH:
            self._authorize()
            return self._artists(query)
        if path.startswith(ARTISTS_PATH + "/"):
            self._authorize()
            return self._artist(unquote(path.removeprefix(ARTISTS_PATH + "/")))
        raise _api_error(404, "Service not found")

    def _token(self, body: bytes) -> dict[str, Any]:
        state = self.server.state
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            raise _oauth_error(401, "invalid_client", "Client authentication failed")
        try:
            decoded = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
            client_id, _, client_secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _oauth_error(400, "invalid_client", "Invalid client") from None
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            raise _oauth_error(400, "unsupported_grant_type", "grant_type parameter is missing")
        if not secrets.compare_digest(client_id, state.client_id):
            raise _oauth_error(400, "invalid_client", "Invalid client")
        if not secrets.compare_digest(client_secret, state.client_secret):
            raise _oauth_error(400, "invalid_client", "Invalid client secret")
        token = secrets.token_urlsafe(32)
        with state.lock:
            state.tokens[token] = time.monotonic() + state.token_lifetime_s
        return {"access_token": token, "token_type": "Bearer", "expires_in": state.token_lifetime_s}

    def _authorize(self) -> None:
        state = self.server.state
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise _api_error(401, "No token provided")
        with state.lock:
            expiry = state.tokens.get(header.removeprefix("Bearer "))
        if expiry is None:
            raise _api_error(401, "Invalid access token")
        if time.monotonic() >= expiry:
            raise _api_error(401, "The access token expired")

    def _day(self) -> date:
        raw = self.headers.get(DATE_HEADER)
        if raw is None:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise _api_error(400, f"{DATE_HEADER} must be a date as YYYY-MM-DD") from None

    def _artists(self, query: dict[str, list[str]]) -> dict[str, Any]:
        state = self.server.state
        if state.mode == "development" or not state.batch_endpoint:
            # What Spotify answers Development Mode apps since 2026-02-11/03-09.
            raise _api_error(403, "Forbidden")
        raw = query.get("ids", [""])[0]
        ids = raw.split(",") if raw else []
        if not ids:
            raise _api_error(400, "invalid id")
        if len(ids) > MAX_IDS_PER_REQUEST:
            raise _api_error(400, "Too many ids requested")
        if not all(is_artist_id(i) for i in ids):
            raise _api_error(400, "invalid id")
        day = self._day()
        return {"artists": [self._object(i, day) if i in state.artists else None for i in ids]}

    def _artist(self, artist_id: str) -> dict[str, Any]:
        if not is_artist_id(artist_id):
            raise _api_error(400, "invalid id")
        if artist_id not in self.server.state.artists:
            raise _api_error(404, "Resource not found")
        return self._object(artist_id, self._day())

    def _object(self, artist_id: str, day: date) -> dict[str, Any]:
        state = self.server.state
        name = state.artists[artist_id]
        return artist_object(
            artist_id, name, day, seed=state.seed, mode=state.mode, api_url=state.api_url
        )


def _late_fault(fault: Fault | None, answer: _Answer) -> _Answer:
    """Apply a fault that spoils a normal answer (the others were applied before routing)."""
    if isinstance(fault, MalformedBody):
        data = json.dumps(answer.payload, separators=(",", ":")).encode()
        return _Answer(200, None, raw=data[: fault.keep])
    if isinstance(fault, MalformedObject):
        payload = answer.payload
        objects = payload.get("artists", []) if "artists" in payload else [payload]
        for obj in objects:
            if isinstance(obj, dict) and isinstance(obj.get("followers"), dict):
                obj["followers"]["total"] = fault.value
        return _Answer(200, payload)
    return answer


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
        self._state = _SimulatorState(
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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> SpotifySimulator:
        """Bind 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = _Server((HOST, self._port), self._state)
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
        with self._state.lock:
            for token in self._state.tokens:
                self._state.tokens[token] = 0.0

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

"""A small Spotify Web API client for one job: fetch artist objects, raw and intact.

It returns response bodies exactly as received (bronze keeps them byte for byte) together
with where and when they came from, and handles the protocol around them: the
client-credentials token (cached, refreshed once on 401), batches of at most 50 ids, the
per-id fallback where the batch endpoint is gone (Development Mode apps), bounded
concurrency with one shared rate-limit pause (see :mod:`ingest.ratelimit`), timeouts on
every call and TLS verification always on. Retries are not its business: :mod:`ingest.retry`
installs them on its session, so a request here returns Spotify's final answer or raises
the retry's final error. Given a :class:`~ingest.budget.TimeBudget` (the Lambda's remaining
time), no wait it makes, retry or rate-limit pause, runs past the budget's safety margin
(see :mod:`ingest.budget`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from ingest.budget import TimeBudget
from ingest.errors import SpotifyAuthError, SpotifyRequestError, spotify_error_message
from ingest.ratelimit import RateLimitGate
from ingest.retry import RetryPolicy, install, retrying
from ingest.settings import SpotifySettings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Spotify's limit for ``GET /artists?ids=``.
MAX_BATCH: Final = 50
#: (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT: Final = (5.0, 30.0)
#: A token is replaced this long before Spotify says it expires.
TOKEN_REFRESH_MARGIN_S: Final = 60.0
#: Response headers that may carry the server's request id, most specific first.
REQUEST_ID_HEADERS: Final = ("x-request-id", "x-amzn-requestid", "x-amz-request-id")
#: Header asking the simulator for a past day (ignored by real Spotify).
SIMULATOR_DATE_HEADER: Final = "X-Simulator-Date"
#: Batch-endpoint answers that mean "not for this app": fall back to one call per id.
BATCH_UNAVAILABLE_STATUSES: Final = frozenset({403, 404})
USER_AGENT: Final = "spotify-lakehouse/0.1"
#: Requests in flight at once. Spotify counts requests per app in a rolling 30-second
#: window, so more workers only reach the limit sooner; 8 hides network latency well.
DEFAULT_MAX_WORKERS: Final = 8


@dataclass(frozen=True)
class RawResponse:
    """One Spotify answer as received: what bronze stores and the manifest describes."""

    url: str
    status: int
    body: bytes
    fetched_at: datetime  # UTC, when the response arrived
    request_id: str  # the server's, or a generated uuid when it sent none
    requested_ids: tuple[str, ...]


@dataclass
class _Token:
    value: str
    refresh_at: float  # monotonic


class SpotifyClient:
    """Client-credentials access to the artists endpoints of the Spotify Web API.

    Thread-safe: requests run on up to ``max_workers`` threads (bounded concurrency), share
    one token (fetched once, under a lock) and one :class:`~ingest.ratelimit.RateLimitGate`
    (a 429 pauses every worker). ``sleep`` and ``clock`` are injectable together for tests.
    ``budget``: the deadline every wait must fit in (None, the default: no deadline).
    ``session`` becomes the client's: ``retry``'s rules are installed on it.
    """

    def __init__(
        self,
        settings: SpotifySettings,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_workers: int = DEFAULT_MAX_WORKERS,
        budget: TimeBudget | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.settings = settings
        self._session = session or requests.Session()
        if self._session.verify is False:
            raise ValueError("TLS verification must stay on: pass a session with verify enabled")
        self._session.headers["User-Agent"] = USER_AGENT
        self._gate = RateLimitGate(clock=clock, sleep=sleep, budget=budget)
        # One pooled connection per worker (requests keeps 10 per host by default), behind
        # the rate-limit gate: the last step before the socket, so a request that has not
        # left yet when a 429 arrives waits instead of going out early.
        adapter = _GatedAdapter(self._gate, pool_connections=2, pool_maxsize=max(max_workers, 10))
        for scheme in ("https://", "http://"):
            self._session.mount(scheme, adapter)
        rules = retrying(
            retry or RetryPolicy(),
            api_url=settings.api_url,
            sleep=sleep,
            budget=budget,
            on_rate_limit=self._gate.close_for,
        )
        install(self._session, rules)
        self._timeout = timeout
        self._clock = clock
        self._max_workers = max_workers
        self._token_lock = threading.Lock()
        self._token: _Token | None = None
        self._batch_available: bool | None = None  # unknown until the first batch request

    def close(self) -> None:
        self._session.close()

    @property
    def batch_available(self) -> bool | None:
        """Whether this app may use ``GET /artists?ids=`` (None: not tried yet)."""
        return self._batch_available

    @property
    def session(self) -> requests.Session:
        """The session every request goes through (retry rules, TLS verification and
        user agent installed). Callers may add ``requests`` response hooks to it, e.g. to
        count answers (:class:`catalog.iceberg.run_log.ResponseCounter`); they must not
        replace what is installed."""
        return self._session

    @property
    def rate_limit_pauses(self) -> int:
        """How many 429s paused this client's requests so far."""
        return self._gate.pauses

    def authenticate(self) -> None:
        """Get a token now (cached for later calls); raises what a token request raises."""
        self._access_token()

    # Artists -----------------------------------------------------------------------------

    def iter_artists(
        self, ids: Sequence[str], *, simulated_date: date | None = None
    ) -> Iterator[RawResponse]:
        """Answers for ``ids``, in roster order: one per batch of at most 50 ids, or one per
        id where the batch endpoint is unavailable (then unknown ids answer 404).

        Requests run on up to ``max_workers`` threads; answers are yielded in order as soon
        as they and every answer before them have arrived. The first batch request is made
        alone: it tells whether this app may use the batch endpoint at all.

        ``simulated_date`` asks the simulator for that day; real Spotify ignores it.
        """
        chunks = [tuple(ids[i : i + MAX_BATCH]) for i in range(0, len(ids), MAX_BATCH)]
        if not chunks:
            return
        if self._batch_available is None:
            first = self._batch_probe(chunks[0], simulated_date)
            if first is not None:
                yield first
                chunks = chunks[1:]
        if self._batch_available:
            yield from self._bounded(lambda c: self._batch(c, simulated_date), chunks)
        else:
            singles = [i for chunk in chunks for i in chunk]
            yield from self._bounded(lambda i: self._single(i, simulated_date), singles)

    def fetch_artists(
        self, ids: Sequence[str], *, simulated_date: date | None = None
    ) -> list[RawResponse]:
        """All answers for ``ids`` (see :meth:`iter_artists`)."""
        return list(self.iter_artists(ids, simulated_date=simulated_date))

    def _batch_probe(
        self, chunk: tuple[str, ...], simulated_date: date | None
    ) -> RawResponse | None:
        """The first batch request: its answer, or None when the app cannot use batches."""
        answer = self._get("/artists", chunk, {"ids": ",".join(chunk)}, simulated_date)
        if answer.status in BATCH_UNAVAILABLE_STATUSES:
            self._batch_available = False
            log.warning(
                "GET /artists answered %d: this app cannot use the batch endpoint "
                "(Spotify Development Mode); falling back to one request per artist "
                "(%d at a time)",
                answer.status,
                self._max_workers,
            )
            return None
        self._batch_available = True
        return self._expect(answer, ok=(200,))

    def _batch(self, chunk: tuple[str, ...], simulated_date: date | None) -> RawResponse:
        answer = self._get("/artists", chunk, {"ids": ",".join(chunk)}, simulated_date)
        return self._expect(answer, ok=(200,))

    def _single(self, artist_id: str, simulated_date: date | None) -> RawResponse:
        path = "/artists/" + quote(artist_id, safe="")
        answer = self._get(path, (artist_id,), None, simulated_date)
        return self._expect(answer, ok=(200, 404))

    def _bounded(
        self, fetch: Callable[[T], RawResponse], items: Sequence[T]
    ) -> Iterator[RawResponse]:
        """``fetch`` every item on at most ``max_workers`` threads, yielding in item order.

        At most ``2 * workers`` requests are queued ahead of the consumer. The first failure
        cancels everything not yet started and is raised; requests already running finish
        (each is bounded by the timeouts and the retry budget) and their answers are dropped.
        """
        workers = min(self._max_workers, len(items))
        if workers <= 1:
            for item in items:
                yield fetch(item)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spotify") as pool:
            queue = iter(items)
            pending: deque[Future[RawResponse]] = deque(
                pool.submit(fetch, item) for item in itertools.islice(queue, 2 * workers)
            )
            try:
                while pending:
                    answer = pending.popleft().result()
                    for item in itertools.islice(queue, 1):
                        pending.append(pool.submit(fetch, item))
                    yield answer
            finally:
                for future in pending:
                    future.cancel()

    # Protocol ----------------------------------------------------------------------------

    def _get(
        self,
        path: str,
        ids: tuple[str, ...],
        params: dict[str, str] | None,
        simulated_date: date | None,
    ) -> RawResponse:
        url = self.settings.api_url + path
        headers = {"Accept": "application/json"}
        if simulated_date is not None:
            headers[SIMULATOR_DATE_HEADER] = simulated_date.isoformat()
        response, token = self._api_call(url, params, headers)
        if response.status_code == 401:
            # The token expired early or was revoked: get a new one, once.
            log.info("Spotify answered 401 for %s; refreshing the token and retrying", path)
            self._invalidate(token)
            response, _ = self._api_call(url, params, headers)
            if response.status_code == 401:
                raise SpotifyAuthError(
                    f"Spotify answered 401 for {path} even with a fresh token "
                    f"({spotify_error_message(response.content)}); check that the app in "
                    "SPOTIFY_CLIENT_ID is active in the Spotify developer dashboard"
                )
        return RawResponse(
            url=response.url,
            status=response.status_code,
            body=response.content,
            fetched_at=datetime.now(UTC),
            request_id=_request_id(response.headers),
            requested_ids=ids,
        )

    def _api_call(
        self, url: str, params: dict[str, str] | None, headers: dict[str, str]
    ) -> tuple[requests.Response, str]:
        """One Web API GET (retried by the session); also returns the token it was sent with."""
        bearer = _BearerToken(self._access_token)
        response = self._session.request(
            "GET", url, params=params, headers=headers, auth=bearer, timeout=self._timeout
        )
        return response, bearer.sent

    def _access_token(self) -> str:
        # One lock: concurrent workers wait for a single token request instead of each
        # asking for their own.
        with self._token_lock:
            if self._token is not None and self._clock() < self._token.refresh_at:
                return self._token.value
            self._token = self._request_token()
            return self._token.value

    def _invalidate(self, token: str) -> None:
        """Forget ``token`` unless another worker already replaced it."""
        with self._token_lock:
            if self._token is not None and self._token.value == token:
                self._token = None

    def _request_token(self) -> _Token:
        token_url = self.settings.token_url
        response = self._session.request(
            "POST",
            token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.settings.client_id, self.settings.client_secret),
            timeout=self._timeout,
        )
        if response.status_code in (400, 401):
            raise SpotifyAuthError(
                f"Spotify refused the client credentials ({response.status_code}: "
                f"{spotify_error_message(response.content)}); check SPOTIFY_CLIENT_ID and "
                "SPOTIFY_CLIENT_SECRET against the app in the Spotify developer dashboard"
            )
        if response.status_code != 200:
            raise SpotifyRequestError(
                f"token request to {token_url} answered {response.status_code}: "
                f"{spotify_error_message(response.content)}; check SPOTIFY_TOKEN_URL"
            )
        try:
            payload = response.json()
            value = payload["access_token"]
            lifetime = float(payload.get("expires_in", 3600))
            if not isinstance(value, str) or not value:
                raise TypeError("access_token is not a string")
        except (ValueError, KeyError, TypeError) as e:
            raise SpotifyRequestError(
                f"token response from {token_url} is not a Spotify token ({e}); "
                "check SPOTIFY_TOKEN_URL"
            ) from e
        # Short-lived tokens (tests) keep half their life rather than none.
        margin = min(TOKEN_REFRESH_MARGIN_S, lifetime / 2)
        return _Token(value=value, refresh_at=self._clock() + lifetime - margin)

    def _expect(self, answer: RawResponse, *, ok: tuple[int, ...]) -> RawResponse:
        if answer.status in ok:
            return answer
        raise SpotifyRequestError(
            f"Spotify answered {answer.status} for {answer.url}: "
            f"{spotify_error_message(answer.body)}; "
            + (
                "check the roster's artist ids"
                if answer.status == 400
                else "this app may lack access to the artists endpoints"
            )
        )


class _GatedAdapter(HTTPAdapter):
    """An HTTPAdapter that waits at the rate-limit gate before every request it sends."""

    def __init__(self, gate: RateLimitGate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self._gate.wait()
        return super().send(request, *args, **kwargs)


class _BearerToken(AuthBase):
    """Puts the client's current token on each attempt of a request (the session's retries
    prepare it again, so an attempt after a long wait may carry a newer token) and keeps the
    last one sent, so that a 401 invalidates exactly that token."""

    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token
        self.sent = ""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.sent = self._token()
        request.headers["Authorization"] = f"Bearer {self.sent}"
        return request


def _request_id(headers: requests.structures.CaseInsensitiveDict[str]) -> str:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return str(uuid.uuid4())

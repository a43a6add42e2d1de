"""SpotifyClient against the simulator over real HTTP: tokens, batches, retries, fallbacks."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import date

import pytest
import requests

from ingest.client import SpotifyClient, _retry_after_seconds
from ingest.connection import client_for
from ingest.errors import (
    RateLimitTooLongError,
    SpotifyAuthError,
    SpotifyUnavailableError,
)
from ingest.retry import RetryPolicy
from ingest.roster import Roster
from ingest.settings import SpotifySettings
from ingest.simulated_artists import followers
from ingest.simulator import SpotifySimulator
from ingest.simulator_faults import RateLimited, ServerError

MakeClient = Callable[..., SpotifyClient]

TAYLOR = "06HL4z0CvFAxyc27GXpf02"
UNKNOWN = "0000000000000000000000"


class RecordingSleep:
    """Records the waits the client asks for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def api_requests(sim: SpotifySimulator) -> list[str]:
    return [f"{r.path} {r.status}" for r in sim.requests if r.path.startswith("/v1/")]


def test_token_and_batch_fetch(sim: SpotifySimulator, client: SpotifyClient) -> None:
    [answer] = client.fetch_artists([TAYLOR], simulated_date=date(2026, 5, 1))
    assert answer.status == 200
    assert answer.requested_ids == (TAYLOR,)
    assert answer.url.startswith(sim.api_url + "/artists?ids=")
    assert answer.fetched_at.tzinfo is not None
    assert answer.request_id  # the simulator sends x-request-id
    artist = json.loads(answer.body)["artists"][0]
    assert artist["followers"]["total"] == followers(TAYLOR, date(2026, 5, 1), sim.seed)
    token_posts = [r for r in sim.requests if r.path == "/api/token"]
    assert len(token_posts) == 1
    assert sim.requests[-1].headers["X-Simulator-Date"] == "2026-05-01"


def test_batches_hold_at_most_50_ids(
    sim: SpotifySimulator, client: SpotifyClient, large_roster: Roster
) -> None:
    answers = client.fetch_artists(large_roster.ids)
    batches = [r.ids for r in sim.requests if r.path == "/v1/artists"]
    assert [len(b) for b in batches] == [50, 50, 20]
    assert [i for batch in batches for i in batch] == large_roster.ids
    assert [len(json.loads(a.body)["artists"]) for a in answers] == [50, 50, 20]
    # One token for the whole roster: it is cached.
    assert sum(r.path == "/api/token" for r in sim.requests) == 1


def test_unknown_id_is_null_and_the_rest_is_fetched(client: SpotifyClient) -> None:
    [answer] = client.fetch_artists([TAYLOR, UNKNOWN])
    artists = json.loads(answer.body)["artists"]
    assert artists[0]["id"] == TAYLOR
    assert artists[1] is None


def test_expired_token_is_refreshed_once_and_the_request_retried(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    client.fetch_artists([TAYLOR])
    sim.expire_tokens()
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    paths = [f"{r.path} {r.status}" for r in sim.requests]
    assert paths == [
        "/api/token 200",
        "/v1/artists 200",
        "/v1/artists 401",
        "/api/token 200",
        "/v1/artists 200",
    ]


def test_short_lived_tokens_are_renewed_before_they_expire(fast_retry: RetryPolicy) -> None:
    with SpotifySimulator(token_lifetime_s=1) as short:
        client = client_for(short.settings(), retry=fast_retry)
        client.fetch_artists([TAYLOR])
        time.sleep(0.6)  # past half the lifetime: the client renews instead of using it
        client.fetch_artists([TAYLOR])
        client.close()
        statuses = [f"{r.path} {r.status}" for r in short.requests]
        assert "/v1/artists 401" not in statuses
        assert statuses.count("/api/token 200") == 2


def test_429_waits_at_least_retry_after_before_the_next_request(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    client.fetch_artists([TAYLOR])  # token first, so the 429 is on the API call
    sim.faults.inject(RateLimited(retry_after=1))
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    limited, retried = [r for r in sim.requests if r.path == "/v1/artists"][-2:]
    assert limited.status == 429
    assert retried.status == 200
    assert retried.monotonic - limited.monotonic >= 1.0


def test_429_wait_is_the_retry_after_and_is_logged(
    sim: SpotifySimulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    sleep = RecordingSleep()
    client = make_client(sleep=sleep)
    sim.faults.inject(RateLimited(retry_after=4), times=2)
    with caplog.at_level("WARNING", logger="ingest.retry"):
        [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    assert sleep.waits == [4.0, 4.0]
    assert "waiting 4.0 s" in caplog.text


def test_retry_after_above_the_ceiling_stops_the_run(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    sleep = RecordingSleep()
    client = make_client(sleep=sleep, retry=RetryPolicy(max_retry_after_s=2))
    sim.faults.inject(RateLimited(retry_after=3600))
    with pytest.raises(RateLimitTooLongError, match=r"wait 3600 s.*re-run it after that wait"):
        client.fetch_artists([TAYLOR])
    assert sleep.waits == []
    assert api_requests(sim) == ["/v1/artists 429"]


def test_5xx_is_retried_with_backoff_then_succeeds(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    sleep = RecordingSleep()
    client = make_client(sleep=sleep)
    sim.faults.inject(ServerError(503), times=2)
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    assert api_requests(sim) == ["/v1/artists 503", "/v1/artists 503", "/v1/artists 200"]
    assert len(sleep.waits) == 2
    assert all(0 < w <= 0.1 for w in sleep.waits)  # 0.01 s doubling, plus jitter


def test_persistent_5xx_ends_in_a_clear_error(
    sim: SpotifySimulator, make_client: MakeClient, fast_retry: RetryPolicy
) -> None:
    client = make_client(sleep=RecordingSleep())
    sim.faults.inject(ServerError(500), times=10)
    with pytest.raises(SpotifyUnavailableError, match=r"after 4 attempts.*re-run the day later"):
        client.fetch_artists([TAYLOR])
    assert fast_retry.max_attempts == 4
    assert len(api_requests(sim)) == fast_retry.max_attempts


def test_connection_errors_are_retried_then_reported(fast_retry: RetryPolicy) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = SpotifySettings(
        "id",
        "secret",
        api_url=f"http://127.0.0.1:{port}/v1",
        token_url=f"http://127.0.0.1:{port}/api/token",
    )
    sleep = RecordingSleep()
    client = client_for(settings, retry=fast_retry, sleep=sleep)
    with pytest.raises(SpotifyUnavailableError, match="ConnectionError"):
        client.fetch_artists([TAYLOR])
    client.close()
    assert len(sleep.waits) == fast_retry.max_attempts - 1


def test_wrong_credentials_say_which_variables_to_check(
    sim: SpotifySimulator, fast_retry: RetryPolicy
) -> None:
    settings = SpotifySettings(sim.client_id, "wrong", api_url=sim.api_url, token_url=sim.token_url)
    client = client_for(settings, retry=fast_retry)
    expected = r"Invalid client secret.*SPOTIFY_CLIENT_SECRET"
    with pytest.raises(SpotifyAuthError, match=expected) as caught:
        client.fetch_artists([TAYLOR])
    client.close()
    assert "wrong" not in str(caught.value)
    assert "wrong" not in repr(client.settings)


def test_development_mode_falls_back_to_one_request_per_artist(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    sim.mode = "development"
    answers = client.fetch_artists([TAYLOR, UNKNOWN, TAYLOR])
    assert [a.status for a in answers] == [200, 404, 200]
    assert [a.requested_ids for a in answers] == [(TAYLOR,), (UNKNOWN,), (TAYLOR,)]
    assert "followers" not in json.loads(answers[0].body)
    # The batch endpoint is tried once, then skipped for the rest of the client's life.
    client.fetch_artists([TAYLOR])
    assert [r.path for r in sim.requests if r.path == "/v1/artists"] == ["/v1/artists"]


def test_tls_verification_cannot_be_turned_off(sim: SpotifySimulator) -> None:
    session = requests.Session()
    session.verify = False
    with pytest.raises(ValueError, match="TLS verification must stay on"):
        SpotifyClient(sim.settings(), session=session)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert _retry_after_seconds(header) == seconds


def test_retry_after_as_http_date_is_in_the_future() -> None:
    value = _retry_after_seconds("Wed, 21 Oct 2099 07:28:00 GMT")
    assert value is not None
    assert value > 0

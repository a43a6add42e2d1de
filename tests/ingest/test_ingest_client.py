"""SpotifyClient against the simulator over real HTTP: tokens, batches, retries, fallbacks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date

import pytest
import requests

from ingest.client import SpotifyClient
from ingest.connection import client_for
from ingest.errors import (
    RateLimitTooLongError,
    SpotifyAuthError,
    SpotifyUnavailableError,
)
from ingest.retry import RetryPolicy
from ingest.roster import Roster
from ingest.settings import SpotifySettings
from ingest.simulator.artists import followers
from ingest.simulator.faults import (
    MalformedBody,
    MalformedObject,
    RateLimited,
    ServerError,
    Slow,
    TokenExpired,
)
from ingest.simulator.server import SpotifySimulator
from ingest.simulator.state import RecordedRequest
from tests.ingest.conftest import FakeTime

MakeClient = Callable[..., SpotifyClient]

TAYLOR = "06HL4z0CvFAxyc27GXpf02"
UNKNOWN = "0000000000000000000000"


class RecordingSleep:
    """Records the waits the client asks for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``condition`` until it holds (usually within milliseconds) or ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.005)
    return True


def arrival(request: RecordedRequest) -> float:
    return request.monotonic


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
    batches = sorted((r.ids for r in sim.requests if r.path == "/v1/artists"), key=len)
    assert [len(b) for b in batches] == [20, 50, 50]
    assert sorted(i for batch in batches for i in batch) == sorted(large_roster.ids)
    # Answers come back in roster order, whatever order the requests were served in.
    assert [len(json.loads(a.body)["artists"]) for a in answers] == [50, 50, 20]
    returned = [o["id"] for a in answers for o in json.loads(a.body)["artists"]]
    assert returned == large_roster.ids
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
    fake = FakeTime()
    with SpotifySimulator(token_lifetime_s=1) as short:
        client = client_for(
            short.settings(), retry=fast_retry, clock=fake.monotonic, sleep=fake.sleep
        )
        client.fetch_artists([TAYLOR])
        fake.now += 0.4  # within half the lifetime: the token is reused
        client.fetch_artists([TAYLOR])
        assert [r.path for r in short.requests].count("/api/token") == 1
        fake.now += 0.2  # past half the lifetime: the client renews instead of using it
        client.fetch_artists([TAYLOR])
        client.close()
        statuses = [f"{r.path} {r.status}" for r in short.requests]
        assert "/v1/artists 401" not in statuses
        assert statuses.count("/api/token 200") == 2


def test_429_waits_at_least_retry_after_before_the_next_request(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    fake = FakeTime()
    client = make_client(clock=fake.monotonic, sleep=fake.sleep)
    client.fetch_artists([TAYLOR])  # token first, so the 429 is on the API call
    sim.faults.inject(RateLimited(retry_after=4))
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    limited, retried = [r for r in sim.requests if r.path == "/v1/artists"][-2:]
    assert limited.status == 429
    assert retried.status == 200
    assert fake.waits == [4.0]  # exactly Retry-After on the client's clock, never less


def test_429_wait_is_the_retry_after_and_is_logged(
    sim: SpotifySimulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTime()
    client = make_client(sleep=fake.sleep, clock=fake.monotonic)
    sim.faults.inject(RateLimited(retry_after=4), times=2)
    with caplog.at_level("WARNING"):
        [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    # The limited worker waits Retry-After once per 429; the shared gate adds nothing.
    assert fake.waits == [4.0, 4.0]
    assert "waiting 4.0 s" in caplog.text
    assert "every request paused for 4.0 s" in caplog.text
    assert client.rate_limit_pauses == 2


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


def test_connection_errors_are_retried_then_reported(
    fast_retry: RetryPolicy, unreachable_spotify: SpotifySettings
) -> None:
    settings = unreachable_spotify
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


# Concurrency, the shared rate-limit gate and the simulator's other faults ----------------

#: Requests already on the wire when a 429 reaches the client may still arrive just after
#: the server answered it; on loopback that window is well under this (it is not a retry).
IN_FLIGHT_GRACE_S = 0.05


def test_per_artist_fallback_runs_workers_concurrently_and_keeps_roster_order(
    sim: SpotifySimulator, make_client: MakeClient, large_roster: Roster
) -> None:
    sim.batch_endpoint = False  # followers readable, but one request per artist
    sim.latency_s = 0.02
    client = make_client(max_workers=8)
    answers = client.fetch_artists(large_roster.ids)
    assert [a.requested_ids[0] for a in answers] == large_roster.ids
    assert all(json.loads(a.body)["followers"]["total"] > 0 for a in answers)
    singles = [r for r in sim.requests if r.path.startswith("/v1/artists/")]
    assert len(singles) == len(large_roster)
    # Concurrency is read off the simulator's own record (requests that were open at once),
    # not off a stopwatch that a loaded machine would slow down.
    overlapping = max(
        sum(1 for o in singles if o.monotonic <= r.monotonic < o.answered_monotonic)
        for r in singles
    )
    assert 2 <= overlapping <= 8


def test_a_429_pauses_every_worker_until_retry_after_has_passed(
    sim: SpotifySimulator, make_client: MakeClient, large_roster: Roster
) -> None:
    sim.batch_endpoint = False
    sim.latency_s = 0.005
    workers = 8
    client = make_client(max_workers=workers)
    client.authenticate()
    sim.faults.inject(RateLimited(retry_after=1), after=30)
    answers = client.fetch_artists(large_roster.ids)
    assert [a.status for a in answers] == [200] * len(large_roster)

    api = [r for r in sim.requests if r.path.startswith("/v1/")]
    [limited] = [r for r in api if r.status == 429]
    reopens = limited.answered_monotonic + 1.0
    after = [r for r in api if r.monotonic > limited.answered_monotonic]
    # The retry of the limited request comes no earlier than Retry-After...
    [retry] = [r for r in after if r.path == limited.path]
    assert retry.monotonic >= reopens
    # ...and neither does any other worker's request, except those already on the wire.
    in_flight = [r for r in after if r.monotonic < limited.answered_monotonic + IN_FLIGHT_GRACE_S]
    assert len(in_flight) <= workers - 1
    early = [r for r in after if r not in in_flight and r.monotonic < reopens]
    assert early == []
    assert client.rate_limit_pauses == 1


def test_concurrent_workers_share_one_token_and_refresh_it_once(
    sim: SpotifySimulator, make_client: MakeClient, large_roster: Roster
) -> None:
    sim.batch_endpoint = False
    client = make_client(max_workers=8)
    client.fetch_artists(large_roster.ids[:40])
    assert sum(r.path == "/api/token" for r in sim.requests) == 1
    sim.expire_tokens()
    answers = client.fetch_artists(large_roster.ids[40:])
    assert all(a.status == 200 for a in answers)
    # Up to 8 workers saw 401 at once; one token request replaced the token for all.
    assert sum(r.path == "/api/token" for r in sim.requests) == 2


def test_an_expiring_token_fault_is_refreshed_and_the_request_retried(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    client.authenticate()
    sim.faults.inject(TokenExpired())
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    assert [f"{r.path} {r.status}" for r in sim.requests] == [
        "/api/token 200",
        "/v1/artists 401",
        "/api/token 200",
        "/v1/artists 200",
    ]


def test_a_token_that_keeps_expiring_is_an_auth_error(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    sim.faults.inject(TokenExpired(), times=2)
    with pytest.raises(SpotifyAuthError, match="even with a fresh token"):
        client.fetch_artists([TAYLOR])


def test_a_slow_answer_times_out_and_is_retried(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    client = make_client(timeout=(2.0, 0.2))
    client.authenticate()
    release = threading.Event()
    sim.faults.inject(Slow(delay_s=60, release=release))  # held until released
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    # The slow answer is still held (the simulator records a request once it answers it),
    # so the client did not wait for it: it timed out and its retry was served.
    assert [r.status for r in sim.requests if r.path == "/v1/artists"] == [200]
    release.set()
    assert wait_for(lambda: len([r for r in sim.requests if r.path == "/v1/artists"]) == 2)
    slow, retried = sorted((r for r in sim.requests if r.path == "/v1/artists"), key=arrival)
    assert retried.answered_monotonic < slow.answered_monotonic  # served while slow hung


def test_answers_that_stay_slow_end_in_a_clear_error(
    sim: SpotifySimulator, make_client: MakeClient, fast_retry: RetryPolicy
) -> None:
    client = make_client(timeout=(2.0, 0.2))
    client.authenticate()
    release = threading.Event()  # every answer held until the client has given up
    sim.faults.inject(Slow(delay_s=60, release=release), times=fast_retry.max_attempts)
    with pytest.raises(SpotifyUnavailableError, match=r"ReadTimeout.*re-run the day later"):
        client.fetch_artists([TAYLOR])
    release.set()


def test_a_truncated_body_is_retried_not_stored(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    sim.faults.inject(MalformedBody(keep=25))
    [answer] = client.fetch_artists([TAYLOR])
    assert json.loads(answer.body)["artists"][0]["id"] == TAYLOR
    assert api_requests(sim) == ["/v1/artists 200", "/v1/artists 200"]


def test_a_body_that_stays_truncated_names_the_request(
    sim: SpotifySimulator, client: SpotifyClient, fast_retry: RetryPolicy
) -> None:
    sim.faults.inject(MalformedBody(), times=fast_retry.max_attempts)
    with pytest.raises(SpotifyUnavailableError, match=rf"not JSON.*{TAYLOR}|{TAYLOR}.*not JSON"):
        client.fetch_artists([TAYLOR])


def test_a_malformed_object_is_returned_as_received(
    sim: SpotifySimulator, client: SpotifyClient
) -> None:
    sim.faults.inject(MalformedObject(value="lots"))
    [answer] = client.fetch_artists([TAYLOR])
    assert json.loads(answer.body)["artists"][0]["followers"]["total"] == "lots"


def test_429_without_retry_after_waits_the_policy_default(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    sim.faults.inject(RateLimited(retry_after=None))
    fake = FakeTime()
    client = make_client(
        sleep=fake.sleep, clock=fake.monotonic, retry=RetryPolicy(missing_retry_after_s=7)
    )
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    assert fake.waits == [7.0]

"""The simulator speaks Spotify's HTTP contract (checked with plain requests, no client)."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, date, datetime

import pytest
import requests

from ingest.roster import Artist, default_roster
from ingest.simulator.artists import followers
from ingest.simulator.faults import (
    FaultPlan,
    MalformedBody,
    MalformedObject,
    RateLimited,
    ServerError,
    Slow,
    TokenExpired,
)
from ingest.simulator.server import SpotifySimulator, serve

TAYLOR = "06HL4z0CvFAxyc27GXpf02"
UNKNOWN = "0000000000000000000000"


@pytest.fixture
def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route 127.0.0.1 through a proxy
    return session


def token(sim: SpotifySimulator, http: requests.Session) -> str:
    answer = http.post(
        sim.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=5,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    value: str = body["access_token"]
    return value


def get(
    sim: SpotifySimulator, http: requests.Session, path: str, **headers: str
) -> requests.Response:
    return http.get(sim.api_url + path, headers=headers, timeout=5)


def bearer(sim: SpotifySimulator, http: requests.Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sim, http)}"}


def test_token_refuses_wrong_credentials_in_oauth_shape(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    form = {"grant_type": "client_credentials"}
    wrong = http.post(sim.token_url, data=form, auth=(sim.client_id, "nope"), timeout=5)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_client", "error_description": "Invalid client secret"}
    unknown = http.post(sim.token_url, data=form, auth=("who", sim.client_secret), timeout=5)
    assert unknown.json()["error"] == "invalid_client"
    anonymous = http.post(sim.token_url, data=form, timeout=5)
    assert anonymous.status_code == 401
    grant = http.post(
        sim.token_url, data={"grant_type": "password"}, auth=(sim.client_id, sim.client_secret)
    )
    assert grant.json()["error"] == "unsupported_grant_type"


def test_api_requires_a_valid_bearer_token(sim: SpotifySimulator, http: requests.Session) -> None:
    missing = get(sim, http, f"/artists/{TAYLOR}")
    assert missing.status_code == 401
    assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}
    invalid = get(sim, http, f"/artists/{TAYLOR}", Authorization="Bearer forged")
    assert invalid.status_code == 401
    headers = bearer(sim, http)
    sim.expire_tokens()
    expired = get(sim, http, f"/artists/{TAYLOR}", **headers)
    assert expired.json()["error"]["message"] == "The access token expired"


def test_batch_answers_null_for_unknown_and_400_for_malformed(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    answer = get(sim, http, f"/artists?ids={TAYLOR},{UNKNOWN}", **headers)
    assert answer.status_code == 200
    artists = answer.json()["artists"]
    assert artists[0]["name"] == "Taylor Swift"
    assert artists[1] is None
    malformed = get(sim, http, f"/artists?ids={TAYLOR},bad-id", **headers)
    assert malformed.status_code == 400
    assert malformed.json() == {"error": {"status": 400, "message": "invalid id"}}
    too_many = get(sim, http, "/artists?ids=" + ",".join([TAYLOR] * 51), **headers)
    assert too_many.status_code == 400


def test_single_artist_404_unknown_400_malformed(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    one = get(sim, http, f"/artists/{TAYLOR}", **headers)
    assert one.status_code == 200
    assert one.json()["id"] == TAYLOR
    assert get(sim, http, f"/artists/{UNKNOWN}", **headers).status_code == 404
    assert get(sim, http, "/artists/short", **headers).status_code == 400


def test_day_is_today_unless_the_date_header_says_otherwise(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    today = datetime.now(UTC).date()
    now = get(sim, http, f"/artists/{TAYLOR}", **headers).json()
    assert now["followers"]["total"] == followers(TAYLOR, today, sim.seed)
    past = date(2026, 3, 1)
    then = get(sim, http, f"/artists/{TAYLOR}", **headers, **{"X-Simulator-Date": "2026-03-01"})
    assert then.json()["followers"]["total"] == followers(TAYLOR, past, sim.seed)
    bad = get(sim, http, f"/artists/{TAYLOR}", **headers, **{"X-Simulator-Date": "March"})
    assert bad.status_code == 400


def test_development_mode_drops_followers_and_the_batch_endpoint(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    sim.mode = "development"
    headers = bearer(sim, http)
    assert get(sim, http, f"/artists?ids={TAYLOR}", **headers).status_code == 403
    one = get(sim, http, f"/artists/{TAYLOR}", **headers).json()
    assert "followers" not in one
    assert "popularity" not in one


def test_requests_are_recorded_without_authorization(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    get(sim, http, f"/artists?ids={TAYLOR},{UNKNOWN}", **headers)
    recorded = sim.requests
    assert [r.path for r in recorded] == ["/api/token", "/v1/artists"]
    assert recorded[1].ids == [TAYLOR, UNKNOWN]
    assert recorded[1].status == 200
    assert all("authorization" not in {k.lower() for k in r.headers} for r in recorded)
    assert headers["Authorization"] not in repr(recorded)
    sim.clear_requests()
    assert sim.requests == []


def test_faults_answer_429_with_retry_after_then_5xx_then_normally(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    sim.faults.inject(RateLimited(retry_after=3))
    sim.faults.inject(ServerError(502), times=2)
    limited = get(sim, http, f"/artists/{TAYLOR}", **headers)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.json()["error"]["status"] == 429
    assert [get(sim, http, f"/artists/{TAYLOR}", **headers).status_code for _ in range(3)] == [
        502,
        502,
        200,
    ]
    assert sim.faults.pending == 0


def test_registered_artists_are_served(sim: SpotifySimulator, http: requests.Session) -> None:
    extra = "1234567890abcdefghijAB"
    headers = bearer(sim, http)
    assert get(sim, http, f"/artists/{extra}", **headers).status_code == 404
    sim.register([Artist(extra, "Newcomer")])
    assert get(sim, http, f"/artists/{extra}", **headers).json()["name"] == "Newcomer"


def test_serve_prints_how_to_connect_and_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    runner = threading.Thread(target=serve, kwargs={"out": out, "stop": stop, "seed": 3})
    runner.start()
    deadline = time.monotonic() + 5
    while "SPOTIFY_CLIENT_SECRET=" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    runner.join(5)
    text = out.getvalue()
    assert "export SPOTIFY_API_URL=http://127.0.0.1:" in text
    assert "/v1" in text
    assert "export SPOTIFY_TOKEN_URL=http://127.0.0.1:" in text
    assert "SPOTIFY_CLIENT_ID=" in text
    assert not runner.is_alive()


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="extended, development"):
        SpotifySimulator(mode="sandbox")  # type: ignore[arg-type]


def test_default_roster_is_known_to_a_bare_simulator(http: requests.Session) -> None:
    with SpotifySimulator() as sim:
        headers = bearer(sim, http)
        ids = ",".join(default_roster().ids)
        artists = get(sim, http, f"/artists?ids={ids}", **headers).json()["artists"]
        assert [a["name"] for a in artists] == [a.name for a in default_roster()]


def test_a_fault_can_wait_for_its_turn(sim: SpotifySimulator, http: requests.Session) -> None:
    headers = bearer(sim, http)
    sim.faults.inject(ServerError(500), after=2)
    statuses = [get(sim, http, f"/artists/{TAYLOR}", **headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 500, 200]


def test_429_without_retry_after_has_no_header(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    sim.faults.inject(RateLimited(retry_after=None))
    answer = get(sim, http, f"/artists/{TAYLOR}", **headers)
    assert answer.status_code == 429
    assert "Retry-After" not in answer.headers


def test_slow_answers_and_latency_delay_the_answer(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    sim.faults.inject(Slow(delay_s=0.3))
    started = time.monotonic()
    assert get(sim, http, f"/artists/{TAYLOR}", **headers).status_code == 200
    assert time.monotonic() - started >= 0.3
    sim.latency_s = 0.1
    started = time.monotonic()
    assert get(sim, http, f"/artists/{TAYLOR}", **headers).status_code == 200
    assert time.monotonic() - started >= 0.1
    last = sim.requests[-1]
    assert last.answered_monotonic - last.monotonic >= 0.1


def test_token_expired_fault_revokes_the_presented_token(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    sim.faults.inject(TokenExpired())
    answer = get(sim, http, f"/artists/{TAYLOR}", **headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "The access token expired"
    assert get(sim, http, f"/artists/{TAYLOR}", **headers).status_code == 401  # stays dead
    assert get(sim, http, f"/artists/{TAYLOR}", **bearer(sim, http)).status_code == 200


def test_malformed_body_and_malformed_object(sim: SpotifySimulator, http: requests.Session) -> None:
    headers = bearer(sim, http)
    sim.faults.inject(MalformedBody(keep=15))
    cut = get(sim, http, f"/artists?ids={TAYLOR}", **headers)
    assert cut.status_code == 200
    assert cut.content == b'{"artists":[{"e'
    sim.faults.inject(MalformedObject(value="n/a"))
    bad = get(sim, http, f"/artists?ids={TAYLOR},{UNKNOWN}", **headers).json()
    assert bad["artists"][0]["followers"] == {"href": None, "total": "n/a"}
    assert bad["artists"][1] is None


def test_the_batch_endpoint_can_be_taken_away_with_followers_kept(
    sim: SpotifySimulator, http: requests.Session
) -> None:
    headers = bearer(sim, http)
    sim.batch_endpoint = False
    assert get(sim, http, f"/artists?ids={TAYLOR}", **headers).status_code == 403
    single = get(sim, http, f"/artists/{TAYLOR}", **headers).json()
    assert isinstance(single["followers"]["total"], int)


def test_fault_plan_arguments_are_checked() -> None:
    plan = FaultPlan()
    with pytest.raises(ValueError, match="times"):
        plan.inject(ServerError(), times=0)
    with pytest.raises(ValueError, match="after"):
        plan.inject(ServerError(), after=-1)

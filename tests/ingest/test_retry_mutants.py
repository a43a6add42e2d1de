"""The retry rules, the shared rate-limit pause and the Lambda's time budget, on a fake clock.

No network and no real sleep: attempts are plain functions standing in for
``Session.request(method, url, ...)`` that answer ``requests.Response`` objects built here
(or raise), and ``sleep`` records and advances a :class:`Clock` that the budget and the gate
read. Written against mutmut's survivors (docs/mutation-testing.md);
``tests/ingest/test_ingest_client.py`` covers the same code through the client and the
simulator.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from tenacity import RetryCallState, Retrying

from ingest.budget import SAFETY_MARGIN_S, TimeBudget
from ingest.errors import (
    RateLimitTooLongError,
    SpotifyUnavailableError,
    TimeBudgetExceededError,
    spotify_error_message,
)
from ingest.ratelimit import RateLimitGate
from ingest.retry import (
    DEFAULT_BACKOFF_INITIAL_S,
    DEFAULT_BACKOFF_MAX_S,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_MISSING_RETRY_AFTER_S,
    RETRY_STATUSES,
    RetryPolicy,
    install,
    retry_after_seconds,
    retrying,
    stop_if_wait_exceeds_budget,
)

API = "https://api.example/v1"
TOKEN_URL = "https://accounts.example/api/token"
ARTISTS = API + "/artists"
#: A Spotify-shaped error body and its message.
UNAVAILABLE = json.dumps({"error": {"status": 503, "message": "Service unavailable"}}).encode()

Outcome = requests.Response | Exception


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(
    status: int, body: bytes = b"{}", *, url: str = ARTISTS, retry_after: str | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = url
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


class Scripted:
    """Stands in for ``Session.request``: answers (or raises) ``outcomes`` in turn, then 200."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method: str, url: str, **_: Any) -> requests.Response:
        self.calls.append((method, url))
        if not self.outcomes:
            return answer(200, url=url)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def run(
    send: Scripted,
    clock: Clock,
    *,
    policy: RetryPolicy | None = None,
    budget: TimeBudget | None = None,
    paused: list[float] | None = None,
    method: str = "GET",
    url: str = ARTISTS,
    **kwargs: Any,
) -> requests.Response:
    """One request through the rules, as the client's session sends it."""
    rules = retrying(
        policy or RetryPolicy(),
        api_url=API,
        sleep=clock.sleep,
        budget=budget,
        on_rate_limit=None if paused is None else paused.append,
    )
    result: requests.Response = rules.wraps(send)(method, url, **kwargs)
    return result


def _state(
    outcome: Outcome | None, attempt: int = 1, *, url: str = ARTISTS, **kwargs: Any
) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=("GET", url), kwargs=kwargs)
    state.attempt_number = attempt
    if isinstance(outcome, Exception):
        state.set_exception((type(outcome), outcome, None))
    elif outcome is not None:
        state.set_result(outcome)
    return state


# --- policy --------------------------------------------------------------------------------


def test_policy_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == DEFAULT_MAX_ATTEMPTS == 6
    assert policy.max_retry_after_s == DEFAULT_MAX_RETRY_AFTER_S == 120.0
    assert policy.backoff_initial_s == DEFAULT_BACKOFF_INITIAL_S == 1.0
    assert policy.backoff_max_s == DEFAULT_BACKOFF_MAX_S == 30.0
    assert policy.missing_retry_after_s == DEFAULT_MISSING_RETRY_AFTER_S == 5.0


def test_policy_needs_one_attempt() -> None:
    assert RetryPolicy(max_attempts=1).max_attempts == 1
    with pytest.raises(ValueError, match=r"^max_attempts must be at least 1, got 0$"):
        RetryPolicy(max_attempts=0)


# --- what is retried -----------------------------------------------------------------------


def test_429_and_every_5xx_are_retried_nothing_else() -> None:
    assert frozenset({429, *range(500, 600)}) == RETRY_STATUSES
    for status in (429, 500, 503, 599):
        clock = Clock()
        send = Scripted(answer(status, retry_after="1"))
        assert run(send, clock).status_code == 200
        assert len(send.calls) == 2, status
    for status in (200, 201, 400, 401, 403, 404, 428, 430, 499, 600):
        clock = Clock()
        final = answer(status)
        send = Scripted(final)
        assert run(send, clock) is final
        assert len(send.calls) == 1, status
        assert clock.slept == []


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError("refused"),
        requests.ConnectTimeout("connect"),
        requests.ReadTimeout("read"),
        requests.Timeout("any"),
    ],
)
def test_connection_errors_and_timeouts_are_retried(error: Exception) -> None:
    send = Scripted(error)
    assert run(send, Clock()).status_code == 200
    assert len(send.calls) == 2


@pytest.mark.parametrize(
    "error", [KeyError("boom"), requests.TooManyRedirects("loop"), SpotifyUnavailableError("x")]
)
def test_other_errors_pass_through_at_once(error: Exception) -> None:
    clock = Clock()
    send = Scripted(error)
    with pytest.raises(type(error)) as raised:
        run(send, clock)
    assert raised.value is error
    assert clock.slept == []
    assert len(send.calls) == 1


def test_a_web_api_200_that_is_not_json_is_retried() -> None:
    clock = Clock()
    send = Scripted(answer(200, b'{"artists": ['))
    result = run(send, clock)
    assert json.loads(result.content) == {}
    assert len(send.calls) == 2
    # Outside the Web API (the token endpoint), a 200 is the client's to judge.
    truncated = answer(200, b"<html>", url=TOKEN_URL)
    assert run(Scripted(truncated), Clock(), method="POST", url=TOKEN_URL) is truncated


# --- waits ---------------------------------------------------------------------------------


def test_a_429_waits_exactly_its_retry_after() -> None:
    rules = retrying(RetryPolicy(missing_retry_after_s=7.0), api_url=API, sleep=Clock().sleep)
    assert rules.wait(_state(answer(429, retry_after="42"))) == 42.0
    assert rules.wait(_state(answer(429, retry_after="0"))) == 0.0
    assert rules.wait(_state(answer(429, retry_after="2.5"))) == 2.5
    # No (readable) header: the policy's default, never the backoff.
    for header in (None, "", "soon"):
        assert rules.wait(_state(answer(429, retry_after=header), 5)) == 7.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), ("-3", 0.0), (" 4 ", 4.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_http_date() -> None:
    value = retry_after_seconds("Wed, 21 Oct 2099 07:28:00 GMT")
    assert value is not None
    assert value > 2_000_000_000  # seconds from now: decades
    assert retry_after_seconds("Wed, 21 Oct 2099 07:28:00") == pytest.approx(value, abs=5)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # past: no wait


def test_other_failures_back_off_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_initial_s=2.0, backoff_max_s=5.0)
    rules = retrying(policy, api_url=API, sleep=Clock().sleep)
    for failure in (answer(503), requests.ConnectionError("x"), answer(200, b"[")):
        for attempt, low in ((1, 2.0), (2, 4.0)):
            for _ in range(30):
                value = rules.wait(_state(failure, attempt))
                assert low <= value <= min(low + 2.0, 5.0)
        assert all(rules.wait(_state(failure, 9)) == 5.0 for _ in range(10))


def test_the_jitter_is_as_wide_as_the_first_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    import tenacity.wait

    # Jitter at its widest: the wait is the exponential step plus the whole jitter.
    monkeypatch.setattr(tenacity.wait.random, "uniform", lambda low, high: high)
    policy = RetryPolicy(backoff_initial_s=2.0, backoff_max_s=60.0)
    rules = retrying(policy, api_url=API, sleep=Clock().sleep)
    assert rules.wait(_state(answer(500), 1)) == 4.0
    assert rules.wait(_state(answer(500), 2)) == 6.0
    assert rules.wait(_state(answer(500), 3)) == 10.0


# --- the loop ------------------------------------------------------------------------------


def test_failures_are_retried_with_each_wait_slept() -> None:
    clock = Clock()
    send = Scripted(answer(429, retry_after="3"), answer(429, retry_after="1.5"))
    assert run(send, clock).status_code == 200
    assert clock.slept == [3.0, 1.5]
    assert send.calls == [("GET", ARTISTS)] * 3


def test_attempts_are_bounded_and_the_last_failure_is_named() -> None:
    clock = Clock()
    send = Scripted(*(answer(429, retry_after="1") for _ in range(3)))
    with pytest.raises(SpotifyUnavailableError) as raised:
        run(send, clock, policy=RetryPolicy(max_attempts=3), params={"ids": "a,b"})
    assert type(raised.value) is SpotifyUnavailableError
    assert str(raised.value) == (
        f"GET {ARTISTS}?ids=a,b still failing after 3 attempts (last: 429 on GET {ARTISTS}); "
        "Spotify may be down or rate-limiting this app: nothing was marked complete, re-run "
        "the day later"
    )
    assert raised.value.__cause__ is None
    assert clock.slept == [1.0, 1.0]
    assert len(send.calls) == 3


def test_the_last_failure_says_what_it_was() -> None:
    policy = RetryPolicy(max_attempts=1)
    refused = requests.ConnectionError("refused")
    cases: list[tuple[Outcome, str]] = [
        (refused, f"ConnectionError on GET {ARTISTS}: refused"),
        (answer(503, UNAVAILABLE), f"503 on GET {ARTISTS}: Service unavailable"),
        (answer(502, b""), f"502 on GET {ARTISTS}: (empty body)"),
        (
            answer(200, b'{"artists": [{"id": "0TnOYISbd1XYRBk9myaseg", "name"'),
            f"GET {ARTISTS}?ids=a answered 200 with a body that is not JSON (52 bytes: "
            + repr(b'{"artists": [{"id": "0TnOYISbd1XYRBk9mya')
            + ")",
        ),
    ]
    for outcome, last in cases:
        with pytest.raises(SpotifyUnavailableError) as raised:
            run(Scripted(outcome), Clock(), policy=policy, params={"ids": "a"})
        assert f"after 1 attempts (last: {last}); Spotify may be down" in str(raised.value)
        assert raised.value.__cause__ is (outcome if outcome is refused else None)


def test_one_attempt_means_no_retry() -> None:
    clock = Clock()
    with pytest.raises(SpotifyUnavailableError, match="after 1 attempts"):
        run(Scripted(answer(503)), clock, policy=RetryPolicy(max_attempts=1))
    assert clock.slept == []


def test_the_token_endpoint_is_retried_too_and_named_without_a_query() -> None:
    clock = Clock()
    send = Scripted(answer(503, url=TOKEN_URL), answer(503, url=TOKEN_URL))
    with pytest.raises(SpotifyUnavailableError, match=rf"^POST {TOKEN_URL} still failing after 2"):
        run(send, clock, policy=RetryPolicy(max_attempts=2), method="POST", url=TOKEN_URL)
    assert send.calls == [("POST", TOKEN_URL)] * 2


# --- Retry-After beyond what the run accepts ------------------------------------------------


def test_a_retry_after_above_the_ceiling_stops_at_once() -> None:
    clock = Clock()
    paused: list[float] = []
    send = Scripted(answer(429, retry_after="3600"))
    with pytest.raises(RateLimitTooLongError) as raised:
        run(send, clock, policy=RetryPolicy(max_retry_after_s=120), paused=paused)
    assert str(raised.value) == (
        f"Spotify rate-limited GET {ARTISTS} and asks to wait 3600 s, more than the 120 s "
        "this run accepts; stopped without marking the day complete: re-run it after that wait"
    )
    assert clock.slept == []
    assert len(send.calls) == 1
    assert paused == []  # no other request waits for a run that stops


def test_the_ceiling_itself_is_waited() -> None:
    clock = Clock()
    send = Scripted(answer(429, retry_after="120"))
    assert run(send, clock, policy=RetryPolicy(max_retry_after_s=120)).status_code == 200
    assert clock.slept == [120.0]


def test_the_ceiling_wins_over_the_attempts_and_the_budget() -> None:
    clock = Clock()
    budget = TimeBudget(100.0, margin_s=30.0, clock=clock)
    too_long = answer(429, retry_after="500")
    with pytest.raises(RateLimitTooLongError):
        run(Scripted(too_long), clock, policy=RetryPolicy(max_attempts=1))
    with pytest.raises(RateLimitTooLongError):
        run(Scripted(too_long), clock, budget=budget)
    # A 429 naming no wait is held to the ceiling with the policy's default.
    policy = RetryPolicy(missing_retry_after_s=30.0, max_retry_after_s=20.0)
    with pytest.raises(RateLimitTooLongError, match="asks to wait 30 s, more than the 20 s"):
        run(Scripted(answer(429)), clock, policy=policy)
    assert clock.slept == []


# --- the shared pause ---------------------------------------------------------------------


def test_a_web_api_429_pauses_every_request_for_its_retry_after() -> None:
    clock = Clock()
    paused: list[float] = []
    send = Scripted(answer(429, retry_after="3"), answer(429))
    assert run(send, clock, paused=paused).status_code == 200
    assert paused == [3.0, DEFAULT_MISSING_RETRY_AFTER_S]
    # Even when it is the last attempt: the other workers must still hold back.
    paused.clear()
    with pytest.raises(SpotifyUnavailableError):
        run(
            Scripted(answer(429, retry_after="4")),
            clock,
            policy=RetryPolicy(max_attempts=1),
            paused=paused,
        )
    assert paused == [4.0]


def test_only_web_api_429s_pause() -> None:
    clock = Clock()
    paused: list[float] = []
    send = Scripted(answer(429, retry_after="3", url=TOKEN_URL), answer(503))
    run(send, clock, paused=paused, method="POST", url=TOKEN_URL)
    run(Scripted(answer(503), requests.ConnectionError("x")), clock, paused=paused)
    assert paused == []
    assert run(Scripted(answer(429, retry_after="1")), clock).status_code == 200  # no pause fn


# --- the time budget -----------------------------------------------------------------------


def test_a_wait_that_fits_the_budget_is_slept() -> None:
    clock = Clock()
    budget = TimeBudget(100.0, margin_s=30.0, clock=clock)
    assert run(Scripted(answer(429, retry_after="70")), clock, budget=budget).status_code == 200
    assert clock.slept == [70.0]  # 100 - 70 = 30: exactly the margin is still allowed


def test_a_retry_after_beyond_the_budget_stops_before_sleeping() -> None:
    clock = Clock()
    budget = TimeBudget(100.0, margin_s=30.0, clock=clock)
    with pytest.raises(TimeBudgetExceededError) as raised:
        run(Scripted(answer(429, retry_after="70.5")), clock, budget=budget, params={"ids": "a"})
    assert clock.slept == []
    error = raised.value
    assert error.reason == (
        f"Spotify asked to wait 70.5 s (Retry-After of a 429 on GET {ARTISTS}?ids=a)"
    )
    assert (error.wait_s, error.remaining_s, error.margin_s) == (70.5, 100.0, 30.0)
    assert error.__cause__ is None
    # A 429 naming no wait asks for the policy's default, as Spotify would have.
    with pytest.raises(TimeBudgetExceededError, match=r"^Spotify asked to wait 5\.0 s \(Retry"):
        run(Scripted(answer(429)), clock, budget=TimeBudget(34.0, margin_s=30.0, clock=clock))


def test_a_backoff_beyond_the_budget_names_the_failure() -> None:
    clock = Clock()
    policy = RetryPolicy(backoff_initial_s=1.0, backoff_max_s=1.0)
    with pytest.raises(TimeBudgetExceededError) as raised:
        run(
            Scripted(answer(503, UNAVAILABLE)),
            clock,
            policy=policy,
            budget=TimeBudget(30.5, margin_s=30.0, clock=clock),
        )
    assert raised.value.reason == (
        f"GET {ARTISTS} failed (503 on GET {ARTISTS}: Service unavailable); the backoff "
        "before retrying is 1.0 s"
    )
    refused = requests.ConnectionError("refused")
    with pytest.raises(TimeBudgetExceededError) as raised:
        run(
            Scripted(refused),
            clock,
            policy=policy,
            budget=TimeBudget(30.5, margin_s=30.0, clock=clock),
        )
    assert raised.value.reason.startswith(f"GET {ARTISTS} failed (ConnectionError on GET ")
    assert raised.value.__cause__ is refused
    assert clock.slept == []


def test_when_attempts_run_out_the_budget_is_not_blamed() -> None:
    clock = Clock()
    budget = TimeBudget(31.0, margin_s=30.0, clock=clock)
    send = Scripted(answer(429, retry_after="0.5"), answer(429, retry_after="5"))
    with pytest.raises(SpotifyUnavailableError) as raised:
        run(send, clock, policy=RetryPolicy(max_attempts=2), budget=budget)
    assert type(raised.value) is SpotifyUnavailableError
    assert clock.slept == [0.5]


def test_with_a_budget_the_attempt_limit_still_holds() -> None:
    clock = Clock()
    budget = TimeBudget(10_000.0, margin_s=30.0, clock=clock)
    send = Scripted(*(answer(503, f'{{"error": "503 #{n}"}}'.encode()) for n in range(5)))
    with pytest.raises(
        SpotifyUnavailableError, match=r"after 2 attempts \(last: 503 on .*503 #1\)"
    ):
        run(
            send,
            clock,
            policy=RetryPolicy(max_attempts=2, backoff_initial_s=1.0, backoff_max_s=1.0),
            budget=budget,
        )
    assert len(send.calls) == 2


def test_stop_if_wait_exceeds_budget_looks_at_the_upcoming_sleep() -> None:
    clock = Clock()
    stop = stop_if_wait_exceeds_budget(TimeBudget(50.0, margin_s=10.0, clock=clock))
    state = _state(answer(503))
    state.upcoming_sleep = 40.0
    assert stop(state) is False
    state.upcoming_sleep = 40.001
    assert stop(state) is True


def test_waits_are_logged_warning_for_429_info_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    policy = RetryPolicy(backoff_initial_s=1.0, backoff_max_s=1.0)
    send = Scripted(answer(429, retry_after="2"), answer(503, UNAVAILABLE))
    with caplog.at_level(logging.INFO, logger="ingest.retry"):
        run(send, clock, policy=policy)
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "ingest.retry"]
    assert records == [
        (
            logging.WARNING,
            f"Spotify call failed (429 on GET {ARTISTS}); waiting 2.0 s before attempt 2",
        ),
        (
            logging.INFO,
            f"Spotify call failed (503 on GET {ARTISTS}: Service unavailable); waiting 1.0 s "
            "before attempt 3",
        ),
    ]


# --- installed on a session ----------------------------------------------------------------


class ScriptedAdapter(BaseAdapter):
    """A transport answering from a script: what a session's ``request`` ends up calling."""

    def __init__(self, *statuses: int) -> None:
        super().__init__()
        self.statuses = list(statuses)
        self.sent: list[str] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(f"{request.method} {request.url}")
        response = answer(self.statuses.pop(0) if self.statuses else 200, url=str(request.url))
        response.request = request
        return response

    def close(self) -> None:
        pass


def test_install_retries_every_request_the_session_sends() -> None:
    clock = Clock()
    session = requests.Session()
    transport = ScriptedAdapter(503, 429)
    session.mount("https://", transport)
    install(session, retrying(RetryPolicy(), api_url=API, sleep=clock.sleep))
    assert session.get(ARTISTS, params={"ids": "a,b"}).status_code == 200
    assert transport.sent == [f"GET {ARTISTS}?ids=a%2Cb"] * 3
    assert clock.slept[1] == DEFAULT_MISSING_RETRY_AFTER_S
    # Each request retries on its own: threads share the session, not an attempt count.
    transport.statuses = [503, 503]
    results: list[int] = []

    def post() -> None:
        results.append(session.post(API + "/other", data=b"x").status_code)

    workers = [threading.Thread(target=post) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert results == [200, 200]
    assert len(transport.sent) == 3 + 4


def test_spotify_error_messages_in_either_shape() -> None:
    cases: Mapping[bytes, str] = {
        UNAVAILABLE: "Service unavailable",
        b'{"error": {"status": 500}}': "{'status': 500}",
        b'{"error": "invalid_client", "error_description": "Invalid client"}': (
            "invalid_client: Invalid client"
        ),
        b'{"error": "invalid_client"}': "invalid_client",
        b"[1, 2]": "[1, 2]",
        b"<html>bad gateway</html>": "<html>bad gateway</html>",
        b"": "(empty body)",
    }
    for body, message in cases.items():
        assert spotify_error_message(body) == message
    assert spotify_error_message(b"x" * 500) == "x" * 200


# --- the time budget -----------------------------------------------------------------------


def test_budget_counts_down_on_its_clock() -> None:
    clock = Clock(now=500.0)
    budget = TimeBudget(100.0, clock=clock)
    assert budget.margin_s == SAFETY_MARGIN_S == 30.0
    assert budget.remaining() == 100.0
    clock.now += 120.0
    assert budget.remaining() == -20.0


def test_budget_allows_a_wait_that_leaves_exactly_the_margin() -> None:
    clock = Clock()
    budget = TimeBudget(100.0, margin_s=30.0, clock=clock)
    assert budget.allows(70.0)
    assert not budget.allows(70.01)
    budget.check(70.0, reason="fine")
    with pytest.raises(TimeBudgetExceededError) as raised:
        budget.check(80.0, reason="Spotify asked to wait 80.0 s")
    assert str(raised.value) == (
        "Spotify asked to wait 80.0 s, but only 100.0 s of the Lambda's time are left and 30 s "
        "of them are kept to finish cleanly: stopped instead of waiting. The day is left "
        "incomplete (no manifest written; parts already written stay in bronze) and will be "
        "retried later by the state machine"
    )
    assert (raised.value.wait_s, raised.value.remaining_s) == (80.0, 100.0)


def test_budget_margin_must_not_be_negative() -> None:
    assert TimeBudget(1.0, margin_s=0.0).margin_s == 0.0
    with pytest.raises(ValueError, match=r"^margin_s must not be negative, got -1.0$"):
        TimeBudget(1.0, margin_s=-1.0)


def test_budget_from_a_lambda_context() -> None:
    clock = Clock()
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 90_500)
    budget = TimeBudget.from_lambda_context(context, margin_s=5.0, clock=clock)
    assert budget is not None
    assert budget.remaining() == 90.5
    assert budget.margin_s == 5.0
    assert TimeBudget.from_lambda_context(context, clock=clock).margin_s == SAFETY_MARGIN_S  # type: ignore[union-attr]
    assert TimeBudget.from_lambda_context(object()) is None
    assert TimeBudget.from_lambda_context(SimpleNamespace(get_remaining_time_in_millis=5)) is None


# --- the shared rate-limit pause -------------------------------------------------------------


def test_an_open_gate_lets_requests_through_without_sleeping() -> None:
    clock = Clock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    assert gate.remaining() == 0.0
    gate.wait()
    assert clock.slept == []
    assert gate.pauses == 0


def test_a_429_closes_the_gate_for_its_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    with caplog.at_level(logging.WARNING, logger="ingest.ratelimit"):
        gate.close_for(3.0)
    assert gate.pauses == 1
    assert gate.remaining() == 3.0
    clock.now += 1.0
    assert gate.remaining() == 2.0
    gate.wait()
    assert clock.slept == [2.0]
    assert gate.remaining() == 0.0
    assert [r.getMessage() for r in caplog.records] == [
        "Spotify rate limit: every request paused for 3.0 s"
    ]


def test_overlapping_429s_extend_the_pause_never_shorten_it() -> None:
    clock = Clock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    gate.close_for(10.0)
    clock.now += 2.0
    gate.close_for(3.0)  # ends at +5, before the first pause's +10: no change
    assert gate.remaining() == 8.0
    gate.close_for(9.0)  # ends at +11: extends
    assert gate.remaining() == 9.0
    gate.close_for(-5.0)  # a negative wait counts as none
    assert gate.remaining() == 9.0
    assert gate.pauses == 4


def test_a_pause_at_its_end_is_open() -> None:
    clock = Clock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    gate.close_for(0.0)
    gate.wait()
    assert clock.slept == []


def test_a_pause_extended_while_sleeping_is_slept_again() -> None:
    clock = Clock()
    gate: RateLimitGate

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 1:
            gate.close_for(4.0)  # another worker's 429 arrives during the pause

    gate = RateLimitGate(clock=clock, sleep=sleep)
    gate.close_for(2.0)
    gate.wait()
    assert clock.slept == [2.0, 4.0]


def test_a_sleep_that_does_not_advance_the_clock_cannot_loop_forever() -> None:
    clock = Clock()
    slept: list[float] = []
    gate = RateLimitGate(clock=clock, sleep=slept.append)
    gate.close_for(5.0)
    gate.wait()
    assert slept == [5.0]


def test_a_pause_beyond_the_budget_raises_before_sleeping() -> None:
    clock = Clock()
    budget = TimeBudget(40.0, margin_s=30.0, clock=clock)
    gate = RateLimitGate(clock=clock, sleep=clock.sleep, budget=budget)
    gate.close_for(10.0)
    gate.wait()  # 40 - 10 = 30: fits
    assert clock.slept == [10.0]
    gate.close_for(0.5)
    with pytest.raises(TimeBudgetExceededError) as raised:
        gate.wait()
    assert raised.value.reason == (
        "Spotify asked to wait: its rate limit (a 429's Retry-After) pauses every request for "
        "another 0.5 s"
    )
    assert raised.value.wait_s == 0.5
    assert clock.slept == [10.0]


def test_the_gate_defaults_to_the_monotonic_clock() -> None:
    gate = RateLimitGate()
    gate.close_for(0.05)
    assert 0.0 < gate.remaining() <= 0.05
    done = threading.Event()
    worker = threading.Thread(target=lambda: (gate.wait(), done.set()))
    worker.start()
    worker.join(timeout=5)
    assert done.is_set()
    assert gate.remaining() == 0.0


def test_a_gate_on_a_clock_that_starts_at_zero_is_open() -> None:
    clock = Clock(now=0.0)
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    assert gate.remaining() == 0.0
    gate.wait()
    assert clock.slept == []

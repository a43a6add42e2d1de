"""The retry loop, the shared rate-limit pause and the Lambda's time budget, on a fake clock.

No HTTP and no real sleep: attempts are plain functions, ``sleep`` records and advances a
:class:`Clock` that the budget and the gate read. Written against mutmut's survivors
(docs/mutation-testing.md); ``tests/ingest/test_ingest_client.py`` covers the same code
through the client and the simulator.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from tenacity import RetryCallState, Retrying

from ingest.budget import SAFETY_MARGIN_S, TimeBudget
from ingest.errors import SpotifyUnavailableError, TimeBudgetExceededError
from ingest.ratelimit import RateLimitGate
from ingest.retry import (
    DEFAULT_BACKOFF_INITIAL_S,
    DEFAULT_BACKOFF_MAX_S,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_MISSING_RETRY_AFTER_S,
    RateLimited,
    RetryPolicy,
    TransientError,
    _Wait,
    call_with_retries,
    stop_if_wait_exceeds_budget,
)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(*errors: Exception, result: str = "ok") -> Callable[[], str]:
    """An attempt that raises ``errors`` in turn, then returns ``result``."""
    queue = list(errors)
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return result

    attempt.calls = calls  # type: ignore[attr-defined]
    return attempt


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


def test_rate_limited_is_transient_and_keeps_its_wait() -> None:
    error = RateLimited("429", 7.5)
    assert isinstance(error, TransientError)
    assert error.retry_after == 7.5
    assert str(error) == "429"


# --- waits ---------------------------------------------------------------------------------


def _state(error: Exception | None, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    if error is not None:
        state.set_exception((type(error), error, None))
    return state


def test_a_429_waits_exactly_its_retry_after() -> None:
    wait = _Wait(RetryPolicy())
    assert wait(_state(RateLimited("429", 42.0))) == 42.0
    assert wait(_state(RateLimited("429", 0.0))) == 0.0


def test_other_failures_back_off_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_initial_s=2.0, backoff_max_s=5.0)
    wait = _Wait(policy)
    for attempt, low in ((1, 2.0), (2, 4.0)):
        for _ in range(30):
            value = wait(_state(TransientError("503"), attempt))
            assert low <= value <= min(low + 2.0, 5.0)
    assert all(wait(_state(TransientError("x"), 9)) == 5.0 for _ in range(10))
    # A 429 without a Retry-After falls back to the backoff too.
    assert 2.0 <= wait(_state(RateLimited("429", None))) <= 4.0
    assert isinstance(wait(_state(None)), float)


# --- the loop ------------------------------------------------------------------------------


def test_transient_errors_are_retried_with_each_wait_slept() -> None:
    clock = Clock()
    attempt = failing(RateLimited("429", 3.0), RateLimited("429", 1.5))
    result = call_with_retries(attempt, policy=RetryPolicy(), sleep=clock.sleep, what="GET /x")
    assert result == "ok"
    assert clock.slept == [3.0, 1.5]
    assert len(attempt.calls) == 3  # type: ignore[attr-defined]


def test_other_errors_pass_through_at_once() -> None:
    clock = Clock()
    attempt = failing(KeyError("boom"))
    with pytest.raises(KeyError):
        call_with_retries(attempt, policy=RetryPolicy(), sleep=clock.sleep, what="GET /x")
    assert clock.slept == []
    assert len(attempt.calls) == 1  # type: ignore[attr-defined]


def test_attempts_are_bounded_and_the_last_failure_is_named() -> None:
    clock = Clock()
    last = RateLimited("429 on GET /x", 1.0)
    attempt = failing(RateLimited("a", 1.0), RateLimited("b", 1.0), last)
    with pytest.raises(SpotifyUnavailableError) as raised:
        call_with_retries(
            attempt, policy=RetryPolicy(max_attempts=3), sleep=clock.sleep, what="GET /x"
        )
    assert type(raised.value) is SpotifyUnavailableError
    assert str(raised.value) == (
        "GET /x still failing after 3 attempts (last: 429 on GET /x); Spotify may be down or "
        "rate-limiting this app: nothing was marked complete, re-run the day later"
    )
    assert raised.value.__cause__ is last
    assert clock.slept == [1.0, 1.0]


def test_one_attempt_means_no_retry() -> None:
    clock = Clock()
    with pytest.raises(SpotifyUnavailableError, match="after 1 attempts"):
        call_with_retries(
            failing(TransientError("x")),
            policy=RetryPolicy(max_attempts=1),
            sleep=clock.sleep,
            what="w",
        )
    assert clock.slept == []


def test_a_wait_that_fits_the_budget_is_slept() -> None:
    clock = Clock()
    budget = TimeBudget(100.0, margin_s=30.0, clock=clock)
    result = call_with_retries(
        failing(RateLimited("429", 70.0)),
        policy=RetryPolicy(),
        sleep=clock.sleep,
        what="GET /x",
        budget=budget,
    )
    assert result == "ok"
    assert clock.slept == [70.0]  # 100 - 70 = 30: exactly the margin is still allowed


def test_a_retry_after_beyond_the_budget_stops_before_sleeping() -> None:
    clock = Clock()
    budget = TimeBudget(100.0, margin_s=30.0, clock=clock)
    first = RateLimited("429", 70.5)
    with pytest.raises(TimeBudgetExceededError) as raised:
        call_with_retries(
            failing(first), policy=RetryPolicy(), sleep=clock.sleep, what="GET /x", budget=budget
        )
    assert clock.slept == []
    error = raised.value
    assert error.reason == "Spotify asked to wait 70.5 s (Retry-After of a 429 on GET /x)"
    assert (error.wait_s, error.remaining_s, error.margin_s) == (70.5, 100.0, 30.0)
    assert error.__cause__ is first


def test_a_backoff_beyond_the_budget_names_the_failure() -> None:
    clock = Clock()
    budget = TimeBudget(30.5, margin_s=30.0, clock=clock)
    policy = RetryPolicy(backoff_initial_s=1.0, backoff_max_s=1.0)
    with pytest.raises(TimeBudgetExceededError) as raised:
        call_with_retries(
            failing(TransientError("503 from Spotify")),
            policy=policy,
            sleep=clock.sleep,
            what="GET /y",
            budget=budget,
        )
    assert raised.value.reason == (
        "GET /y failed (503 from Spotify); the backoff before retrying is 1.0 s"
    )
    # Same for a 429 that named no wait: it is a backoff, not a Retry-After.
    with pytest.raises(TimeBudgetExceededError, match=r"^GET /y failed \(no header\); the"):
        call_with_retries(
            failing(RateLimited("no header", None)),
            policy=policy,
            sleep=clock.sleep,
            what="GET /y",
            budget=TimeBudget(30.5, margin_s=30.0, clock=clock),
        )


def test_when_attempts_run_out_the_budget_is_not_blamed() -> None:
    clock = Clock()
    budget = TimeBudget(31.0, margin_s=30.0, clock=clock)
    with pytest.raises(SpotifyUnavailableError) as raised:
        call_with_retries(
            failing(RateLimited("a", 0.5), RateLimited("b", 5.0)),
            policy=RetryPolicy(max_attempts=2),
            sleep=clock.sleep,
            what="GET /z",
            budget=budget,
        )
    assert type(raised.value) is SpotifyUnavailableError
    assert clock.slept == [0.5]


def test_stop_if_wait_exceeds_budget_looks_at_the_upcoming_sleep() -> None:
    clock = Clock()
    stop = stop_if_wait_exceeds_budget(TimeBudget(50.0, margin_s=10.0, clock=clock))
    state = _state(TransientError("x"))
    state.upcoming_sleep = 40.0
    assert stop(state) is False
    state.upcoming_sleep = 40.001
    assert stop(state) is True


def test_waits_are_logged_warning_for_429_info_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    policy = RetryPolicy(backoff_initial_s=1.0, backoff_max_s=1.0)
    with caplog.at_level(logging.INFO, logger="ingest.retry"):
        call_with_retries(
            failing(RateLimited("429 on GET /a", 2.0), TransientError("503 on GET /a")),
            policy=policy,
            sleep=clock.sleep,
            what="GET /a",
        )
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "ingest.retry"]
    assert records == [
        (
            logging.WARNING,
            "Spotify call failed (429 on GET /a); waiting 2.0 s before attempt 2",
        ),
        (logging.INFO, "Spotify call failed (503 on GET /a); waiting 1.0 s before attempt 3"),
    ]


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


def test_with_a_budget_the_attempt_limit_still_holds() -> None:
    clock = Clock()
    budget = TimeBudget(10_000.0, margin_s=30.0, clock=clock)
    attempt = failing(*(TransientError(f"503 #{n}") for n in range(5)))
    with pytest.raises(SpotifyUnavailableError, match=r"after 2 attempts \(last: 503 #1\)"):
        call_with_retries(
            attempt,
            policy=RetryPolicy(max_attempts=2, backoff_initial_s=1.0, backoff_max_s=1.0),
            sleep=clock.sleep,
            what="GET /x",
            budget=budget,
        )
    assert len(attempt.calls) == 2  # type: ignore[attr-defined]


def test_the_jitter_is_as_wide_as_the_first_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    import tenacity.wait

    # Jitter at its widest: the wait is the exponential step plus the whole jitter.
    monkeypatch.setattr(tenacity.wait.random, "uniform", lambda low, high: high)
    wait = _Wait(RetryPolicy(backoff_initial_s=2.0, backoff_max_s=60.0))
    assert wait(_state(TransientError("x"), 1)) == 4.0
    assert wait(_state(TransientError("x"), 2)) == 6.0
    assert wait(_state(TransientError("x"), 3)) == 10.0


def test_a_gate_on_a_clock_that_starts_at_zero_is_open() -> None:
    clock = Clock(now=0.0)
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    assert gate.remaining() == 0.0
    gate.wait()
    assert clock.slept == []

"""The Lambda's time budget: no wait may run into the last SAFETY_MARGIN_S of its time.

Every wait goes through an injected fake time (``FakeTime``: its ``sleep`` records the wait
and advances its clock), which is also the budget's clock, so nothing really sleeps and no
assertion depends on the wall clock. The simulator answers over real HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from catalog.bronze.layout import manifest_key
from ingest.budget import SAFETY_MARGIN_S, TimeBudget
from ingest.connection import client_for
from ingest.errors import (
    NonRetryableIngestError,
    SpotifyUnavailableError,
    TimeBudgetExceededError,
)
from ingest.handler import HandlerConfig, IngestEvent, handler, ingest_for_lambda
from ingest.ratelimit import RateLimitGate
from ingest.retry import RetryPolicy
from ingest.settings import SpotifySettings
from ingest.simulator.faults import RateLimited, ServerError
from ingest.simulator.server import SpotifySimulator
from tests.conftest import FROZEN_TODAY
from tests.ingest.conftest import FakeTime, LambdaContext, MakeClient, bucket_keys

TAYLOR = "06HL4z0CvFAxyc27GXpf02"
TODAY = FROZEN_TODAY
#: Every test here runs on the clock of that day (a run across UTC midnight changes nothing).
pytestmark = pytest.mark.usefixtures("frozen_today")
#: Backoff long enough to reason about exactly: attempt n waits 10 * 2**(n-1) s plus a
#: jitter of up to 10 s, so the first wait is 10-20 s and the second 20-30 s.
SLOW_BACKOFF = RetryPolicy(max_attempts=6, backoff_initial_s=10, backoff_max_s=60)


@dataclass
class TimedContext(LambdaContext):
    """What the Lambda runtime passes as ``context``, with a fixed remaining time."""

    aws_request_id: str = "req-budget"
    remaining_ms: int = 0

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def api_requests(sim: SpotifySimulator) -> list[str]:
    return [f"{r.path} {r.status}" for r in sim.requests if r.path.startswith("/v1/")]


# The budget itself ------------------------------------------------------------------------


def test_the_budget_counts_down_on_its_clock_and_keeps_the_margin() -> None:
    fake = FakeTime()
    budget = TimeBudget(100, clock=fake.monotonic)
    assert budget.margin_s == SAFETY_MARGIN_S == 30
    assert budget.remaining() == 100
    fake.sleep(25)
    assert budget.remaining() == 75
    assert budget.allows(45)  # leaves exactly the margin
    assert not budget.allows(45.5)
    budget.check(45, reason="fits")
    with pytest.raises(TimeBudgetExceededError, match=r"^too long, but only 75\.0 s"):
        budget.check(46, reason="too long")


def test_the_budget_comes_from_the_lambda_context() -> None:
    fake = FakeTime()
    budget = TimeBudget.from_lambda_context(TimedContext(remaining_ms=42_500), clock=fake.monotonic)
    assert budget is not None
    assert budget.remaining() == 42.5
    # A context without the method (a test calling the handler as a function, or no
    # context at all): no deadline.
    assert TimeBudget.from_lambda_context(object()) is None
    assert TimeBudget.from_lambda_context(None) is None


# The client: 429, 5xx, connection errors --------------------------------------------------


def test_a_retry_after_longer_than_the_budget_stops_before_waiting(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    fake = FakeTime()
    budget = TimeBudget(40, clock=fake.monotonic)
    # The default policy: a 20 s Retry-After is under its ceiling, so only the budget stops.
    client = make_client(retry=RetryPolicy(), sleep=fake.sleep, clock=fake.monotonic, budget=budget)
    client.authenticate()
    sim.faults.inject(RateLimited(retry_after=20))
    with pytest.raises(TimeBudgetExceededError) as caught:
        client.fetch_artists([TAYLOR])
    error = caught.value
    assert isinstance(error, SpotifyUnavailableError)  # transient: the state machine retries
    assert (error.wait_s, error.remaining_s, error.margin_s) == (20.0, 40.0, 30.0)
    message = str(error)
    assert "Spotify asked to wait 20.0 s (Retry-After of a 429 on GET" in message
    assert "only 40.0 s of the Lambda's time are left" in message
    assert "day is left incomplete (no manifest written" in message
    assert "will be retried" in message
    assert fake.waits == []  # stopped instead of sleeping
    assert api_requests(sim) == ["/v1/artists 429"]  # and never retried early


def test_a_short_retry_after_within_the_budget_is_waited_out(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    fake = FakeTime()
    budget = TimeBudget(100, clock=fake.monotonic)
    client = make_client(sleep=fake.sleep, clock=fake.monotonic, budget=budget)
    sim.faults.inject(RateLimited(retry_after=4))
    [answer] = client.fetch_artists([TAYLOR])
    assert answer.status == 200
    assert fake.waits == [4.0]
    assert budget.remaining() == 96.0
    assert api_requests(sim) == ["/v1/artists 429", "/v1/artists 200"]


def test_5xx_backoff_stops_at_the_first_wait_that_does_not_fit(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    fake = FakeTime()
    budget = TimeBudget(55, clock=fake.monotonic)
    client = make_client(retry=SLOW_BACKOFF, sleep=fake.sleep, clock=fake.monotonic, budget=budget)
    client.authenticate()
    sim.faults.inject(ServerError(503), times=10)
    with pytest.raises(TimeBudgetExceededError, match=r"503 .*the backoff before retrying is"):
        client.fetch_artists([TAYLOR])
    # First backoff (10-20 s) leaves 35-45 s: taken. The second (20-30 s) would leave
    # 5-25 s, less than the margin: not taken, though the policy allows 6 attempts.
    [first] = fake.waits
    assert 10 <= first <= 20
    assert budget.remaining() == pytest.approx(55 - first)
    assert api_requests(sim) == ["/v1/artists 503", "/v1/artists 503"]


def test_without_a_budget_the_same_backoff_runs_every_attempt(
    sim: SpotifySimulator, make_client: MakeClient
) -> None:
    fake = FakeTime()
    client = make_client(retry=SLOW_BACKOFF, sleep=fake.sleep, clock=fake.monotonic)
    client.authenticate()
    sim.faults.inject(ServerError(503), times=10)
    with pytest.raises(SpotifyUnavailableError, match="after 6 attempts") as caught:
        client.fetch_artists([TAYLOR])
    assert not isinstance(caught.value, TimeBudgetExceededError)
    assert len(fake.waits) == 5


def test_connection_error_backoff_respects_the_budget(
    unreachable_spotify: SpotifySettings,
) -> None:
    settings = unreachable_spotify
    fake = FakeTime()
    budget = TimeBudget(SAFETY_MARGIN_S + 5, clock=fake.monotonic)
    client = client_for(
        settings, retry=SLOW_BACKOFF, sleep=fake.sleep, clock=fake.monotonic, budget=budget
    )
    with pytest.raises(TimeBudgetExceededError, match=r"ConnectionError.*backoff before retrying"):
        client.fetch_artists([TAYLOR])
    client.close()
    assert fake.waits == []  # 10 s or more of backoff never fits in 5 s


# The shared rate-limit gate ---------------------------------------------------------------


def test_a_gate_pause_that_does_not_fit_raises_instead_of_sleeping() -> None:
    fake = FakeTime()
    gate = RateLimitGate(
        clock=fake.monotonic, sleep=fake.sleep, budget=TimeBudget(50, clock=fake.monotonic)
    )
    gate.close_for(21)
    with pytest.raises(TimeBudgetExceededError, match=r"pauses every request for another 21\.0 s"):
        gate.wait()
    assert fake.waits == []


def test_a_gate_pause_that_fits_is_slept() -> None:
    fake = FakeTime()
    gate = RateLimitGate(
        clock=fake.monotonic, sleep=fake.sleep, budget=TimeBudget(50, clock=fake.monotonic)
    )
    gate.close_for(20)
    gate.wait()
    assert fake.waits == [20.0]


def test_a_gate_without_a_budget_sleeps_any_pause() -> None:
    fake = FakeTime()
    gate = RateLimitGate(clock=fake.monotonic, sleep=fake.sleep)
    gate.close_for(600)
    gate.wait()
    assert fake.waits == [600.0]


# The Lambda: bronze stays incomplete, or the day completes --------------------------------


def lambda_run(budget: TimeBudget, fake: FakeTime) -> dict[str, Any]:
    return ingest_for_lambda(
        IngestEvent(TODAY),
        HandlerConfig.from_env(),
        budget=budget,
        sleep=fake.sleep,
        clock=fake.monotonic,
    )


def test_a_lambda_run_out_of_budget_leaves_the_day_incomplete(
    lambda_env: Any, sim: SpotifySimulator
) -> None:
    fake = FakeTime()
    # The preflight (one artist) answers; the rest of the roster is rate-limited.
    sim.faults.inject(RateLimited(retry_after=20), after=1)
    with pytest.raises(TimeBudgetExceededError, match=r"Spotify asked to wait 20\.0 s"):
        lambda_run(TimeBudget(40, clock=fake.monotonic), fake)
    assert fake.waits == []
    keys = bucket_keys(lambda_env)
    assert "bronze/" + manifest_key(TODAY) not in keys  # the day stays incomplete
    parts = [
        k for k in keys if k.endswith(".json") and "/part-" in k and not k.endswith(".meta.json")
    ]
    assert len(parts) == 1  # the preflight's part stays: bronze is never deleted
    assert api_requests(sim) == ["/v1/artists 200", "/v1/artists 429"]


def test_a_lambda_run_waits_a_short_retry_after_and_completes(
    lambda_env: Any, sim: SpotifySimulator
) -> None:
    fake = FakeTime()
    sim.faults.inject(RateLimited(retry_after=4), after=1)
    answer = lambda_run(TimeBudget(900, clock=fake.monotonic), fake)
    assert answer["status"] == "complete"
    assert answer["records"] == 20
    assert fake.waits == [4.0]
    assert "bronze/" + manifest_key(TODAY) in bucket_keys(lambda_env)


def test_the_handler_takes_its_budget_from_the_context(
    lambda_env: Any, sim: SpotifySimulator
) -> None:
    """40 s left and a 15 s Retry-After: waiting would leave under 30 s, so the handler
    stops at once (no real sleep happens), with the error the state machine retries."""
    sim.faults.inject(RateLimited(retry_after=15))
    with pytest.raises(
        TimeBudgetExceededError, match=r"wait 15\.0 s.*s of the Lambda's time"
    ) as caught:
        handler({"snapshot_date": TODAY.isoformat()}, TimedContext(remaining_ms=40_000))
    # Lambda's errorType is the class name (the state machine matches it literally); it is
    # transient, not wrapped as permanent.
    assert type(caught.value).__name__ == "TimeBudgetExceededError"
    assert not isinstance(caught.value, NonRetryableIngestError)
    assert api_requests(sim) == ["/v1/artists 429"]
    assert not any(k.endswith("_manifest.json") for k in bucket_keys(lambda_env))


def test_the_handler_with_time_to_spare_completes(lambda_env: Any) -> None:
    answer = handler({"snapshot_date": TODAY.isoformat()}, TimedContext(remaining_ms=900_000))
    assert answer["status"] == "complete"
    assert answer["manifest_key"] in bucket_keys(lambda_env)

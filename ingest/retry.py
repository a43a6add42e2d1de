"""When and how long to retry a Spotify call (tenacity), kept apart from the HTTP code.

Rules, in order of importance:

* 429: wait at least ``Retry-After`` seconds, never less. Spotify's limit is a rolling
  30-second window, and retrying early is reported to extend the penalty to hours.
* A ``Retry-After`` above ``RetryPolicy.max_retry_after_s`` stops the run cleanly
  (:class:`~ingest.errors.RateLimitTooLongError`) instead of sleeping a Lambda to death.
* 5xx and connection errors/timeouts: exponential backoff with jitter, so many clients
  recovering from one outage do not retry in lockstep.
* Attempts are bounded; the last failure becomes a :class:`~ingest.errors.SpotifyUnavailableError`.
* With a :class:`~ingest.budget.TimeBudget` (the Lambda), a wait that would eat into the
  budget's safety margin is not taken: the retrying stops with
  :class:`~ingest.errors.TimeBudgetExceededError` (``stop_any`` of the attempt limit and
  :class:`stop_if_wait_exceeds_budget`, a stop condition that looks at the *next* wait).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NoReturn, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from ingest.budget import TimeBudget
from ingest.errors import SpotifyUnavailableError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS: Final = 6
DEFAULT_MAX_RETRY_AFTER_S: Final = 120.0
DEFAULT_BACKOFF_INITIAL_S: Final = 1.0
DEFAULT_BACKOFF_MAX_S: Final = 30.0
#: The wait assumed for a 429 without a (readable) Retry-After header.
DEFAULT_MISSING_RETRY_AFTER_S: Final = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget and waits. The defaults suit a daily batch of a few hundred requests."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: Longest single Retry-After the run accepts to sleep through.
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S
    backoff_initial_s: float = DEFAULT_BACKOFF_INITIAL_S
    backoff_max_s: float = DEFAULT_BACKOFF_MAX_S
    #: Wait for a 429 that names none (Spotify always sends Retry-After; proxies may not).
    missing_retry_after_s: float = DEFAULT_MISSING_RETRY_AFTER_S

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")


class TransientError(Exception):
    """Internal signal: this attempt failed in a way another attempt may fix."""


class RateLimited(TransientError):
    """Internal signal: Spotify answered 429; ``retry_after`` is the wait it asks for."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Wait:
    """Retry-After for a 429 that has one, exponential backoff with jitter otherwise."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=policy.backoff_initial_s,
            max=policy.backoff_max_s,
            jitter=policy.backoff_initial_s,
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))


class stop_if_wait_exceeds_budget(stop_base):  # lower case, like tenacity's own stops
    """Stop before a wait that would leave ``budget`` less than its safety margin.

    Tenacity computes the next wait before asking the stop condition (``upcoming_sleep``),
    so the decision is made on the wait that would actually be slept, Retry-After included.
    """

    def __init__(self, budget: TimeBudget) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self.budget.allows(retry_state.upcoming_sleep)


def _log_wait(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    level = logging.WARNING if isinstance(error, RateLimited) else logging.INFO
    log.log(
        level,
        "Spotify call failed (%s); waiting %.1f s before attempt %d",
        error,
        wait,
        state.attempt_number + 1,
    )


def call_with_retries(
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    what: str,
    budget: TimeBudget | None = None,
) -> T:
    """Run ``attempt`` until it returns, retrying while it raises :class:`TransientError`.

    Any other exception (including :class:`~ingest.errors.RateLimitTooLongError`) passes
    through at once. ``what`` names the call in the final error message. With a ``budget``,
    a wait that does not fit in it raises :class:`~ingest.errors.TimeBudgetExceededError`
    instead of sleeping; without one (local runs), only the policy bounds the waits.
    """
    stop: stop_base = stop_after_attempt(policy.max_attempts)
    if budget is not None:
        stop = stop_any(stop, stop_if_wait_exceeds_budget(budget))

    def give_up(state: RetryCallState) -> NoReturn:
        """Called by tenacity when ``stop`` says so: say why, as the run's error."""
        last = state.outcome.exception() if state.outcome is not None else None
        wait = state.upcoming_sleep
        if (
            budget is not None
            and state.attempt_number < policy.max_attempts
            and not budget.allows(wait)
        ):
            if isinstance(last, RateLimited) and last.retry_after is not None:
                reason = f"Spotify asked to wait {wait:.1f} s (Retry-After of a 429 on {what})"
            else:
                reason = f"{what} failed ({last}); the backoff before retrying is {wait:.1f} s"
            raise budget.exceeded(wait, reason=reason) from last
        raise SpotifyUnavailableError(
            f"{what} still failing after {state.attempt_number} attempts (last: {last}); "
            "Spotify may be down or rate-limiting this app: nothing was marked complete, "
            "re-run the day later"
        ) from last

    retrying = Retrying(
        stop=stop,
        wait=_Wait(policy),
        retry=retry_if_exception_type(TransientError),
        sleep=sleep,
        before_sleep=_log_wait,
        retry_error_callback=give_up,
    )
    return retrying(attempt)

"""When and how long to retry a Spotify request: the one place in ingest that decides it.

The rules are small tenacity pieces: one retry condition per kind of failure, a wait, stop
conditions and hooks. :func:`retrying` composes them and :func:`install` puts them on the
client's ``requests`` session (as dlt's ``requests`` helper does), so every request the
session sends is retried by them and the client only ever sees a final answer, or a final
error raised here. Rules, in order of importance:

* 429: wait at least ``Retry-After`` seconds, never less (:class:`wait_retry_after`).
  Spotify's limit is a rolling 30-second window, and retrying early is reported to extend
  the penalty to hours. A Web API 429 also pauses every other request of the client
  (:class:`after_rate_limited`, feeding its :class:`~ingest.ratelimit.RateLimitGate`).
* A ``Retry-After`` above ``RetryPolicy.max_retry_after_s`` stops the run cleanly
  (:class:`stop_if_retry_after_exceeds`, then :class:`~ingest.errors.RateLimitTooLongError`)
  instead of sleeping a Lambda to death.
* 5xx (:class:`retry_if_status`), connection errors and timeouts, and a Web API 200 whose
  body is not JSON (:class:`retry_if_not_json`): exponential backoff with jitter, so many
  clients recovering from one outage do not retry in lockstep.
* Attempts are bounded; the last failure becomes a :class:`~ingest.errors.SpotifyUnavailableError`.
* A host name that does not resolve (no network, or a wrong URL) is retried like any
  connection error unless ``RetryPolicy.retry_name_resolution`` is off
  (:class:`stop_if_name_resolution_fails`): doctor turns it off, since a diagnosis that
  waits 35 s of backoff to say "offline" is no diagnosis. Either way the final error says
  the name did not resolve, not just "ConnectionError".
* With a :class:`~ingest.budget.TimeBudget` (the Lambda), a wait that would eat into the
  budget's safety margin is not taken: the retrying stops with
  :class:`~ingest.errors.TimeBudgetExceededError` (:class:`stop_if_wait_exceeds_budget`, a
  stop condition that looks at the *next* wait).

Every other answer (200, 401, 404, ...) and every other exception reaches the client at once.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, NoReturn
from urllib.parse import urlencode, urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    after_nothing,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from catalog.bronze import payload
from catalog.errors import exception_chain
from ingest.budget import TimeBudget
from ingest.errors import RateLimitTooLongError, SpotifyUnavailableError, spotify_error_message

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS: Final = 6
DEFAULT_MAX_RETRY_AFTER_S: Final = 120.0
DEFAULT_BACKOFF_INITIAL_S: Final = 1.0
DEFAULT_BACKOFF_MAX_S: Final = 30.0
#: The wait assumed for a 429 without a (readable) Retry-After header.
DEFAULT_MISSING_RETRY_AFTER_S: Final = 5.0
#: Spotify's "too many requests".
RATE_LIMITED: Final = 429
#: Answers another attempt may fix: rate limited, or the server failed.
RETRY_STATUSES: Final = frozenset({RATE_LIMITED, *range(500, 600)})
#: Failures without an answer that another attempt may fix.
RETRY_EXCEPTIONS: Final = (requests.ConnectionError, requests.Timeout)


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
    #: Retry when the host name does not resolve. On for runs (a resolver hiccup on Lambda
    #: passes); off for a diagnosis, where it almost always means offline or a wrong URL.
    retry_name_resolution: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")


# What an attempt sent and got -------------------------------------------------------------


def _sent(state: RetryCallState) -> tuple[str, str]:
    """``(method, url)`` of the request being retried: ``Session.request(method, url, ...)``."""
    method, url = state.args[:2]
    return str(method), str(url)


def _target(state: RetryCallState) -> str:
    """The request as errors name it, query included: ``GET https://.../artists?ids=a,b``."""
    method, url = _sent(state)
    params = state.kwargs.get("params")
    return f"{method} {url}?{urlencode(params, safe=',')}" if params else f"{method} {url}"


def _answer(state: RetryCallState) -> requests.Response | None:
    """The attempt's answer; None when it raised (or has not run)."""
    outcome = state.outcome
    if outcome is None or outcome.failed:
        return None
    answer: requests.Response = outcome.result()
    return answer


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: Spotify sends an integer; HTTP also allows a date."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _retry_after(state: RetryCallState, missing_s: float) -> float | None:
    """The wait a 429 asks for (``missing_s`` when it names none); None for anything else."""
    answer = _answer(state)
    if answer is None or answer.status_code != RATE_LIMITED:
        return None
    header = retry_after_seconds(answer.headers.get("Retry-After"))
    return missing_s if header is None else header


def name_resolution_failure(error: BaseException | None) -> socket.gaierror | None:
    """The DNS failure behind ``error``, if there is one.

    requests wraps urllib3's ``MaxRetryError``, whose ``reason`` is a ``NameResolutionError``
    raised from the resolver's ``socket.gaierror``: the chain (causes, contexts, ``reason``,
    exception arguments) is searched, each exception once.
    """
    if error is None:
        return None
    return next((e for e in exception_chain(error) if isinstance(e, socket.gaierror)), None)


def _unresolved(state: RetryCallState) -> socket.gaierror | None:
    """The DNS failure of the attempt ``state`` made (None: it had an answer or another error)."""
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    return name_resolution_failure(outcome.exception())


def is_json(body: bytes) -> bool:
    """Whether a body is JSON by the rules the payload parser reads it with (an integer
    longer than Python converts is JSON, not a broken answer worth retrying)."""
    return payload.is_json(body)


def _failure(state: RetryCallState) -> str:
    """What went wrong in the attempt ``state`` made, for logs and errors."""
    method, url = _sent(state)
    error = state.outcome.exception() if state.outcome is not None else None
    answer = _answer(state)
    if answer is None:
        return f"{type(error).__name__} on {method} {url}: {error}"
    status = answer.status_code
    if status == RATE_LIMITED:
        return f"{status} on {method} {url}"
    if status >= 500:
        return f"{status} on {method} {url}: {spotify_error_message(answer.content)}"
    body = answer.content
    return (
        f"{_target(state)} answered {status} with a body that is not JSON "
        f"({len(body)} bytes: {body[:40]!r})"
    )


# Retry conditions -------------------------------------------------------------------------


class retry_if_status(retry_base):  # lower case, like tenacity's own conditions
    """Retry an answer whose status is one of ``statuses``."""

    def __init__(self, statuses: Iterable[int]) -> None:
        self.statuses = frozenset(statuses)

    def __call__(self, retry_state: RetryCallState) -> bool:
        answer = _answer(retry_state)
        return answer is not None and answer.status_code in self.statuses


class retry_if_not_json(retry_base):
    """Retry a 200 from a URL under ``prefix`` (the Web API, which always answers JSON) whose
    body is not JSON: a cut connection or a broken proxy, not what Spotify sent."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, retry_state: RetryCallState) -> bool:
        answer = _answer(retry_state)
        if answer is None or answer.status_code != 200:
            return False
        return _sent(retry_state)[1].startswith(self.prefix) and not is_json(answer.content)


# Waits, stops and hooks -------------------------------------------------------------------


class wait_retry_after(wait_base):
    """A 429's ``Retry-After`` (``missing_s`` when it names none), else ``fallback``."""

    def __init__(self, *, missing_s: float, fallback: wait_base) -> None:
        self.missing_s = missing_s
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        retry_after = _retry_after(retry_state, self.missing_s)
        if retry_after is not None:
            return retry_after
        return float(self.fallback(retry_state))


class stop_if_retry_after_exceeds(stop_base):
    """Stop at a 429 whose Retry-After (``missing_s`` when it names none) is above ``max_s``."""

    def __init__(self, max_s: float, *, missing_s: float) -> None:
        self.max_s = max_s
        self.missing_s = missing_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        retry_after = _retry_after(retry_state, self.missing_s)
        return retry_after is not None and retry_after > self.max_s


class stop_if_name_resolution_fails(stop_base):
    """Stop at an attempt whose host name did not resolve (``RetryPolicy.retry_name_resolution``
    off): :func:`_give_up` then says so in one line, at once."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        return _unresolved(retry_state) is not None


class stop_if_wait_exceeds_budget(stop_base):
    """Stop before a wait that would leave ``budget`` less than its safety margin.

    Tenacity computes the next wait before asking the stop condition (``upcoming_sleep``),
    so the decision is made on the wait that would actually be slept, Retry-After included.
    """

    def __init__(self, budget: TimeBudget) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self.budget.allows(retry_state.upcoming_sleep)


class after_rate_limited:
    """Tell ``pause`` the wait of every 429 from a URL under ``prefix`` (the Web API) whose
    Retry-After the run accepts (at most ``max_s``): Spotify limits the app, not the request,
    so the client pauses all its requests for that long. Runs after every failed attempt,
    whether or not it is retried: the other workers must not hit the limit either way."""

    def __init__(
        self, pause: Callable[[float], None], *, prefix: str, max_s: float, missing_s: float
    ) -> None:
        self.pause = pause
        self.prefix = prefix
        self.max_s = max_s
        self.missing_s = missing_s

    def __call__(self, retry_state: RetryCallState) -> None:
        retry_after = _retry_after(retry_state, self.missing_s)
        if retry_after is None or retry_after > self.max_s:
            return
        if _sent(retry_state)[1].startswith(self.prefix):
            self.pause(retry_after)


def _log_wait(state: RetryCallState) -> None:
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    answer = _answer(state)
    limited = answer is not None and answer.status_code == RATE_LIMITED
    log.log(
        logging.WARNING if limited else logging.INFO,
        "Spotify call failed (%s); waiting %.1f s before attempt %d",
        _failure(state),
        wait,
        state.attempt_number + 1,
    )


def _give_up(policy: RetryPolicy, budget: TimeBudget | None) -> Callable[[RetryCallState], Any]:
    """What tenacity calls when a stop condition holds: the run's error, saying why."""

    def give_up(state: RetryCallState) -> NoReturn:
        method, url = _sent(state)
        retry_after = _retry_after(state, policy.missing_retry_after_s)
        if retry_after is not None and retry_after > policy.max_retry_after_s:
            raise RateLimitTooLongError(
                f"Spotify rate-limited {method} {url} and asks to wait {retry_after:.0f} s, "
                f"more than the {policy.max_retry_after_s:.0f} s this run accepts; "
                "stopped without marking the day complete: re-run it after that wait"
            )
        what = _target(state)
        last = _failure(state)
        cause = state.outcome.exception() if state.outcome is not None else None
        unresolved = _unresolved(state)
        if unresolved is not None:
            host = urlsplit(url).hostname or url
            raise SpotifyUnavailableError(
                f"offline? cannot resolve {host} ({unresolved.strerror or unresolved}) after "
                f"{state.attempt_number} attempt(s) of {method} {url}: check this machine's "
                "network and DNS, or the host in SPOTIFY_API_URL/SPOTIFY_TOKEN_URL, then re-run"
            ) from cause
        wait = state.upcoming_sleep
        if (
            budget is not None
            and state.attempt_number < policy.max_attempts
            and not budget.allows(wait)
        ):
            if retry_after is not None:
                reason = f"Spotify asked to wait {wait:.1f} s (Retry-After of a 429 on {what})"
            else:
                reason = f"{what} failed ({last}); the backoff before retrying is {wait:.1f} s"
            raise budget.exceeded(wait, reason=reason) from cause
        raise SpotifyUnavailableError(
            f"{what} still failing after {state.attempt_number} attempts (last: {last}); "
            "Spotify may be down or rate-limiting this app: nothing was marked complete, "
            "re-run the day later"
        ) from cause

    return give_up


# Composed and installed -------------------------------------------------------------------


def retrying(
    policy: RetryPolicy,
    *,
    api_url: str,
    sleep: Callable[[float], None],
    budget: TimeBudget | None = None,
    on_rate_limit: Callable[[float], None] | None = None,
) -> Retrying:
    """The retry rules of a Spotify client, for requests made as
    ``Session.request(method, url, ...)``.

    ``api_url``: the Web API's base URL (its 200s must be JSON; its 429s are passed to
    ``on_rate_limit``, the client's shared pause; the token endpoint's are not). ``sleep``
    does the waiting. With a ``budget``, a wait that does not fit in it raises
    :class:`~ingest.errors.TimeBudgetExceededError` instead of sleeping; without one (local
    runs), only the policy bounds the waits.
    """
    missing = policy.missing_retry_after_s
    stop = stop_if_retry_after_exceeds(policy.max_retry_after_s, missing_s=missing) | (
        stop_after_attempt(policy.max_attempts)
    )
    if not policy.retry_name_resolution:
        stop = stop | stop_if_name_resolution_fails()
    if budget is not None:
        stop = stop | stop_if_wait_exceeds_budget(budget)
    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_initial_s,
        max=policy.backoff_max_s,
        jitter=policy.backoff_initial_s,
    )
    after: Callable[[RetryCallState], None] = after_nothing
    if on_rate_limit is not None:
        after = after_rate_limited(
            on_rate_limit, prefix=api_url, max_s=policy.max_retry_after_s, missing_s=missing
        )
    return Retrying(
        retry=(
            retry_if_exception_type(RETRY_EXCEPTIONS)
            | retry_if_status(RETRY_STATUSES)
            | retry_if_not_json(api_url)
        ),
        wait=wait_retry_after(missing_s=missing, fallback=backoff),
        stop=stop,
        after=after,
        before_sleep=_log_wait,
        retry_error_callback=_give_up(policy, budget),
        sleep=sleep,
    )


def install(session: requests.Session, rules: Retrying) -> None:
    """Send every request of ``session`` through ``rules`` (``get``, ``post`` and the rest
    all call ``request``). Each request gets a copy of ``rules``: thread-safe."""
    session.request = rules.wraps(session.request)  # type: ignore[method-assign]

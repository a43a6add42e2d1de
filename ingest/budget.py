"""How long a run may still wait: the Lambda's remaining time, minus a safety margin.

A Lambda has a hard timeout (900 s at most) while Spotify's 429s ask for waits of their own.
A Lambda killed in the middle of such a wait is retried by the state machine, and if that
retry came before Retry-After had passed it would be exactly the early retry Spotify punishes
(penalties of hours are reported). So every place that waits (the retry loop's Retry-After
and backoff, :mod:`ingest.retry`; the shared rate-limit pause, :mod:`ingest.ratelimit`) asks
one :class:`TimeBudget` first, and when the wait would eat into the margin the run stops
cleanly with :class:`~ingest.errors.TimeBudgetExceededError` instead of sleeping.

The handler builds the budget from the Lambda context
(:meth:`TimeBudget.from_lambda_context`) and passes it down through the client; local CLI
runs pass ``None``: no deadline, waits are bounded by the retry policy alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from ingest.errors import TimeBudgetExceededError

#: Seconds kept free at the end of the Lambda's time, never spent waiting: enough for the
#: request that follows a wait and for writing its answer to bronze, so the run ends with a
#: clean, documented error rather than a timeout.
SAFETY_MARGIN_S: Final = 30.0


class TimeBudget:
    """A deadline on a monotonic clock, and whether a wait still fits before it.

    ``clock`` is injectable (tests pass a fake time whose ``sleep`` advances it, the same
    one they give the client, so the budget sees the waits the client "spends"). Thread-safe:
    it only reads the clock.
    """

    def __init__(
        self,
        seconds: float,
        *,
        margin_s: float = SAFETY_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if margin_s < 0:
            raise ValueError(f"margin_s must not be negative, got {margin_s}")
        self._clock = clock
        self._ends_at = clock() + seconds
        self.margin_s = margin_s

    @classmethod
    def from_lambda_context(
        cls,
        context: object,
        *,
        margin_s: float = SAFETY_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> TimeBudget | None:
        """The budget of the invocation ``context`` belongs to; None when it has no deadline
        (a context without ``get_remaining_time_in_millis``, e.g. a test calling the handler
        as a plain function)."""
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining_ms):
            return None
        return cls(float(remaining_ms()) / 1000.0, margin_s=margin_s, clock=clock)

    def remaining(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self._ends_at - self._clock()

    def allows(self, wait_s: float) -> bool:
        """Whether waiting ``wait_s`` seconds still leaves the safety margin."""
        return self.remaining() - wait_s >= self.margin_s

    def check(self, wait_s: float, *, reason: str) -> None:
        """Return if ``wait_s`` fits; else raise :meth:`exceeded`."""
        if not self.allows(wait_s):
            raise self.exceeded(wait_s, reason=reason)

    def exceeded(self, wait_s: float, *, reason: str) -> TimeBudgetExceededError:
        """The error for a wait of ``wait_s`` that does not fit; its message starts with
        ``reason`` (what asks for the wait, and how long) and says how much time is left."""
        return TimeBudgetExceededError(
            reason=reason, wait_s=wait_s, remaining_s=self.remaining(), margin_s=self.margin_s
        )

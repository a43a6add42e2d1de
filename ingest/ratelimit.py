"""One rate-limit pause shared by every worker of a client.

Spotify limits an app, not a connection: when one request is answered 429 with
``Retry-After: N``, the whole app is over its rolling 30-second window, and any request sent
in the next N seconds counts as an early retry (reported to extend the penalty to hours). So
a 429 seen by one worker closes :class:`RateLimitGate` for N seconds, measured from the
moment the 429 *arrived*, which is no earlier than when Spotify sent it; every worker passes
through :meth:`RateLimitGate.wait` before each request and sleeps until the gate reopens.

Requests that were already on the wire when the 429 arrived cannot be called back; they are
not retries, and with bounded concurrency there are at most ``workers - 1`` of them.

With a :class:`~ingest.budget.TimeBudget` (the Lambda), a worker whose pause would eat into
the budget's safety margin raises :class:`~ingest.errors.TimeBudgetExceededError` instead
of sleeping, so no worker is killed mid-pause by the Lambda timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ingest.budget import TimeBudget

log = logging.getLogger(__name__)


class RateLimitGate:
    """A pause every request waits out; extended, never shortened, by each 429.

    ``clock`` and ``sleep`` are injectable together (tests pass a fake time whose ``sleep``
    advances its ``clock``). ``budget``: the deadline every pause must fit in (None: none).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        budget: TimeBudget | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._budget = budget
        self._lock = threading.Lock()
        self._reopens_at = 0.0  # on ``clock``'s scale
        self.pauses = 0  # how many 429s closed (or extended) the gate

    def close_for(self, seconds: float) -> None:
        """Pause every request for ``seconds`` from now (or longer, if already paused)."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until > self._reopens_at:
                self._reopens_at = until
            self.pauses += 1
        log.warning("Spotify rate limit: every request paused for %.1f s", seconds)

    def remaining(self) -> float:
        """Seconds until the gate reopens (0 when open)."""
        with self._lock:
            return max(0.0, self._reopens_at - self._clock())

    def wait(self) -> None:
        """Return once the gate is open, sleeping as long as it is closed.

        Sleeps again only if another 429 extended the pause while this worker slept, so a
        ``sleep`` that does not advance ``clock`` cannot loop forever. Raises
        :class:`~ingest.errors.TimeBudgetExceededError`, before sleeping, when the pause does
        not fit in the budget.
        """
        while True:
            with self._lock:
                target = self._reopens_at
                remaining = target - self._clock()
            if remaining <= 0:
                return
            if self._budget is not None:
                self._budget.check(
                    remaining,
                    reason=(
                        f"Spotify asked to wait: its rate limit (a 429's Retry-After) pauses "
                        f"every request for another {remaining:.1f} s"
                    ),
                )
            self._sleep(remaining)
            with self._lock:
                if self._reopens_at <= target:
                    return

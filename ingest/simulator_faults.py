"""Faults the simulator injects on purpose, so retry and failure paths are tested for real.

The simulator asks its :class:`FaultPlan` once per request (:meth:`FaultPlan.take`) and
obeys the answer before doing anything else. A plan is a queue of scripted faults, each
limited to requests whose path starts with a prefix and used a given number of times.
New kinds of fault (slow answers, malformed bodies, a rolling rate-limit window) are new
dataclasses here plus one branch in the simulator's ``_apply_fault``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Default scope of a fault: the Web API, not the token endpoint.
API_PATH_PREFIX = "/v1/"


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 with ``Retry-After: retry_after`` (whole seconds, like Spotify)."""

    retry_after: int = 1


@dataclass(frozen=True)
class ServerError:
    """Answer a 5xx with a Spotify-shaped error body."""

    status: int = 503


Fault = RateLimited | ServerError


@dataclass
class _Scheduled:
    fault: Fault
    remaining: int
    path_prefix: str
    method: str | None


class FaultPlan:
    """A thread-safe queue of scripted faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scheduled: list[_Scheduled] = []

    def inject(
        self,
        fault: Fault,
        *,
        times: int = 1,
        path_prefix: str = API_PATH_PREFIX,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``fault``."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            self._scheduled.append(_Scheduled(fault, times, path_prefix, method))

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if one is scheduled (and count it as used)."""
        with self._lock:
            for entry in self._scheduled:
                if path.startswith(entry.path_prefix) and entry.method in (None, method):
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        self._scheduled.remove(entry)
                    return entry.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._scheduled.clear()

    @property
    def pending(self) -> int:
        """How many faulty answers are still scheduled."""
        with self._lock:
            return sum(entry.remaining for entry in self._scheduled)

"""Faults the simulator injects on purpose, so retry and failure paths are tested for real.

The simulator asks its :class:`FaultPlan` once per request (:meth:`FaultPlan.take`) and
obeys the answer before doing anything else. A plan is a queue of scripted faults, each
limited to requests whose path starts with a prefix, optionally skipping the first
``after`` matching requests, and used a given number of times.

The kinds, one dataclass each (the simulator's ``_fault_answer`` has one branch per kind):

* :class:`RateLimited`: 429 with ``Retry-After``, as Spotify's rolling-window limiter.
* :class:`ServerError`: a 5xx with a Spotify-shaped error body.
* :class:`Slow`: the normal answer, ``delay_s`` late (exercises client timeouts).
* :class:`TokenExpired`: 401 "The access token expired", and the presented token is revoked,
  as when an hour-old token dies between two requests.
* :class:`MalformedBody`: 200 with a truncated JSON body (a broken proxy or a cut connection).
* :class:`MalformedObject`: 200 with valid JSON whose artist objects have a ``followers.total``
  that is not a number (bad data inside a good answer: bronze keeps it, the transform
  quarantines it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Final

#: Default scope of a fault: the Web API, not the token endpoint.
API_PATH_PREFIX: Final = "/v1/"


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 with ``Retry-After: retry_after`` (whole seconds, like Spotify; None: no
    header, as some proxies answer)."""

    retry_after: int | None = 1


@dataclass(frozen=True)
class ServerError:
    """Answer a 5xx with a Spotify-shaped error body."""

    status: int = 503


@dataclass(frozen=True)
class Slow:
    """Answer normally, but only after ``delay_s`` seconds, or as soon as ``release`` is set.

    ``release`` lets a test hold the answer for as long as it needs (the client must not
    wait for it) and then let it go at once, instead of sleeping out ``delay_s``.
    """

    delay_s: float = 1.0
    release: threading.Event | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TokenExpired:
    """Answer 401 "The access token expired" and revoke the token the request presented."""


@dataclass(frozen=True)
class MalformedBody:
    """Answer 200 with the first ``keep`` bytes of the normal body: not valid JSON."""

    keep: int = 20


@dataclass(frozen=True)
class MalformedObject:
    """Answer 200 with the normal JSON, but every artist's ``followers.total`` is ``value``."""

    value: str = "n/a"


Fault = RateLimited | ServerError | Slow | TokenExpired | MalformedBody | MalformedObject


@dataclass
class _Scheduled:
    fault: Fault
    remaining: int
    path_prefix: str
    method: str | None
    skip: int  # matching requests still to let through before the fault applies


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
        after: int = 0,
        path_prefix: str = API_PATH_PREFIX,
        method: str | None = None,
    ) -> None:
        """Answer ``times`` matching requests with ``fault``, after letting ``after`` of them
        through normally (``after`` counts requests from the moment of this call)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if after < 0:
            raise ValueError(f"after must not be negative, got {after}")
        with self._lock:
            self._scheduled.append(_Scheduled(fault, times, path_prefix, method, after))

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if one is scheduled (and count it as used).

        Every scheduled entry that matches counts the request against its ``after``; the
        first entry past its ``after`` supplies the fault.
        """
        chosen: Fault | None = None
        with self._lock:
            for entry in list(self._scheduled):
                if not path.startswith(entry.path_prefix) or entry.method not in (None, method):
                    continue
                if entry.skip > 0:
                    entry.skip -= 1
                    continue
                if chosen is None:
                    chosen = entry.fault
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        self._scheduled.remove(entry)
        return chosen

    def clear(self) -> None:
        with self._lock:
            self._scheduled.clear()

    @property
    def pending(self) -> int:
        """How many faulty answers are still scheduled."""
        with self._lock:
            return sum(entry.remaining for entry in self._scheduled)

"""What the simulator's request handlers share, and what they record for tests to inspect.

:class:`SimulatorState` (settings, issued tokens, known artists, the fault plan, one lock
for what changes) and :class:`RecordedRequest` (one request as the simulator saw it).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ingest.simulator.artists import Mode
from ingest.simulator.faults import FaultPlan


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it; ``Authorization`` is never recorded."""

    at: datetime  # UTC wall clock, on arrival
    monotonic: float  # time.monotonic() on arrival, for measuring waits between requests
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int  # the status the simulator answered
    #: time.monotonic() when the answer was about to be written (after any delay).
    answered_monotonic: float = 0.0

    @property
    def ids(self) -> list[str]:
        """The ids of a ``GET /artists?ids=`` request (empty for other requests)."""
        raw = self.query.get("ids", [""])[0]
        return [i for i in raw.split(",") if i]


class SimulatorState:
    """Everything the request handlers share; guarded by one lock where mutable."""

    def __init__(
        self,
        *,
        seed: int,
        mode: Mode,
        client_id: str,
        client_secret: str,
        token_lifetime_s: int,
        artists: Mapping[str, str],
        latency_s: float,
        batch_endpoint: bool,
    ) -> None:
        self.seed = seed
        self.mode: Mode = mode
        self.latency_s = latency_s
        self.batch_endpoint = batch_endpoint
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime_s = token_lifetime_s
        self.artists = dict(artists)
        self.faults = FaultPlan()
        self.api_url = ""  # set once the port is known
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.requests: list[RecordedRequest] = []

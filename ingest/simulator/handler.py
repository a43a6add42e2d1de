"""The simulator's HTTP side: a threading server on 127.0.0.1 and its request handler.

The handler reads a request, applies the fault the plan holds for it (a 429, 5xx, expired
token or delay before routing; a spoiled body after), asks :func:`~ingest.simulator.routes.route`
for the answer, waits ``latency_s``, records the request (minus its Authorization header)
and sends the answer as JSON with a length, over a keep-alive connection.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ingest.simulator.answers import Answer, api_error, encode, late_fault
from ingest.simulator.faults import Fault, RateLimited, ServerError, Slow, TokenExpired
from ingest.simulator.routes import DATE_HEADER, route
from ingest.simulator.state import RecordedRequest, SimulatorState
from ingest.simulator.tokens import expire_presented

log = logging.getLogger(__name__)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent client connections (benchmarks)

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        super().__init__(address, Handler)
        self.state = state


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; every answer has a length
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms on Linux), which would dwarf any latency a benchmark sets.
    disable_nagle_algorithm = True
    server: SimulatorServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator: " + format, *args)

    def _handle(self, method: str) -> None:
        arrived, arrived_mono = datetime.now(UTC), time.monotonic()
        state = self.server.state
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        body = self._read_body()
        fault = state.faults.take(method, url.path)
        try:
            if fault is not None:
                self._early_fault(fault)
            payload = route(
                state,
                method,
                url.path,
                query,
                body,
                authorization=self.headers.get("Authorization", ""),
                simulated_day=self.headers.get(DATE_HEADER),
            )
            answer = late_fault(fault, Answer(200, payload))
        except Answer as a:
            answer = a
        except Exception:  # a simulator bug still gets an answer, as a real 500 would
            log.exception("simulator failed on %s %s", method, self.path)
            answer = api_error(500, "Internal simulator error")
        if state.latency_s > 0:
            time.sleep(state.latency_s)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    arrived,
                    arrived_mono,
                    method,
                    url.path,
                    query,
                    headers,
                    answer.status,
                    answered_monotonic=time.monotonic(),
                )
            )
        self._send(answer)

    def _early_fault(self, fault: Fault) -> None:
        """Apply a fault that replaces or delays the normal answer."""
        if isinstance(fault, RateLimited):
            wait = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            raise api_error(429, "API rate limit exceeded", wait)
        if isinstance(fault, ServerError):
            raise api_error(fault.status, "Service unavailable")
        if isinstance(fault, TokenExpired):
            expire_presented(self.server.state, self.headers.get("Authorization", ""))
            raise api_error(401, "The access token expired")
        if isinstance(fault, Slow):
            if fault.release is None:
                time.sleep(fault.delay_s)
            else:
                fault.release.wait(fault.delay_s)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, answer: Answer) -> None:
        data = answer.raw if answer.raw is not None else encode(answer.payload)
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", str(uuid.uuid4()))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its read timeout, e.g. on a Slow fault): nothing to do.
            log.debug("simulator: client left before the answer to %s", self.path)

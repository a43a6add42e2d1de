"""The simulator's answers: what a handler sends, the two error shapes, spoiled bodies.

An :class:`Answer` is raised to stop handling and send a status, a JSON body and headers.
The Web API answers errors as ``{"error": {"status", "message"}}`` (:func:`api_error`), the
accounts service in OAuth's shape (:func:`oauth_error`). :func:`late_fault` applies the
faults that spoil a normal answer (a truncated body, a bad followers total).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ingest.simulator.faults import Fault, MalformedBody, MalformedObject


class Answer(Exception):
    """Stop handling and send this status, body and headers."""

    def __init__(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        *,
        raw: bytes | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})
        self.raw = raw  # sent as is instead of the JSON of ``payload`` (malformed answers)


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(status, {"error": {"status": status, "message": message}}, headers)


def oauth_error(status: int, error: str, description: str) -> Answer:
    # The accounts service answers in OAuth's shape, not the Web API's.
    return Answer(status, {"error": error, "error_description": description})


def encode(payload: Any) -> bytes:
    """``payload`` as compact JSON bytes, as Spotify sends it."""
    return json.dumps(payload, separators=(",", ":")).encode()


def late_fault(fault: Fault | None, answer: Answer) -> Answer:
    """Apply a fault that spoils a normal answer (the others were applied before routing)."""
    if isinstance(fault, MalformedBody):
        return Answer(200, None, raw=encode(answer.payload)[: fault.keep])
    if isinstance(fault, MalformedObject):
        payload = answer.payload
        objects = payload.get("artists", []) if "artists" in payload else [payload]
        for obj in objects:
            if isinstance(obj, dict) and isinstance(obj.get("followers"), dict):
                obj["followers"]["total"] = fault.value
        return Answer(200, payload)
    return answer

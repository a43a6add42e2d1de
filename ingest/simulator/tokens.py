"""The simulator's accounts side: the client-credentials grant and bearer-token checks.

``POST /api/token`` with HTTP Basic auth issues a random token that lives
``token_lifetime_s``; the Web API endpoints accept it until then (or until a
:class:`~ingest.simulator.faults.TokenExpired` fault or ``expire_tokens()`` ends it).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from typing import Any, Final
from urllib.parse import parse_qs

from ingest.simulator.answers import api_error, oauth_error
from ingest.simulator.state import SimulatorState

TOKEN_PATH: Final = "/api/token"  # noqa: S105 (a URL path)
DEFAULT_TOKEN_LIFETIME_S: Final = 3600
DEFAULT_CLIENT_ID: Final = "simulator-client"


def issue_token(state: SimulatorState, authorization: str, body: bytes) -> dict[str, Any]:
    """Answer a client-credentials grant (``authorization``: the request's header)."""
    if not authorization.startswith("Basic "):
        raise oauth_error(401, "invalid_client", "Client authentication failed")
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic "), validate=True).decode()
        client_id, _, client_secret = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise oauth_error(400, "invalid_client", "Invalid client") from None
    form = parse_qs(body.decode("utf-8", "replace"))
    if form.get("grant_type") != ["client_credentials"]:
        raise oauth_error(400, "unsupported_grant_type", "grant_type parameter is missing")
    if not secrets.compare_digest(client_id, state.client_id):
        raise oauth_error(400, "invalid_client", "Invalid client")
    if not secrets.compare_digest(client_secret, state.client_secret):
        raise oauth_error(400, "invalid_client", "Invalid client secret")
    token = secrets.token_urlsafe(32)
    with state.lock:
        state.tokens[token] = time.monotonic() + state.token_lifetime_s
    return {"access_token": token, "token_type": "Bearer", "expires_in": state.token_lifetime_s}


def authorize(state: SimulatorState, authorization: str) -> None:
    """Refuse (401) a request whose bearer token is missing, unknown or expired."""
    if not authorization.startswith("Bearer "):
        raise api_error(401, "No token provided")
    with state.lock:
        expiry = state.tokens.get(authorization.removeprefix("Bearer "))
    if expiry is None:
        raise api_error(401, "Invalid access token")
    if time.monotonic() >= expiry:
        raise api_error(401, "The access token expired")


def expire_presented(state: SimulatorState, authorization: str) -> None:
    """Expire the bearer token this request presented, if it is one the simulator issued."""
    presented = authorization.removeprefix("Bearer ")
    with state.lock:
        if presented in state.tokens:
            state.tokens[presented] = 0.0


def expire_all(state: SimulatorState) -> None:
    """Expire every issued token now, as if an hour had passed."""
    with state.lock:
        for token in state.tokens:
            state.tokens[token] = 0.0

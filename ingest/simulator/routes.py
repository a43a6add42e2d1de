"""The simulator's routes: which method and path answer what, with Spotify's contracts.

* ``POST /api/token``: client-credentials grant with HTTP Basic auth
  (:mod:`~ingest.simulator.tokens`).
* ``GET /v1/artists?ids=a,b``: up to 50 ids, ``null`` for a well-formed unknown id, 400 for a
  malformed one; 403 in development mode (Spotify removed it for Development Mode apps) or
  with ``batch_endpoint`` off.
* ``GET /v1/artists/{id}``: one artist; 404 unknown, 400 malformed.

The day served is today's UTC date unless the request has ``X-Simulator-Date: YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import unquote

from catalog.bronze.payload import is_artist_id
from ingest.simulator.answers import api_error, oauth_error
from ingest.simulator.artists import artist_object
from ingest.simulator.state import SimulatorState
from ingest.simulator.tokens import TOKEN_PATH, authorize, issue_token

API_PREFIX: Final = "/v1"
ARTISTS_PATH: Final = API_PREFIX + "/artists"
#: Request header choosing the day the simulator serves (backdated demo days).
DATE_HEADER: Final = "X-Simulator-Date"
MAX_IDS_PER_REQUEST: Final = 50


def route(
    state: SimulatorState,
    method: str,
    path: str,
    query: dict[str, list[str]],
    body: bytes,
    *,
    authorization: str,
    simulated_day: str | None,
) -> Any:
    """The payload of a 200 answer, or raise :class:`~ingest.simulator.answers.Answer`.

    ``authorization`` and ``simulated_day`` are the request's ``Authorization`` and
    :data:`DATE_HEADER` headers (``""`` and ``None`` when absent).
    """
    if path == TOKEN_PATH:
        if method != "POST":
            raise oauth_error(405, "invalid_request", "Use POST")
        return issue_token(state, authorization, body)
    if method != "GET":
        raise api_error(405, "Method not allowed")
    if path == ARTISTS_PATH:
        authorize(state, authorization)
        return _artists(state, query, simulated_day)
    if path.startswith(ARTISTS_PATH + "/"):
        authorize(state, authorization)
        return _artist(state, unquote(path.removeprefix(ARTISTS_PATH + "/")), simulated_day)
    raise api_error(404, "Service not found")


def _day(simulated_day: str | None) -> date:
    if simulated_day is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(simulated_day.strip())
    except ValueError:
        raise api_error(400, f"{DATE_HEADER} must be a date as YYYY-MM-DD") from None


def _artists(
    state: SimulatorState, query: dict[str, list[str]], simulated_day: str | None
) -> dict[str, Any]:
    if state.mode == "development" or not state.batch_endpoint:
        # What Spotify answers Development Mode apps since 2026-02-11/03-09.
        raise api_error(403, "Forbidden")
    raw = query.get("ids", [""])[0]
    ids = raw.split(",") if raw else []
    if not ids:
        raise api_error(400, "invalid id")
    if len(ids) > MAX_IDS_PER_REQUEST:
        raise api_error(400, "Too many ids requested")
    if not all(is_artist_id(i) for i in ids):
        raise api_error(400, "invalid id")
    day = _day(simulated_day)
    return {"artists": [_object(state, i, day) if i in state.artists else None for i in ids]}


def _artist(state: SimulatorState, artist_id: str, simulated_day: str | None) -> dict[str, Any]:
    if not is_artist_id(artist_id):
        raise api_error(400, "invalid id")
    if artist_id not in state.artists:
        raise api_error(404, "Resource not found")
    return _object(state, artist_id, _day(simulated_day))


def _object(state: SimulatorState, artist_id: str, day: date) -> dict[str, Any]:
    name = state.artists[artist_id]
    return artist_object(
        artist_id, name, day, seed=state.seed, mode=state.mode, api_url=state.api_url
    )

"""Errors shared by more than one stage. Each names what failed and what to do next."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date


class LakehouseError(Exception):
    """Base class: the CLI prints the message on one line and exits 1."""

    exit_code = 1


class FollowersUnavailableError(LakehouseError):
    """The Spotify app's answers carry no ``followers``: exit 3, nothing written to silver.

    Classified from what the answers contain, never from the calendar: Spotify removed
    ``followers`` and ``popularity`` for Development Mode apps (new apps 2026-02-11, existing
    apps 2026-03-09) and has changed that policy since, so only the payload tells.
    """

    exit_code = 3

    def __init__(self, day: date | None = None, detail: str = "") -> None:
        when = f" for {day.isoformat()}" if day else ""
        message = (
            f"Spotify returned artists without the 'followers' field{when}: this app cannot "
            "read follower counts. Since 2026-03-09 Spotify's Development Mode apps get no "
            "'followers' and no 'popularity'. Remedy: use an app with Extended Quota Mode "
            "(SPOTIFY_CLIENT_ID/SPOTIFY_CLIENT_SECRET), or another source of follower counts. "
            "The raw answers are kept in bronze; nothing was written to silver."
        )
        super().__init__(message + (f" ({detail})" if detail else ""))
        self.day = day


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception linked to it, each once, nearest first: causes and
    contexts, and the exceptions libraries keep as attributes or arguments (urllib3's
    ``reason``, SQLAlchemy's ``orig``, an exception passed as an argument).

    Libraries wrap what the fix depends on (a full disk, a DNS failure, a damaged SQLite
    file) in their own types, sometimes several deep; every question "was it X?" walks the
    same graph, so it is walked here, once, with a guard against cycles.
    """
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            getattr(current, "orig", None),
            *current.args,
        )
        pending.extend(e for e in linked if isinstance(e, BaseException))

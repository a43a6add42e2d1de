"""``--top N`` / ``ROSTER_TOP``: keep the N most followed artists of a roster.

Choosing needs today's counts, so a roster longer than N is fetched once to rank it (batches
of 50: 200 requests for 10,000 artists), and the day's ingest then fetches the N chosen ones
into bronze as usual. The ranking answers are not kept in bronze: they are a means of
choosing, and a day's bronze should hold exactly the artists its silver rows come from. The
manifest records the choice (``extra.top``: N, the roster size and where it came from).

The ranking fetch runs no preflight of its own. If its answers carry no follower counts at
all (a Development Mode app), nothing can be ranked: the first N in roster order are kept,
and the day's preflight then records the day as followers-unavailable (exit 3) as always.
Ties keep roster order; ids Spotify does not know rank last.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from ingest.answers import artist_objects, has_followers
from ingest.client import SpotifyClient
from ingest.roster import Roster

log = logging.getLogger(__name__)


def top_followed(
    client: SpotifyClient, roster: Roster, top: int, *, simulated_date: date | None = None
) -> Roster:
    """The ``top`` most followed artists of ``roster``, most followed first.

    A roster of ``top`` artists or fewer is returned unchanged, without a request.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    if len(roster) <= top:
        return roster
    counts: dict[str, int] = {}
    for answer in client.iter_artists(roster.ids, simulated_date=simulated_date):
        if answer.status != 200:
            continue
        for obj in artist_objects(answer.body):
            if has_followers(obj) and isinstance(obj.get("id"), str):
                counts[obj["id"]] = _total(obj)
    if not counts:
        log.warning(
            "cannot rank %s: Spotify's answers carry no follower counts; "
            "keeping the first %d artists in roster order",
            roster.origin,
            top,
        )
        chosen = roster.artists[:top]
    else:
        order = {a.id: index for index, a in enumerate(roster.artists)}
        ranked = sorted(
            roster.artists,
            key=lambda a: (a.id not in counts, -counts.get(a.id, 0), order[a.id]),
        )
        chosen = tuple(ranked[:top])
    log.info("kept the %d most followed of %d artists (%s)", top, len(roster), roster.origin)
    return Roster(
        chosen, origin=f"the {top} most followed of {roster.origin}", invalid=roster.invalid
    )


def _total(obj: dict[str, Any]) -> int:
    total: int = obj["followers"]["total"]
    return total

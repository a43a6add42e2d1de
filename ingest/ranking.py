"""``--top N`` / ``ROSTER_TOP``: keep the N most followed artists of a roster.

Choosing needs today's counts, so a roster longer than N is fetched once to rank it (batches
of 50: 200 requests for 10,000 artists), and the day's ingest then fetches the N chosen ones
into bronze as usual. The ranking answers are not kept in bronze: they are a means of
choosing, and a day's bronze should hold exactly the artists its silver rows come from. The
manifest records the choice (``extra.top``: N, the roster size and where it came from).

The ranking fetch runs no preflight of its own: the day's ingest (:mod:`ingest.pipeline`)
makes its one-artist preflight first and ranks only when that answer shows followers (or
cannot tell). A followers-less day is not ranked at all: :func:`keep_first` keeps the first N
in roster order without a request. If the ranking answers still carry no follower counts,
the first N are kept the same way. Ties keep roster order; ids Spotify does not know rank
last.
"""

from __future__ import annotations

import logging
from datetime import date

from catalog.bronze.payload import artist_objects, followers_total
from ingest.client import SpotifyClient
from ingest.roster import Artist, Roster

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
            total = followers_total(obj)
            if total is not None and isinstance(obj.get("id"), str):
                counts[obj["id"]] = total
    if not counts:
        log.warning(
            "cannot rank %s: Spotify's answers carry no follower counts; "
            "keeping the first %d artists in roster order",
            roster.origin,
            top,
        )
        return keep_first(roster, top)
    order = {a.id: index for index, a in enumerate(roster.artists)}
    ranked = sorted(
        roster.artists,
        key=lambda a: (a.id not in counts, -counts.get(a.id, 0), order[a.id]),
    )
    log.info("kept the %d most followed of %d artists (%s)", top, len(roster), roster.origin)
    return _chosen(roster, tuple(ranked[:top]), top)


def keep_first(roster: Roster, top: int) -> Roster:
    """The first ``top`` artists in roster order: the choice when nothing can be ranked."""
    return _chosen(roster, roster.artists[:top], top)


def _chosen(roster: Roster, chosen: tuple[Artist, ...], top: int) -> Roster:
    return Roster(
        chosen, origin=f"the {top} most followed of {roster.origin}", invalid=roster.invalid
    )

"""Where the local pipeline fetches a day from, and which artists: :class:`SpotifyFetch`.

One frozen value says it all (simulator or the real API, the roster, the fetch rules), so
every day of a run is fetched the same way and the pipeline opens one connection for all of
them: the simulator starts once per run, not once per day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest.connection import SpotifyConnection, open_real_api
from ingest.roster import Roster, default_roster, load_roster


@dataclass(frozen=True)
class SpotifyFetch:
    """How :meth:`~infra.local.pipeline.LocalPipeline.ingest` fetches a day.

    ``simulator``: the built-in simulator (which serves past days), else the real API from
    the ``SPOTIFY_*`` variables (which serves today only, unless ``allow_backdated``).
    ``force`` fetches a completed day again; ``top`` keeps the roster's N most followed
    (None: the whole roster).
    """

    simulator: bool
    roster: Roster
    seed: int = 0
    allow_backdated: bool = False
    force: bool = False
    top: int | None = None


@contextmanager
def open_connection(simulator: bool, seed: int, roster: Roster) -> Iterator[SpotifyConnection]:
    """The simulator (started here, knowing ``roster``) or the real API from ``SPOTIFY_*``.

    The real API without credentials raises :class:`~ingest.errors.MissingCredentialsError`,
    whose message names the variables and ``--simulator``.
    """
    if simulator:
        from ingest.simulator.connection import open_simulator  # the simulator room, on demand

        with open_simulator(seed=seed, roster=roster) as connection:
            yield connection
    else:
        with open_real_api() as connection:
            yield connection


def roster_from(path: Path | None) -> Roster:
    """The roster file given with ``--roster`` (malformed ids set aside and reported, the
    rest fetched), or the 20 default artists."""
    return load_roster(path, strict=False) if path else default_roster()

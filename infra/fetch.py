"""The CLI's way into ingest: pick the Spotify endpoint and the roster, fetch a day, say so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from catalog.bronze import LocalBronzeStore
from catalog.paths import LakehousePaths
from infra.cli_app import console
from ingest.connection import SpotifyConnection, open_real_api, open_simulator
from ingest.pipeline import IngestResult, ingest_day
from ingest.roster import Roster, default_roster, load_roster


@contextmanager
def open_connection(simulator: bool, seed: int, roster: Roster) -> Iterator[SpotifyConnection]:
    """The simulator (started here, knowing ``roster``) or the real API from ``SPOTIFY_*``."""
    if simulator:
        with open_simulator(seed=seed, roster=roster) as connection:
            yield connection
    else:
        with open_real_api() as connection:
            yield connection


def roster_from(path: Path | None) -> Roster:
    """The roster file given with ``--roster``, or the 20 default artists."""
    return load_roster(path) if path else default_roster()


def ingest_and_report(
    paths: LakehousePaths,
    connection: SpotifyConnection,
    day: date,
    roster: Roster,
    *,
    allow_backdated: bool,
    force: bool,
) -> IngestResult:
    """Ingest ``day`` into the local bronze folder and print one line about it on stderr."""
    result = ingest_day(
        day,
        store=LocalBronzeStore(paths.ensure().bronze),
        client=connection.client,
        roster=roster,
        source=connection.source,
        allow_backdated=allow_backdated,
        force=force,
    )
    if result.already_complete:
        console.print(f"{day}: bronze already complete (run {result.run_id}); --force re-fetches")
    else:
        missing = f", unknown ids: {', '.join(result.missing_ids)}" if result.missing_ids else ""
        console.print(
            f"{day}: {result.records} artists in {len(result.parts)} parts, "
            f"run {result.run_id}{missing}"
        )
    return result

"""A complete past day is answered from its manifest, even against the real API.

The state machine ingests every day it loads, so a re-run or a backfill of a past day calls
the Lambda for that day: with its bronze complete, nothing is asked of Spotify and there is
nothing to refuse as backdated. Only a day that would be fetched is checked.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from catalog.bronze.local import LocalBronzeStore
from ingest.errors import BackdatedRefusedError
from ingest.pipeline import IngestResult, Source, ingest_day
from ingest.roster import default_roster
from tests.ingest.conftest import MakeClient

TODAY = date(2026, 11, 24)
PAST = TODAY - timedelta(days=3)


def _ingest(
    store: LocalBronzeStore, make_client: MakeClient, source: Source, *, force: bool = False
) -> IngestResult:
    return ingest_day(
        PAST,
        store=store,
        client=make_client(),
        roster=default_roster(),
        source=source,
        allow_backdated=False,
        force=force,
        today=TODAY,
    )


def test_a_complete_past_day_is_already_complete_for_the_real_api(
    tmp_path: Path, make_client: MakeClient
) -> None:
    store = LocalBronzeStore(tmp_path / "bronze")
    first = _ingest(store, make_client, "simulator")
    again = _ingest(store, make_client, "spotify")
    assert again.already_complete
    assert again.run_id == first.run_id


def test_a_forced_or_missing_past_day_is_still_refused(
    tmp_path: Path, make_client: MakeClient
) -> None:
    store = LocalBronzeStore(tmp_path / "bronze")
    with pytest.raises(BackdatedRefusedError):
        _ingest(store, make_client, "spotify")
    assert store.read_manifest(PAST) is None
    _ingest(store, make_client, "simulator")
    with pytest.raises(BackdatedRefusedError):
        _ingest(store, make_client, "spotify", force=True)

"""A complete past day is answered from its manifest, even against the real API.

The state machine ingests every day it loads, so a re-run or a backfill of a past day calls
the Lambda for that day: with its bronze complete, nothing is asked of Spotify and there is
nothing to refuse as backdated. Only a day that would be fetched is checked.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from catalog.bronze import LocalBronzeStore
from ingest.errors import BackdatedRefusedError
from ingest.pipeline import ingest_day
from ingest.roster import default_roster
from tests.ingest.conftest import MakeClient

TODAY = date(2026, 11, 24)


def test_a_complete_past_day_is_already_complete_for_the_real_api(
    tmp_path: Path, make_client: MakeClient
) -> None:
    store = LocalBronzeStore(tmp_path / "bronze")
    past = TODAY - timedelta(days=3)
    first = ingest_day(
        past,
        store=store,
        client=make_client(),
        roster=default_roster(),
        source="simulator",
        allow_backdated=False,
        today=TODAY,
    )
    again = ingest_day(
        past,
        store=store,
        client=make_client(),
        roster=default_roster(),
        source="spotify",
        allow_backdated=False,
        today=TODAY,
    )
    assert again.already_complete
    assert again.run_id == first.run_id


def test_a_forced_or_missing_past_day_is_still_refused(
    tmp_path: Path, make_client: MakeClient
) -> None:
    store = LocalBronzeStore(tmp_path / "bronze")
    past = TODAY - timedelta(days=3)
    with pytest.raises(BackdatedRefusedError):
        ingest_day(
            past,
            store=store,
            client=make_client(),
            roster=default_roster(),
            source="spotify",
            allow_backdated=False,
            today=TODAY,
        )
    assert store.read_manifest(past) is None
    ingest_day(
        past,
        store=store,
        client=make_client(),
        roster=default_roster(),
        source="simulator",
        allow_backdated=False,
        today=TODAY,
    )
    with pytest.raises(BackdatedRefusedError):
        ingest_day(
            past,
            store=store,
            client=make_client(),
            roster=default_roster(),
            source="spotify",
            allow_backdated=False,
            force=True,
            today=TODAY,
        )

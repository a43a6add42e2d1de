"""ingest_day end to end: simulator over HTTP -> LocalBronzeStore, manifest written last."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from catalog.bronze.layout import (
    Manifest,
    ManifestExistsError,
    Source,
    envelope_key,
    manifest_key,
    sha256_hex,
)
from catalog.bronze.local import LocalBronzeStore
from catalog.bronze.s3 import S3BronzeStore
from catalog.errors import LakehouseError
from glue.transform import prepare_day
from ingest.client import RawResponse, SpotifyClient
from ingest.connection import open_real_api
from ingest.errors import (
    BackdatedRefusedError,
    FollowersUnavailableError,
    FutureDayError,
    MissingCredentialsError,
    NoArtistsFoundError,
    RateLimitTooLongError,
)
from ingest.pipeline import IngestResult, ingest_day, new_run_id
from ingest.roster import Roster, default_roster, parse_roster
from ingest.settings import SpotifySettings
from ingest.simulator.artists import followers
from ingest.simulator.connection import open_simulator
from ingest.simulator.faults import MalformedObject, RateLimited
from ingest.simulator.server import SpotifySimulator
from tests.conftest import FROZEN_TODAY
from tests.ingest.conftest import BUCKET, ManifestPuts, conflict_answer

TODAY = FROZEN_TODAY
#: Every test here runs on the clock of that day (a run across UTC midnight changes nothing).
pytestmark = pytest.mark.usefixtures("frozen_today")
PAST = TODAY - timedelta(days=10)
UNKNOWN = "0000000000000000000000"


def run(
    day: date,
    store: LocalBronzeStore,
    client: SpotifyClient,
    roster: Roster,
    *,
    source: Source = "simulator",
    allow_backdated: bool = False,
    force: bool = False,
    run_id: str | None = None,
    today: date | None = None,
) -> IngestResult:
    return ingest_day(
        day,
        store=store,
        client=client,
        roster=roster,
        source=source,
        allow_backdated=allow_backdated,
        force=force,
        run_id=run_id,
        today=today,
    )


def manifest_of(store: LocalBronzeStore, day: date) -> Manifest:
    manifest = store.read_manifest(day)
    assert manifest is not None
    return manifest


def test_a_day_lands_in_bronze_with_a_manifest_written_last(
    sim: SpotifySimulator,
    store: LocalBronzeStore,
    client: SpotifyClient,
    large_roster: Roster,
) -> None:
    result = run(PAST, store, client, large_roster)

    assert not result.already_complete
    assert result.followers_available
    assert result.records == 120
    assert result.missing_ids == ()
    assert result.manifest_key == manifest_key(PAST)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", result.run_id)
    # The preflight asks for one artist, then the rest goes in batches of at most 50
    # (concurrent, so they may arrive in any order).
    batches = [len(r.ids) for r in sim.requests if r.path == "/v1/artists"]
    assert batches[0] == 1
    assert sorted(batches[1:]) == [19, 50, 50]
    assert all(r.headers["X-Simulator-Date"] == PAST.isoformat() for r in sim.requests[1:])

    manifest = manifest_of(store, PAST)
    assert manifest.run_id == result.run_id
    assert manifest.source == "simulator"
    assert manifest.followers_available
    assert not manifest.backdated  # the simulator serves that day's own numbers
    assert manifest.roster_size == 120
    assert manifest.api_url == sim.api_url
    assert [p.key for p in manifest.parts] == list(result.parts)
    assert [p.records for p in manifest.parts] == [1, 50, 50, 19]
    assert sim.client_secret not in store.get(manifest_key(PAST)).decode()
    # The manifest is the newest object of the day: written after every part.
    folder = store.root / manifest_key(PAST)
    newest_part = max((store.root / p.key).stat().st_mtime_ns for p in manifest.parts)
    assert folder.stat().st_mtime_ns >= newest_part


def test_parts_are_the_bodies_byte_for_byte_and_match_their_sha256(
    sim: SpotifySimulator,
    store: LocalBronzeStore,
    client: SpotifyClient,
    make_client: Callable[[], SpotifyClient],
    large_roster: Roster,
) -> None:
    result = run(PAST, store, client, large_roster)
    manifest = manifest_of(store, PAST)
    # The simulator is deterministic, so asking again gives the same bytes.
    again = make_client().fetch_artists(large_roster.ids[:1], simulated_date=PAST)
    assert store.get(result.parts[0]) == again[0].body
    objects = []
    for part in manifest.parts:
        body = store.read_part(part)  # checks sha256 and length against the manifest
        assert sha256_hex(body) == part.sha256
        assert len(body) == part.bytes
        assert part.status == 200
        assert part.url.startswith(sim.api_url + "/artists?ids=")
        objects.extend(json.loads(body)["artists"])
    assert [o["id"] for o in objects] == large_roster.ids
    assert all(o["followers"]["total"] == followers(o["id"], PAST, sim.seed) for o in objects)


def test_each_part_has_a_json_envelope(
    store: LocalBronzeStore, client: SpotifyClient, large_roster: Roster
) -> None:
    result = run(PAST, store, client, large_roster)
    manifest = manifest_of(store, PAST)
    for part in manifest.parts:
        envelope = json.loads(store.get(envelope_key(part.key)))
        assert envelope["url"] == part.url
        assert envelope["status"] == 200
        assert envelope["fetched_at"] == part.fetched_at
        assert envelope["run_id"] == result.run_id
        assert envelope["request_id"]
        assert datetime.fromisoformat(envelope["fetched_at"]).tzinfo is not None
    assert len(store.list_keys(f"{manifest_key(PAST).rsplit('/', 1)[0]}/run_id=")) == 8


def test_unknown_ids_are_reported_and_the_rest_is_fetched(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    ids = default_roster().ids[:3]
    roster = parse_roster("\n".join([ids[0], UNKNOWN, *ids[1:]]), origin="test")
    result = run(PAST, store, client, roster)
    assert result.missing_ids == (UNKNOWN,)
    assert result.records == 3
    assert manifest_of(store, PAST).missing_ids == (UNKNOWN,)


def test_a_roster_spotify_does_not_know_leaves_the_day_incomplete(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    with pytest.raises(NoArtistsFoundError, match="check the roster"):
        run(PAST, store, client, parse_roster(UNKNOWN, origin="test"))
    assert store.read_manifest(PAST) is None


def test_development_mode_records_the_day_and_raises_followers_unavailable(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient
) -> None:
    sim.mode = "development"
    with pytest.raises(FollowersUnavailableError) as caught:
        run(PAST, store, client, default_roster())
    message = str(caught.value)
    assert "'followers'" in message
    assert "Development Mode" in message
    assert "2026-03-09" in message
    assert "Extended Quota Mode" in message
    assert "another source" in message
    assert caught.value.exit_code == 3

    manifest = manifest_of(store, PAST)
    assert manifest.followers_available is False
    assert len(manifest.parts) == 1  # the preflight's raw answer, kept
    body = store.read_part(manifest.parts[0])
    assert "followers" not in json.loads(body)
    # The preflight stopped the run: no request for the other 19 artists.
    assert len([r for r in sim.requests if r.path.startswith("/v1/artists/")]) == 1

    # A re-run finds the recorded day and says the same, without asking Spotify again.
    sim.clear_requests()
    with pytest.raises(FollowersUnavailableError, match="--force"):
        run(PAST, store, client, default_roster())
    assert sim.requests == []


def test_real_spotify_refuses_a_past_day_unless_allowed(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient
) -> None:
    roster = parse_roster(default_roster().ids[0], origin="test")
    with pytest.raises(BackdatedRefusedError, match="--allow-backdated") as caught:
        run(PAST, store, client, roster, source="spotify")
    assert isinstance(caught.value, LakehouseError)
    assert caught.value.exit_code == 1
    assert sim.requests == []  # refused before any request
    with pytest.raises(FutureDayError):
        run(TODAY + timedelta(days=1), store, client, roster, source="spotify")

    result = run(PAST, store, client, roster, source="spotify", allow_backdated=True)
    assert result.backdated
    manifest = manifest_of(store, PAST)
    assert manifest.backdated
    assert manifest.source == "spotify"
    # Real Spotify has no dates: the simulator date header is not sent.
    assert all("X-Simulator-Date" not in r.headers for r in sim.requests)


def test_today_is_not_backdated(store: LocalBronzeStore, client: SpotifyClient) -> None:
    result = run(TODAY, store, client, default_roster(), source="spotify")
    assert not result.backdated
    assert not manifest_of(store, TODAY).backdated


def test_the_today_rule_uses_the_given_today(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    result = run(PAST, store, client, default_roster(), source="spotify", today=PAST)
    assert not result.backdated


def test_a_completed_day_is_a_no_op(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient
) -> None:
    first = run(PAST, store, client, default_roster())
    sim.clear_requests()
    second = run(PAST, store, client, default_roster())
    assert second.already_complete
    assert second.run_id == first.run_id
    assert second.parts == first.parts
    assert second.records == 20
    assert sim.requests == []


def test_force_writes_a_new_run_and_replaces_the_manifest_keeping_the_old_one(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    first = run(PAST, store, client, default_roster(), run_id="20260101T000000Z-aaaaaa")
    second = run(
        PAST, store, client, default_roster(), force=True, run_id="20260101T000001Z-bbbbbb"
    )
    assert not second.already_complete
    assert manifest_of(store, PAST).run_id == second.run_id
    # The old run's parts are untouched and the old manifest is kept beside the new one.
    for key in first.parts:
        assert store.exists(key)
    assert all("run_id=20260101T000001Z-bbbbbb" in key for key in second.parts)
    kept = [k for k in store.list_keys("spotify/") if "_manifest." in k and first.run_id in k]
    assert len(kept) == 1
    assert Manifest.from_json(store.get(kept[0])).run_id == first.run_id


def test_run_ids_sort_by_time_and_differ() -> None:
    moment = datetime(2026, 11, 24, 6, 5, 4, tzinfo=UTC)
    assert new_run_id(moment).startswith("20261124T060504Z-")
    assert new_run_id(moment) != new_run_id(moment)


def test_open_simulator_serves_a_users_roster_for_past_days(store: LocalBronzeStore) -> None:
    roster = parse_roster("1234567890abcdefghijAB\n06HL4z0CvFAxyc27GXpf02\n", origin="mine")
    with open_simulator(seed=11, roster=roster) as connection:
        assert connection.simulator is not None
        result = ingest_day(
            PAST,
            store=store,
            client=connection.client,
            roster=roster,
            source=connection.source,
            allow_backdated=False,
        )
    assert result.records == 2
    assert result.missing_ids == ()
    body = store.get(result.parts[0])
    artist = json.loads(body)["artists"][0]
    assert artist["followers"]["total"] == followers("1234567890abcdefghijAB", PAST, 11)


def test_open_real_api_needs_credentials() -> None:
    with pytest.raises(MissingCredentialsError), open_real_api({}):
        pass


def test_a_malformed_object_is_kept_and_does_not_pass_for_development_mode(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient
) -> None:
    sim.faults.inject(MalformedObject(value="n/a"))  # the preflight's answer is the bad one
    result = run(PAST, store, client, default_roster())
    assert result.followers_available  # the field is there, its value is a data problem
    assert result.records == 20
    preflight = json.loads(store.get(result.parts[0]))
    assert preflight["artists"][0]["followers"]["total"] == "n/a"  # bronze keeps it as sent


def test_malformed_roster_ids_are_named_and_the_rest_is_fetched(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    ids = default_roster().ids[:3]
    roster = parse_roster("\n".join([ids[0], "not-an-id", *ids[1:]]), origin="t", strict=False)
    assert roster.invalid == ("not-an-id",)
    result = run(PAST, store, client, roster)
    assert result.records == 3
    assert result.invalid_ids == ("not-an-id",)
    manifest = manifest_of(store, PAST)
    assert manifest.missing_ids == ("not-an-id",)
    assert manifest.extra["invalid_ids"] == ["not-an-id"]
    assert manifest.roster_size == 4


def test_top_keeps_the_most_followed_of_the_roster(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient, large_roster: Roster
) -> None:
    result = ingest_day(
        PAST,
        store=store,
        client=client,
        roster=large_roster,
        source="simulator",
        allow_backdated=False,
        top=5,
    )
    expected = sorted(large_roster.ids, key=lambda i: -followers(i, PAST, sim.seed))[:5]
    stored = [o["id"] for p in result.parts for o in json.loads(store.get(p))["artists"]]
    assert stored == expected  # most followed first
    assert result.records == 5
    manifest = manifest_of(store, PAST)
    assert manifest.extra["top"] == {"n": 5, "ranked_from": 120, "roster": "test roster"}
    assert manifest.roster_size == 5


def test_top_equal_to_the_roster_makes_no_ranking_request(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient
) -> None:
    ingest_day(
        PAST,
        store=store,
        client=client,
        roster=default_roster(),
        source="simulator",
        allow_backdated=False,
        top=20,
    )
    fetched = [i for r in sim.requests if r.path == "/v1/artists" for i in r.ids]
    assert sorted(fetched) == sorted(default_roster().ids)  # each id exactly once
    assert "top" not in manifest_of(store, PAST).extra


def test_development_mode_with_a_long_roster_stops_after_one_artist_request(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient, large_roster: Roster
) -> None:
    # 120 ids, top 20: the preflight comes before ranking, so no ranking pass is made.
    sim.mode = "development"
    with pytest.raises(FollowersUnavailableError) as caught:
        ingest_day(
            PAST,
            store=store,
            client=client,
            roster=large_roster,
            source="simulator",
            allow_backdated=False,
            top=20,
        )
    assert caught.value.exit_code == 3
    first = large_roster.ids[0]
    artist_requests = [r for r in sim.requests if r.path.startswith("/v1/artists")]
    # Exactly one artist asked for (the batch endpoint's 403 tells the client to ask singly).
    singles = [r for r in artist_requests if r.path.startswith("/v1/artists/")]
    assert [r.path for r in singles] == [f"/v1/artists/{first}"]
    assert [r.status for r in artist_requests if r.status == 200] == [200]
    assert all(r.ids == [first] for r in artist_requests if r.path == "/v1/artists")
    manifest = manifest_of(store, PAST)
    assert not manifest.followers_available
    assert len(manifest.parts) == 1
    assert json.loads(store.read_part(manifest.parts[0]))["id"] == first


def test_top_ranks_only_after_the_preflight_and_keeps_only_the_chosen_artists(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient, large_roster: Roster
) -> None:
    ingest_day(
        PAST,
        store=store,
        client=client,
        roster=large_roster,
        source="simulator",
        allow_backdated=False,
        top=5,
    )
    batches = [r.ids for r in sim.requests if r.path == "/v1/artists"]
    assert batches[0] == large_roster.ids[:1]  # the preflight is the first request
    assert sorted(len(b) for b in batches[1:4]) == [20, 50, 50]  # then the ranking pass
    chosen = sorted(large_roster.ids, key=lambda i: -followers(i, PAST, sim.seed))[:5]
    manifest = manifest_of(store, PAST)
    stored = [o["id"] for p in manifest.parts for o in json.loads(store.read_part(p))["artists"]]
    assert stored == chosen  # the preflight's artist is in bronze only if chosen
    assert (large_roster.ids[0] in stored) is (large_roster.ids[0] in chosen)


@pytest.mark.parametrize("source", ["simulator", "spotify"])
def test_a_future_day_is_refused_for_every_source(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient, source: Source
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(FutureDayError, match="after today's UTC date") as caught:
        run(tomorrow, store, client, default_roster(), source=source, allow_backdated=True)
    assert tomorrow.isoformat() in str(caught.value)
    assert caught.value.exit_code == 1
    assert sim.requests == []  # refused before any request
    assert store.read_manifest(tomorrow) is None


class _CannedClient:
    """Answers every request with one canned batch body (for counting what it holds)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.settings = SpotifySettings(client_id="x", client_secret="y")

    def fetch_artists(self, ids: list[str], *, simulated_date: date | None = None) -> list[Any]:
        return list(self.iter_artists(ids, simulated_date=simulated_date))

    def iter_artists(self, ids: list[str], *, simulated_date: date | None = None) -> Iterator[Any]:
        if ids:
            yield RawResponse(
                url="http://127.0.0.1/v1/artists",
                status=200,
                body=self.body,
                fetched_at=datetime.now(UTC),
                request_id="req",
                requested_ids=tuple(ids),
            )


def test_the_manifest_counts_records_the_way_the_bronze_check_does(
    store: LocalBronzeStore,
) -> None:
    # A non-object entry is a record for both: the transform quarantines it instead of
    # refusing the day over a count mismatch. A null (unknown id) is a record for neither.
    good = default_roster_answer()
    body = json.dumps({"artists": [good, None, 42, "n/a"]}).encode()
    roster = parse_roster(default_roster().ids[0], origin="test")
    result = ingest_day(
        PAST,
        store=store,
        client=cast(SpotifyClient, _CannedClient(body)),
        roster=roster,
        source="simulator",
        allow_backdated=False,
    )
    assert result.records == 3
    prepared = prepare_day(store, PAST)
    assert [(p.records_listed, p.records_found, p.parses) for p in prepared.parts] == [(3, 3, True)]
    assert len(prepared.rows.candidates) == 3


def default_roster_answer() -> dict[str, Any]:
    return {
        "id": default_roster().ids[0],
        "name": "Arijit Singh",
        "followers": {"href": None, "total": 100},
        "popularity": 80,
        "genres": [],
        "images": [],
        "external_urls": {"spotify": "https://open.spotify.com/artist/x"},
        "type": "artist",
    }


class LateReader(LocalBronzeStore):
    """A store whose first manifest read happened before another run completed the day."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.stale_reads = 1

    def read_manifest(self, day: date) -> Manifest | None:
        if self.stale_reads:
            self.stale_reads -= 1
            return None
        return super().read_manifest(day)


def test_a_run_that_loses_the_race_returns_the_winners_day(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    winner = run(PAST, store, client, default_roster())
    late = LateReader(store.root)
    loser = run(PAST, late, client, default_roster())
    assert loser.already_complete
    assert loser.run_id == winner.run_id
    assert manifest_of(store, PAST).run_id == winner.run_id


class VanishingWinner(LocalBronzeStore):
    """A store that refuses the first manifest write, but no manifest is there to read: the
    write that beat this run's did not last (or was removed)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.refusals = 1
        self.writes: list[str] = []

    def put_manifest(self, manifest: Manifest, *, replace: bool = False) -> None:
        self.writes.append(manifest.run_id)
        if self.refusals:
            self.refusals -= 1
            raise ManifestExistsError(f"{manifest.snapshot_date} is already complete")
        super().put_manifest(manifest, replace=replace)


def test_a_losing_run_with_no_winner_completes_the_day_itself(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    vanishing = VanishingWinner(store.root)
    result = run(PAST, vanishing, client, default_roster())
    assert not result.already_complete
    assert vanishing.writes == [result.run_id, result.run_id]
    assert manifest_of(store, PAST).run_id == result.run_id


def test_a_losing_run_with_a_winner_that_never_appears_fails(
    store: LocalBronzeStore, client: SpotifyClient
) -> None:
    vanishing = VanishingWinner(store.root)
    vanishing.refusals = 2
    with pytest.raises(ManifestExistsError):
        run(PAST, vanishing, client, default_roster())
    assert store.read_manifest(PAST) is None


def test_an_s3_409_from_a_write_that_then_failed_leaves_this_run_completing_the_day(
    lambda_env: Any, manifest_puts: ManifestPuts, client: SpotifyClient
) -> None:
    """S3's 409: the conflicting write failed, so the run's retry completes the day (before,
    a 409 was taken for "already complete" and the run died with the day incomplete)."""
    manifest_puts.hook = lambda condition: (
        conflict_answer() if len(manifest_puts.conditions) == 1 else None
    )
    pauses: list[float] = []
    s3_store = S3BronzeStore(BUCKET, "bronze/", client=lambda_env, sleep=pauses.append)
    result = ingest_day(
        PAST,
        store=s3_store,
        client=client,
        roster=default_roster(),
        source="simulator",
        allow_backdated=False,
    )
    assert not result.already_complete
    assert manifest_puts.conditions == ["If-None-Match: *", "If-None-Match: *"]
    assert len(pauses) == 1
    stored = s3_store.read_manifest(PAST)
    assert stored is not None
    assert stored.run_id == result.run_id


def test_a_too_long_rate_limit_keeps_what_was_fetched_and_no_manifest(
    sim: SpotifySimulator, store: LocalBronzeStore, client: SpotifyClient, large_roster: Roster
) -> None:
    sim.faults.inject(RateLimited(retry_after=3600), after=2)
    with pytest.raises(RateLimitTooLongError, match="without marking the day complete"):
        run(PAST, store, client, large_roster)
    assert store.read_manifest(PAST) is None
    assert store.list_keys("spotify/")  # the answers before the 429 are kept

"""The simulator's numbers: deterministic, plausible, growing, with a few losses."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from ingest.roster import default_roster, synthetic_artists
from ingest.simulator.artists import artist_object, followers, popularity

DAY = date(2026, 11, 24)
SEED = 7


def test_followers_is_a_pure_function_of_artist_day_and_seed() -> None:
    artist = default_roster().ids[0]
    assert followers(artist, DAY, SEED) == followers(artist, DAY, SEED)
    assert followers(artist, DAY, SEED) != followers(artist, DAY, SEED + 1)
    assert followers(artist, DAY, SEED) != followers(artist, DAY + timedelta(days=1), SEED)


def test_default_roster_counts_are_tens_of_millions_to_about_150m() -> None:
    counts = [followers(a, DAY, SEED) for a in default_roster().ids]
    assert all(40_000_000 <= c <= 170_000_000 for c in counts)
    assert max(counts) >= 130_000_000


def test_unknown_ids_get_a_hash_derived_base() -> None:
    counts = [followers(a.id, DAY, SEED) for a in synthetic_artists(200)]
    assert all(50_000 <= c <= 40_000_000 for c in counts)
    assert len(set(counts)) == 200


def test_counts_grow_over_a_month_and_a_few_days_lose_followers() -> None:
    ids = default_roster().ids
    days = [DAY - timedelta(days=i) for i in range(60, -1, -1)]
    losses = steps = 0
    for artist in ids:
        series = [followers(artist, d, SEED) for d in days]
        assert series[-1] > series[-31] > series[0]
        losses += sum(later < earlier for earlier, later in itertools.pairwise(series))
        steps += len(series) - 1
    assert 0 < losses < 0.05 * steps


def test_popularity_is_bounded_and_deterministic() -> None:
    for artist in default_roster().ids + [a.id for a in synthetic_artists(50)]:
        value = popularity(artist, DAY, SEED)
        assert 0 <= value <= 100
        assert value == popularity(artist, DAY, SEED)
    assert popularity(default_roster().ids[1], DAY, SEED) >= 80


def test_artist_object_has_spotify_shape_and_development_mode_drops_fields() -> None:
    artist = default_roster().artists[1]
    assert artist.name
    obj = artist_object(
        artist.id, artist.name, DAY, seed=SEED, mode="extended", api_url="http://x/v1"
    )
    assert list(obj) == sorted(obj)
    assert obj["followers"] == {"href": None, "total": followers(artist.id, DAY, SEED)}
    assert obj["type"] == "artist"
    assert obj["uri"] == f"spotify:artist:{artist.id}"
    assert obj["href"] == f"http://x/v1/artists/{artist.id}"
    assert obj["external_urls"]["spotify"].endswith(artist.id)
    assert {i["width"] for i in obj["images"]} == {640, 320, 160}
    dev = artist_object(
        artist.id, artist.name, DAY, seed=SEED, mode="development", api_url="http://x/v1"
    )
    assert "followers" not in dev
    assert "popularity" not in dev
    assert dev["name"] == "Taylor Swift"

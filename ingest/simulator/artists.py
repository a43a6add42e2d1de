"""The simulator's data: deterministic, plausible artist objects for any day.

Every number is a pure function of (seed, artist id, day), computed in closed form, so any
day can be served in any order (backfills, backdated demo days) and a 10,000-artist roster
costs a few hash computations per artist, with no state kept between requests.

Follower counts follow a smooth exponential trend (a per-artist growth rate of roughly
2-11% a year) plus per-day noise whose amplitude is a fraction of one day's gain, so counts
grow day by day while an occasional artist-day loses followers (about 1.5% of them): the
"lost followers" questions have something to find, deterministically.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from typing import Any, Final, Literal

Mode = Literal["extended", "development"]
MODES: Final[tuple[Mode, ...]] = ("extended", "development")

#: Day at which the ``BASE_FOLLOWERS`` figures hold; the trend runs both ways from it.
EPOCH: Final = date(2026, 1, 1)
#: Daily growth rate range (fraction of the count): 0.005%..0.030% a day.
MIN_DAILY_GROWTH: Final = 0.00005
MAX_DAILY_GROWTH: Final = 0.00030
#: Noise amplitude as a fraction of one day's trend gain. Two independent uniform draws in
#: [-0.6, 0.6] differ by more than 1 (a loss) with probability 0.2^2 / (2 * 1.2^2) ~ 1.4%.
NOISE_TO_DAILY_GAIN: Final = 0.6
#: Log-uniform range of the base count for ids outside the default roster.
UNKNOWN_BASE_MIN: Final = 100_000
UNKNOWN_BASE_MAX: Final = 30_000_000

#: Followers at ``EPOCH`` for the default roster: rough magnitudes of the real counts.
BASE_FOLLOWERS: Final[dict[str, int]] = {
    "4YRxDV8wJFPHPTeXepOstw": 140_000_000,  # Arijit Singh
    "06HL4z0CvFAxyc27GXpf02": 135_000_000,  # Taylor Swift
    "6eUKZXaKkcviH0Ku9w2n3V": 118_000_000,  # Ed Sheeran
    "6qqNVTkY8uBg9cP3Jd7DAH": 104_000_000,  # Billie Eilish
    "1Xyo4u8uXC1ZmMpatF05PJ": 96_000_000,  # The Weeknd
    "66CXWjxzNUsdJxJ2JdwvnR": 102_000_000,  # Ariana Grande
    "7dGJo4pcD2V6oG8kP0tJRR": 97_000_000,  # Eminem
    "3TVXtAsR1Inumwj472S9r4": 94_000_000,  # Drake
    "4q3ewBCX7sLwd24euuV69X": 88_000_000,  # Bad Bunny
    "1uNFoZAHBGtllmzznpCI3s": 81_000_000,  # Justin Bieber
    "3Nrfpe0tUJi4K4DXYWgMUX": 79_000_000,  # BTS
    "0du5cEVh5yTK9QJze8zA0C": 63_000_000,  # Bruno Mars
    "5pKCCKE2ajJHZ9KAiaK11H": 67_000_000,  # Rihanna
    "1mYsTxnqsietFxj1OgoGbG": 61_000_000,  # A.R. Rahman
    "4dpARuHxo51G3z768sgnrY": 57_000_000,  # Adele
    "4gzpq5DPGxSnKTe4SA8HAU": 59_000_000,  # Coldplay
    "790FomKkXshlbRYZFtlgla": 54_000_000,  # KAROL G
    "53XhwfbYqKCa1cC15pYq2q": 55_000_000,  # Imagine Dragons
    "1wRPtKGflJrBx9BmLsSwlU": 49_000_000,  # Pritam
    "41MozSoPIsD1dJM0CLPjZF": 53_000_000,  # BLACKPINK
}

GENRE_POOL: Final = (
    "pop",
    "dance pop",
    "hip hop",
    "rap",
    "r&b",
    "rock",
    "indie",
    "latin",
    "reggaeton",
    "k-pop",
    "filmi",
    "modern bollywood",
    "edm",
    "soul",
    "country",
)
IMAGE_SIZES: Final = (640, 320, 160)
IMAGE_URL_PREFIX: Final = "https://i.scdn.co/image/ab6761610000e5eb"
OPEN_SPOTIFY_ARTIST_URL: Final = "https://open.spotify.com/artist/"


def _unit(*parts: object) -> float:
    """A deterministic uniform draw in [0, 1) from its inputs (stable across processes,
    unlike ``hash()``)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def base_followers(artist_id: str) -> int:
    """Followers at ``EPOCH``: the table for the default roster, else from the id's hash."""
    known = BASE_FOLLOWERS.get(artist_id)
    if known is not None:
        return known
    low, high = math.log(UNKNOWN_BASE_MIN), math.log(UNKNOWN_BASE_MAX)
    return round(math.exp(low + (high - low) * _unit("base", artist_id)))


def daily_growth(artist_id: str, seed: int) -> float:
    """The artist's trend growth per day, as a fraction of its count."""
    span = MAX_DAILY_GROWTH - MIN_DAILY_GROWTH
    return MIN_DAILY_GROWTH + span * _unit("growth", seed, artist_id)


def followers(artist_id: str, day: date, seed: int) -> int:
    """Follower count of ``artist_id`` on ``day`` in the world numbered ``seed``.

    Pure and deterministic; grows over time; now and then lower than the day before.
    """
    rate = daily_growth(artist_id, seed)
    trend = base_followers(artist_id) * math.exp(rate * (day - EPOCH).days)
    amplitude = NOISE_TO_DAILY_GAIN * rate * trend
    noise = amplitude * (2.0 * _unit("noise", seed, artist_id, day.isoformat()) - 1.0)
    return max(0, round(trend + noise))


def popularity(artist_id: str, day: date, seed: int) -> int:
    """Spotify popularity (0-100): rises with the log of the follower count, +-2 per day."""
    count = max(followers(artist_id, day, seed), 1)
    wobble = round(4 * _unit("popularity", seed, artist_id, day.isoformat())) - 2
    return min(100, max(0, round(50 + 12 * math.log10(count / 100_000)) + wobble))


def genres(artist_id: str) -> list[str]:
    """Zero to two genres, fixed per artist (Spotify returns many artists with none)."""
    count = int(3 * _unit("genre-count", artist_id))
    picks = [GENRE_POOL[int(len(GENRE_POOL) * _unit("genre", artist_id, i))] for i in range(2)]
    return list(dict.fromkeys(picks))[:count]


def artist_object(
    artist_id: str, name: str, day: date, *, seed: int, mode: Mode, api_url: str
) -> dict[str, Any]:
    """The artist object Spotify would return, keys in Spotify's (alphabetical) order.

    In development mode ``followers`` and ``popularity`` are absent, as for Spotify
    Development Mode apps since 2026-03-09.
    """
    image_hash = hashlib.blake2b(artist_id.encode(), digest_size=12).hexdigest()
    obj: dict[str, Any] = {
        "external_urls": {"spotify": OPEN_SPOTIFY_ARTIST_URL + artist_id},
        "followers": {"href": None, "total": followers(artist_id, day, seed)},
        "genres": genres(artist_id),
        "href": f"{api_url}/artists/{artist_id}",
        "id": artist_id,
        "images": [
            {"url": f"{IMAGE_URL_PREFIX}{image_hash}{size}", "height": size, "width": size}
            for size in IMAGE_SIZES
        ],
        "name": name,
        "popularity": popularity(artist_id, day, seed),
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }
    if mode == "development":
        del obj["followers"], obj["popularity"]
    return obj

"""The Athena SQL files shipped in ``views/sql/``, loaded by name.

The SQL lives in ``.sql`` files (not Python strings) so the exact text that runs on Athena
can be read, diffed and pasted into the Athena console; both engines load it from the
installed package through :mod:`importlib.resources`, so it works from a wheel or a zip too.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from views.errors import QueryError

_PACKAGE: Final = "views"
_FOLDER: Final = "sql"

#: The gold view's definition (``CREATE OR REPLACE VIEW spotify.spotify_gold_view``).
GOLD_VIEW: Final = "spotify_gold_view"

#: The two business questions, by file name, in the order ``demo`` prints them.
TOP_5_MOST_FOLLOWED_TODAY: Final = "top_5_most_followed_today"
AVG_DAILY_FOLLOWERS_GAINED: Final = "avg_daily_followers_gained"
BUSINESS_QUESTIONS: Final[dict[str, str]] = {
    TOP_5_MOST_FOLLOWED_TODAY: "Top 5 most followed artists today",
    AVG_DAILY_FOLLOWERS_GAINED: "Average daily followers gained per artist",
}

#: The query library beyond the two questions (docs/queries.md explains each).
TOP_GAINERS_7D: Final = "top_gainers_7d"
TOP_GAINERS_30D: Final = "top_gainers_30d"
RANK_CHANGES: Final = "rank_changes"
ARTISTS_LOST_FOLLOWERS: Final = "artists_lost_followers"
POPULARITY_VS_GROWTH: Final = "popularity_vs_growth"
DATA_FRESHNESS: Final = "data_freshness"

#: Every read-only query shipped in ``views/sql``, by file name, with a one-line title.
#: ``spotify-lakehouse query NAME`` runs one by name on either engine.
QUERY_LIBRARY: Final[dict[str, str]] = {
    **BUSINESS_QUESTIONS,
    TOP_GAINERS_7D: "Top 10 gainers per day over the last 7 days",
    TOP_GAINERS_30D: "Top 10 gainers per day over the last 30 days",
    RANK_CHANGES: "Follower rank changes on the latest day",
    ARTISTS_LOST_FOLLOWERS: "Artist-days that lost followers",
    POPULARITY_VS_GROWTH: "Popularity against follower growth, last 30 days",
    DATA_FRESHNESS: "Latest loaded day per artist and overall",
}


def sql_names() -> list[str]:
    """Names (file stems) of every SQL file in the package, sorted."""
    files = resources.files(_PACKAGE).joinpath(_FOLDER).iterdir()
    return sorted(f.name.removesuffix(".sql") for f in files if f.name.endswith(".sql"))


def load_sql(name: str) -> str:
    """The text of ``views/sql/<name>.sql`` (``name`` with or without ``.sql``)."""
    stem = name.removesuffix(".sql")
    resource = resources.files(_PACKAGE).joinpath(_FOLDER, f"{stem}.sql")
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise QueryError(
            f"no SQL file named {stem!r} in views/sql; the known ones are: {', '.join(sql_names())}"
        ) from e

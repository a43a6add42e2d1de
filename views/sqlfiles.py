"""The Athena SQL files shipped in ``views/sql/``, loaded by name.

The SQL lives in ``.sql`` files (not Python strings) so the exact text that runs on Athena
can be read, diffed and pasted into the Athena console; both engines load it from the
installed package through :mod:`importlib.resources`, so it works from a wheel or a zip too.

Queries that differ only in a value are one file with an Athena execution parameter (``?``,
which the Athena console asks for) and one library name per value (:data:`PARAMETERISED`):
``top_gainers_7d`` and ``top_gainers_30d`` are ``top_gainers.sql`` with 7 and 30, so the
two windows cannot drift apart. :func:`load_sql` binds the value into the file's own text.
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

#: Every read-only query shipped in ``views/sql``, by name, with a one-line title.
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


#: Library names that are a parameterised file with its ``?`` bound: name -> (file, value).
PARAMETERISED: Final[dict[str, tuple[str, int]]] = {
    TOP_GAINERS_7D: ("top_gainers", 7),
    TOP_GAINERS_30D: ("top_gainers", 30),
}


def sql_names() -> list[str]:
    """Names (file stems) of every SQL file in the package, sorted."""
    files = resources.files(_PACKAGE).joinpath(_FOLDER).iterdir()
    return sorted(f.name.removesuffix(".sql") for f in files if f.name.endswith(".sql"))


def load_sql(name: str) -> str:
    """The text of ``views/sql/<name>.sql`` (``name`` with or without ``.sql``).

    A :data:`PARAMETERISED` name is its file with the value bound, under a comment naming both.
    """
    stem = name.removesuffix(".sql")
    if stem in PARAMETERISED:
        file, value = PARAMETERISED[stem]
        bound = bind_parameters(_read(file), value)
        return f"-- {stem}: views/sql/{file}.sql with its parameter ? = {value}\n{bound}"
    return _read(stem)


def bind_parameters(sql: str, *values: int) -> str:
    """``sql`` with its ``?`` parameters replaced by ``values``, in order, text otherwise kept.

    The parameters are found by sqlglot's Athena tokenizer, so a ``?`` in a string or a
    comment stays as it is. Values are non-negative integers: nothing else needs binding
    yet, and their text is always a safe literal (``-?`` cannot become a comment).
    """
    if any(value < 0 for value in values):
        raise ValueError(f"parameter values must be non-negative integers, got {values}")
    from sqlglot.dialects.athena import Athena
    from sqlglot.tokenizer_core import TokenType

    placeholders = [t for t in Athena().tokenize(sql) if t.token_type == TokenType.PLACEHOLDER]
    if len(placeholders) != len(values):
        raise QueryError(
            f"the SQL has {len(placeholders)} parameter(s) (?), {len(values)} value(s) given"
        )
    for token, value in reversed(list(zip(placeholders, values, strict=True))):
        sql = f"{sql[: token.start]}{int(value)}{sql[token.end + 1 :]}"
    return sql


def _read(stem: str) -> str:
    resource = resources.files(_PACKAGE).joinpath(_FOLDER, f"{stem}.sql")
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise QueryError(
            f"no SQL file named {stem!r} in views/sql; the known ones are: {', '.join(sql_names())}"
        ) from e

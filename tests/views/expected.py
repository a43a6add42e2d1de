"""The gold view and the business questions recomputed in plain Python, for comparison.

Written from the contract (ARCHITECTURE.md), not from the SQL: previous snapshot by date per
artist id, gain per day over the gap, rank by followers that day (ties share a rank).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def gold_rows(silver: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in silver:
        by_artist[row["artist_id"]].append(row)
    by_day: dict[date, list[int]] = defaultdict(list)
    for row in silver:
        if row["followers"] is not None:
            by_day[row["snapshot_date"]].append(row["followers"])
    out: list[dict[str, Any]] = []
    for rows in by_artist.values():
        previous: dict[str, Any] | None = None
        for row in sorted(rows, key=lambda r: r["snapshot_date"]):
            gained = days = per_day = None
            if previous is not None:
                days = (row["snapshot_date"] - previous["snapshot_date"]).days
                if row["followers"] is not None and previous["followers"] is not None:
                    gained = row["followers"] - previous["followers"]
                    per_day = gained / days
            out.append(
                {
                    "artist_id": row["artist_id"],
                    "name": row["name"],
                    "date": row["snapshot_date"],
                    "followers": row["followers"],
                    "popularity": row["popularity"],
                    "followers_gained": gained,
                    "days_since_previous": days,
                    "followers_gained_per_day": per_day,
                    "follower_rank": _rank(row["followers"], by_day[row["snapshot_date"]]),
                }
            )
            previous = row
    return sorted(out, key=lambda r: (r["date"], r["artist_id"]))


def _rank(followers: int | None, that_day: list[int]) -> int:
    """SQL rank() by followers desc, NULLs last: 1 + the rows strictly ahead."""
    if followers is None:
        return len(that_day) + 1
    return 1 + sum(1 for other in that_day if other > followers)


def cast_int(value: float) -> int:
    """Trino's (and DuckDB's) CAST(double AS INT): round half away from zero."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def avg_daily_gained(gold: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """Question 2: CAST(avg(followers_gained) AS INT) by name, desc, NULLs last."""
    gains: dict[str, list[int]] = defaultdict(list)
    for row in gold:
        gains.setdefault(row["name"], [])
        if row["followers_gained"] is not None:
            gains[row["name"]].append(row["followers_gained"])
    averages = [(n, cast_int(sum(g) / len(g)) if g else None) for n, g in gains.items()]
    return sorted(averages, key=lambda p: (p[1] is None, -(p[1] or 0)))

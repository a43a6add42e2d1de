"""``spotify-lakehouse chart``: followers over time and daily gains per artist, PNG and HTML.

The figures come from the gold view through a :class:`~views.engine.QueryEngine` (either
engine, with ``--as-of`` too): the ``top`` artists by followers on the latest loaded day,
over the ``days`` days ending that day. Daily gains are ``followers_gained_per_day``, so a
gap after an outage is spread over its days instead of showing one tall bar.

The HTML is self-contained (the PNG inlined as a base64 data URI, no script, no stylesheet
or font from anywhere else) so it can be mailed or opened offline.
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from views.engine import QueryEngine

#: Output formats written side by side; ``--out`` names one of them.
CHART_SUFFIXES: Final = (".png", ".html")

_SQL: Final = """
WITH latest AS (
    SELECT max(date) AS latest_date FROM Spotify_Gold_View
),
leaders AS (
    SELECT g.artist_id
    FROM Spotify_Gold_View g CROSS JOIN latest l
    WHERE g.date = l.latest_date
    ORDER BY g.followers DESC NULLS LAST, g.artist_id
    LIMIT {top}
)
SELECT g.artist_id, g.name, g.date, g.followers, g.followers_gained_per_day
FROM Spotify_Gold_View g
JOIN leaders s ON g.artist_id = s.artist_id
CROSS JOIN latest l
WHERE g.date > date_add('day', -{days}, l.latest_date)
ORDER BY g.artist_id, g.date
"""


@dataclass
class ArtistSeries:
    """One artist's points, oldest first."""

    artist_id: str
    name: str
    dates: list[date] = field(default_factory=list)
    followers: list[int | None] = field(default_factory=list)
    gained_per_day: list[float | None] = field(default_factory=list)


@dataclass(frozen=True)
class ChartFiles:
    png: Path
    html: Path


def chart_series(
    engine: QueryEngine, *, top: int = 10, days: int = 30, as_of: date | None = None
) -> list[ArtistSeries]:
    """The ``top`` artists' series over the last ``days`` loaded days, most followed first."""
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    result = engine.execute(_SQL.format(top=int(top), days=int(days)), as_of=as_of)
    series: dict[str, ArtistSeries] = {}
    for record in result.to_records():
        artist_id = str(record["artist_id"])
        entry = series.setdefault(artist_id, ArtistSeries(artist_id, str(record["name"])))
        entry.name = str(record["name"])  # the latest name wins (rows are by date)
        day = record["date"]
        if not isinstance(day, date):
            raise TypeError(f"gold view date is not a date: {day!r}")
        entry.dates.append(day)
        followers = record["followers"]
        entry.followers.append(int(followers) if isinstance(followers, int) else None)
        gained = record["followers_gained_per_day"]
        entry.gained_per_day.append(float(gained) if isinstance(gained, int | float) else None)
    latest: defaultdict[str, int] = defaultdict(int)
    for entry in series.values():
        known = [f for f in entry.followers if f is not None]
        latest[entry.artist_id] = known[-1] if known else -1
    return sorted(series.values(), key=lambda s: (-latest[s.artist_id], s.artist_id))


def render_png(series: list[ArtistSeries], *, title: str) -> bytes:
    """Two panels sharing the date axis: followers (millions) and daily gains per artist."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (upper, lower) = plt.subplots(2, 1, figsize=(11, 8), sharex=True, dpi=100)
    try:
        for entry in series:
            upper.plot(
                entry.dates,
                [None if f is None else f / 1e6 for f in entry.followers],
                marker=".",
                label=entry.name,
            )
            lower.plot(entry.dates, entry.gained_per_day, marker=".", label=entry.name)
        upper.set_title(title)
        upper.set_ylabel("followers (millions)")
        lower.set_ylabel("followers gained per day")
        lower.axhline(0, color="grey", linewidth=0.8)
        for axes in (upper, lower):
            axes.grid(True, alpha=0.3)
        if series:
            upper.legend(loc="upper left", fontsize="small", ncol=2)
        else:
            upper.text(0.5, 0.5, "no data", ha="center", va="center", transform=upper.transAxes)
        figure.autofmt_xdate()
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def render_html(series: list[ArtistSeries], png: bytes, *, title: str) -> str:
    """A self-contained page: the PNG as a data URI and the latest figures as a table."""
    encoded = base64.b64encode(png).decode("ascii")
    rows = []
    for entry in series:
        followers = next((f for f in reversed(entry.followers) if f is not None), None)
        gains = [g for g in entry.gained_per_day if g is not None]
        average = sum(gains) / len(gains) if gains else None
        rows.append(
            "<tr>"
            f"<td>{html.escape(entry.name)}</td>"
            f"<td>{html.escape(entry.dates[-1].isoformat()) if entry.dates else ''}</td>"
            f"<td class=n>{'' if followers is None else f'{followers:,}'}</td>"
            f"<td class=n>{'' if average is None else f'{average:,.1f}'}</td>"
            "</tr>"
        )
    safe_title = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{safe_title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; }}
td.n {{ text-align: right; }}
</style></head>
<body><h1>{safe_title}</h1>
<img alt="{safe_title}" src="data:image/png;base64,{encoded}">
<table><thead><tr><th>artist</th><th>latest day</th><th>followers</th>
<th>average gained per day</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>
"""


def chart_paths(out: Path) -> ChartFiles:
    """``out`` ends in .png or .html; the other file is written beside it."""
    if out.suffix.lower() not in CHART_SUFFIXES:
        raise ValueError(f"--out must end in .png or .html, got {out.name!r}")
    return ChartFiles(png=out.with_suffix(".png"), html=out.with_suffix(".html"))


def write_chart(
    engine: QueryEngine,
    out: Path,
    *,
    top: int = 10,
    days: int = 30,
    as_of: date | None = None,
) -> ChartFiles:
    """Query, draw and write the PNG and the HTML; returns both paths."""
    files = chart_paths(out)
    series = chart_series(engine, top=top, days=days, as_of=as_of)
    suffix = f" as of {as_of.isoformat()}" if as_of else ""
    title = f"Top {top} artists by followers, last {days} days{suffix}"
    png = render_png(series, title=title)
    files.png.parent.mkdir(parents=True, exist_ok=True)
    files.png.write_bytes(png)
    files.html.write_text(render_html(series, png, title=title), encoding="utf-8")
    return files

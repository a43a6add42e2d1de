"""The dashboard's charts as plotly.js figures (plain ``{"data", "layout"}`` dicts).

Built as JSON-ready dicts rather than through plotly's Python object model: the page needs
only plotly.js and the figures' JSON, the dicts are typed and cheap to build, and a test can
read what a chart holds without a browser. Every artist keeps one colour across the
followers, gains and rank charts, so a line found in one is found in the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from infra.dashboard.data import ArtistTrend, RecordedRuns, RunRow, TableHealth, trailing_mean

Figure = dict[str, Any]

#: Artists shown at first on the followers chart; the others are one legend click away.
DEFAULT_VISIBLE: Final = 10
#: Days averaged by the smoothed gains line (a week evens out weekday effects).
SMOOTHING_DAYS: Final = 7
#: Columns of the gains small multiples.
GAIN_COLUMNS: Final = 4
#: Height of one small-multiple row, pixels.
GAIN_ROW_PX: Final = 170
#: Twenty distinguishable colours (Tableau 20, strong shades first), cycled beyond 20.
ARTIST_COLOURS: Final = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
#: The two stages of a derived run's time.
STAGE_COLOURS: Final = ("#4c78a8", "#f58518")
#: Plotly's options for every chart: no logo, no link to plotly's cloud, resizes with the page.
CONFIG: Final = {"displaylogo": False, "responsive": True, "showLink": False}
_FONT: Final = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def colour(index: int) -> str:
    return ARTIST_COLOURS[index % len(ARTIST_COLOURS)]


def _days(dates: Sequence[date]) -> list[str]:
    return [d.isoformat() for d in dates]


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60, "b": 50},
        "font": _FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        **extra,
    }


def _no_data(layout: dict[str, Any], text: str) -> dict[str, Any]:
    layout["annotations"] = [
        {
            "text": text,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "showarrow": False,
            "font": {"size": 16, "color": "#888"},
        }
    ]
    layout["xaxis"] = {"visible": False}
    layout["yaxis"] = {"visible": False}
    return layout


def since_first(values: Sequence[int | None]) -> list[int | None]:
    """Each value minus the first known one (None where unknown)."""
    first = next((v for v in values if v is not None), None)
    return [None if v is None or first is None else v - first for v in values]


def followers_figure(artists: Sequence[ArtistTrend]) -> Figure:
    """Followers per artist over time; the most followed shown, the rest a click away.

    Buttons pick the top 5, the top 10, all or none; the legend toggles one artist (a
    double click isolates it). Two more switch the scale between followers and followers
    gained since the window's first day: the top artists are tens of millions apart, so on
    one axis their growth is a flat line, while gained-since-start shows who grows faster."""
    absolute_hover = "<b>%{fullData.name}</b><br>%{x|%Y-%m-%d}: %{y:,} followers<extra></extra>"
    change_hover = "<b>%{fullData.name}</b><br>%{x|%Y-%m-%d}: %{y:+,} since the first day" + (
        "<extra></extra>"
    )
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": a.name,
            "x": _days(a.dates),
            "y": a.followers,
            "line": {"color": colour(i), "width": 2},
            "marker": {"size": 4},
            "visible": True if i < DEFAULT_VISIBLE else "legendonly",
            "hovertemplate": absolute_hover,
        }
        for i, a in enumerate(artists)
    ]
    layout = _layout(
        "Followers per artist (click a name to show or hide it, double-click to isolate)",
        520,
        hovermode="closest",
        xaxis={"type": "date", "gridcolor": "#eee"},
        yaxis={"title": {"text": "followers"}, "gridcolor": "#eee", "tickformat": ".3~s"},
        legend={"orientation": "v", "x": 1.01, "y": 1},
    )
    if not data:
        return {"data": [], "layout": _no_data(layout, "no loaded days yet")}

    def shown(count: int) -> list[bool | str]:
        return [True if i < count else "legendonly" for i in range(len(data))]

    layout["updatemenus"] = [
        {
            "type": "buttons",
            "direction": "right",
            "x": 0,
            "y": 1.02,
            "xanchor": "left",
            "yanchor": "bottom",
            "showactive": False,
            "buttons": [
                {"label": label, "method": "restyle", "args": [{"visible": shown(count)}]}
                for label, count in (("top 5", 5), ("top 10", 10), ("all", len(data)), ("none", 0))
            ],
        },
        {
            "type": "buttons",
            "direction": "right",
            "x": 1,
            "y": 1.02,
            "xanchor": "right",
            "yanchor": "bottom",
            "showactive": True,
            "active": 0,
            "buttons": [
                {
                    "label": "followers",
                    "method": "update",
                    "args": [
                        {"y": [a.followers for a in artists], "hovertemplate": absolute_hover},
                        {"yaxis.title.text": "followers", "yaxis.tickformat": ".3~s"},
                    ],
                },
                {
                    "label": "gained since the first day",
                    "method": "update",
                    "args": [
                        {
                            "y": [since_first(a.followers) for a in artists],
                            "hovertemplate": change_hover,
                        },
                        {
                            "yaxis.title.text": "followers gained since the first day",
                            "yaxis.tickformat": "+.3~s",
                        },
                    ],
                },
            ],
        },
    ]
    layout["title"]["y"] = 0.98
    layout["margin"]["t"] = 90
    return {"data": data, "layout": layout}


def gains_figure(artists: Sequence[ArtistTrend]) -> Figure:
    """Small multiples, one panel per artist on its own scale: the day's gain per day as
    light bars and its trailing mean over :data:`SMOOTHING_DAYS` days as a line."""
    count = len(artists)
    columns = max(1, min(GAIN_COLUMNS, count))
    rows = max(1, math.ceil(count / columns))
    layout = _layout(
        f"Followers gained per day (bars) and {SMOOTHING_DAYS}-day mean (line), one panel "
        "per artist, each on its own scale",
        rows * GAIN_ROW_PX + 90,
        showlegend=False,
        hovermode="x",
        grid={"rows": rows, "columns": columns, "pattern": "independent", "ygap": 0.45},
    )
    if not artists:
        return {"data": [], "layout": _no_data(layout, "no loaded days yet")}
    data: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, artist in enumerate(artists):
        suffix = "" if i == 0 else str(i + 1)
        x, y = f"x{suffix}", f"y{suffix}"
        days = _days(artist.dates)
        smooth = trailing_mean(artist.dates, artist.gained_per_day, SMOOTHING_DAYS)
        data.append(
            {
                "type": "bar",
                "name": artist.name,
                "x": days,
                "y": artist.gained_per_day,
                "xaxis": x,
                "yaxis": y,
                "marker": {"color": colour(i), "opacity": 0.35},
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:,.0f} gained/day<extra>"
                + artist.name
                + "</extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{artist.name} ({SMOOTHING_DAYS}-day mean)",
                "x": days,
                "y": smooth,
                "xaxis": x,
                "yaxis": y,
                "line": {"color": colour(i), "width": 2.5},
                "hovertemplate": f"{SMOOTHING_DAYS}-day mean: " + "%{y:,.0f}<extra></extra>",
            }
        )
        axis = "" if i == 0 else str(i + 1)
        layout[f"xaxis{axis}"] = {
            "type": "date",
            "matches": "x",
            "showticklabels": i >= count - columns,
            "gridcolor": "#eee",
        }
        layout[f"yaxis{axis}"] = {"tickformat": ".2~s", "gridcolor": "#eee", "rangemode": "tozero"}
        annotations.append(
            {
                "text": f"<b>{artist.name}</b>",
                "xref": f"{x} domain",
                "yref": f"{y} domain",
                "x": 0,
                "y": 1.02,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12, "color": colour(i)},
            }
        )
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def rank_figure(artists: Sequence[ArtistTrend]) -> Figure:
    """Rank by followers per day (1 at the top): where lines cross, artists changed places."""
    data = []
    for i, artist in enumerate(artists):
        changes: list[str] = []
        previous: int | None = None
        for rank in artist.rank:
            if rank is None or previous is None:
                changes.append("")
            else:
                moved = previous - rank
                changes.append(f" ({'+' if moved > 0 else ''}{moved})" if moved else " (=)")
            previous = rank if rank is not None else previous
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": artist.name,
                "x": _days(artist.dates),
                "y": artist.rank,
                "customdata": changes,
                "line": {"color": colour(i), "width": 2, "shape": "linear"},
                "marker": {"size": 6},
                "hovertemplate": "<b>%{fullData.name}</b><br>%{x|%Y-%m-%d}: rank %{y}"
                "%{customdata}<extra></extra>",
            }
        )
    layout = _layout(
        "Rank by followers (1 = most followed; crossings are rank changes)",
        max(360, 28 * len(artists) + 120),
        hovermode="closest",
        xaxis={"type": "date", "gridcolor": "#eee"},
        yaxis={"autorange": "reversed", "dtick": 1, "title": {"text": "rank"}, "gridcolor": "#eee"},
        legend={"orientation": "v", "x": 1.01, "y": 1},
    )
    if not data:
        return {"data": [], "layout": _no_data(layout, "no loaded days yet")}
    return {"data": data, "layout": layout}


def _run_label(run: RunRow) -> str:
    return f"{run.snapshot_date.isoformat()} · {run.run_id}"


def runs_figure(runs: Sequence[RunRow], recorded: RecordedRuns | None) -> Figure:
    """Recent runs' timings as stacked horizontal bars, newest at the top.

    From ``spotify.pipeline_runs`` when it exists (every ``*seconds`` column is a stage);
    otherwise the two stages every run leaves a trace of: ingest start to validation, and
    validation to the silver commit."""
    if recorded is not None and recorded.rows:
        stages = [c for c in recorded.columns if c.endswith("seconds")]
        labels = [
            " · ".join(str(row.get(c, "")) for c in recorded.columns[:2]) for row in recorded.rows
        ]
        data = [
            {
                "type": "bar",
                "orientation": "h",
                "name": stage,
                "y": labels,
                "x": [row.get(stage) for row in recorded.rows],
                "marker": {"color": STAGE_COLOURS[i % len(STAGE_COLOURS)]},
                "hovertemplate": "%{y}<br>" + stage + ": %{x:.1f} s<extra></extra>",
            }
            for i, stage in enumerate(stages)
        ]
    else:
        labels = [_run_label(r) for r in runs]
        stages_of = (
            ("ingest start → validation", [r.ingest_to_validation_s for r in runs]),
            ("validation → silver commit", [r.validation_to_commit_s for r in runs]),
        )
        data = [
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "y": labels,
                "x": seconds,
                "marker": {"color": STAGE_COLOURS[i]},
                "hovertemplate": "%{y}<br>" + name + ": %{x:.1f} s<extra></extra>",
            }
            for i, (name, seconds) in enumerate(stages_of)
        ]
    layout = _layout(
        "Recent runs: seconds per stage (newest at the top)",
        max(300, 24 * len(labels) + 140),
        barmode="stack",
        hovermode="closest",
        xaxis={"title": {"text": "seconds"}, "gridcolor": "#eee", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
        legend={"orientation": "h", "x": 0, "y": -0.15},
    )
    if not labels:
        return {"data": [], "layout": _no_data(layout, "no runs recorded yet")}
    return {"data": data, "layout": layout}


def tables_figure(tables: Sequence[TableHealth]) -> Figure:
    """Snapshots, data files and size of every table, side by side."""
    names = [t.name.split(".")[-1] for t in tables]
    panels = (
        ("snapshots", [t.snapshots for t in tables], "%{y:,}"),
        ("data files", [t.data_files for t in tables], "%{y:,}"),
        ("size (KiB)", [round(t.size_bytes / 1024, 1) for t in tables], "%{y:,.1f} KiB"),
    )
    layout = _layout(
        "Table health",
        340,
        showlegend=False,
        grid={"rows": 1, "columns": len(panels), "pattern": "independent", "xgap": 0.12},
    )
    if not tables:
        return {"data": [], "layout": _no_data(layout, "no tables yet")}
    data: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, (title, values, fmt) in enumerate(panels):
        suffix = "" if i == 0 else str(i + 1)
        data.append(
            {
                "type": "bar",
                "name": title,
                "x": names,
                "y": values,
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "marker": {"color": STAGE_COLOURS[0] if i != 2 else STAGE_COLOURS[1]},
                "text": values,
                "textposition": "auto",
                "hovertemplate": "%{x}: " + fmt + "<extra>" + title + "</extra>",
            }
        )
        layout[f"yaxis{suffix}"] = {"gridcolor": "#eee", "rangemode": "tozero"}
        annotations.append(
            {
                "text": f"<b>{title}</b>",
                "xref": f"x{suffix} domain",
                "yref": f"y{suffix} domain",
                "x": 0.5,
                "y": 1.03,
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}

"""The dashboard as one self-contained HTML page.

Everything the page needs is inside it: plotly.js (from the pinned ``plotly`` wheel, inlined
once), each chart's figure as JSON, the styles, and a few lines that draw the charts. No
script, style, font or image comes from anywhere else, so the page works from ``file://``,
mailed, or from an S3 static website, with no network. A Content-Security-Policy in the page
says so to the browser too: it refuses any fetch the page might attempt (``connect-src``,
``script-src``, ... are 'none' or inline only), so a stray CDN reference fails visibly
instead of quietly depending on the network.

When every chart has drawn, the page sets ``data-charts-rendered="N"`` on ``<body>``; when
one cannot be drawn it sets ``data-charts-error`` and says so at the top of the page: what
the browser test waits for.
"""

from __future__ import annotations

import html
import json
import os
from calendar import monthrange
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from expectations.results import RunSummary
from infra.dashboard.data import DashboardData, RecordedRuns, RunRow, TableHealth
from infra.dashboard.figures import (
    CONFIG,
    Figure,
    followers_figure,
    gains_figure,
    rank_figure,
    runs_figure,
    tables_figure,
)

#: Where the plotly wheel keeps its minified plotly.js (``plotly.offline.get_plotlyjs``
#: reads the same file; reading it directly avoids importing plotly's Python side).
PLOTLY_JS: Final = ("plotly", "package_data/plotly.min.js")
#: Days the DQ calendar covers at most, ending the latest day.
CALENDAR_DAYS: Final = 366
#: The browser may run inline scripts and styles and show data: images; nothing else.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; frame-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)

#: DQ status of a calendar day: (css class, label).
PASSED: Final = ("passed", "passed every check")
WARNED: Final = ("warned", "passed, with warnings")
FAILED: Final = ("failed", "failed a critical check")
UNCHECKED: Final = ("unchecked", "loaded, no data-quality run")
NO_LOAD: Final = ("none", "nothing loaded or checked")

_STYLE: Final = """
:root { --pass: #2ca25f; --warn: #a6d96a; --fail: #d7301f; --unchecked: #fdae61;
        --none: #eeeeee; --ink: #222; --muted: #666; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; padding: 1.5em 2em 3em; max-width: 1400px; background: #fafafa; }
h1 { margin: 0 0 .2em; font-size: 1.6em; }
h2 { margin: 1.6em 0 .4em; font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
p.meta, p.note { color: var(--muted); margin: .2em 0; }
.chart { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; margin: .6em 0;
         min-height: 200px; }
table.data { border-collapse: collapse; background: #fff; font-size: .9em; margin: .6em 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
table.data td.n { text-align: right; font-variant-numeric: tabular-nums; }
.calendar { display: flex; flex-wrap: wrap; gap: 1.2em; margin: .6em 0; }
.month { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: .5em; }
.month caption { font-weight: 600; padding-bottom: .3em; }
.month td, .month th { width: 2.1em; height: 2.1em; text-align: center; padding: 0;
                       font-size: .8em; }
.month th { color: var(--muted); font-weight: normal; }
.day { display: block; width: 100%; line-height: 2.1em; border-radius: 4px; color: #000;
       text-decoration: none; }
a.day:hover { outline: 2px solid #000; }
.passed { background: var(--pass); color: #fff; }
.warned { background: var(--warn); }
.failed { background: var(--fail); color: #fff; }
.unchecked { background: var(--unchecked); }
.none { background: var(--none); color: #999; }
.legend span.day { display: inline-block; width: auto; padding: 0 .6em; margin-right: .4em; }
.ok { color: var(--pass); font-weight: 600; }
.bad { color: var(--fail); font-weight: 600; }
"""

_DRAW: Final = """
(function () {
  function failed(error) {
    document.body.setAttribute('data-charts-error', String(error));
    var note = document.createElement('p');
    note.className = 'bad';
    note.textContent = 'The charts could not be drawn: ' + error;
    document.body.insertBefore(note, document.body.children[1] || null);
  }
  try {
    var pending = [];
    var specs = document.querySelectorAll('script[type="application/json"][data-chart]');
    for (var i = 0; i < specs.length; i++) {
      var figure = JSON.parse(specs[i].textContent);
      var target = document.getElementById(specs[i].getAttribute('data-chart'));
      pending.push(Plotly.newPlot(target, figure.data, figure.layout, figure.config));
    }
    Promise.all(pending).then(function () {
      document.body.setAttribute('data-charts-rendered', String(pending.length));
    }, failed);
  } catch (error) {
    failed(error);
  }
})();
"""


def plotly_js() -> str:
    """plotly.js, minified, as the pinned plotly wheel ships it."""
    package, name = PLOTLY_JS
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``</script>`` or ``<!--`` can end or bend it."""
    text = json.dumps(value, separators=(",", ":"), default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean(value: Any) -> Any:
    """NaN and infinities as null (JSON has neither)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _chart(chart_id: str, figure: Figure) -> str:
    spec = _script_json(_clean({**figure, "config": CONFIG}))
    return (
        f'<div class="chart" id="{chart_id}"></div>\n'
        f'<script type="application/json" data-chart="{chart_id}">{spec}</script>'
    )


def report_href(report: str, out_dir: Path) -> str:
    """A link to a DQ report from the page in ``out_dir``: relative for a local file (so the
    page and ``reports/`` can be moved or published together), as-is for a URL."""
    parts = urlsplit(report)
    if len(parts.scheme) > 1 and parts.scheme != "file":  # s3://, https://: already a link
        return report
    local = Path(unquote(parts.path) if parts.scheme == "file" else report)
    try:
        relative = os.path.relpath(local.resolve(), out_dir.resolve())
    except ValueError:  # another drive (Windows): no relative path exists
        return local.resolve().as_uri()
    return quote(Path(relative).as_posix())


def day_status(run: RunSummary | None, loaded: bool) -> tuple[str, str]:
    """The calendar's class and label for a day."""
    if run is None:
        return UNCHECKED if loaded else NO_LOAD
    if not run.success:
        return FAILED
    return WARNED if run.failed_expectations else PASSED


def _months(first: date, last: date) -> Iterable[tuple[int, int]]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def calendar_html(data: DashboardData, out_dir: Path) -> str:
    """Months of days coloured by their latest DQ run, each linking to its report."""
    runs = {r.snapshot_date: r for r in data.quality}
    loaded = {d for a in data.artists for d in a.dates}
    days = set(runs) | loaded
    if not days:
        return '<p class="note">No day has been loaded or checked yet.</p>'
    last = max(days)
    first = max(min(days), last - timedelta(days=CALENDAR_DAYS - 1))
    months: list[str] = []
    for year, month in _months(first, last):
        offset, length = monthrange(year, month)
        cells = ["<td></td>"] * offset
        for number in range(1, length + 1):
            day = date(year, month, number)
            run = runs.get(day)
            css, label = day_status(run, day in loaded)
            title = f"{day.isoformat()}: {label}"
            if run is not None:
                title += f"; {run.evaluated_rows} rows checked, {run.quarantined_rows} quarantined"
                if run.failed_expectations:
                    title += "; failed: " + ", ".join(run.failed_expectations)
            inside = f'class="day {css}" title="{html.escape(title)}"'
            if run is not None and run.report:
                href = html.escape(report_href(run.report, out_dir))
                cells.append(f'<td><a {inside} href="{href}">{number}</a></td>')
            else:
                cells.append(f"<td><span {inside}>{number}</span></td>")
        cells += ["<td></td>"] * (-len(cells) % 7)
        weeks = "".join(
            "<tr>" + "".join(cells[i : i + 7]) + "</tr>" for i in range(0, len(cells), 7)
        )
        head = "".join(f"<th>{d}</th>" for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"))
        months.append(
            f'<table class="month"><caption>{date(year, month, 1):%B %Y}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{weeks}</tbody></table>"
        )
    legend = "".join(
        f'<span class="day {css}">{html.escape(label)}</span>'
        for css, label in (PASSED, WARNED, FAILED, UNCHECKED, NO_LOAD)
    )
    return (
        f'<p class="legend">{legend}</p>'
        f'<div class="calendar" id="dq-calendar">{"".join(months)}</div>'
    )


def _cell(value: Any, numeric: bool = False) -> str:
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float):
        text = f"{value:,.1f}"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    css = ' class="n"' if numeric or isinstance(value, int | float) else ""
    return f"<td{css}>{html.escape(text)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return (
        f'<table class="data" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _dq(success: bool | None) -> str:
    return "" if success is None else ("passed" if success else "FAILED")


def runs_html(runs: Sequence[RunRow], recorded: RecordedRuns | None) -> str:
    """The recent runs as a table, and where they were read from."""
    if recorded is not None:
        return (
            '<p class="note">From <code>spotify.pipeline_runs</code>, newest first.</p>'
            + _table(
                recorded.columns,
                ([r.get(c) for c in recorded.columns] for r in recorded.rows),
                "runs",
            )
        )
    note = (
        '<p class="note"><code>spotify.pipeline_runs</code> has no run of this home yet, '
        "so runs are derived: each data-quality run in <code>spotify.dq_results</code> "
        "(validated at) joined to the silver commit of the same day and ingest run "
        "(committed at, rows inserted/updated/deleted); the ingest start is read from the run "
        "id (whole seconds). A re-run that changed nothing has no commit.</p>"
    )
    headers = (
        "day",
        "run id",
        "ingest started",
        "validated",
        "committed",
        "data quality",
        "inserted",
        "updated",
        "deleted",
        "rows after",
        "ingest → validation (s)",
        "validation → commit (s)",
    )
    rows = (
        (
            r.snapshot_date,
            r.run_id,
            r.started_at,
            r.validated_at,
            r.committed_at,
            _dq(r.dq_success),
            r.inserted,
            r.updated,
            r.deleted,
            r.rows_after,
            r.ingest_to_validation_s,
            r.validation_to_commit_s,
        )
        for r in runs
    )
    return note + _table(headers, rows, "runs")


def tables_html(tables: Sequence[TableHealth]) -> str:
    headers = (
        "table",
        "snapshots",
        "current snapshot",
        "last commit",
        "data files",
        "delete files",
        "records",
        "bytes",
        "load tags",
        "latest tag",
        "metadata file",
    )
    rows = (
        (
            t.name,
            t.snapshots,
            str(t.current_snapshot_id or ""),
            t.last_commit,
            t.data_files,
            t.delete_files,
            t.records,
            t.size_bytes,
            t.load_tags,
            t.latest_tag,
            t.metadata_location.rsplit("/", 1)[-1],
        )
        for t in tables
    )
    return _table(headers, rows, "tables")


def _quality_line(runs: Sequence[RunSummary]) -> str:
    passed = sum(r.success for r in runs)
    css = "ok" if passed == len(runs) else "bad"
    return f'<span class="{css}">{passed}/{len(runs)}</span> checked days passed'


def render_page(data: DashboardData, out_dir: Path) -> str:
    """The whole page as text."""
    charts = {
        "followers": followers_figure(data.artists),
        "gains": gains_figure(data.artists),
        "ranks": rank_figure(data.artists),
        "runs": runs_figure(data.runs, data.recorded_runs),
        "tables": tables_figure(data.tables),
    }
    latest = data.latest_day.isoformat() if data.latest_day else "none"
    title = "Spotify lakehouse dashboard"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style>
<script>{plotly_js()}</script>
</head>
<body data-charts="{len(charts)}">
<h1>{title}</h1>
<p class="meta">Home <code>{html.escape(data.home)}</code> · latest loaded day {latest} ·
{len(data.artists)} artists · {_quality_line(data.quality)} · generated
{data.generated_at:%Y-%m-%d %H:%M:%S} UTC · charts by plotly.js, inlined (works offline)</p>

<h2>Followers over time</h2>
<p class="note">The last {data.days} days ending the latest load, from
<code>Spotify_Gold_View</code>. Hover a point for its value.</p>
{_chart("chart-followers", charts["followers"])}

<h2>Daily gains</h2>
<p class="note"><code>followers_gained_per_day</code>: a gap after an outage is spread over
its days instead of counting as one.</p>
{_chart("chart-gains", charts["gains"])}

<h2>Rank changes</h2>
{_chart("chart-ranks", charts["ranks"])}

<h2>Data quality by day</h2>
<p class="note">Each day's latest data-quality run; click a day for its report.</p>
{calendar_html(data, out_dir)}

<h2>Recent runs</h2>
{_chart("chart-runs", charts["runs"])}
{runs_html(data.runs, data.recorded_runs)}

<h2>Table health</h2>
{_chart("chart-tables", charts["tables"])}
{tables_html(data.tables)}

<script>{_DRAW}</script>
</body></html>
"""

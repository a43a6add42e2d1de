"""The self-contained HTML report of one run, built from the validation results.

GX's own Data Docs load CSS and JavaScript from CDNs and a logo from the internet; this
page has none of that: inline CSS only, no script, no image, no font, no link to fetch. It
opens offline, from an S3 console download or an e-mail attachment, exactly as written.
Every value from the data is HTML-escaped (a record is attacker-controlled text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Final

from expectations.results import QualityRun
from expectations.runner import ExpectationOutcome, jsonable

#: Characters of a raw record shown in the report (the quarantine table keeps all of it).
RAW_PREVIEW_CHARS: Final = 600
#: Failing rows listed per run; a day with more is summarized (the table has every row).
MAX_LISTED_ROWS: Final = 500

_STYLE: Final = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#555;margin:.2rem 0 1rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#11683a;font-weight:600}.fail{color:#b3261e;font-weight:600}
.warn{color:#8a5a00;font-weight:600}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:.8rem}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;color:#fff}
.badge.pass{background:#11683a}.badge.fail{background:#b3261e}
"""


def _cell(value: object, *, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    text = "" if value is None else str(value)
    return f"<td{css}>{escape(text)}</td>"


def _status(result: ExpectationOutcome) -> str:
    if result.success:
        return '<td class="pass">pass</td>'
    if result.critical:
        return '<td class="fail">FAIL</td>'
    return '<td class="warn">warn</td>'


def _observed(result: ExpectationOutcome) -> str:
    if result.observed_value is None:
        return ""
    return json.dumps(jsonable(result.observed_value), sort_keys=True)


def _expectation_rows(results: Iterable[ExpectationOutcome]) -> str:
    return "\n".join(
        "<tr>"
        + _cell(r.name)
        + _cell(r.severity)
        + _status(r)
        + _cell(r.evaluated_rows, numeric=True)
        + _cell(r.unexpected_count, numeric=True)
        + f"<td><code>{escape(_observed(r))}</code></td>"
        + "</tr>"
        for r in results
    )


def _preview(raw: str) -> str:
    return raw if len(raw) <= RAW_PREVIEW_CHARS else raw[:RAW_PREVIEW_CHARS] + " ..."


def _row_table(title: str, rows: Sequence[tuple[int, str | None, str, Sequence[str], str]]) -> str:
    if not rows:
        return ""
    shown = rows[:MAX_LISTED_ROWS]
    more = (
        f"<p class='meta'>{len(rows) - len(shown)} more not listed; query the table for all.</p>"
        if len(rows) > len(shown)
        else ""
    )
    body = "\n".join(
        "<tr>"
        + _cell(row_id, numeric=True)
        + _cell(artist_id)
        + _cell(", ".join(names))
        + _cell(source)
        + f"<td><pre>{escape(_preview(raw))}</pre></td>"
        + "</tr>"
        for row_id, artist_id, source, names, raw in shown
    )
    return (
        f"<h2>{escape(title)} ({len(rows)})</h2>\n<table><thead><tr><th>row id</th>"
        "<th>artist_id</th><th>failed expectations</th><th>source file</th>"
        f"<th>record as received</th></tr></thead>\n<tbody>\n{body}\n</tbody></table>{more}"
    )


def render_report(run: QualityRun) -> str:
    """The report page: verdict, every expectation, the quarantined and the flagged rows."""
    verdict = "pass" if run.success else "fail"
    title = f"Data quality {run.snapshot_date.isoformat()}, run {run.run_id}"
    sections = []
    for outcome in run.outcomes:
        sections.append(
            f"<h2>Suite {escape(outcome.suite)} ({escape(outcome.engine)}, "
            f"{outcome.evaluated_rows} rows, {outcome.seconds:.2f} s)</h2>\n"
            "<table><thead><tr><th>expectation</th><th>severity</th><th>result</th>"
            "<th>evaluated</th><th>unexpected</th><th>observed</th></tr></thead>\n<tbody>\n"
            f"{_expectation_rows(outcome.results)}\n</tbody></table>"
        )
    quarantined = [
        (
            q.candidate.row_id,
            q.candidate.artist_id,
            q.candidate.source_file,
            q.failed_expectations,
            q.candidate.raw,
        )
        for q in run.quarantined
    ]
    warned = [(c.row_id, c.artist_id, c.source_file, names, c.raw) for c, names in run.warned]
    refusal = f"<p class='fail'>{escape(run.refusal)}</p>" if run.refusal else ""
    kept = (
        f"<p class='meta'>Kept in silver from an earlier load of this day ({len(run.kept)}): "
        f"{escape(', '.join(run.kept))}. Their new record failed validation, so the row "
        "validated before stays as it was.</p>"
        if run.kept
        else ""
    )
    failed = ", ".join(run.failed_expectations) or "none"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{escape(title)} <span class="badge {verdict}">{verdict.upper()}</span></h1>
<p class="meta">snapshot_date {escape(run.snapshot_date.isoformat())} &middot; run_id
{escape(run.run_id)} &middot; validation {escape(run.validation_id)} &middot; validated at
{escape(run.validated_at.isoformat())}</p>
{refusal}
<table><tbody>
<tr><th>evaluated rows</th>{_cell(run.evaluated_rows, numeric=True)}</tr>
<tr><th>quarantined rows</th>{_cell(len(run.quarantined), numeric=True)}</tr>
<tr><th>rows loaded with warnings</th>{_cell(len(run.warned), numeric=True)}</tr>
<tr><th>failed expectations</th>{_cell(failed)}</tr>
</tbody></table>
{"".join(sections)}
{_row_table("Quarantined rows (not loaded)", quarantined)}
{kept}
{_row_table("Loaded rows with warnings", warned)}
</body></html>
"""

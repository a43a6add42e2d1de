"""What the CLI prints: result rows on stdout, progress lines on stderr.

Rows are rich tables for people, JSON or CSV for scripts. The JSON contract
(ARCHITECTURE.md): a list of objects with lower-case column names, dates as ``YYYY-MM-DD``,
timestamps in ISO-8601 UTC. CSV has a header row and the same values. Progress (one line
per stage of a day, from :class:`infra.local.pipeline.Progress`) goes to stderr, so a
command's stdout stays its result.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from glue.transform import TransformResult
    from infra.local.pipeline import Progress
    from ingest.pipeline import IngestResult

#: Progress and notes go to stderr; results (tables, json, csv) to stdout.
console = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def plain(value: Any) -> Any:
    """A JSON-ready value: dates ISO, decimals as numbers, NaN as null, lists kept."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def distinct_names(columns: Sequence[str]) -> list[str]:
    """Lower-case column names, a repeated one suffixed ``_2``, ``_3`` ... (first kept as is).

    Athena's result set may hold two columns of one name (``SELECT a.x, b.x``); a JSON object
    cannot, so the later ones are renamed rather than silently dropped. A suffix that is
    itself taken is skipped (``x``, ``x_2``, ``x`` gives ``x``, ``x_2``, ``x_3``).
    """
    names: list[str] = []
    taken = {c.lower() for c in columns}
    seen: set[str] = set()
    for column in columns:
        name = column.lower()
        if name in seen:
            n = 2
            while f"{name}_{n}" in taken or f"{name}_{n}" in seen:
                n += 1
            name = f"{name}_{n}"
        seen.add(name)
        names.append(name)
    return names


def json_records(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as ``--format json`` prints them: objects keyed by distinct lower-case names."""
    names = distinct_names(columns)
    return [dict(zip(names, (plain(v) for v in row), strict=True)) for row in rows]


def _cell(value: Any) -> str:
    """A value as a table shows it: exactly (no thousands separators, so a snapshot id can
    be pasted into ``FOR VERSION AS OF``; no rounding), lists and objects as JSON."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _text(value: str) -> Text:
    """Literal text: rich reads no markup (``[/x]``) and no emoji codes (``:x:``) in it."""
    return Text(value, no_wrap=False, overflow="fold")


#: Width of tables written to a file or pipe (rich would otherwise cut them at 80 columns).
PIPE_WIDTH = 200


def result_console() -> Console:
    """Console for results on stdout: terminal width on a terminal, wide when piped."""
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def render(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    console: Console | None = None,
) -> None:
    """Print ``rows`` to stdout in ``fmt``."""
    names = [c.lower() for c in columns]
    console = console or result_console()
    if fmt is OutputFormat.json:
        print(json.dumps(json_records(columns, rows), indent=2))
    elif fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(
                [json.dumps(plain(v)) if isinstance(v, list | dict) else plain(v) for v in row]
            )
        print(buffer.getvalue(), end="")
    else:
        cells = [[_cell(v) for v in row] for row in rows]
        if _natural_width(names, cells) > console.width:
            _print_vertical(console, names, cells, title)
            return
        table = Table(title=_text(title) if title else None, show_lines=False)
        for name, sample in zip(names, rows[0] if rows else [None] * len(names), strict=True):
            numeric = isinstance(sample, int | float | Decimal) and not isinstance(sample, bool)
            table.add_column(_text(name), justify="right" if numeric else "left", overflow="fold")
        for row_cells in cells:
            table.add_row(*(_text(c) for c in row_cells))
        console.print(table)


def _natural_width(names: Sequence[str], cells: Sequence[Sequence[str]]) -> int:
    """The width a table needs to show every value whole on one line (borders included)."""
    widths = [cell_len(n) for n in names]
    for row in cells:
        for i, cell in enumerate(row):
            longest = max((cell_len(line) for line in cell.splitlines() or [""]), default=0)
            widths[i] = max(widths[i], longest)
    return sum(widths) + 3 * len(widths) + 1


def _print_vertical(
    console: Console, names: Sequence[str], cells: Sequence[Sequence[str]], title: str | None
) -> None:
    """Rows too wide for the terminal, one ``name | value`` line per column (as ``psql -x``):
    every value whole, never cut to fit."""
    if title:
        console.print(_text(title), soft_wrap=True)
    pad = max((cell_len(n) for n in names), default=0)
    for number, row in enumerate(cells, start=1):
        console.print(Text(f"-[ RECORD {number} ]-"), soft_wrap=True)
        for name, cell in zip(names, row, strict=True):
            console.print(Text(f"{name.ljust(pad)} | {cell}"), soft_wrap=True)


# progress on stderr ---------------------------------------------------------------------------


def print_ingested(result: IngestResult) -> None:
    """One line per fetched day, plus one naming the roster's malformed ids if any."""
    day = result.day
    if result.already_complete:
        console.print(f"{day}: bronze already complete (run {result.run_id}); --force re-fetches")
        return
    unknown = [i for i in result.missing_ids if i not in result.invalid_ids]
    missing = f", unknown ids: {', '.join(unknown)}" if unknown else ""
    console.print(
        f"{day}: {result.records} artists in {len(result.parts)} parts, "
        f"run {result.run_id}{missing}"
    )
    if result.invalid_ids:
        console.print(
            f"{day}: roster error: {len(result.invalid_ids)} malformed artist id(s) skipped: "
            f"{', '.join(repr(i) for i in result.invalid_ids)} (a Spotify id is 22 letters and "
            "digits); the other artists were fetched"
        )


def print_loaded(result: TransformResult) -> None:
    """One line per loaded day, plus its data-quality verdict when a check failed or rows
    were quarantined."""
    if result.committed:
        console.print(
            f"{result.snapshot_date}: {result.inserted} inserted, {result.updated} updated, "
            f"snapshot {result.snapshot_id}, tag {result.tag}"
        )
    else:
        console.print(f"{result.snapshot_date}: {result.rows} rows unchanged, no commit")
    quality = result.quality
    if quality.failed_expectations or quality.quarantined_rows:
        verdict = "passed" if quality.success else "FAILED"
        console.print(
            f"  data quality {verdict}: {quality.quarantined_rows} of "
            f"{quality.evaluated_rows} rows quarantined, failed "
            f"{', '.join(quality.failed_expectations) or 'none'}; report {quality.report}"
        )


def progress_lines() -> Progress:
    """The pipeline's progress as the CLI prints it: each stage of a day, when it is done."""
    from infra.local.pipeline import Progress

    return Progress(ingested=print_ingested, loaded=print_loaded)

"""What the CLI prints: result rows on stdout, progress lines on stderr.

Rows are rich tables for people, JSON or CSV for scripts. The JSON contract
(ARCHITECTURE.md): a list of objects with lower-case column names, dates as ``YYYY-MM-DD``,
timestamps in ISO-8601 UTC. CSV has a header row and the same values. Progress goes to
stderr, so a command's stdout stays its result: one line per day here (single-day commands),
a bar or one line per item for ranges (:mod:`infra.cli.progress`). Neither stream gets a
terminal escape unless it is a terminal (:class:`PlainAwareConsole`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any, Final

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from glue.transform import TransformResult
    from infra.local.pipeline import Progress
    from ingest.pipeline import IngestResult

#: ``TERM`` of a terminal that cannot move the cursor: a bar would print one line per refresh.
DUMB_TERMINAL: Final = "dumb"


def is_terminal(stream: IO[str] | None = None) -> bool:
    """Whether ``stream`` (default: the current ``sys.stderr``) is a terminal that can show
    colour and a bar: a real tty, and ``TERM`` is not ``dumb``. The overrides that make rich
    write escapes into files (``FORCE_COLOR``, ``TTY_COMPATIBLE``) are deliberately not read:
    a log file full of escape codes is not output a person can trust."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty is not None and isatty())
    except (ValueError, OSError):  # closed, or detached from its descriptor
        return False
    return tty and os.environ.get("TERM", "") != DUMB_TERMINAL


class PlainAwareConsole(Console):
    """A rich console that counts as a terminal only when :func:`is_terminal` says so of the
    file it writes to (or ``force_terminal`` says so: tests). Rich alone takes any file for
    a terminal when ``FORCE_COLOR`` is set, and would write escapes into logs and pipes."""

    @property
    def is_terminal(self) -> bool:
        if self._force_terminal is not None:
            return self._force_terminal
        return is_terminal(self.file)


#: Progress and notes go to stderr; results (tables, json, csv) to stdout.
console = PlainAwareConsole(stderr=True, soft_wrap=True)


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
    console = PlainAwareConsole(soft_wrap=True)
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


def load_line(result: TransformResult) -> str:
    """What one day's load did, and its data-quality verdict when a check failed or rows
    were quarantined: one line."""
    if result.committed:
        line = (
            f"{result.snapshot_date}: {result.inserted} inserted, {result.updated} updated, "
            f"{result.deleted} deleted, {result.quarantined} quarantined; "
            f"snapshot {result.snapshot_id}, tag {result.tag or 'not set'}"
        )
    else:
        line = (
            f"{result.snapshot_date}: {result.rows} rows unchanged, no commit; "
            f"{result.quarantined} quarantined"
        )
    quality = result.quality
    if quality.failed_expectations or quality.quarantined_rows:
        verdict = "passed" if quality.success else "FAILED"
        failed = ", ".join(quality.failed_expectations) or "no expectation"
        line += (
            f"; data quality {verdict}: {quality.quarantined_rows} of {quality.evaluated_rows} "
            f"rows quarantined, failed {failed}; report {quality.report or 'not written'}"
        )
    done = result.compaction
    if done is not None and done.committed:
        line += (
            f"; month {done.month:%Y-%m} compacted: {done.rewritten_files} files into "
            f"{done.added_files}, sorted by artist"
        )
    return line


def ingest_line(result: IngestResult) -> str:
    """What one day's fetch did (without the day): fetched, or found complete."""
    if result.already_complete:
        return f"bronze already complete (run {result.run_id}); --force re-fetches"
    unknown = [i for i in result.missing_ids if i not in result.invalid_ids]
    missing = f", unknown ids: {', '.join(unknown)}" if unknown else ""
    return f"{result.records} artists in {len(result.parts)} parts, run {result.run_id}{missing}"


def roster_error_line(result: IngestResult) -> str | None:
    """The line naming a roster's malformed ids (None when there are none)."""
    if not result.invalid_ids:
        return None
    return (
        f"{result.day}: roster error: {len(result.invalid_ids)} malformed artist id(s) skipped: "
        f"{', '.join(repr(i) for i in result.invalid_ids)} (a Spotify id is 22 letters and "
        "digits); the other artists were fetched"
    )


def say(line: str) -> None:
    """One progress line on stderr: plain text (no markup read, no escapes off a terminal)."""
    console.print(Text(line), soft_wrap=True)


def print_ingested(result: IngestResult) -> None:
    """One line per fetched day, plus one naming the roster's malformed ids if any."""
    say(f"{result.day}: {ingest_line(result)}")
    error = roster_error_line(result)
    if error is not None:
        say(error)


def print_loaded(result: TransformResult) -> None:
    """One line per loaded day, its data-quality verdict in it when a check failed or rows
    were quarantined."""
    say(load_line(result))


def progress_lines() -> Progress:
    """The pipeline's progress for a single-day command (``ingest``, ``transform``, ``run``):
    each stage of the day, when it is done. Ranges use :mod:`infra.cli.progress`."""
    from infra.local.pipeline import Progress

    return Progress(ingested=print_ingested, loaded=print_loaded)

"""Snapshot file plans on disk, so a query that finds its plan never runs pyiceberg.

Why this is sound: an Iceberg metadata file is never rewritten (a commit writes a new one
and points the catalog at it), manifests are immutable, and silver is copy-on-write, so
what a snapshot reads (its data files, their record counts and column bounds, the
table's schema by field id, its load tags) is a pure function of the metadata file's
location and the snapshot id. A query process reads the current location from
``catalog.db`` with :mod:`sqlite3`, and when the entry for that location is here it plans
without parsing the metadata file or any manifest: pyiceberg's planning costs ~0.3-0.5 s
of Python on a cold process (and its import ~0.35 s more). A new commit has a new
location, so it can never be answered from an older entry.

What is stored, per metadata location (:class:`TableEntry`): the table's location, its
current snapshot, its columns (field id, name, DuckDB type, Athena type), the load tags on
its main history as :func:`catalog.iceberg.timetravel.resolve_as_of` sees them (so
``--as-of`` picks the same snapshot by the same rule, see :meth:`TableEntry.as_of`), and
the planned files of every snapshot read so far, unfiltered, with the bounds of their
date and integer columns for pruning (:func:`prune`). Snapshots with delete files, or with
files off this machine, are never stored: they keep pyiceberg's Arrow path.

Where: ``<home>/cache/query-plans/``; on a home this user cannot write (a read-only
mount, another user's), a per-home folder of the user's cache directory
(``$XDG_CACHE_HOME`` or ``~/.cache``). A file carries its key and a checksum of its
content; anything unreadable, partial or not matching is ignored (and rewritten by the
next planning), never trusted. Writes go to a temporary file renamed into place, so a
reader sees the old file or the new one whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from views.outline import ScanPredicate

if TYPE_CHECKING:
    import duckdb

    from catalog.paths import LakehousePaths

#: The folder under the home that holds the plans (beside the warehouse, never in it).
HOME_CACHE_DIR: Final = Path("cache") / "query-plans"
#: Where plans go when the home is read-only: ``$XDG_CACHE_HOME/spotify-lakehouse/...``.
USER_CACHE_ENV: Final = "XDG_CACHE_HOME"
USER_CACHE_APP: Final = "spotify-lakehouse"
#: Set to ``0`` to plan every query afresh with pyiceberg (and write nothing).
CACHE_ENABLED_ENV: Final = "LAKEHOUSE_PLAN_CACHE"
#: Entry files kept per folder; the oldest (by modification time) go first.
MAX_ENTRIES: Final = 256
#: The layout of an entry file; another number is ignored (and rewritten).
FORMAT: Final = 1

#: Bound kinds stored per column: exact for dates and integers (strings are truncated in
#: Iceberg's metrics, so they are never used to prune).
DATE, INT = "date", "int"
#: A constant's kind for a string column (:func:`typed_constant`; never a bound kind).
STRING: Final = "string"


@dataclass(frozen=True)
class CachedColumn:
    """One column of the schema, as ``read_parquet``'s field-id mapping needs it."""

    field_id: int
    name: str
    duckdb_type: str
    athena_type: str
    bound_kind: str | None = None  # DATE or INT when bounds of it are stored


@dataclass(frozen=True)
class CachedFile:
    """A data file of a snapshot: its local path, rows, and ``column -> (lower, upper)``."""

    path: str
    records: int
    bounds: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class TableEntry:
    """What one metadata file says that a query needs (see the module docstring)."""

    metadata_location: str
    location: str
    current_snapshot_id: int | None
    columns: tuple[CachedColumn, ...]
    #: ``(day, snapshot id)`` of every load tag in the main history, oldest first.
    load_tags: tuple[tuple[date, int], ...]
    snapshots: dict[int, tuple[CachedFile, ...]] = field(default_factory=dict)

    def as_of(self, day: date) -> tuple[date, int] | None:
        """``(d*, snapshot id)``: the latest main-history load tag at or before ``day``.

        The tags stored are those :func:`catalog.iceberg.timetravel.resolve_as_of` keeps
        (:func:`~catalog.iceberg.timetravel.main_history_tags`), chosen by the rule's own
        :func:`~catalog.iceberg.tags.as_of_tag`; ``None`` (no tag) sends the read to
        pyiceberg, which raises the rule's own error.
        """
        from catalog.iceberg.tags.rule import LoadTag, as_of_tag, tag_name

        stored = (LoadTag(tag_name(d), d, snapshot_id, None) for d, snapshot_id in self.load_tags)
        chosen = as_of_tag(stored, day)
        return (chosen.day, chosen.snapshot_id) if chosen is not None else None

    def athena_columns(self) -> dict[str, str]:
        return {c.name.lower(): c.athena_type for c in self.columns}


# Where --------------------------------------------------------------------------------------


def enabled() -> bool:
    return os.environ.get(CACHE_ENABLED_ENV, "1").strip() not in ("0", "false", "no", "off")


def cache_dirs(paths: LakehousePaths) -> list[Path]:
    """Folders to look in, the one to write first: the home's, else the user's. A home
    that does not exist is never created by a read (the user's folder is used)."""
    home_dir = paths.home / HOME_CACHE_DIR
    base = os.environ.get(USER_CACHE_ENV) or str(Path.home() / ".cache")
    digest = hashlib.sha256(str(paths.home).encode()).hexdigest()[:16]
    user_dir = Path(base) / USER_CACHE_APP / "query-plans" / digest
    if paths.home.is_dir() and _writable(home_dir):
        return [home_dir]
    return [user_dir, home_dir]


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def _file_name(metadata_location: str) -> str:
    return hashlib.sha256(metadata_location.encode()).hexdigest()[:40] + ".json"


# Reading and writing ------------------------------------------------------------------------


def _checksum(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load(paths: LakehousePaths, metadata_location: str) -> TableEntry | None:
    """The entry for ``metadata_location``, or ``None`` (absent, damaged, or another key)."""
    if not enabled():
        return None
    for folder in cache_dirs(paths):
        entry = _read(folder / _file_name(metadata_location), metadata_location)
        if entry is not None:
            return entry
    return None


def _read(path: Path, metadata_location: str) -> TableEntry | None:
    try:
        document = json.loads(path.read_bytes())
        payload = document["payload"]
        if (
            document.get("format") != FORMAT
            or document.get("sha256") != _checksum(payload)
            or payload["metadata_location"] != metadata_location
        ):
            return None
        return _decode(payload)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None  # partial, corrupt or foreign: planned afresh and rewritten


def store(paths: LakehousePaths, entry: TableEntry) -> None:
    """Write ``entry`` atomically to the first folder that takes it (best effort).

    A cache that cannot be written (full disk, no permission anywhere) costs the next
    query a re-plan, nothing else, so failures here are swallowed.
    """
    if not enabled():
        return
    payload = _encode(entry)
    document = {"format": FORMAT, "sha256": _checksum(payload), "payload": payload}
    data = json.dumps(document, separators=(",", ":")).encode()
    _write(paths, _file_name(entry.metadata_location), data)


def _write(paths: LakehousePaths, name: str, data: bytes) -> None:
    """Write ``name`` atomically (temporary file, then rename) in the first folder that
    takes it; failures are swallowed (a miss costs a re-plan, nothing else)."""
    for folder in cache_dirs(paths):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".plan-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, folder / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            continue
        _trim(folder)
        return


def _trim(folder: Path) -> None:
    try:
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _encode_bound(kind: str | None, value: Any) -> Any:
    return value.isoformat() if kind == DATE and isinstance(value, date) else value


def _encode(entry: TableEntry) -> dict[str, Any]:
    kinds = {c.name: c.bound_kind for c in entry.columns}
    return {
        "metadata_location": entry.metadata_location,
        "location": entry.location,
        "current_snapshot_id": entry.current_snapshot_id,
        "columns": [
            [c.field_id, c.name, c.duckdb_type, c.athena_type, c.bound_kind] for c in entry.columns
        ],
        "load_tags": [[d.isoformat(), s] for d, s in entry.load_tags],
        "snapshots": {
            str(snapshot_id): [
                [
                    f.path,
                    f.records,
                    {
                        name: [
                            _encode_bound(kinds.get(name), lo),
                            _encode_bound(kinds.get(name), hi),
                        ]
                        for name, (lo, hi) in f.bounds.items()
                    },
                ]
                for f in files
            ]
            for snapshot_id, files in entry.snapshots.items()
        },
    }


def _decode_bound(kind: str | None, value: Any) -> Any:
    if value is None:
        return None
    if kind == DATE:
        return date.fromisoformat(value)
    if kind == INT and type(value) is int:
        return value
    raise ValueError(f"bound {value!r} does not fit {kind}")


def _decode(payload: Mapping[str, Any]) -> TableEntry:
    columns = tuple(
        CachedColumn(int(i), str(n), str(d), str(a), k if k in (DATE, INT) else None)
        for i, n, d, a, k in payload["columns"]
    )
    kinds = {c.name: c.bound_kind for c in columns}
    current = payload["current_snapshot_id"]
    return TableEntry(
        metadata_location=str(payload["metadata_location"]),
        location=str(payload["location"]),
        current_snapshot_id=None if current is None else int(current),
        columns=columns,
        load_tags=tuple((date.fromisoformat(d), int(s)) for d, s in payload["load_tags"]),
        snapshots={
            int(snapshot_id): tuple(
                CachedFile(
                    str(path),
                    int(records),
                    {
                        name: (_decode_bound(kinds[name], lo), _decode_bound(kinds[name], hi))
                        for name, (lo, hi) in bounds.items()
                    },
                )
                for path, records, bounds in files
            )
            for snapshot_id, files in payload["snapshots"].items()
        },
    )


# Pruning ------------------------------------------------------------------------------------


def prune(
    connection: duckdb.DuckDBPyConnection,
    entry: TableEntry,
    files: Iterable[CachedFile],
    references: list[tuple[ScanPredicate, ...]] | None,
    until: date | None,
) -> tuple[str, ...]:
    """The files that may hold rows the query keeps: by ``snapshot_date <= until`` and by
    the query's pushable predicates (OR over references, AND within one), on the stored
    bounds. Anything uncertain keeps the file: DuckDB applies the full ``WHERE`` anyway."""
    kinds = {c.name.lower(): (c.name, c.bound_kind) for c in entry.columns}
    alternatives: list[list[tuple[str, str, list[Any]]]] | None = None
    if references is not None:
        alternatives = []
        for predicates in references:
            terms = [t for p in predicates if (t := _term(connection, kinds, p)) is not None]
            if not terms:
                alternatives = None  # this reference needs every row
                break
            alternatives.append(terms)
    kept: list[str] = []
    for cached in files:
        if until is not None and not _may_match(cached, ("snapshot_date", "<=", [until])):
            continue
        if alternatives is not None and not any(
            all(_may_match(cached, term) for term in terms) for terms in alternatives
        ):
            continue
        kept.append(cached.path)
    return tuple(kept)


def _may_match(cached: CachedFile, term: tuple[str, str, list[Any]]) -> bool:
    name, op, values = term
    bounds = cached.bounds.get(name)
    if bounds is None or bounds[0] is None or bounds[1] is None:
        return True
    lower, upper = bounds
    try:
        if op == "in" or op == "=":
            return any(lower <= v <= upper for v in values)
        value = values[0]
        if op == "<":
            return bool(lower < value)
        if op == "<=":
            return bool(lower <= value)
        if op == ">":
            return bool(upper > value)
        if op == ">=":
            return bool(upper >= value)
    except TypeError:
        return True
    return True


def _term(
    connection: duckdb.DuckDBPyConnection,
    kinds: Mapping[str, tuple[str, str | None]],
    predicate: ScanPredicate,
) -> tuple[str, str, list[Any]] | None:
    if predicate.column not in kinds:
        return None
    name, kind = kinds[predicate.column]
    if kind is None:
        return None
    values: list[Any] = []
    for expression in predicate.constants:
        constant = typed_constant(connection, expression, kind)
        if constant is None:
            return None
        values.append(constant)
    return (name, predicate.op, values)


def typed_constant(connection: duckdb.DuckDBPyConnection, expression: str, kind: str) -> Any:
    """A scan predicate's constant evaluated by DuckDB (UTC; ``expression`` was translated
    with Athena's meaning when the query was planned), or None unless it types exactly as a
    column of ``kind`` (``"date"``, ``"int"`` or ``"string"``). The one rule for both read
    paths: the cached plan's bounds here, pyiceberg's row filter in :mod:`views.pushdown`.
    A timestamp at midnight UTC compares with a date column exactly as that date does."""
    import duckdb

    try:
        rows = connection.sql(f"SELECT {expression} AS v").fetchall()
    except duckdb.Error:
        return None
    constant = rows[0][0] if len(rows) == 1 else None
    if kind == DATE:
        if isinstance(constant, str):
            try:
                return date.fromisoformat(constant)
            except ValueError:
                return None
        if isinstance(constant, datetime):
            midnight = constant.time() == time() and constant.utcoffset() in (None, timedelta())
            return constant.date() if midnight else None
        return constant if isinstance(constant, date) else None
    if kind == STRING:
        return constant if isinstance(constant, str) else None
    return constant if type(constant) is int else None


# Translations ---------------------------------------------------------------------------------

#: The modules whose code decides a translation: a change to any of them (or to sqlglot)
#: makes every remembered translation a miss.
_TRANSLATING_MODULES: Final = (
    "capabilities",
    "dialect",
    "outline",
    "parsing",
    "plan",
    "predicates",
    "references",
    "relations",
    "trino_checks",
    "trino_rewrites",
    "trino_types",
)


def _code_fingerprint() -> str:
    global _FINGERPRINT
    if _FINGERPRINT is None:
        digest = hashlib.sha256(_sqlglot_version().encode())
        folder = Path(__file__).parent
        sources = [folder / f"{name}.py" for name in _TRANSLATING_MODULES]
        sources += sorted((folder / "sql").glob("*.sql"))  # the views a query expands
        for source in sources:
            try:
                digest.update(source.name.encode() + b"\0" + source.read_bytes())
            except OSError:  # an installed copy without sources: never a stale hit
                digest.update(os.urandom(16))
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


_FINGERPRINT: str | None = None


def _sqlglot_version() -> str:
    """sqlglot's version from its ``_version.py``, found without importing sqlglot: a query
    whose translations are all remembered never needs sqlglot (75 ms to import)."""
    from importlib.util import find_spec

    spec = find_spec("sqlglot")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            return (Path(folder) / "_version.py").read_text(encoding="utf-8")
        except OSError:
            continue
    return os.urandom(16).hex()  # no version to compare with: never a stale hit


def remembered(paths: LakehousePaths, key: object, compute: Any) -> Any:
    """``compute()``, or what it returned before for ``key`` with the same translating
    code (:data:`_TRANSLATING_MODULES`, sqlglot's version): translating and typing the views
    costs ~0.3 s of sqlglot per process and depends on nothing else. ``key`` and the
    result must be JSON values; a damaged file is a miss, rewritten."""
    text = json.dumps([_code_fingerprint(), key], sort_keys=True, separators=(",", ":"))
    name = "translation-" + hashlib.sha256(text.encode()).hexdigest()[:40] + ".json"
    if enabled():
        for folder in cache_dirs(paths):
            try:
                document = json.loads((folder / name).read_bytes())
                if document.get("key") == text and document.get("sha256") == _checksum(
                    {"value": document["value"]}
                ):
                    return document["value"]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
    value = compute()
    if enabled():
        document = {"key": text, "value": value, "sha256": _checksum({"value": value})}
        _write(paths, name, json.dumps(document, separators=(",", ":")).encode())
    return value

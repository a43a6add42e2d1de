"""The catalog lost, the warehouse kept: find the tables only the warehouse knows, and
register them again at their latest metadata file.

Why: ``<home>/catalog.db`` is the only record of which metadata file is each table's current
one. Deleted (``rm catalog.db*``) or replaced by an empty one, the next load would create a
fresh table in the same folder and start a new history beside the old one, which the old
files' history, tags and snapshots would never rejoin. So writers refuse to run while the
warehouse holds tables the catalog does not know (:func:`require_known_tables`), and
``repair-catalog`` (:func:`repair_catalog`) registers each of them with pyiceberg's
``register_table`` at its newest ``*.metadata.json``: the table's snapshots, tags and
history are in that file, intact.

Reading the catalog here never creates or changes it (a read-only SQLite open), so the
check is safe on a home the user cannot write and in ``doctor``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from catalog.errors import LakehouseError
from catalog.paths import LakehousePaths

#: A metadata file's name: ``00012-<uuid>.metadata.json`` (pyiceberg, Spark) or ``v12...``.
_METADATA: Final = re.compile(r"^v?(?P<version>[0-9]+)[-.].*\.metadata\.json$")


class UnknownTablesError(LakehouseError):
    """The warehouse holds tables the catalog does not know: a write would fork history."""


class CatalogUnreadableError(LakehouseError):
    """The catalog database exists but cannot be read (not a database, malformed)."""


@dataclass(frozen=True)
class WarehouseTable:
    """A table folder of the warehouse and its newest metadata file."""

    namespace: str
    name: str
    metadata: Path

    @property
    def identifier(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def metadata_location(self) -> str:
        return self.metadata.as_uri()


def _version(path: Path) -> tuple[int, int]:
    match = _METADATA.match(path.name)
    return (int(match["version"]) if match else -1, path.stat().st_mtime_ns)


def warehouse_tables(paths: LakehousePaths) -> list[WarehouseTable]:
    """Every table folder under the warehouse (``<ns>[.db]/<table>/metadata/*.metadata.json``),
    each with its newest metadata file (highest version number, then newest)."""
    found: list[WarehouseTable] = []
    if not paths.warehouse.is_dir():
        return found
    for metadata_dir in sorted(paths.warehouse.glob("*/*/metadata")):
        files = [p for p in metadata_dir.glob("*.metadata.json") if p.is_file()]
        if not files:
            continue
        table_dir = metadata_dir.parent
        namespace = table_dir.parent.name.removesuffix(".db")
        found.append(WarehouseTable(namespace, table_dir.name, max(files, key=_version)))
    return found


def catalog_tables(paths: LakehousePaths) -> set[tuple[str, str]]:
    """The (namespace, table) pairs the catalog knows; empty when it does not exist.

    Opened read-only (never created, never put in WAL mode): :class:`CatalogUnreadableError`
    when the file is not a readable catalog.
    """
    db = paths.catalog_db
    if not db.exists():
        return set()
    try:
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
            has_tables = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'iceberg_tables'"
            ).fetchone()
            if has_tables is None:
                return set()
            rows = conn.execute("SELECT table_namespace, table_name FROM iceberg_tables").fetchall()
    except sqlite3.Error as e:
        raise CatalogUnreadableError(catalog_damaged_reason(paths, e)) from e
    return {(str(ns), str(name)) for ns, name in rows}


def catalog_damaged_reason(paths: LakehousePaths, error: BaseException) -> str:
    """The one-line reason (and the way out) for a catalog file SQLite cannot read."""
    return (
        f"the catalog {paths.catalog_db} cannot be read ({error}): restore it from a backup, "
        "or move it and its -wal/-shm files aside and run `spotify-lakehouse repair-catalog` "
        "to register the warehouse's tables again"
    )


def unknown_tables(paths: LakehousePaths) -> list[WarehouseTable]:
    """Tables of the warehouse the catalog does not know (all of them without a catalog)."""
    known = catalog_tables(paths)
    return [t for t in warehouse_tables(paths) if t.identifier not in known]


def require_known_tables(paths: LakehousePaths) -> None:
    """Refuse a write (or a read of a home that lost its catalog) while the warehouse holds
    tables the catalog does not know: :func:`unknown_tables_error` says which and the way out.

    Lists every table's metadata folder, so a long-lived writer asks once (the local
    pipeline does, before its first write), not before every day.
    """
    missing = unknown_tables(paths)
    if missing:
        raise unknown_tables_error(paths, missing)


def unknown_tables_error(
    paths: LakehousePaths, missing: Sequence[WarehouseTable]
) -> UnknownTablesError:
    """The one message for tables only the warehouse knows: a lost catalog (``rm
    catalog.db*``: read commands would see an empty home) or a catalog that lacks some
    (writing now would start a new history beside them); both end in ``repair-catalog``."""
    names = ", ".join(t.qualified_name for t in missing)
    if not paths.catalog_db.exists():
        problem = (
            f"{paths.home} has no catalog ({paths.catalog_db} is missing) but its warehouse "
            f"holds {names}"
        )
    else:
        problem = (
            f"the warehouse {paths.warehouse} holds table(s) the catalog {paths.catalog_db} "
            f"does not know ({names}): writing now would start a new history beside them"
        )
    return UnknownTablesError(
        f"{problem}. Run `spotify-lakehouse --home {paths.home} repair-catalog` first to "
        "register them again"
    )


@dataclass(frozen=True)
class Registered:
    """A table ``repair-catalog`` registered: where, and how much history it brought back."""

    table: str
    metadata: str
    snapshots: int
    tags: int


def repair_catalog(paths: LakehousePaths) -> list[Registered]:
    """Register every table the catalog does not know at its newest metadata file.

    Tables the catalog knows are left as they are. The catalog database is created if it
    is missing (that is the point); a damaged one is refused (move it aside first).
    """
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    from catalog.iceberg.profiles import local_catalog

    missing = unknown_tables(paths)
    if not missing:
        return []
    catalog = local_catalog(paths)
    done: list[Registered] = []
    for table in missing:
        with suppress(NamespaceAlreadyExistsError):
            catalog.create_namespace(table.namespace)
        registered = catalog.register_table(table.identifier, table.metadata_location)
        refs = registered.metadata.refs
        done.append(
            Registered(
                table=table.qualified_name,
                metadata=table.metadata_location,
                snapshots=len(registered.metadata.snapshots),
                tags=sum(1 for ref in refs.values() if ref.snapshot_ref_type == "tag"),
            )
        )
    return done

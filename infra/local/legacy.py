"""``import-legacy``: the original project's history (``YYYY-MM-DD/<artist name>``) into bronze.

Its users' only history is in that layout, so it is brought in as completed bronze days
(:mod:`ingest.legacy` does the reading and writing) and loaded like any other day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalog.bronze.layout import BronzeStore
from catalog.bronze.local import LocalBronzeStore
from catalog.errors import LakehouseError
from catalog.paths import LakehousePaths
from ingest.legacy import ImportedDay, ImportReport, import_legacy, open_legacy_source


class NothingToImportError(LakehouseError):
    """The legacy source holds no ``YYYY-MM-DD/<artist name>`` object."""


@dataclass(frozen=True)
class LegacyImport:
    """What the import did, day by day, and the bronze it wrote to."""

    report: ImportReport
    bronze: str


def bronze_store_for(paths: LakehousePaths, uri: str | None) -> BronzeStore:
    """``--bronze URI`` (a folder or s3://bucket/prefix), or the home's bronze folder."""
    if uri:
        from catalog.bronze.open_store import open_bronze_store

        return open_bronze_store(uri)
    return LocalBronzeStore(paths.ensure().bronze)


def import_history(
    paths: LakehousePaths,
    source: str,
    *,
    bronze: str | None = None,
    force: bool = False,
    on_day: Callable[[ImportedDay, int], object] | None = None,
) -> LegacyImport:
    """Import every day of ``source`` (a folder or ``s3://bucket[/prefix]``) into ``bronze``
    (default: the home's); days already complete are left as they are unless ``force``.
    ``on_day`` hears of each day as soon as it is done, with the number of days found.

    A source without one day object is an error rather than an empty success: it is almost
    always the wrong folder or prefix.
    """
    store = bronze_store_for(paths, bronze)
    report = import_legacy(open_legacy_source(source), store, force=force, on_day=on_day)
    if not report.days:
        raise NothingToImportError(
            f"no YYYY-MM-DD/<artist name> object in {report.source} "
            f"({len(report.ignored_keys)} other key(s) ignored); point SOURCE at the folder or "
            "bucket prefix that holds the date folders"
        )
    return LegacyImport(report, store.location)

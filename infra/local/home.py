"""The home a command works on: read commands never create one (a typo in ``--home`` must
not leave a new empty lakehouse behind)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from catalog.errors import LakehouseError
from catalog.paths import HOME_ENV, LakehousePaths


class HomeMissingError(LakehouseError):
    """The chosen home does not exist, and the command only works on an existing one."""


def require_home(paths: LakehousePaths, verb: str) -> None:
    """Refuse (exit 1) when ``paths.home`` does not exist, naming the way on."""
    if not paths.home.is_dir():
        raise HomeMissingError(
            f"no lakehouse at {paths.home} (nothing to {verb}): check --home / {HOME_ENV}, "
            "or load a day first (`spotify-lakehouse run --simulator --date D`, or demo)"
        )


def for_reading(paths: LakehousePaths) -> tuple[LakehousePaths, Callable[[], None]]:
    """``paths`` for a command that only reads, and what to call when it is done.

    On a home this user can write, ``paths`` as they are. On one it cannot (another user's,
    a read-only mount), SQLite cannot open the WAL-mode catalog at all, so the catalog
    (``catalog.db`` and its ``-wal``, whose commits SQLite replays on open) is copied to a
    private temporary folder and read there: the command sees the catalog as it stood when
    it started, and the home is never written. The copy is removed by the returned call.

    A home whose catalog is missing while its warehouse holds tables is refused with the way
    out (``repair-catalog``) instead of being read as empty.
    """
    db = paths.catalog_db
    if not db.exists():  # lost (``rm catalog.db*``) while the warehouse holds tables?
        # Imported here: it brings pyiceberg, which a query over a present catalog never needs.
        from catalog.iceberg.repair import require_known_tables

        require_known_tables(paths)
    if not db.is_file() or (os.access(paths.home, os.W_OK) and os.access(db, os.W_OK)):
        return paths, _nothing
    folder = Path(tempfile.mkdtemp(prefix="lakehouse-catalog-"))
    try:
        copy = folder / db.name
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return replace(paths, catalog_file=copy), lambda: shutil.rmtree(folder, ignore_errors=True)


def _nothing() -> None:
    """Nothing to clean up."""

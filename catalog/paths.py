"""Where the embedded (one-machine) lakehouse keeps its files.

Everything lives under one home directory (``--home``, env ``LAKEHOUSE_HOME``, default
``./lakehouse``) so that a demo can be thrown away with one ``rm -rf`` and two homes never
share state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Environment variable naming the lakehouse home; the CLI's ``--home`` overrides it.
HOME_ENV = "LAKEHOUSE_HOME"
#: Default home, relative to the working directory (``make demo`` runs from the repo root).
DEFAULT_HOME = "./lakehouse"


@dataclass(frozen=True)
class LakehousePaths:
    """The fixed layout under a lakehouse home."""

    home: Path
    #: The catalog file to open instead of ``<home>/catalog.db``: a private copy of it, taken
    #: by read commands on a home this user cannot write (SQLite cannot open a WAL database
    #: there, not even read-only: it needs to create ``catalog.db-shm`` beside it).
    catalog_file: Path | None = None

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> LakehousePaths:
        chosen = home if home is not None else os.environ.get(HOME_ENV, DEFAULT_HOME)
        return cls(Path(chosen).expanduser().resolve())

    @property
    def bronze(self) -> Path:
        return self.home / "bronze"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse"

    @property
    def catalog_db(self) -> Path:
        return self.catalog_file or self.home / "catalog.db"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    def ensure(self) -> LakehousePaths:
        for directory in (self.home, self.bronze, self.warehouse, self.reports):
            if not directory.is_dir():  # an existing home is not touched (it may be read-only)
                directory.mkdir(parents=True, exist_ok=True)
        return self

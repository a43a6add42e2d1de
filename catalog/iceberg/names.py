"""The catalog's names, importable without pyiceberg.

:mod:`catalog.iceberg.tables` (the table definitions, built from pyiceberg's schema types) and
:mod:`catalog.iceberg.profiles` (the catalogs) own these names and re-export them; they live
here because a ``query`` process names the namespace and the catalog on every run and should
not pay for importing pyiceberg (~0.4 s with pydantic) to learn two strings. The query path
reads Iceberg metadata without pyiceberg when its file plan is cached (:mod:`views.plan_cache`).
"""

from __future__ import annotations

from typing import Final

#: Glue database / Iceberg namespace of every table.
NAMESPACE: Final = "spotify"
#: Catalog name shared by Spark and pyiceberg; rows in the SQLite catalog are keyed by it.
CATALOG_NAME: Final = "lakehouse"

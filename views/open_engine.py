"""Opening an engine by name (``--engine local|athena``) with the catalog it reads.

Imports are per engine, inside the functions: ``query`` on the local engine is a short
process whose time is mostly imports, and must not pay for pyathena and boto3 (Athena),
nor for the catalog profiles (SQLAlchemy for the SQL catalog, boto3 for Glue) that only
writes and ``--engine athena`` need. The local engine reads table metadata itself
(:mod:`views.tables`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from views.engine import EngineName, QueryEngine
from views.errors import AthenaUnavailableError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from catalog.paths import LakehousePaths

#: S3 URI of the Glue catalog's warehouse (``s3://bucket/warehouse``), for --engine athena.
ENV_WAREHOUSE: Final = "LAKEHOUSE_WAREHOUSE"


@dataclass(frozen=True)
class GlueSettings:
    """The Glue catalog behind Athena, from ``LAKEHOUSE_WAREHOUSE`` and ``AWS_REGION``."""

    warehouse: str
    region: str
    endpoint_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GlueSettings:
        env = os.environ if environ is None else environ
        warehouse = env.get(ENV_WAREHOUSE, "")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
        if not warehouse.startswith("s3://") or not region:
            raise AthenaUnavailableError(
                f"--engine athena needs {ENV_WAREHOUSE}=s3://<bucket>/warehouse and AWS_REGION "
                "to reach the Glue catalog (for --as-of and views deploy); got "
                f"{ENV_WAREHOUSE}={warehouse!r}, AWS_REGION={region!r}."
            )
        return cls(warehouse, region, env.get("AWS_ENDPOINT_URL") or None)

    def catalog(self) -> Catalog:
        from catalog.iceberg.profiles import glue_catalog

        return glue_catalog(
            warehouse=self.warehouse,
            region=self.region,
            glue_endpoint=self.endpoint_url,
            s3_endpoint=self.endpoint_url,
        )


def open_engine(name: EngineName, paths: LakehousePaths) -> QueryEngine:
    """The engine ``name``: DuckDB over ``paths``, or Athena configured from the environment."""
    if name == "local":
        from views.local import LocalEngine

        return LocalEngine(paths)
    if name == "athena":
        from views.athena import AthenaEngine, AthenaSettings

        return AthenaEngine(AthenaSettings.from_env(), lambda: GlueSettings.from_env().catalog())
    raise ValueError(f"engine must be 'local' or 'athena', got {name!r}")


def open_catalog(name: EngineName, paths: LakehousePaths) -> Catalog:
    """The Iceberg catalog the engine ``name`` reads: the home's SQLite one, or Glue."""
    if name == "local":
        from catalog.iceberg.profiles import local_catalog

        return local_catalog(paths)
    if name == "athena":
        return GlueSettings.from_env().catalog()
    raise ValueError(f"engine must be 'local' or 'athena', got {name!r}")

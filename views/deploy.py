"""``spotify-lakehouse views deploy``: the tables first, then every view from its file.

The same ``views/sql`` file creates the view on both engines: Athena runs it as is
(``CREATE OR REPLACE VIEW``), the local engine translates and checks it against the live
tables (it creates views per query, so nothing is stored). Tables come from the one
definition in :mod:`catalog.iceberg.tables`, through whichever pyiceberg catalog the engine reads.
"""

from __future__ import annotations

from pyiceberg.catalog import Catalog

from catalog.iceberg.tables import ensure_tables
from views.engine import QueryEngine
from views.parsing import view_definitions


def deploy_views(engine: QueryEngine, catalog: Catalog) -> list[str]:
    """Ensure every table exists in ``catalog``, then create or replace every view.

    Returns the qualified names of the views deployed, in deployment order (file order;
    a view reading another view must sort after it).
    """
    ensure_tables(catalog)
    deployed: list[str] = []
    for view in view_definitions().values():
        engine.deploy_view(view)
        deployed.append(view.qualified_name)
    return deployed

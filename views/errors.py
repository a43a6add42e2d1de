"""Errors of the query layer. Each says what failed and what to do next; the CLI prints
the message on one line and exits 1 (they are :class:`~catalog.errors.LakehouseError`)."""

from __future__ import annotations

from catalog.errors import LakehouseError


class QueryError(LakehouseError):
    """A query cannot run as written (parse error, unsupported statement, engine failure)."""


class UnknownTableError(QueryError):
    """The query names a table or view that the lakehouse does not have."""

"""Errors of the query layer. Each says what failed and what to do next; the CLI prints
the message on one line and exits 1 (they are :class:`~catalog.errors.LakehouseError`)."""

from __future__ import annotations

from catalog.errors import LakehouseError


class QueryError(LakehouseError):
    """A query cannot run as written (parse error, unsupported statement, engine failure)."""


class UnknownTableError(QueryError):
    """The query names a table or view that the lakehouse does not have."""


class AthenaQueryError(QueryError):
    """Athena ran the query and it ended FAILED or CANCELLED.

    Carries the query execution id (to look it up in the console or CloudTrail), the final
    state, Athena's reason and its error category (1 system, 2 user, 3 other).
    """

    def __init__(
        self,
        message: str,
        *,
        query_id: str | None,
        state: str | None,
        reason: str | None,
        error_category: int | None = None,
        data_scanned_bytes: int | None = None,
    ) -> None:
        super().__init__(message)
        self.query_id = query_id
        self.state = state
        self.reason = reason
        self.error_category = error_category
        self.data_scanned_bytes = data_scanned_bytes


class ScanLimitExceededError(AthenaQueryError):
    """Athena cancelled the query: it scanned more than the workgroup's per-query limit."""


class AthenaUnavailableError(QueryError):
    """The query never ran: Athena refused the request (workgroup, permissions, settings)."""


class AthenaRejectsError(QueryError):
    """Athena (Trino) would refuse this query, so the local engine refuses it too.

    The message quotes the offending expression, gives the error Athena would report and
    says how to write it in Athena SQL: a query that runs locally also runs on Athena.
    """

"""The Athena engine: the same Athena SQL, run by Amazon Athena (engine v3) through pyathena.

How a query runs (:meth:`AthenaEngine.execute`):

1. Without ``as_of`` the SQL goes to Athena exactly as written: the gold view exists in the
   Glue database (``spotify-lakehouse views deploy --engine athena``), and Athena itself
   understands ``FOR VERSION|TIMESTAMP AS OF`` and ``"artists_silver$snapshots"``.
2. With ``as_of=D`` each Iceberg table the query reads, through views too
   (:func:`views.plan.plan_query`), is resolved by the snapshot-date rule
   (:func:`catalog.iceberg.timetravel.resolve_as_of`, on the table's metadata loaded from the Glue
   catalog through pyiceberg), and :func:`views.plan.athena_as_of_sql` rewrites the query:
   views inlined, every table ``FOR VERSION AS OF <id>`` with ``snapshot_date <= D``.
3. pyathena starts the execution in the workgroup (its output location, or the one given),
   with ``spotify`` as the default database, polls until a terminal state, and converts the
   values by their Athena types (``date`` to :class:`datetime.date`, ``bigint`` to int,
   ``timestamp with time zone`` to an aware datetime; a plain ``timestamp`` is taken as UTC,
   Athena's session zone).

Failures become our errors (raise-from keeps the pyathena/botocore cause):
:class:`ScanLimitExceededError` when the workgroup's per-query scan limit cancelled the
query, :class:`AthenaQueryError` for any other FAILED/CANCELLED execution (with its id and
Athena's reason), :class:`AthenaUnavailableError` when Athena refused the request itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import pyathena
from pyathena.error import Error as PyAthenaError
from pyathena.model import AthenaQueryExecution
from pyiceberg.catalog import Catalog

from catalog.iceberg.names import NAMESPACE
from catalog.iceberg.timetravel import resolve_as_of
from views.engine import QueryEngine, QueryResult, TableRead
from views.errors import AthenaQueryError, AthenaUnavailableError, ScanLimitExceededError
from views.plan import ViewDefinition, athena_as_of_sql, plan_query
from views.tables import load_table

#: Environment read by :meth:`AthenaSettings.from_env` (the CLI's ``--engine athena``).
ENV_WORKGROUP: Final = "ATHENA_WORKGROUP"
ENV_OUTPUT_LOCATION: Final = "ATHENA_OUTPUT_LOCATION"
ENV_DATABASE: Final = "ATHENA_DATABASE"
ENV_POLL_INTERVAL: Final = "ATHENA_POLL_INTERVAL"

#: What to do about a table missing from the Glue catalog.
_DEPLOY_TABLES: Final = (
    "Check the name, or deploy the tables (spotify-lakehouse views deploy --engine athena) "
    "and load a day first."
)

#: What Athena says when a workgroup's per-query data usage control cancels a query.
_SCAN_LIMIT_MARKERS: Final = ("bytes scanned limit", "scanned limit was exceeded")


@dataclass(frozen=True)
class AthenaSettings:
    """Where and how queries run on Athena.

    ``output_location`` (``s3://bucket/athena-results/``) may be left out when the
    workgroup enforces its own result location, as the stack's workgroup does.
    ``endpoint_url`` is for tests against moto and is never set on AWS.
    """

    work_group: str = "primary"
    output_location: str | None = None
    database: str = NAMESPACE
    catalog_name: str = "awsdatacatalog"
    region: str | None = None
    endpoint_url: str | None = None
    poll_interval: float = 1.0

    def __post_init__(self) -> None:
        if not self.work_group:
            raise ValueError("work_group must name an Athena workgroup, got ''")
        if self.output_location is not None and not self.output_location.startswith("s3://"):
            raise ValueError(f"output_location must be an s3:// URI, got {self.output_location!r}")
        if not self.poll_interval > 0:
            raise ValueError(f"poll_interval must be > 0 seconds, got {self.poll_interval}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AthenaSettings:
        """Settings from ``ATHENA_WORKGROUP``, ``ATHENA_OUTPUT_LOCATION``, ``ATHENA_DATABASE``,
        ``ATHENA_POLL_INTERVAL`` and the standard ``AWS_REGION``/``AWS_ENDPOINT_URL``."""
        env = os.environ if environ is None else environ
        interval = env.get(ENV_POLL_INTERVAL, "1.0")
        try:
            poll_interval = float(interval)
        except ValueError as e:
            raise ValueError(f"{ENV_POLL_INTERVAL} must be seconds, got {interval!r}") from e
        return cls(
            work_group=env.get(ENV_WORKGROUP, "primary"),
            output_location=env.get(ENV_OUTPUT_LOCATION) or None,
            database=env.get(ENV_DATABASE, NAMESPACE),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            poll_interval=poll_interval,
        )


class AthenaEngine(QueryEngine):
    """Athena SQL on Amazon Athena; ``catalog`` (Glue, pyiceberg) resolves ``--as-of``.

    ``catalog`` may be a factory so that a query without ``as_of`` never opens it.
    """

    def __init__(
        self,
        settings: AthenaSettings,
        catalog: Catalog | Callable[[], Catalog] | None = None,
    ) -> None:
        self.settings = settings
        self._catalog = catalog
        #: Every execution status seen by the last :meth:`execute` (polling, for the record).
        self.polls: list[AthenaQueryExecution] = []

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise AthenaUnavailableError(
                "--as-of on Athena needs the Glue catalog to resolve snapshot tags: set "
                "LAKEHOUSE_WAREHOUSE (s3://bucket/warehouse) and AWS_REGION."
            )
        if not isinstance(self._catalog, Catalog):
            self._catalog = self._catalog()
        return self._catalog

    def execute(self, sql: str, *, as_of: date | None = None) -> QueryResult:
        if as_of is None:
            columns, rows = self._run(sql)
            return QueryResult(columns=columns, rows=rows)
        plan = plan_query(sql)
        reads: list[TableRead] = []
        versions: dict[str, tuple[int, date]] = {}
        for name in sorted(plan.tables):
            table = load_table(self.catalog, name, hint=_DEPLOY_TABLES)
            resolved = resolve_as_of(table, as_of)
            versions[name] = (resolved.snapshot_id, as_of)
            reads.append(TableRead(f"{NAMESPACE}.{name}", resolved.snapshot_id, resolved))
        columns, rows = self._run(athena_as_of_sql(sql, versions))
        return QueryResult(columns=columns, rows=rows, reads=tuple(reads))

    def deploy_view(self, view: ViewDefinition) -> None:
        """Run the view's file as is: ``CREATE OR REPLACE VIEW spotify.<name> AS ...``."""
        self._run(view.athena_sql)

    def _run(self, sql: str) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...]]:
        self.polls = []
        try:
            connection = pyathena.connect(**self._connect_kwargs())
            with connection, connection.cursor() as cursor:
                cursor.execute(sql)
                description = cursor.description or []
                fetched = cursor.fetchall() if description else []
        except PyAthenaError as e:
            raise self._translate(e) from e
        columns = tuple(str(d[0]).lower() for d in description)
        types = [str(d[1]).lower() for d in description]
        rows = tuple(
            tuple(_typed(v, t) for v, t in zip(row, types, strict=True)) for row in fetched
        )
        return columns, rows

    def _connect_kwargs(self) -> dict[str, Any]:
        settings = self.settings
        kwargs: dict[str, Any] = {
            "work_group": settings.work_group,
            "schema_name": settings.database,
            "catalog_name": settings.catalog_name,
            "poll_interval": settings.poll_interval,
            "on_poll": self.polls.append,
            # an empty string stops pyathena falling back to AWS_ATHENA_S3_STAGING_DIR
            "s3_staging_dir": settings.output_location or "",
        }
        if settings.region:
            kwargs["region_name"] = settings.region
        if settings.endpoint_url:
            kwargs["endpoint_url"] = settings.endpoint_url
        return kwargs

    def _translate(self, error: PyAthenaError) -> Exception:
        last = self.polls[-1] if self.polls else None
        if last is None or last.state not in {
            AthenaQueryExecution.STATE_FAILED,
            AthenaQueryExecution.STATE_CANCELLED,
        }:
            return AthenaUnavailableError(
                f"Athena did not run the query: {error}. Check the workgroup "
                f"{self.settings.work_group!r}, its output location, the database "
                f"{self.settings.database!r} and the credentials (AWS_PROFILE/AWS_REGION)."
            )
        reason = last.state_change_reason or last.error_message or str(error)
        error_class: type[AthenaQueryError] = AthenaQueryError
        message = f"Athena query {last.query_id} {last.state}: {reason}"
        if any(marker in reason.lower() for marker in _SCAN_LIMIT_MARKERS):
            scanned = last.data_scanned_in_bytes
            amount = f" after {scanned:,} bytes" if scanned else ""
            error_class = ScanLimitExceededError
            message = (
                f"Athena cancelled query {last.query_id}{amount}: it scans more than the "
                f"per-query limit of workgroup {self.settings.work_group!r} ({reason}). "
                "Narrow it (a snapshot_date range prunes monthly partitions), or raise the "
                "workgroup's BytesScannedCutoffPerQuery."
            )
        return error_class(
            message,
            query_id=last.query_id,
            state=last.state,
            reason=reason,
            error_category=last.error_category,
            data_scanned_bytes=last.data_scanned_in_bytes,
        )


def _typed(value: object, athena_type: str) -> object:
    """Athena's session zone is UTC: a naive ``timestamp`` value is a UTC moment."""
    if isinstance(value, datetime) and value.tzinfo is None and athena_type.startswith("timestamp"):
        return value.replace(tzinfo=UTC)
    return value

"""The query-engine seam: one interface, two engines behind it.

The CLI's ``query`` and ``views deploy`` commands, ``demo`` and the tests talk to
:class:`QueryEngine` only, so the same Athena SQL runs on one machine
(:class:`views.local.LocalEngine`, DuckDB) or on AWS (:class:`views.athena.AthenaEngine`,
through pyathena) without the caller knowing which; :mod:`views.open_engine` opens one by
name. This module imports neither engine, so naming one costs no DuckDB or boto3 import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from catalog.iceberg.tags.rule import ChosenTag
    from views.parsing import ViewDefinition

#: The engines ``query --engine`` and ``views deploy --engine`` choose between.
EngineName = Literal["local", "athena"]


@dataclass(frozen=True)
class TableRead:
    """Which version of an Iceberg table a query read: for the record, and for ``--as-of``.

    ``snapshot_id`` is ``None`` for a table with no snapshot yet (read as empty); ``as_of``
    is set when the read followed the snapshot-date rule.
    """

    table: str
    snapshot_id: int | None
    as_of: ChosenTag | None = None


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query, with lower-case column names (the CLI's json contract)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    reads: tuple[TableRead, ...] = ()

    def to_records(self) -> list[dict[str, object]]:
        """One dict per row keyed by lower-case column name; a repeated name gets ``_2`` ...

        The same naming as ``--format json`` (:func:`infra.cli.output.distinct_names`), so no
        column of Athena's result set is lost.
        """
        names: list[str] = []
        for column in self.columns:
            name, n = column, 2
            while name in names or (name != column and name in self.columns):
                name, n = f"{column}_{n}", n + 1
            names.append(name)
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[object]:
        """The values of one column, by (case-insensitive) name."""
        index = self.columns.index(name.lower())
        return [row[index] for row in self.rows]


class QueryEngine(ABC):
    """Runs one Athena (Trino) SQL query, optionally as of a snapshot date.

    ``as_of=D`` reads every Iceberg table the query touches, through views too, at the
    snapshot the time-travel rule picks (:func:`catalog.iceberg.timetravel.resolve_as_of`) with
    ``snapshot_date <= D`` applied; a table without a load tag at or before D raises
    :class:`catalog.iceberg.timetravel.NoSnapshotAsOfError` rather than reading the current state.
    Dates come back as :class:`datetime.date`, timestamps as aware UTC datetimes.
    """

    @abstractmethod
    def execute(self, sql: str, *, as_of: date | None = None) -> QueryResult:
        """Run ``sql`` and return all its rows."""

    @abstractmethod
    def deploy_view(self, view: ViewDefinition) -> None:
        """Deploy ``view`` from its ``views/sql`` file: Athena runs the DDL as is; the local
        engine, which creates views per query, checks it against the live tables."""

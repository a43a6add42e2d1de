"""Run the suites: one ephemeral Great Expectations context per process, reused.

Building a context, registering datasources and suites and GX's first validation cost
seconds; a backfill validates dozens of days, so all of that happens once per process
(:func:`quality_context`). The context is ephemeral (in memory): nothing is written into
the working directory, no Data Docs, no network. Progress bars are off.

A day at or below :attr:`QualitySettings.pandas_max_rows` is validated as a pandas copy,
a larger one as a Spark frame: the same suite either way, failing rows identified by the
row id column (``unexpected_index_column_names``).

Most days pass every expectation, and then GX's detailed answer (``COMPLETE``: every
unexpected value and row id) says nothing a count does not: each row-level expectation
evaluated every row and found none unexpected, the row count is the row count. So a suite is
first run with GX's cheapest result format (``BOOLEAN_ONLY``: each expectation evaluated,
only its verdict returned, about a third of the cost for a 20-row day); when every verdict
is a pass, the outcomes are those counts (:func:`clean_outcomes`, equal to what ``COMPLETE``
returns for such a batch: the tests compare them), and only a day where something failed
(or warned) is run again in ``COMPLETE`` for its details. Every expectation is evaluated by
GX on every day either way.

The silver suite's cross-day checks (:mod:`expectations.cross_day`) run in the same
validation: their bounds are parameters of the day (from the previous load), their
severities a setting; a severity other than the default gets a suite of its own, built once
per process (:meth:`QualityContext.silver_suite_for`).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal

from catalog.errors import LakehouseError
from expectations.cross_day import PreviousLoad, with_basis
from expectations.frame import (
    BRONZE_CHECK_COLUMNS,
    SILVER_CHECK_COLUMNS,
    PartCheck,
    pandas_frame,
    spark_frame,
)
from expectations.suites import (
    ARTIST_DAY_UNIQUE,
    ARTIST_ID_PRESENT,
    BRONZE_SUITE,
    CRITICAL,
    PARAM_DAY,
    PARAM_MAX_CHANGE,
    PARAM_MAX_ROWS,
    ROW_ID,
    SILVER_SUITE,
    SNAPSHOT_DATE_IS_DAY,
    CrossDaySettings,
    bronze_expectations,
    build_suite,
    silver_expectations,
)

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.data_context.data_context.abstract_data_context import (
        AbstractDataContext,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
    from pyspark.sql import SparkSession

Engine = Literal["pandas", "spark"]

#: Unexpected values kept per expectation as its observed value (the report and dq_results
#: show a sample; the quarantine table has every failing record).
OBSERVED_SAMPLE: Final = 5


class ValidationRunError(LakehouseError):
    """A suite could not be evaluated (GX raised inside an expectation): nothing is loaded."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict on one day."""

    suite: str
    name: str
    severity: str
    success: bool
    evaluated_rows: int | None
    unexpected_count: int | None
    observed_value: Any  # JSON-ready: the observed value, or a sample of unexpected values
    unexpected_row_ids: tuple[int, ...] = ()
    row_level: bool = True

    @property
    def critical(self) -> bool:
        return self.severity == CRITICAL


@dataclass(frozen=True)
class SuiteOutcome:
    """A suite's verdict on one day: every expectation, in suite order."""

    suite: str
    engine: Engine
    results: tuple[ExpectationOutcome, ...]
    seconds: float
    evaluated_rows: int

    @property
    def success(self) -> bool:
        """Every critical expectation held (warnings never fail a suite)."""
        return all(r.success for r in self.results if r.critical)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success]

    def row_failures(self, *, severity: str = CRITICAL) -> dict[int, list[str]]:
        """Row id -> names of the row-level expectations of ``severity`` it failed."""
        failures: dict[int, list[str]] = {}
        for result in self.results:
            if result.severity != severity:
                continue
            for row_id in result.unexpected_row_ids:
                failures.setdefault(row_id, []).append(result.name)
        return failures


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of a GX result value (numpy scalars, dates, NaN, nested)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        return jsonable(item())
    text = str(value)
    return None if text in {"<NA>", "NaT", "nan"} else text  # pandas' missing markers


def _name_and_severity(config: ExpectationConfiguration) -> tuple[str, str]:
    name = str((config.meta or {}).get("name") or config.type)
    severity = str(getattr(config, "severity", CRITICAL) or CRITICAL)
    return name, severity.rsplit(".", 1)[-1].lower()  # FailureSeverity.CRITICAL -> critical


def _outcome(suite: str, result: ExpectationValidationResult) -> ExpectationOutcome:
    config = result.expectation_config
    if config is None:
        raise ValidationRunError(f"GX returned a {suite} result without its expectation")
    name, severity = _name_and_severity(config)
    info = result.exception_info or {}
    if isinstance(info, dict) and info.get("raised_exception"):
        raise ValidationRunError(
            f"the {suite} expectation {name} could not be evaluated: "
            f"{info.get('exception_message') or 'GX gave no message'}; nothing was loaded. "
            "This is a bug in the suite "
            "or its input frame, not in the data: report it with the job log"
        )
    body: dict[str, Any] = dict(result.result or {})
    index_list = body.get("unexpected_index_list")
    row_level = index_list is not None
    row_ids = tuple(sorted({int(item[ROW_ID]) for item in index_list or ()}))
    if "observed_value" in body:
        observed = jsonable(body["observed_value"])
    else:
        sample: list[Any] = []
        for value in body.get("unexpected_list") or ():
            plain = jsonable(value)
            if plain not in sample:
                sample.append(plain)
            if len(sample) == OBSERVED_SAMPLE:
                break
        observed = {"unexpected_sample": sample} if sample else None
    unexpected = body.get("unexpected_count")
    evaluated = body.get("element_count")
    return ExpectationOutcome(
        suite=suite,
        name=name,
        severity=severity,
        success=bool(result.success),
        evaluated_rows=int(evaluated) if evaluated is not None else None,
        unexpected_count=int(unexpected) if unexpected is not None else None,
        observed_value=observed,
        unexpected_row_ids=row_ids,
        row_level=row_level,
    )


def _outcomes(
    suite: ExpectationSuite, validation: ExpectationSuiteValidationResult
) -> tuple[ExpectationOutcome, ...]:
    """Results in suite order (GX returns them grouped by metric, not as defined)."""
    by_name = {o.name: o for o in (_outcome(suite.name, r) for r in validation.results)}
    order = [str((e.meta or {}).get("name")) for e in suite.expectations]
    missing = [n for n in order if n not in by_name]
    if missing:
        raise ValidationRunError(f"GX returned no result for {', '.join(missing)}")
    return tuple(by_name[n] for n in order)


def clean_outcomes(suite: ExpectationSuite, rows: int) -> tuple[ExpectationOutcome, ...] | None:
    """The outcomes ``COMPLETE`` gives for a batch of ``rows`` rows on which every
    expectation of ``suite`` held: a row-level expectation evaluated every row, found none
    unexpected and observed nothing; a row-count expectation observed the row count; the
    distinct count of ``artist_id`` observed the row count too, when the suite also has
    ``artist_id_present``, ``snapshot_date_is_day`` and ``artist_day_unique`` (all held: no
    null id, one day, no id twice, so every id is distinct). ``None`` when the suite has an
    expectation of another kind (its answer is not known without asking GX for it)."""
    from great_expectations.expectations.core import (
        expect_column_unique_value_count_to_be_between as unique_count,
    )
    from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
        ExpectTableRowCountToBeBetween,
    )
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    names = {_name_and_severity(e.configuration)[0] for e in suite.expectations}
    outcomes: list[ExpectationOutcome] = []
    for expectation in suite.expectations:
        name, severity = _name_and_severity(expectation.configuration)
        if isinstance(expectation, ExpectTableRowCountToBeBetween):
            outcome = ExpectationOutcome(
                suite.name, name, severity, True, None, None, rows, row_level=False
            )
        elif isinstance(expectation, unique_count.ExpectColumnUniqueValueCountToBeBetween):
            if expectation.column != "artist_id" or not _DISTINCT_IDS.issubset(names):
                return None
            outcome = ExpectationOutcome(
                suite.name, name, severity, True, None, None, rows, row_level=False
            )
        elif isinstance(
            expectation, ColumnMapExpectation | MulticolumnMapExpectation | ColumnPairMapExpectation
        ):
            outcome = ExpectationOutcome(suite.name, name, severity, True, rows, 0, None)
        else:
            return None
        outcomes.append(outcome)
    return tuple(outcomes)


#: The silver expectations that, all held, make every ``artist_id`` of a batch distinct.
_DISTINCT_IDS: Final = frozenset({ARTIST_ID_PRESENT, SNAPSHOT_DATE_IS_DAY, ARTIST_DAY_UNIQUE})


def _all_held(validation: ExpectationSuiteValidationResult) -> bool:
    """Every expectation was evaluated (none raised) and held."""
    for result in validation.results:
        info = result.exception_info or {}
        if not result.success or (isinstance(info, dict) and info.get("raised_exception")):
            return False
    return True


def _with_defaults(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with the cross-day ones a caller did not give at their defaults (no
    previous load: the day-level checks compare with nothing), so a caller that predates
    the cross-day checks still runs the suite."""
    return {**CrossDaySettings().day_parameters(None, None), **parameters}


class QualityContext:
    """The process's GX context: suites and datasources registered once, then reused."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context: AbstractDataContext = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._context = context
        self.silver_suite = context.suites.add(build_suite(SILVER_SUITE, silver_expectations()))
        #: Silver suites by cross-day severities (:meth:`silver_suite_for`).
        self._silver_suites: dict[tuple[str, ...], ExpectationSuite] = {
            CrossDaySettings().severities: self.silver_suite
        }
        self.bronze_suite = context.suites.add(build_suite(BRONZE_SUITE, bronze_expectations()))
        pandas_source = context.data_sources.add_pandas("frames_pandas")
        self._pandas = pandas_source.add_dataframe_asset(
            "rows"
        ).add_batch_definition_whole_dataframe("whole")
        self._spark: BatchDefinition[Any] | None = None
        self._lock = threading.Lock()  # GX contexts are not documented as thread-safe

    def silver_suite_for(self, cross_day: CrossDaySettings) -> ExpectationSuite:
        """The silver suite with the cross-day severities of ``cross_day``: the registered
        one for the defaults, otherwise one built on first use and kept (not registered:
        the context holds one suite per name, and every variant is ``silver``, the name the
        results carry; a batch validates a suite it is handed either way)."""
        key = cross_day.severities
        suite = self._silver_suites.get(key)
        if suite is None:
            suite = build_suite(SILVER_SUITE, silver_expectations(cross_day))
            self._silver_suites[key] = suite
        return suite

    def _spark_batches(self) -> BatchDefinition[Any]:
        if self._spark is None:
            # force_reuse_spark_context: GX takes the running session, never builds its own.
            source = self._context.data_sources.add_spark(
                "frames_spark", force_reuse_spark_context=True, persist=False
            )
            self._spark = source.add_dataframe_asset("rows").add_batch_definition_whole_dataframe(
                "whole"
            )
        return self._spark

    def _run(
        self,
        suite: ExpectationSuite,
        batches: BatchDefinition[Any],
        frame: Any,
        parameters: Mapping[str, Any],
    ) -> ExpectationSuiteValidationResult:
        """The suite on the frame, with every detail (``COMPLETE``)."""
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]}
        batch = batches.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(
            suite, expectation_parameters=_with_defaults(parameters), result_format=result_format
        )

    def _validate(
        self,
        suite: ExpectationSuite,
        batches: BatchDefinition[Any],
        frame: Any,
        parameters: Mapping[str, Any],
        rows: int,
    ) -> tuple[ExpectationOutcome, ...]:
        """Verdicts first (``BOOLEAN_ONLY``); the details only if something did not hold."""
        clean = clean_outcomes(suite, rows)
        if clean is not None:
            batch = batches.get_batch(batch_parameters={"dataframe": frame})
            verdicts = batch.validate(
                suite,
                expectation_parameters=_with_defaults(parameters),
                result_format={"result_format": "BOOLEAN_ONLY"},
            )
            if len(verdicts.results) == len(clean) and _all_held(verdicts):
                return clean
        return _outcomes(suite, self._run(suite, batches, frame, parameters))

    def validate_silver(
        self,
        rows: Sequence[tuple[Any, ...]],
        *,
        day: date,
        max_rows: int | None,
        max_daily_follower_change: float,
        engine: Engine,
        spark: SparkSession | None = None,
        cross_day: CrossDaySettings | None = None,
        previous_load: PreviousLoad | None = None,
    ) -> SuiteOutcome:
        """Validate the day's rows (from :func:`expectations.frame.silver_check_rows`).

        ``cross_day``: the cross-day bounds and severities (default: the defaults);
        ``previous_load``: the latest earlier day silver has (from the same history as the
        rows' cross-day columns), which the day-level cross-day checks compare with (None:
        nothing to compare with, they hold). Their observed values name what they were
        compared with (:func:`expectations.cross_day.with_basis`).
        """
        cross = cross_day or CrossDaySettings()
        parameters: dict[str, Any] = {
            PARAM_DAY: [day],
            PARAM_MAX_ROWS: max_rows,
            PARAM_MAX_CHANGE: max_daily_follower_change,
            **cross.day_parameters(
                previous_load.rows if previous_load else None,
                previous_load.artists if previous_load else None,
            ),
        }
        suite = self.silver_suite_for(cross)
        started = time.perf_counter()
        with self._lock:
            if engine == "spark":
                if spark is None:
                    raise ValueError("validating on Spark needs the SparkSession")
                batches, frame = self._spark_batches(), spark_frame(spark, rows)
            else:
                columns = [name for name, _ in SILVER_CHECK_COLUMNS]
                batches, frame = self._pandas, pandas_frame(columns, rows)
            results = self._validate(suite, batches, frame, parameters, len(rows))
        results = tuple(
            replace(
                r, observed_value=with_basis(r.name, r.observed_value, previous_load, parameters)
            )
            for r in results
        )
        return SuiteOutcome(
            suite=SILVER_SUITE,
            engine=engine,
            results=results,
            seconds=time.perf_counter() - started,
            evaluated_rows=len(rows),
        )

    def validate_bronze(self, parts: Sequence[PartCheck]) -> SuiteOutcome:
        """Validate the manifest-listed parts (always pandas: one row per part)."""
        started = time.perf_counter()
        rows = [part.as_row(index) for index, part in enumerate(parts)]
        with self._lock:
            results = self._validate(
                self.bronze_suite,
                self._pandas,
                pandas_frame(BRONZE_CHECK_COLUMNS, rows),
                {},
                len(rows),
            )
        return SuiteOutcome(
            suite=BRONZE_SUITE,
            engine="pandas",
            results=results,
            seconds=time.perf_counter() - started,
            evaluated_rows=len(rows),
        )


@functools.cache
def quality_context() -> QualityContext:
    """The process-wide context (GX import and setup: ~3 s, paid once)."""
    return QualityContext()

"""The data-quality suites, defined in code: what a day must satisfy to reach silver.

Two Great Expectations suites, built once per process and reused for every day (a suite's
day-specific values are expectation parameters, filled in at validation time):

* ``silver``: one row per candidate record of the day, the silver columns plus a few
  columns computed only for checking (see :mod:`expectations.frame`). Row-level critical
  expectations decide which records are quarantined; the table-level one (row count) and
  the warnings describe the day without blocking any record.
* ``bronze``: one row per part the day's manifest lists: the part is there, its sha256 and
  record count match the manifest, its body parses. Any failure refuses the whole day.

The silver suite also holds the *cross-day* checks (:mod:`expectations.cross_day`), which
need silver's recent history: per artist, a daily gain against the artist's trailing median
gain and the gap since its previous row; per day, the artist count and row count against the
previous load. Their bounds and severities are :class:`CrossDaySettings`; a severity other
than the default builds a suite of its own (:meth:`expectations.runner.QualityContext.
silver_suite_for`), since Great Expectations fixes an expectation's severity when it is built.

Every expectation carries a stable name in ``meta["name"]``: it is what ``dq_results``,
the quarantine table, the report and ``spotify-lakehouse quality`` call it. Renaming one
breaks the history of that check, so add a new name instead.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from catalog.bronze.payload import ARTIST_ID_REGEX
from catalog.errors import LakehouseError

if TYPE_CHECKING:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation import Expectation

#: Upper bound (exclusive) of a believable follower count. The most followed artist has
#: about 140 M; 2e9 is above anything real and below the int32 overflow a broken client
#: could produce (2^31 = 2.147e9), so a wrapped or unit-shifted number is caught.
MAX_FOLLOWERS: Final = 2_000_000_000
MIN_POPULARITY: Final = 0
MAX_POPULARITY: Final = 100

#: Default bound on the relative follower change per day before a warning. The tracked
#: artists move by 0.005%-0.05% a day; a 5% move for a top artist is almost surely a wrong
#: value (an id mix-up, a unit slip), yet the row is plausible enough to load and only flag.
DEFAULT_MAX_DAILY_FOLLOWER_CHANGE: Final = 0.05
#: Environment override of the bound (a fraction: 0.05 means 5% per day).
MAX_DAILY_FOLLOWER_CHANGE_ENV: Final = "LAKEHOUSE_DQ_MAX_DAILY_FOLLOWER_CHANGE"
#: Days of silver history searched for an artist's previous count. A gap longer than this
#: (an artist back after a month away) compares with nothing and is not flagged.
PREVIOUS_SNAPSHOT_LOOKBACK_DAYS: Final = 31

#: Days of silver history the cross-day checks read before the day (one pyiceberg scan of
#: this window, :func:`glue.history.read_history`): the trailing gains need the row before
#: the first of :data:`TRAILING_GAIN_DAYS`, and the same window as the previous-count lookback
#: lets one read serve both. An artist with no row in it compares with nothing.
HISTORY_WINDOW_DAYS: Final = PREVIOUS_SNAPSHOT_LOOKBACK_DAYS
#: Days of daily gains an artist's trailing median gain is taken over (gains ending on one
#: of the 28 days before the day: four whole weeks, so weekday rhythms weigh equally).
TRAILING_GAIN_DAYS: Final = 28
#: Smallest median daily gain a gain is compared with (followers per day): an artist whose
#: count stood still for four weeks has a median of 0, and any move would be infinitely many
#: times it. With the floor, a move of more than N followers a day is flagged there.
MIN_MEDIAN_GAIN: Final = 1.0

#: Default N: a daily gain (up or down, per day since the previous row) beyond N times the
#: artist's trailing median absolute gain is flagged. Top artists' daily gains vary about
#: 2-3x around their median (weekends, releases); 10x is a viral spike or a wrong value, which
#: the 5% day-over-day bound misses for an artist growing 0.1% a day.
DEFAULT_MAX_GAIN_TO_TRAILING_MEDIAN: Final = 10.0
MAX_GAIN_TO_TRAILING_MEDIAN_ENV: Final = "LAKEHOUSE_DQ_MAX_GAIN_TO_TRAILING_MEDIAN"
#: Default M: fewer daily gains than this in the trailing window and the median says too
#: little (an artist new to the roster, a home with a week of history): the check skips it.
DEFAULT_MIN_GAIN_HISTORY: Final = 7
MIN_GAIN_HISTORY_ENV: Final = "LAKEHOUSE_DQ_MIN_GAIN_HISTORY"
#: Default K: an artist whose previous row in silver is more than K days before the day is
#: flagged (missed days, or an artist the API left out for a while). 3 lets a missed weekend
#: pass; ``gaps`` lists missing days anyway, this names the artists. Must be below
#: :data:`HISTORY_WINDOW_DAYS`, the farthest back a previous row is looked for.
DEFAULT_MAX_DAY_GAP: Final = 3
MAX_DAY_GAP_ENV: Final = "LAKEHOUSE_DQ_MAX_DAY_GAP"
#: Default X: the day's artists may number at most this fraction fewer than the previous
#: load's (0.1: 20 artists may become 18, not 17). The roster is fixed; a shrink is a roster
#: file edited by mistake or an API answering for fewer artists.
DEFAULT_MAX_ROSTER_SHRINK: Final = 0.1
MAX_ROSTER_SHRINK_ENV: Final = "LAKEHOUSE_DQ_MAX_ROSTER_SHRINK"
#: Default Y: the day's row count may differ from the previous load's by at most this
#: fraction either way (a truncated or doubled fetch).
DEFAULT_MAX_ROW_COUNT_CHANGE: Final = 0.1
MAX_ROW_COUNT_CHANGE_ENV: Final = "LAKEHOUSE_DQ_MAX_ROW_COUNT_CHANGE"
#: Environment variables of the cross-day severities (``critical`` or ``warning``), by check.
GAIN_SPIKE_SEVERITY_ENV: Final = "LAKEHOUSE_DQ_GAIN_SPIKE_SEVERITY"
DAY_GAP_SEVERITY_ENV: Final = "LAKEHOUSE_DQ_DAY_GAP_SEVERITY"
ROSTER_SHRINK_SEVERITY_ENV: Final = "LAKEHOUSE_DQ_ROSTER_SHRINK_SEVERITY"
ROW_COUNT_CHANGE_SEVERITY_ENV: Final = "LAKEHOUSE_DQ_ROW_COUNT_CHANGE_SEVERITY"

#: Days with at most this many candidate rows are validated on a pandas copy, larger ones
#: on the Spark frame. Rows are already in the driver (bronze is parsed there), so pandas is
#: much faster (0.05 s for 20 rows, 0.5-2 s for 1 M) than GX on Spark (2-5 s even for 20);
#: the bound only protects driver memory: a validation row is ~0.3 KB in pandas, so 1 M
#: rows cost ~0.3 GB on top of the parsed rows, well inside a Glue G.1X driver (16 GB).
DEFAULT_PANDAS_MAX_ROWS: Final = 1_000_000
PANDAS_MAX_ROWS_ENV: Final = "LAKEHOUSE_DQ_PANDAS_MAX_ROWS"

SILVER_SUITE: Final = "silver"
BRONZE_SUITE: Final = "bronze"
CRITICAL: Final = "critical"
WARNING: Final = "warning"

#: Column GX reports failing rows by (``unexpected_index_column_names``). On Spark frames
#: it is the only way to identify them; on pandas it is also the frame's index.
ROW_ID: Final = "_row_id"

# Expectation parameters (``{"$PARAMETER": name}``), filled in per day.
PARAM_DAY: Final = "day"
PARAM_MAX_ROWS: Final = "max_rows"
PARAM_MAX_CHANGE: Final = "max_daily_follower_change"
PARAM_MAX_GAIN_RATIO: Final = "max_gain_to_trailing_median"
PARAM_MAX_DAY_GAP: Final = "max_day_gap"
PARAM_MIN_ARTISTS: Final = "min_artists_vs_previous_load"
PARAM_MIN_ROWS_NEAR_PREVIOUS: Final = "min_rows_vs_previous_load"
PARAM_MAX_ROWS_NEAR_PREVIOUS: Final = "max_rows_vs_previous_load"

# Stable expectation names.
ARTIST_ID_PRESENT: Final = "artist_id_present"
ARTIST_ID_FORMAT: Final = "artist_id_format"
SNAPSHOT_DATE_IS_DAY: Final = "snapshot_date_is_day"
NAME_PRESENT: Final = "name_present"
TEXT_IS_VALID_UNICODE: Final = "text_is_valid_unicode"
FOLLOWERS_PRESENT: Final = "followers_present"
FOLLOWERS_INTEGER: Final = "followers_integer"
FOLLOWERS_IN_RANGE: Final = "followers_in_range"
POPULARITY_IN_RANGE: Final = "popularity_null_or_in_range"
ARTIST_DAY_UNIQUE: Final = "artist_day_unique"
ROW_COUNT_WITHIN_ROSTER: Final = "row_count_within_roster"
FOLLOWER_CHANGE_WITHIN_BOUND: Final = "follower_change_within_bound"
NOT_BACKDATED: Final = "fetch_not_backdated"
FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN: Final = "follower_gain_within_trailing_median"
DAY_GAP_WITHIN_BOUND: Final = "day_gap_within_bound"
ROSTER_NOT_SHRINKING: Final = "roster_not_shrinking"
ROW_COUNT_NEAR_PREVIOUS_LOAD: Final = "row_count_near_previous_load"
BRONZE_SHA256_MATCHES: Final = "bronze_part_sha256_matches"
BRONZE_PART_PARSES: Final = "bronze_part_parses"
BRONZE_RECORDS_MATCH: Final = "bronze_part_record_count_matches"

#: The cross-day checks of the whole day (table level): a critical failure of one of them
#: refuses the day (:func:`expectations.quarantine.judge` quarantines every record), where a
#: critical row-level failure quarantines the row.
DAY_LEVEL_CROSS_DAY_CHECKS: Final = (ROSTER_NOT_SHRINKING, ROW_COUNT_NEAR_PREVIOUS_LOAD)
SEVERITIES: Final = (CRITICAL, WARNING)


class QualitySettingsError(LakehouseError, ValueError):
    """A ``LAKEHOUSE_DQ_*`` setting is not a value the checks can use (exit 1, before any
    day is read). Also a ValueError, as the settings errors always were."""


def _env_number(name: str, default: float, what: str) -> float:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise QualitySettingsError(
            f"{name}={text!r} must be {what}; unset it for the default ({default})"
        ) from None


def _env_whole(name: str, default: int, what: str) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise QualitySettingsError(
            f"{name}={text!r} must be {what}; unset it for the default ({default})"
        ) from None


def _severity_env(name: str) -> str:
    value = os.environ.get(name, WARNING).strip().lower()
    if value not in SEVERITIES:
        raise QualitySettingsError(
            f"{name}={value!r} must be 'critical' (refuse the row or day) or 'warning' "
            "(record only)"
        )
    return value


@dataclass(frozen=True)
class CrossDaySettings:
    """Bounds and severities of the checks that need silver's history (defaults and the
    reasons for them at the ``DEFAULT_*`` constants). ``critical``: a failing row is
    quarantined, a failing day-level check refuses the day; ``warning``: recorded only."""

    max_gain_to_trailing_median: float = DEFAULT_MAX_GAIN_TO_TRAILING_MEDIAN
    min_gain_history: int = DEFAULT_MIN_GAIN_HISTORY
    max_day_gap: int = DEFAULT_MAX_DAY_GAP
    max_roster_shrink: float = DEFAULT_MAX_ROSTER_SHRINK
    max_row_count_change: float = DEFAULT_MAX_ROW_COUNT_CHANGE
    gain_spike_severity: str = WARNING
    day_gap_severity: str = WARNING
    roster_shrink_severity: str = WARNING
    row_count_change_severity: str = WARNING

    def __post_init__(self) -> None:
        problems = []
        if not self.max_gain_to_trailing_median > 0:
            problems.append(f"{MAX_GAIN_TO_TRAILING_MEDIAN_ENV} must be > 0")
        if not 1 <= self.min_gain_history <= TRAILING_GAIN_DAYS:
            problems.append(f"{MIN_GAIN_HISTORY_ENV} must be 1..{TRAILING_GAIN_DAYS} (days)")
        if not 1 <= self.max_day_gap < HISTORY_WINDOW_DAYS:
            problems.append(
                f"{MAX_DAY_GAP_ENV} must be 1..{HISTORY_WINDOW_DAYS - 1} (days; a previous row "
                f"is looked for {HISTORY_WINDOW_DAYS} days back)"
            )
        if not 0 <= self.max_roster_shrink < 1:
            problems.append(f"{MAX_ROSTER_SHRINK_ENV} must be a fraction in [0, 1)")
        if not self.max_row_count_change >= 0:
            problems.append(f"{MAX_ROW_COUNT_CHANGE_ENV} must be a fraction >= 0")
        for severity in self.severities:
            if severity not in SEVERITIES:
                problems.append(f"a cross-day severity must be critical or warning: {severity!r}")
        if problems:
            raise QualitySettingsError("; ".join(problems))

    @property
    def severities(self) -> tuple[str, str, str, str]:
        """The four severities (gain spike, day gap, roster shrink, row count change): what
        a silver suite is built for."""
        return (
            self.gain_spike_severity,
            self.day_gap_severity,
            self.roster_shrink_severity,
            self.row_count_change_severity,
        )

    @classmethod
    def from_env(cls) -> CrossDaySettings:
        """Defaults, overridden by the ``LAKEHOUSE_DQ_*`` variables named at the constants."""
        days = "a whole number of days"
        return cls(
            max_gain_to_trailing_median=_env_number(
                MAX_GAIN_TO_TRAILING_MEDIAN_ENV,
                DEFAULT_MAX_GAIN_TO_TRAILING_MEDIAN,
                "a number (10 = ten times the median gain)",
            ),
            min_gain_history=_env_whole(MIN_GAIN_HISTORY_ENV, DEFAULT_MIN_GAIN_HISTORY, days),
            max_day_gap=_env_whole(MAX_DAY_GAP_ENV, DEFAULT_MAX_DAY_GAP, days),
            max_roster_shrink=_env_number(
                MAX_ROSTER_SHRINK_ENV, DEFAULT_MAX_ROSTER_SHRINK, "a fraction (0.1 = 10%)"
            ),
            max_row_count_change=_env_number(
                MAX_ROW_COUNT_CHANGE_ENV, DEFAULT_MAX_ROW_COUNT_CHANGE, "a fraction (0.1 = 10%)"
            ),
            gain_spike_severity=_severity_env(GAIN_SPIKE_SEVERITY_ENV),
            day_gap_severity=_severity_env(DAY_GAP_SEVERITY_ENV),
            roster_shrink_severity=_severity_env(ROSTER_SHRINK_SEVERITY_ENV),
            row_count_change_severity=_severity_env(ROW_COUNT_CHANGE_SEVERITY_ENV),
        )

    def day_parameters(
        self, previous_rows: int | None, previous_artists: int | None
    ) -> dict[str, int | float | None]:
        """The expectation parameters of the cross-day checks for one day, given the previous
        load's row and artist counts (``None``: no load in the history window, so the
        day-level checks compare with nothing and hold).

        Bounds are computed exactly (fractions, not floats): 20 artists with a 10% shrink
        allowed must accept 18, which ``ceil(20 * 0.9)`` in floats (18.000000000000004 -> 19)
        would refuse.
        """
        parameters: dict[str, int | float | None] = {
            PARAM_MAX_GAIN_RATIO: self.max_gain_to_trailing_median,
            PARAM_MAX_DAY_GAP: self.max_day_gap,
            PARAM_MIN_ARTISTS: 0,
            PARAM_MIN_ROWS_NEAR_PREVIOUS: 0,
            PARAM_MAX_ROWS_NEAR_PREVIOUS: None,
        }
        if previous_artists is not None:
            shrink = Fraction(str(self.max_roster_shrink))
            parameters[PARAM_MIN_ARTISTS] = math.ceil(previous_artists * (1 - shrink))
        if previous_rows is not None:
            change = Fraction(str(self.max_row_count_change))
            parameters[PARAM_MIN_ROWS_NEAR_PREVIOUS] = max(
                math.ceil(previous_rows * (1 - change)), 0
            )
            parameters[PARAM_MAX_ROWS_NEAR_PREVIOUS] = math.floor(previous_rows * (1 + change))
        return parameters


@dataclass(frozen=True)
class QualitySettings:
    """The tunable bounds of a validation run; defaults explained at their constants."""

    max_daily_follower_change: float = DEFAULT_MAX_DAILY_FOLLOWER_CHANGE
    pandas_max_rows: int = DEFAULT_PANDAS_MAX_ROWS
    cross_day: CrossDaySettings = field(default_factory=CrossDaySettings)

    @classmethod
    def from_env(cls) -> QualitySettings:
        """Defaults, overridden by the ``LAKEHOUSE_DQ_*`` environment variables."""
        try:
            change = float(
                os.environ.get(MAX_DAILY_FOLLOWER_CHANGE_ENV, DEFAULT_MAX_DAILY_FOLLOWER_CHANGE)
            )
            pandas_rows = int(os.environ.get(PANDAS_MAX_ROWS_ENV, DEFAULT_PANDAS_MAX_ROWS))
        except ValueError as e:
            raise QualitySettingsError(
                f"{MAX_DAILY_FOLLOWER_CHANGE_ENV} must be a fraction (0.05 = 5%) and "
                f"{PANDAS_MAX_ROWS_ENV} a whole number of rows: {e}"
            ) from e
        if change <= 0 or pandas_rows < 0:
            raise QualitySettingsError(
                f"{MAX_DAILY_FOLLOWER_CHANGE_ENV} must be > 0 and {PANDAS_MAX_ROWS_ENV} >= 0"
            )
        return cls(
            max_daily_follower_change=change,
            pandas_max_rows=pandas_rows,
            cross_day=CrossDaySettings.from_env(),
        )


def _named(expectation: Expectation, name: str) -> Expectation:
    expectation.meta = {**(expectation.meta or {}), "name": name}
    return expectation


def _severity(name: str) -> Any:
    from great_expectations.expectations.metadata_types import FailureSeverity

    return FailureSeverity.CRITICAL if name == CRITICAL else FailureSeverity.WARNING


def silver_expectations(cross_day: CrossDaySettings | None = None) -> list[Expectation]:
    """The checks on a day's candidate rows (columns from :mod:`expectations.frame`); the
    cross-day ones with the severities of ``cross_day`` (default: every one a warning)."""
    from great_expectations.expectations.core import (
        expect_column_unique_value_count_to_be_between as unique_count,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_between import (
        ExpectColumnValuesToBeBetween,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
        ExpectColumnValuesToBeInSet,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_null import (
        ExpectColumnValuesToBeNull,
    )
    from great_expectations.expectations.core.expect_column_values_to_match_regex import (
        ExpectColumnValuesToMatchRegex,
    )
    from great_expectations.expectations.core.expect_column_values_to_not_be_null import (
        ExpectColumnValuesToNotBeNull,
    )
    from great_expectations.expectations.core.expect_compound_columns_to_be_unique import (
        ExpectCompoundColumnsToBeUnique,
    )
    from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
        ExpectTableRowCountToBeBetween,
    )
    from great_expectations.expectations.metadata_types import FailureSeverity

    cross = cross_day or CrossDaySettings()
    return [
        _named(ExpectColumnValuesToNotBeNull(column="artist_id"), ARTIST_ID_PRESENT),
        _named(
            ExpectColumnValuesToMatchRegex(column="artist_id", regex=ARTIST_ID_REGEX),
            ARTIST_ID_FORMAT,
        ),
        _named(
            ExpectColumnValuesToBeInSet(
                column="snapshot_date", value_set={"$PARAMETER": PARAM_DAY}
            ),
            SNAPSHOT_DATE_IS_DAY,
        ),
        _named(ExpectColumnValuesToNotBeNull(column="name"), NAME_PRESENT),
        _named(
            # A lone surrogate (legal JSON, no UTF-8) in any text field: the column names the
            # fields, escaped so the record can be stored in quarantine (expectations.frame).
            ExpectColumnValuesToBeNull(column="unstorable_text"),
            TEXT_IS_VALID_UNICODE,
        ),
        _named(ExpectColumnValuesToNotBeNull(column="followers"), FOLLOWERS_PRESENT),
        _named(
            ExpectColumnValuesToBeInSet(column="followers_json_type", value_set=["integer"]),
            FOLLOWERS_INTEGER,
        ),
        _named(
            ExpectColumnValuesToBeBetween(
                column="followers", min_value=0, max_value=MAX_FOLLOWERS, strict_max=True
            ),
            FOLLOWERS_IN_RANGE,
        ),
        _named(
            # Nulls are skipped by GX: "null or 0-100" is exactly this expectation.
            ExpectColumnValuesToBeBetween(
                column="popularity", min_value=MIN_POPULARITY, max_value=MAX_POPULARITY
            ),
            POPULARITY_IN_RANGE,
        ),
        _named(
            ExpectCompoundColumnsToBeUnique(column_list=["artist_id", "snapshot_date"]),
            ARTIST_DAY_UNIQUE,
        ),
        _named(
            ExpectTableRowCountToBeBetween(min_value=1, max_value={"$PARAMETER": PARAM_MAX_ROWS}),
            ROW_COUNT_WITHIN_ROSTER,
        ),
        _named(
            ExpectColumnValuesToBeBetween(
                column="followers_change_per_day",
                max_value={"$PARAMETER": PARAM_MAX_CHANGE},
                severity=FailureSeverity.WARNING,
            ),
            FOLLOWER_CHANGE_WITHIN_BOUND,
        ),
        _named(
            ExpectColumnValuesToBeInSet(
                column="backdated", value_set=[False], severity=FailureSeverity.WARNING
            ),
            NOT_BACKDATED,
        ),
        # The cross-day checks (expectations.cross_day): each holds where history is too
        # short to judge (a null column value, a bound of 0 or none).
        _named(
            ExpectColumnValuesToBeBetween(
                column="gain_to_trailing_median",
                max_value={"$PARAMETER": PARAM_MAX_GAIN_RATIO},
                severity=_severity(cross.gain_spike_severity),
            ),
            FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN,
        ),
        _named(
            ExpectColumnValuesToBeBetween(
                column="days_since_previous",
                max_value={"$PARAMETER": PARAM_MAX_DAY_GAP},
                severity=_severity(cross.day_gap_severity),
            ),
            DAY_GAP_WITHIN_BOUND,
        ),
        _named(
            # Distinct artist ids (nulls not counted) against the previous load's.
            unique_count.ExpectColumnUniqueValueCountToBeBetween(
                column="artist_id",
                min_value={"$PARAMETER": PARAM_MIN_ARTISTS},
                max_value=None,
                severity=_severity(cross.roster_shrink_severity),
            ),
            ROSTER_NOT_SHRINKING,
        ),
        _named(
            ExpectTableRowCountToBeBetween(
                min_value={"$PARAMETER": PARAM_MIN_ROWS_NEAR_PREVIOUS},
                max_value={"$PARAMETER": PARAM_MAX_ROWS_NEAR_PREVIOUS},
                severity=_severity(cross.row_count_change_severity),
            ),
            ROW_COUNT_NEAR_PREVIOUS_LOAD,
        ),
    ]


def bronze_expectations() -> list[Expectation]:
    """The checks on the parts a day's manifest lists (columns from :mod:`.frame`)."""
    from great_expectations.expectations.core.expect_column_pair_values_to_be_equal import (
        ExpectColumnPairValuesToBeEqual,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
        ExpectColumnValuesToBeInSet,
    )

    return [
        _named(
            ExpectColumnPairValuesToBeEqual(
                column_A="sha256_listed", column_B="sha256_actual", ignore_row_if="neither"
            ),
            BRONZE_SHA256_MATCHES,
        ),
        _named(
            ExpectColumnValuesToBeInSet(column="parses", value_set=[True]),
            BRONZE_PART_PARSES,
        ),
        _named(
            ExpectColumnPairValuesToBeEqual(
                column_A="records_listed", column_B="records_found", ignore_row_if="neither"
            ),
            BRONZE_RECORDS_MATCH,
        ),
    ]


def build_suite(name: str, expectations: list[Expectation]) -> ExpectationSuite:
    """A suite holding ``expectations`` (not yet registered with any context)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite

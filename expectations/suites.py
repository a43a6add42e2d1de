"""The data-quality suites, defined in code: what a day must satisfy to reach silver.

Two Great Expectations suites, built once per process and reused for every day (a suite's
day-specific values are expectation parameters, filled in at validation time):

* ``silver``: one row per candidate record of the day, the silver columns plus a few
  columns computed only for checking (see :mod:`expectations.frame`). Row-level critical
  expectations decide which records are quarantined; the table-level one (row count) and
  the warnings describe the day without blocking any record.
* ``bronze``: one row per part the day's manifest lists: the part is there, its sha256 and
  record count match the manifest, its body parses. Any failure refuses the whole day.

Every expectation carries a stable name in ``meta["name"]``: it is what ``dq_results``,
the quarantine table, the report and ``spotify-lakehouse quality`` call it. Renaming one
breaks the history of that check, so add a new name instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from catalog.bronze.payload import ARTIST_ID_REGEX

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
BRONZE_SHA256_MATCHES: Final = "bronze_part_sha256_matches"
BRONZE_PART_PARSES: Final = "bronze_part_parses"
BRONZE_RECORDS_MATCH: Final = "bronze_part_record_count_matches"


@dataclass(frozen=True)
class QualitySettings:
    """The tunable bounds of a validation run; defaults explained at their constants."""

    max_daily_follower_change: float = DEFAULT_MAX_DAILY_FOLLOWER_CHANGE
    pandas_max_rows: int = DEFAULT_PANDAS_MAX_ROWS

    @classmethod
    def from_env(cls) -> QualitySettings:
        """Defaults, overridden by the ``LAKEHOUSE_DQ_*`` environment variables."""
        try:
            change = float(
                os.environ.get(MAX_DAILY_FOLLOWER_CHANGE_ENV, DEFAULT_MAX_DAILY_FOLLOWER_CHANGE)
            )
            pandas_rows = int(os.environ.get(PANDAS_MAX_ROWS_ENV, DEFAULT_PANDAS_MAX_ROWS))
        except ValueError as e:
            raise ValueError(
                f"{MAX_DAILY_FOLLOWER_CHANGE_ENV} must be a fraction (0.05 = 5%) and "
                f"{PANDAS_MAX_ROWS_ENV} a whole number of rows: {e}"
            ) from e
        if change <= 0 or pandas_rows < 0:
            raise ValueError(
                f"{MAX_DAILY_FOLLOWER_CHANGE_ENV} must be > 0 and {PANDAS_MAX_ROWS_ENV} >= 0"
            )
        return cls(max_daily_follower_change=change, pandas_max_rows=pandas_rows)


def _named(expectation: Expectation, name: str) -> Expectation:
    expectation.meta = {**(expectation.meta or {}), "name": name}
    return expectation


def silver_expectations() -> list[Expectation]:
    """The checks on a day's candidate rows (columns from :mod:`expectations.frame`)."""
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

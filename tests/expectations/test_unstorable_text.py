"""Text UTF-8 cannot encode (a lone surrogate) is named, escaped and kept, wherever it comes from.

:func:`glue.rows.day_rows` escapes it already; the frame and the quarantine writer do not
rely on that: a candidate built any other way is checked and escaped by them too.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from expectations.frame import (
    SILVER_CHECK_COLUMNS,
    Candidate,
    pandas_frame,
    silver_check_rows,
    storable_values,
)
from expectations.quarantine import QuarantinedRow
from expectations.suites import TEXT_IS_VALID_UNICODE

DAY = date(2026, 11, 1)
LONE = "\ud83c"


def test_storable_values_escapes_text_and_lists_and_names_the_fields() -> None:
    row = {"name": f"a{LONE}b", "genres": ["pop", LONE], "artist_id": "x", "followers": 3}
    values, unstorable = storable_values(row)
    assert values == {
        "name": "a\\ud83cb",
        "genres": ["pop", "\\ud83c"],
        "artist_id": "x",
        "followers": 3,
    }
    assert unstorable == ("name", "genres")
    assert storable_values(values) == (values, ())  # escaped text is storable: no new finding


def test_a_candidate_built_elsewhere_is_checked_and_its_quarantine_row_is_storable() -> None:
    candidate = Candidate(0, {"artist_id": LONE, "snapshot_date": DAY}, {"id": LONE}, "p0", None)
    [row] = silver_check_rows([candidate], day=DAY, previous={}, backdated=False)
    columns = [name for name, _ in SILVER_CHECK_COLUMNS]
    frame = pandas_frame(columns, [row])  # Arrow-backed strings: raised before
    assert frame["unstorable_text"].tolist() == ["artist_id"]
    assert frame["artist_id"].tolist() == ["\\ud83c"]

    record = QuarantinedRow(candidate, (TEXT_IS_VALID_UNICODE,)).as_record(
        day=DAY, run_id="r", validation_id="v", validated_at=datetime.now(UTC)
    )
    assert record["artist_id"] == "\\ud83c"
    assert json.loads(record["raw_record"]) == {"id": LONE}  # still JSON, the same record
    for value in (record["artist_id"], record["raw_record"]):
        value.encode("utf-8")

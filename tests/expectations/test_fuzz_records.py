"""Generated artist records through the pure parser and the validation (pandas path).

Whatever legal JSON Spotify (or a broken proxy) sends, a day never crashes: each record
ends either as a row that loads or as a quarantined record with storable raw text, and the
counts add up with what ingest wrote in the manifest. Integers of any size, null, missing
and wrong-typed fields, arbitrary unicode (lone surrogates included) and nested junk are
generated; the bodies are encoded the way a JSON producer would (``json.dumps``), so a lone
surrogate arrives as its legal ``\\udXXX`` escape.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, date, datetime
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.bronze.layout import ManifestPart
from catalog.bronze.payload import (
    ARTIST_ID_REGEX,
    NotAnArtistsAnswerError,
    answer_entries,
    record_count,
)
from expectations.frame import (
    SILVER_CHECK_COLUMNS,
    PreviousCount,
    change_per_day,
    pandas_frame,
    silver_check_rows,
)
from expectations.quarantine import judge
from expectations.runner import QualityContext, quality_context
from expectations.suites import MAX_FOLLOWERS, MAX_POPULARITY, MIN_POPULARITY
from glue.rows import day_rows, fetch_order

DAY = date(2026, 11, 1)
BEFORE = date(2026, 10, 31)
#: Examples per property. The GX one validates each generated day (~0.1-0.3 s on 2 busy
#: cores), the frame one builds a pandas frame per day; the parser one is cheap. Together
#: well under 20 s (plus GX's one-off context setup, shared with the other GX tests).
GX_EXAMPLES: Final = 20
FRAME_EXAMPLES: Final = 60
PARSER_EXAMPLES: Final = 150
#: A few valid ids, so generated days also hold duplicates and previous counts that match.
IDS: Final = [f"{i:022d}" for i in range(4)]

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
texts = st.lists(st.one_of(st.characters(), surrogates), max_size=8).map("".join)
integers = st.one_of(
    st.integers(),  # unbounded: hypothesis reaches far past 2**63 in both directions
    st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**400, -(10**400), -1, 0]),
)
leaves = st.one_of(st.none(), st.booleans(), integers, st.floats(), texts)
junk = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def field(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: usually the expected kind, otherwise any JSON at all."""
    return st.one_of(value, junk)


artist_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": field(st.sampled_from(IDS) | texts),
        "name": field(texts),
        "followers": field(
            st.fixed_dictionaries({"href": st.none()}, optional={"total": field(integers)})
        ),
        "popularity": field(integers),
        "genres": field(st.lists(field(texts), max_size=3)),
        "images": field(
            st.lists(
                st.fixed_dictionaries(
                    {}, optional={"url": field(texts), "width": junk, "height": junk}
                ),
                max_size=3,
            )
        ),
        "external_urls": field(st.fixed_dictionaries({}, optional={"spotify": field(texts)})),
        "type": junk,
        "extra": junk,
    },
)
#: An entry of a batch answer: an artist object, ``null`` (an unknown id), or any JSON.
entries = st.one_of(artist_objects, artist_objects, st.none(), junk)
parts = st.lists(st.lists(entries, min_size=1, max_size=6), min_size=1, max_size=3)
previous_counts = st.dictionaries(
    st.sampled_from(IDS),
    st.integers(0, MAX_FOLLOWERS - 1).map(lambda n: PreviousCount(BEFORE, n)),
    max_size=len(IDS),
)
ID_PATTERN: Final = re.compile(ARTIST_ID_REGEX)


def bodies(day_parts: list[list[Any]]) -> list[tuple[ManifestPart, bytes]]:
    """Each list of entries as one batch answer (lone surrogates escaped, as JSON allows)."""
    return [
        (
            ManifestPart(
                key=f"spotify/artists/snapshot_date={DAY}/run_id=r/part-{i:05d}.json",
                sha256="x",
                bytes=0,
                records=0,
                fetched_at=datetime(2026, 11, 1, 6, i, tzinfo=UTC).isoformat(),
            ),
            json.dumps({"artists": entries}).encode(),
        )
        for i, entries in enumerate(day_parts)
    ]


def assert_storable(value: Any) -> None:
    """Every text a row or a quarantined record holds encodes to UTF-8 (Arrow, Parquet)."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, list | tuple):
        for item in value:
            assert_storable(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert_storable(item)


@pytest.fixture(scope="module")
def gx() -> QualityContext:
    return quality_context()


@settings(
    max_examples=GX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(day_parts=parts, previous=previous_counts)
def test_every_record_loads_or_is_quarantined_and_nothing_raises(
    gx: QualityContext, day_parts: list[list[Any]], previous: dict[str, PreviousCount]
) -> None:
    listed = bodies(day_parts)
    candidates = day_rows(listed, day=DAY, run_id="r").candidates
    assert len(candidates) == sum(record_count(body) for _, body in listed)
    if not candidates:
        return  # a day of unknown ids only: nothing to validate (the transform refuses it)
    rows = silver_check_rows(candidates, day=DAY, previous=previous, backdated=False)
    outcome = gx.validate_silver(
        rows,
        day=DAY,
        max_rows=sum(len(p) for p in day_parts),
        max_daily_follower_change=0.05,
        engine="pandas",
    )
    verdict = judge(candidates, outcome, preference=fetch_order)

    loaded = [c.row_id for c in verdict.good]
    quarantined = [q.candidate.row_id for q in verdict.quarantined]
    assert sorted(loaded + quarantined) == [c.row_id for c in candidates]  # each exactly once
    for good in verdict.good:
        row = good.row
        assert ID_PATTERN.fullmatch(row["artist_id"])
        assert isinstance(row["name"], str)
        assert isinstance(row["followers"], int)
        assert 0 <= row["followers"] < MAX_FOLLOWERS
        assert row["popularity"] is None or MIN_POPULARITY <= row["popularity"] <= MAX_POPULARITY
        assert not good.unstorable_fields
        assert_storable(row)
    assert len({c.artist_id for c in verdict.good}) == len(verdict.good)  # one row per artist
    for q in verdict.quarantined:
        assert q.failed_expectations
        record = q.as_record(day=DAY, run_id="r", validation_id="v", validated_at=datetime.now(UTC))
        assert_storable(record)


@settings(max_examples=FRAME_EXAMPLES, deadline=None)
@given(day_parts=parts, previous=previous_counts)
def test_the_check_frame_holds_any_generated_day(
    day_parts: list[list[Any]], previous: dict[str, PreviousCount]
) -> None:
    candidates = day_rows(bodies(day_parts), day=DAY, run_id="r").candidates
    rows = silver_check_rows(candidates, day=DAY, previous=previous, backdated=False)
    frame = pandas_frame([name for name, _ in SILVER_CHECK_COLUMNS], rows)
    assert len(frame) == len(candidates)
    for c in candidates:
        assert_storable(c.row)
        assert json.loads(c.raw) is not None or c.raw == "null"  # still JSON, surrogates escaped
        c.raw.encode("utf-8")


@settings(max_examples=PARSER_EXAMPLES, deadline=None)
@given(body=st.one_of(st.binary(max_size=200), junk.map(lambda v: json.dumps(v).encode())))
def test_the_parser_only_ever_refuses_with_its_own_error(body: bytes) -> None:
    with contextlib.suppress(NotAnArtistsAnswerError):
        answer_entries(body)


def test_integers_longer_than_python_converts_are_a_number_not_a_crash() -> None:
    digits = "9" * 5000  # legal JSON; int() refuses more than 4300 digits by default
    body = f'{{"artists": [{{"id": "{IDS[0]}", "followers": {{"total": {digits}}}}}]}}'.encode()
    [(part, _)] = bodies([[None]])
    [candidate] = day_rows([(part, body)], day=DAY, run_id="r").candidates
    assert candidate.followers_json_type == "number"  # fails followers_integer: quarantined
    assert candidate.row["followers"] is None


def test_nesting_deeper_than_the_decoder_follows_refuses_the_part_not_the_process() -> None:
    with pytest.raises(NotAnArtistsAnswerError, match="nested deeper"):
        answer_entries(b"[" * 100_000 + b"]" * 100_000)


def test_a_count_beyond_a_float_has_an_infinite_change_not_an_overflow() -> None:
    body = json.dumps({"artists": [{"id": IDS[0], "followers": {"total": 10**400}}]}).encode()
    [(part, _)] = bodies([[None]])
    [candidate] = day_rows([(part, body)], day=DAY, run_id="r").candidates
    previous = {IDS[0]: PreviousCount(BEFORE, 100)}
    assert change_per_day(candidate, DAY, previous) == float("inf")
    [row] = silver_check_rows([candidate], day=DAY, previous=previous, backdated=False)
    assert (
        pandas_frame([name for name, _ in SILVER_CHECK_COLUMNS], [row])["followers"][0] == 2**63 - 1
    )

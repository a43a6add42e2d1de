"""Roster parsing: the default 20, user files in three shapes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.bronze.payload import is_artist_id
from ingest.errors import RosterError
from ingest.roster import (
    default_roster,
    demo_roster,
    load_roster,
    parse_roster,
    synthetic_artists,
)

TAYLOR = "06HL4z0CvFAxyc27GXpf02"
ADELE = "4dpARuHxo51G3z768sgnrY"


def test_default_roster_is_the_original_twenty_in_order() -> None:
    roster = default_roster()
    assert len(roster) == 20
    assert roster.artists[0].id == "4YRxDV8wJFPHPTeXepOstw"
    assert roster.artists[0].name == "Arijit Singh"
    assert roster.artists[-1].name == "BLACKPINK"
    assert roster.artists[1].id == TAYLOR
    assert all(is_artist_id(a.id) and a.name for a in roster)
    assert len(set(roster.ids)) == 20


def test_json_list_of_ids(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    path.write_text(json.dumps([TAYLOR, ADELE]))
    roster = load_roster(path)
    assert roster.ids == [TAYLOR, ADELE]
    assert roster.artists[0].name is None
    assert roster.origin == str(path)


def test_json_list_of_objects_keeps_names() -> None:
    roster = parse_roster(json.dumps([{"id": ADELE, "name": "Adele"}]), origin="x")
    assert roster.artists[0].id == ADELE
    assert roster.artists[0].name == "Adele"


def test_text_file_one_id_per_line_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "roster.txt"
    path.write_text(f"# my artists\n{TAYLOR}  # Taylor\n\n  {ADELE}\n")
    assert load_roster(path).ids == [TAYLOR, ADELE]


def test_duplicates_are_dropped_keeping_the_first() -> None:
    assert parse_roster(f"{TAYLOR}\n{ADELE}\n{TAYLOR}\n", origin="x").ids == [TAYLOR, ADELE]


def test_malformed_ids_are_all_reported_with_their_place() -> None:
    text = f"{TAYLOR}\nnot-an-id\n{ADELE}x\n"
    with pytest.raises(RosterError) as caught:
        parse_roster(text, origin="r.txt")
    message = str(caught.value)
    assert "2 malformed artist id(s)" in message
    assert "line 2: 'not-an-id'" in message
    assert f"line 3: '{ADELE}x'" in message
    assert "22 letters and digits" in message


def test_malformed_json_entries_are_reported_by_index() -> None:
    with pytest.raises(RosterError, match=r"item 1: 42.*item 2: None"):
        parse_roster(json.dumps([TAYLOR, 42, {"name": "no id"}]), origin="r.json")


def test_long_problem_lists_are_summarised() -> None:
    with pytest.raises(RosterError, match="and 5 more"):
        parse_roster("\n".join(f"bad{i}" for i in range(15)), origin="r.txt")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "lists no artists"),
        ("# only a comment\n", "lists no artists"),
        ("[1, 2", "not valid JSON"),
        ('[{"id": "x"}', "not valid JSON"),
    ],
)
def test_unusable_rosters(text: str, match: str) -> None:
    with pytest.raises(RosterError, match=match):
        parse_roster(text, origin="r")


def test_json_that_is_not_a_list_is_refused() -> None:
    # Starts with "[" only when it is a list; an object is read as text and fails on its id.
    with pytest.raises(RosterError, match="malformed"):
        parse_roster('{"ids": []}', origin="r")


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="omit the roster"):
        load_roster(tmp_path / "absent.json")


def test_synthetic_artists_are_valid_deterministic_and_extend() -> None:
    five = synthetic_artists(5, seed=3)
    assert all(is_artist_id(a.id) for a in five)
    assert synthetic_artists(5, seed=3) == five
    assert synthetic_artists(8, seed=3)[:5] == five
    assert synthetic_artists(5, seed=4) != five
    assert len({a.id for a in synthetic_artists(1000)}) == 1000


def test_demo_roster_tops_up_the_defaults() -> None:
    assert demo_roster(5).ids == default_roster().ids[:5]
    big = demo_roster(30)
    assert len(big) == 30
    assert big.ids[:20] == default_roster().ids
    with pytest.raises(RosterError):
        demo_roster(0)

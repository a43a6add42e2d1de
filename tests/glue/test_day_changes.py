"""What a re-load of a day would change, decided in Python before any Spark is started."""

from __future__ import annotations

from typing import Any

from glue.merge import DayChanges, day_changes


def row(artist_id: str, **values: Any) -> dict[str, Any]:
    base = {
        "artist_id": artist_id,
        "name": f"name {artist_id}",
        "followers": 100,
        "popularity": 50,
        "genres": ["pop"],
        "image_url": None,
        "spotify_url": f"https://open.spotify.com/artist/{artist_id}",
        "run_id": "run-a",
        "fetched_at": None,
    }
    return {**base, **values}


def test_the_same_rows_change_nothing_whatever_their_lineage() -> None:
    existing = [row("a"), row("b")]
    again = [row("a", run_id="run-b", fetched_at="later"), row("b", run_id="run-b")]
    changes = day_changes(existing, again, present_ids={"a", "b"})
    assert changes == DayChanges((), (), ())
    assert not changes.any


def test_new_changed_and_gone_artists() -> None:
    existing = [row("a"), row("b"), row("c"), row("d", image_url="x")]
    rows = [
        row("a"),
        row("b", followers=101),
        row("d", image_url=None),  # a value becoming null is a change
        row("e"),
    ]
    # c is gone from the run; f is in the run but failed validation (not among the rows)
    changes = day_changes(existing, rows, present_ids={"a", "b", "d", "e", "f"})
    assert changes == DayChanges(("e",), ("b", "d"), ("c",))
    assert changes.any


def test_an_artist_that_failed_validation_keeps_its_row() -> None:
    changes = day_changes([row("a"), row("b")], [row("a")], present_ids={"a", "b"})
    assert not changes.any


def test_nulls_compare_equal_and_lists_element_wise() -> None:
    existing = [row("a", popularity=None, genres=None), row("b", genres=["pop", "rock"])]
    same = [row("a", popularity=None, genres=None), row("b", genres=["pop", "rock"])]
    assert not day_changes(existing, same, present_ids={"a", "b"}).any
    reordered = [row("a", popularity=None, genres=None), row("b", genres=["rock", "pop"])]
    assert day_changes(existing, reordered, present_ids={"a", "b"}).updated == ("b",)

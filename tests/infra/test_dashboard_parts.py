"""The dashboard's pure parts: smoothing, run times, day status, links, safe embedding.

The page as a whole, in a browser over a real home, is tests/infra/test_dashboard.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from expectations.results import RunSummary
from infra.dashboard.data import ArtistTrend, run_started_at, trailing_mean
from infra.dashboard.figures import DEFAULT_VISIBLE, followers_figure, gains_figure, since_first
from infra.dashboard.page import (
    FAILED,
    NO_LOAD,
    PASSED,
    UNCHECKED,
    WARNED,
    _script_json,
    day_status,
    report_href,
)

D1, D2, D3, D9 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 9)


def test_trailing_mean_is_by_calendar_days_and_skips_unknown_values() -> None:
    dates = [D1, D2, D3, D9]
    assert trailing_mean(dates, [10.0, None, 30.0, 90.0], 3) == [10.0, 10.0, 20.0, 90.0]
    assert trailing_mean(dates, [None, None, None, None], 7) == [None] * 4


def test_run_start_is_read_from_an_ingest_run_id_and_only_from_one() -> None:
    assert run_started_at("20261202T064550Z-dcf970") == datetime(2026, 12, 2, 6, 45, 50, tzinfo=UTC)
    assert run_started_at("legacy-import") is None


def _run(success: bool, failed: list[str]) -> RunSummary:
    return RunSummary(
        snapshot_date=D1,
        run_id="r",
        success=success,
        evaluated_rows=20,
        quarantined_rows=0,
        failed_expectations=failed,
        report=None,
    )


def test_day_status_tells_passed_warned_failed_unchecked_and_empty_days_apart() -> None:
    assert day_status(_run(True, []), loaded=True) == PASSED
    assert day_status(_run(True, ["popularity_in_range"]), loaded=True) == WARNED
    assert day_status(_run(False, ["followers_not_null"]), loaded=False) == FAILED
    assert day_status(None, loaded=True) == UNCHECKED
    assert day_status(None, loaded=False) == NO_LOAD


def test_report_links_are_relative_to_the_page_and_urls_stay_urls(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "dashboard"
    report = tmp_path / "reports" / "quality" / "2026-11-01" / "run 1.html"
    assert report_href(str(report), out) == "../quality/2026-11-01/run%201.html"
    assert report_href(report.as_uri(), out) == "../quality/2026-11-01/run%201.html"
    assert report_href("s3://bucket/reports/x.html", out) == "s3://bucket/reports/x.html"


def test_embedded_json_cannot_close_its_script_element() -> None:
    text = _script_json({"name": "</script><script>alert(1)</script>&<!--"})
    assert "</" not in text
    assert "<!--" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>&<!--"}


def _artist(i: int) -> ArtistTrend:
    return ArtistTrend(f"id{i}", f"artist {i}", [D1, D2], [100 - i, 110 - i], [None, 10.0], [i, i])


def test_followers_show_the_most_followed_and_keep_the_rest_a_click_away() -> None:
    figure = followers_figure([_artist(i) for i in range(DEFAULT_VISIBLE + 3)])
    visible = [t["visible"] for t in figure["data"]]
    assert visible == [True] * DEFAULT_VISIBLE + ["legendonly"] * 3
    buttons = figure["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["top 5", "top 10", "all", "none"]
    assert buttons[0]["args"][0]["visible"][:6] == [True] * 5 + ["legendonly"]


def test_the_followers_scale_switches_to_gains_since_the_first_day() -> None:
    artists = [
        ArtistTrend("a", "A", [D1, D2, D3], [None, 1000, 1500], [None, None, 500.0], [1, 1, 1]),
        ArtistTrend("b", "B", [D1, D2, D3], [700, 710, 760], [None, 10.0, 50.0], [2, 2, 2]),
    ]
    assert since_first([None, 1000, 1500]) == [None, 0, 500]
    figure = followers_figure(artists)
    absolute, change = figure["layout"]["updatemenus"][1]["buttons"]
    assert absolute["args"][0]["y"] == [[None, 1000, 1500], [700, 710, 760]]
    assert change["args"][0]["y"] == [[None, 0, 500], [0, 10, 60]]


@pytest.mark.parametrize("count", [1, 5, 9])
def test_gains_put_each_artist_in_a_panel_of_its_own(count: int) -> None:
    figure = gains_figure([_artist(i) for i in range(count)])
    panels = {(t["xaxis"], t["yaxis"]) for t in figure["data"]}
    assert len(panels) == count
    assert len(figure["data"]) == 2 * count  # bars and the smoothed line
    grid = figure["layout"]["grid"]
    assert grid["rows"] * grid["columns"] >= count

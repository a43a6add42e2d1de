"""Output a person can trust (issue 9): table output prints values exactly, whole, and a
near-miss library query name is answered with the name it was close to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from infra.cli.output import PIPE_WIDTH
from tests.cli._run import Outcome, reason, run_main, succeeded

Query = Callable[..., Outcome]


@pytest.fixture
def query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Query:
    def run(*argv: str) -> Outcome:
        return run_main(["--home", str(tmp_path / "home"), "query", *argv], monkeypatch, capsys)

    return run


@pytest.mark.parametrize(
    "value",
    ["[/x] oops", "a:x:b", "[bold]not bold[/bold]", ":thumbs_up:", "\\[escaped]", "[link=x]y"],
)
def test_markup_and_emoji_codes_print_as_written(query: Query, value: str) -> None:
    literal = value.replace("'", "''")
    outcome = query(f"SELECT '{literal}' AS s")
    succeeded(outcome)
    assert value in outcome.out, outcome.describe()


def test_numbers_print_exactly_without_separators(query: Query) -> None:
    outcome = query("SELECT 3277803435259193349 AS snapshot_id, 1234.5678 AS f")
    succeeded(outcome)
    assert "3277803435259193349" in outcome.out
    assert "3,277" not in outcome.out
    assert "1234.5678" in outcome.out


def test_a_value_wider_than_the_output_is_never_cut(query: Query) -> None:
    outcome = query(f"SELECT repeat('x', {PIPE_WIDTH * 2}) || 'END' AS long, 1 AS n")
    succeeded(outcome)
    assert "x" * (PIPE_WIDTH * 2) + "END" in outcome.out  # whole, on one line (vertical)
    assert "…" not in outcome.out


def test_a_near_miss_name_suggests_the_library_query(query: Query) -> None:
    outcome = query("top_gainer_7d")
    reason(outcome, 1, "did you mean", "query top_gainers_7d")


def test_an_unknown_name_lists_the_library(query: Query) -> None:
    reason(query("nothing_like_it"), 1, "library queries are", "top_gainers_7d")

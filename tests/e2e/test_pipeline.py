"""The whole pipeline through the real parts: the CLI, the simulator over HTTP, Spark with the
Iceberg runtime, the shared SQLite catalog, and DuckDB answering Athena SQL.

Expected values are computed here, from the simulator's own follower function and plain
Python over the silver rows, never by the engine under test.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER
from infra.cli.main import main
from ingest.pipeline import utc_today
from ingest.roster import default_roster
from ingest.simulator.artists import followers
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

TOP5 = (
    "SELECT name, followers FROM Spotify_Gold_View WHERE CAST(date as DATE)=CURRENT_DATE "
    "ORDER BY followers DESC LIMIT 5"
)
AVG_GAIN = (
    "SELECT name, CAST(avg(Followers_Gained) as INT) AS avg_gain FROM Spotify_Gold_View "
    "GROUP BY name ORDER BY avg_gain DESC"
)


class Cli:
    def __init__(self, lakehouse: SparkLakehouse, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = str(lakehouse.paths.home)
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            main(["--home", self.home, *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out

    def rows(self, sql: str, *options: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = json.loads(
            self.ok("query", "--format", "json", *options, sql)
        )
        return records


@pytest.fixture
def cli(lakehouse: SparkLakehouse, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(lakehouse, capsys)


def gold_expected(silver: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The gold view, recomputed in plain Python from the silver rows."""
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in silver:
        by_artist[row["artist_id"]].append(row)
    out = []
    for rows in by_artist.values():
        previous = None
        for row in sorted(rows, key=lambda r: r["snapshot_date"]):
            gained = days = per_day = None
            if previous is not None:
                gained = row["followers"] - previous["followers"]
                days = (row["snapshot_date"] - previous["snapshot_date"]).days
                per_day = gained / days
            out.append(
                {
                    "artist_id": row["artist_id"],
                    "name": row["name"],
                    "date": row["snapshot_date"].isoformat(),
                    "followers": row["followers"],
                    "popularity": row["popularity"],
                    "followers_gained": gained,
                    "days_since_previous": days,
                    "followers_gained_per_day": per_day,
                }
            )
            previous = row
    for record in out:
        same_day = [r["followers"] for r in out if r["date"] == record["date"]]
        record["follower_rank"] = 1 + sum(f > record["followers"] for f in same_day)
    return sorted(out, key=lambda r: (r["date"], r["artist_id"]))


def athena_int(value: float) -> int:
    """Athena's CAST(double AS INTEGER): round half away from zero (not Python's half-even)."""
    return math.floor(value + 0.5) if value >= 0 else math.ceil(value - 0.5)


def load_commits(cli: Cli) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(cli.ok("snapshots", "--format", "json"))
    return records


def test_three_days_end_to_end(cli: Cli, lakehouse: SparkLakehouse) -> None:
    today = utc_today()  # the simulator and CURRENT_DATE agree on UTC
    d1, d2, d3 = today - timedelta(days=2), today - timedelta(days=1), today
    roster = default_roster()

    for day in (d1, d2, d3):
        cli.ok("run", "--date", day.isoformat(), "--simulator", "--seed", "42")

    # silver: 60 rows, one per key, with the simulator's exact follower counts
    table = local_catalog(lakehouse.paths).load_table(ARTISTS_SILVER.identifier)
    silver = table.scan().to_arrow().to_pylist()
    assert len(silver) == 60
    assert len({(r["artist_id"], r["snapshot_date"]) for r in silver}) == 60
    for row in silver:
        assert row["followers"] == followers(row["artist_id"], row["snapshot_date"], 42)
    assert {r["artist_id"] for r in silver} == set(roster.ids)

    # the gold view equals the recomputation
    gold = cli.rows(
        "SELECT artist_id, name, date, followers, popularity, followers_gained, "
        "days_since_previous, followers_gained_per_day, follower_rank "
        "FROM Spotify_Gold_View ORDER BY date, artist_id"
    )
    assert gold == gold_expected(silver)

    # the two business questions, exactly as a user types them
    top5 = cli.rows(TOP5)
    todays = sorted((r for r in silver if r["snapshot_date"] == d3), key=lambda r: -r["followers"])
    assert [(r["name"], r["followers"]) for r in top5] == [
        (r["name"], r["followers"]) for r in todays[:5]
    ]
    averages = cli.rows(AVG_GAIN)
    assert len(averages) == 20
    expected_avg = {}
    for name in {r["name"] for r in silver}:
        gains = [g["followers_gained"] for g in gold_expected(silver) if g["name"] == name]
        gains = [g for g in gains if g is not None]
        expected_avg[name] = athena_int(sum(gains) / len(gains))
    assert {r["name"]: r["avg_gain"] for r in averages} == expected_avg
    assert [r["avg_gain"] for r in averages] == sorted(expected_avg.values(), reverse=True)

    # a re-run of a day changes nothing and makes no commit
    commits = load_commits(cli)
    assert [c["snapshot_date"] for c in commits] == [d.isoformat() for d in (d1, d2, d3)]
    cli.ok("run", "--date", d2.isoformat(), "--simulator", "--seed", "42")
    assert load_commits(cli) == commits

    # a changed re-run of day 2 after day 3 (other numbers: another seed) moves its tag
    cli.ok("ingest", "--date", d2.isoformat(), "--simulator", "--seed", "7", "--force")
    cli.ok("transform", "--date", d2.isoformat())
    after = load_commits(cli)
    assert len(after) == 4
    assert after[-1]["snapshot_date"] == d2.isoformat()
    assert after[-1]["tag"] == f"snapshot-{d2.isoformat()}"
    assert [c["tag"] for c in after[:3]] == [f"snapshot-{d1}", None, f"snapshot-{d3}"]

    # as of day 2: only days 1-2, day 2 as re-loaded
    as_of_2 = cli.rows(
        "SELECT artist_id, date, followers FROM Spotify_Gold_View", "--as-of", d2.isoformat()
    )
    assert {r["date"] for r in as_of_2} == {d1.isoformat(), d2.isoformat()}
    for row in as_of_2:
        seed = 7 if row["date"] == d2.isoformat() else 42
        assert row["followers"] == followers(
            row["artist_id"], date.fromisoformat(row["date"]), seed
        )
    # as of day 3: the day-3 tag's snapshot, taken before the re-run: day 2 as first loaded
    as_of_3 = cli.rows(
        "SELECT artist_id, followers FROM artists_silver WHERE snapshot_date = DATE "
        f"'{d2.isoformat()}'",
        "--as-of",
        d3.isoformat(),
    )
    assert {r["followers"] for r in as_of_3} == {followers(a, d2, 42) for a in roster.ids}

    # before the first load there is nothing to read: an error, never the current state
    code, out, err = cli("query", "--as-of", (d1 - timedelta(days=1)).isoformat(), TOP5)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert str(d1 - timedelta(days=1)) in err


def test_followers_unavailable_exits_3_and_transform_refuses_too(
    cli: Cli, lakehouse: SparkLakehouse
) -> None:
    from catalog.bronze.local import LocalBronzeStore
    from catalog.errors import FollowersUnavailableError
    from ingest.pipeline import ingest_day
    from ingest.simulator.connection import open_simulator

    today = utc_today()
    store = LocalBronzeStore(lakehouse.paths.bronze)
    with open_simulator(mode="development") as connection, pytest.raises(FollowersUnavailableError):
        ingest_day(
            today,
            store=store,
            client=connection.client,
            roster=default_roster(),
            source=connection.source,
            allow_backdated=False,
        )
    manifest = store.read_manifest(today)
    assert manifest is not None
    assert manifest.followers_available is False
    code, _, err = cli("transform", "--date", today.isoformat())
    assert code == 3
    assert "Development Mode" in err
    assert err.count("\n") == 1


def test_demo_runs_the_days_and_answers_both_questions(cli: Cli) -> None:
    out = cli.ok("demo", "--days", "3", "--artists", "5", "--seed", "3")
    assert "Top 5 most followed artists today" in out
    assert "Average daily followers gained per artist" in out
    commits = load_commits(cli)
    today = utc_today()
    assert [c["snapshot_date"] for c in commits] == [
        (today - timedelta(days=n)).isoformat() for n in (2, 1, 0)
    ]
    # a second demo over the same home changes nothing: bronze complete, no new commit
    cli.ok("demo", "--days", "3", "--artists", "5", "--seed", "3")
    assert load_commits(cli) == commits

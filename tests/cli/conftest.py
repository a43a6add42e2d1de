"""Homes for the exit-code matrix, each built once, and a Development Mode Spotify.

Spark-backed commands pay a JVM start per process (5-10 s, more on a busy machine), so the
loaded home is built once per module by the CLI itself, and its two build steps are the
matrix's success cases of ``run`` and ``backfill``; it and the demo are built in the
background while the quick rows run (:class:`Prefetch`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.errors import FollowersUnavailableError
from ingest.pipeline import ingest_day
from ingest.roster import default_roster
from ingest.simulator.server import SpotifySimulator
from tests.cli._run import Outcome, run_cli


def utc_today() -> date:
    """Asked when needed, never fixed at import (a run may cross UTC midnight)."""
    return datetime.now(UTC).date()


#: A build step that did not run because an earlier one failed.
FAILED = Outcome(("(not run: an earlier step failed)",), -1, "", "", 0.0)


@dataclass(frozen=True)
class LoadedHome:
    """A home with two simulator days loaded by ``run`` then ``backfill``."""

    home: Path
    first: date
    last: date
    steps: dict[str, Outcome]

    @property
    def built(self) -> bool:
        return all(self.steps.get(n, FAILED).code == 0 for n in ("run", "backfill"))

    def require(self) -> Path:
        """The home, after checking that both build steps succeeded."""
        for name in ("run", "backfill"):
            outcome = self.steps.get(name, FAILED)
            assert outcome.code == 0, f"building the shared home failed at {name}\n" + (
                outcome.describe()
            )
        return self.home


def build_loaded_home(root: Path) -> LoadedHome:
    """``run --simulator`` for the first day, then ``backfill --simulator`` over both days
    (the first makes no commit again, the second loads): two JVM starts in all."""
    home = root / "home"
    last = utc_today() - timedelta(days=1)
    first = last - timedelta(days=1)
    steps = {
        "run": run_cli(
            ["--home", str(home), "run", "--simulator", "--date", first.isoformat()], cwd=root
        )
    }
    if steps["run"].code == 0:
        steps["backfill"] = run_cli(
            [
                "--home",
                str(home),
                "backfill",
                "--simulator",
                "--start",
                first.isoformat(),
                "--end",
                last.isoformat(),
            ],
            cwd=root,
        )
    return LoadedHome(home, first, last, steps)


def run_demo(root: Path) -> Outcome:
    """The smallest demo: one day, two artists, in a home of its own."""
    return run_cli(
        ["--home", str(root / "home"), "demo", "--days", "1", "--artists", "2", "--seed", "5"],
        cwd=root,
    )


#: The slow steps, in two chains that each own a home: name -> (chain, runs after).
SLOW_STEPS: dict[str, str] = {
    "run": "loaded",
    "backfill": "loaded",
    "transform": "loaded",  # re-loads the last day: no commit
    "demo": "demo",
    "maintain": "demo",  # on the demo's home, so no row reads a home it is changing
}


class Prefetch:
    """The slow commands (a JVM each), run in the background from the module's first
    test on, so that they overlap the quick rows instead of adding to them.

    Two chains, one per home, run side by side: ``run``, ``backfill``, ``transform`` build
    and re-load the shared home; ``demo`` then ``maintain`` work on the demo's home.
    ``start`` is told which steps the collected tests need before the first one runs
    (``-k cost`` starts no JVM).
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cli-prefetch")
        self._wanted: set[str] = set()
        self._chains: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def start(self, steps: set[str]) -> None:
        with self._lock:
            self._wanted |= steps
        for chain in sorted({SLOW_STEPS[step] for step in steps}):
            self._chain(chain)

    def _chain(self, chain: str) -> Future[Any]:
        with self._lock:
            if chain not in self._chains:
                work = self._loaded_chain if chain == "loaded" else self._demo_chain
                self._chains[chain] = self._pool.submit(work, self._factory.mktemp(f"cli-{chain}"))
            return self._chains[chain]

    def _loaded_chain(self, root: Path) -> LoadedHome:
        home = build_loaded_home(root)
        if "transform" in self._wanted and home.built:
            day = home.last.isoformat()
            home.steps["transform"] = run_cli(
                ["--home", str(home.home), "transform", "--date", day], cwd=root
            )
        return home

    def _demo_chain(self, root: Path) -> dict[str, Outcome]:
        steps = {"demo": run_demo(root)}
        if "maintain" in self._wanted and steps["demo"].code == 0:
            steps["maintain"] = run_cli(
                ["--home", str(root / "home"), "maintain", "--no-compact", "--format", "json"],
                cwd=root,
            )
        return steps

    def loaded(self) -> LoadedHome:
        home: LoadedHome = self._chain("loaded").result()
        return home

    def step(self, name: str) -> Outcome:
        """The outcome of a slow step, waiting for its chain."""
        self.start({name})
        done = self._chain(SLOW_STEPS[name]).result()
        steps: dict[str, Outcome] = done.steps if isinstance(done, LoadedHome) else done
        assert name in steps, f"slow step {name!r} was asked for after its chain had run"
        return steps[name]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def prefetch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefetch]:
    slow = Prefetch(tmp_path_factory)
    yield slow
    slow.close()


@pytest.fixture(scope="module")
def loaded_home(prefetch: Prefetch) -> LoadedHome:
    return prefetch.loaded()


@pytest.fixture(scope="module")
def development_spotify() -> Iterator[SpotifySimulator]:
    """A Spotify that answers as for a Development Mode app: artists without followers."""
    with SpotifySimulator(mode="development", seed=3) as sim:
        yield sim


def spotify_env(sim: SpotifySimulator) -> dict[str, str]:
    """The settings that point the CLI at ``sim`` as if it were the real API."""
    return {
        "SPOTIFY_CLIENT_ID": sim.client_id,
        "SPOTIFY_CLIENT_SECRET": sim.client_secret,
        "SPOTIFY_API_URL": sim.api_url,
        "SPOTIFY_TOKEN_URL": sim.token_url,
    }


@dataclass(frozen=True)
class DevelopmentDay:
    """A home whose bronze day was fetched by a Development Mode app (no followers)."""

    home: Path
    day: date


@pytest.fixture(scope="module")
def development_day(
    tmp_path_factory: pytest.TempPathFactory, development_spotify: SpotifySimulator
) -> DevelopmentDay:
    """Today's bronze from the Development Mode Spotify, as ``ingest`` leaves it (exit 3)."""
    from ingest.connection import client_for

    home = tmp_path_factory.mktemp("cli-development") / "home"
    day = utc_today()
    with pytest.raises(FollowersUnavailableError):
        ingest_day(
            day,
            store=LocalBronzeStore(home / "bronze"),
            client=client_for(development_spotify.settings()),
            roster=default_roster(),
            source="spotify",
            allow_backdated=False,
        )
    return DevelopmentDay(home, day)

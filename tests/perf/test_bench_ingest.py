"""Benchmark: ingest of 10,000 artists against the simulator (``make bench``; not in ``make test``).

Two scenarios, each run twice in the same process against the same simulator:

* ``batch``: an Extended Quota Mode app, ``GET /artists?ids=`` in batches of 50
  (1 preflight + 200 batch requests).
* ``per_artist``: an app without the batch endpoint that still reads followers, so every
  artist is one ``GET /artists/{id}`` (10,000 requests) on the client's bounded worker pool.

Every run meets two 429s (Retry-After 1 s) part-way through, so "early retries" is measured
under a real pause, with concurrent workers in flight.

Baseline: the same ingest (same requests, same 429s, same bronze writes) with 0 ms simulator
latency, measured in the same run. The ratio ``wall_30ms / wall_0ms`` isolates what 30 ms of
network latency per request costs once the pipeline's own work is paid: with no concurrency
it would add ``requests x 30 ms``; the figure ``latency_hidden`` says which share of that
the worker pool hides. Early retries are counted on the simulator's side: a request that
arrives before Retry-After has passed since the 429 was answered, other than requests
already on the wire when the 429 reached the client (see ``IN_FLIGHT_GRACE_S``). Must be 0.

A second reference, ``fetch_only_30ms_s``, times the same requests through the client
alone (no pipeline, no bronze, no 429s) at 30 ms; next to ``latency_floor_s``
(``requests x 30 ms / workers``) it shows how close the worker pool gets to the network
bound, and the gap to ``wall_s`` is the bronze writes (two fsynced files per part locally).

Figures go to ``bench-results/ingest.json`` and stdout. Speed is reported, never asserted:
the assertions are behaviour (no early retry, no request during a pause, every 429 met).

:func:`run_bench` takes the sizes, so ``tests/perf_smoke/test_bench_smoke.py`` runs the same
code on a small roster in the normal suite and the benchmark cannot rot.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from catalog.bronze.local import LocalBronzeStore
from ingest.client import DEFAULT_MAX_WORKERS
from ingest.connection import client_for
from ingest.pipeline import ingest_day
from ingest.retry import RetryPolicy
from ingest.roster import Roster, synthetic_artists
from ingest.simulator.faults import RateLimited
from ingest.simulator.server import SpotifySimulator
from ingest.simulator.state import RecordedRequest
from tests.perf.figures import RESULTS, ratio, write_figures

ARTISTS = 10_000
LATENCY_S = 0.030
RETRY_AFTER_S = 1
#: The 429s hit the API request numbered this (from the start of the run).
RATE_LIMITED_AT = {"batch": (60, 140), "per_artist": (2_000, 6_000)}
#: Requests that left before the 429 reached the client may arrive just after the server
#: answered it; on loopback that takes well under this. They are not retries.
IN_FLIGHT_GRACE_S = 0.05
DAY = date(2026, 6, 1)
NAME = "ingest"
SCENARIOS = ("batch", "per_artist")


def _early_requests(requests: list[RecordedRequest]) -> tuple[int, int]:
    """(early retries of a 429'd request, other requests during a pause) on the server side."""
    api = sorted((r for r in requests if r.path.startswith("/v1/")), key=lambda r: r.monotonic)
    retries = others = 0
    for limited in (r for r in api if r.status == 429):
        answered = limited.answered_monotonic
        reopens = answered + RETRY_AFTER_S
        for r in api:
            if r is limited or not answered < r.monotonic < reopens:
                continue
            if r.path == limited.path and r.query == limited.query:
                retries += 1
            elif r.monotonic > answered + IN_FLIGHT_GRACE_S:
                others += 1
    return retries, others


def _run(
    sim: SpotifySimulator, roster: Roster, root: Path, limited_at: tuple[int, ...]
) -> dict[str, Any]:
    sim.clear_requests()
    sim.faults.clear()
    for after in limited_at:
        sim.faults.inject(RateLimited(retry_after=RETRY_AFTER_S), after=after)
    client = client_for(sim.settings(), retry=RetryPolicy())
    store = LocalBronzeStore(root)
    started = time.perf_counter()
    result = ingest_day(
        DAY, store=store, client=client, roster=roster, source="simulator", allow_backdated=False
    )
    wall = time.perf_counter() - started
    client.close()
    recorded = sim.requests
    api = [r for r in recorded if r.path.startswith("/v1/")]
    retries, others = _early_requests(recorded)
    assert result.records == len(roster)
    return {
        "wall_s": round(wall, 3),
        "requests": len(recorded),
        "api_requests": len(api),
        "token_requests": len(recorded) - len(api),
        "rate_limited_429": sum(r.status == 429 for r in api),
        "early_retries": retries,
        "requests_during_pause": others,
        "records": result.records,
        "parts": len(result.parts),
    }


def _fetch_only(sim: SpotifySimulator, roster: Roster) -> float:
    """Wall time of the same requests through the client alone: no pipeline, no bronze."""
    sim.faults.clear()
    client = client_for(sim.settings(), retry=RetryPolicy())
    started = time.perf_counter()
    for _ in client.iter_artists(roster.ids, simulated_date=DAY):
        pass
    wall = time.perf_counter() - started
    client.close()
    return round(wall, 3)


def _scenario(
    work_dir: Path, roster: Roster, name: str, limited_at: tuple[int, ...]
) -> dict[str, Any]:
    with SpotifySimulator(seed=3, extra_artists=roster.artists) as sim:
        sim.batch_endpoint = name == "batch"
        sim.latency_s = 0.0
        baseline = _run(sim, roster, work_dir / f"{name}-0ms", limited_at)
        sim.latency_s = LATENCY_S
        measured = _run(sim, roster, work_dir / f"{name}-30ms", limited_at)
        fetch_only = _fetch_only(sim, roster)
    added = measured["wall_s"] - baseline["wall_s"]
    sequential_latency = measured["requests"] * LATENCY_S
    return {
        "with_30ms_latency": measured,
        "baseline_0ms_latency": baseline,
        "ratio_vs_baseline": ratio(measured["wall_s"], baseline["wall_s"]),
        "latency_added_s": round(added, 3),
        "latency_if_sequential_s": round(sequential_latency, 1),
        "latency_hidden": round(1 - added / sequential_latency, 3),
        # Network only (same requests at 30 ms, no 429s, no bronze): what the rest costs.
        "fetch_only_30ms_s": fetch_only,
        "latency_floor_s": round(sequential_latency / DEFAULT_MAX_WORKERS, 2),
    }


def run_bench(
    work_dir: Path,
    *,
    artists: int = ARTISTS,
    rate_limited_at: Mapping[str, tuple[int, ...]] = RATE_LIMITED_AT,
    out_dir: Path = RESULTS,
) -> dict[str, Any]:
    """Both scenarios for ``artists`` synthetic artists, each meeting a 429 at the API
    requests ``rate_limited_at[scenario]`` names; bronze under ``work_dir``; figures to
    ``<out_dir>/ingest.json``. Checks the behaviour the figures rely on."""
    roster = Roster(tuple(synthetic_artists(artists, seed=3)), origin="bench roster")
    figures: dict[str, Any] = {
        "artists": artists,
        "latency_ms_per_request": LATENCY_S * 1000,
        "workers": DEFAULT_MAX_WORKERS,
        "retry_after_s": RETRY_AFTER_S,
        "baseline": "the same ingest with 0 ms simulator latency, measured in the same run",
        "scenarios": {
            name: _scenario(work_dir, roster, name, rate_limited_at[name]) for name in SCENARIOS
        },
    }
    write_figures(out_dir, NAME, figures)
    for name, scenario in figures["scenarios"].items():
        for run in (scenario["with_30ms_latency"], scenario["baseline_0ms_latency"]):
            assert run["early_retries"] == 0, f"{name}: a 429'd request was retried early"
            assert run["requests_during_pause"] == 0, f"{name}: a request broke the pause"
            assert run["rate_limited_429"] == len(rate_limited_at[name])
    return figures


def test_ingest_10k_artists(tmp_path: Path) -> None:
    run_bench(tmp_path)

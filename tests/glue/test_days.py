"""The range loop of the Glue job (glue/days.py): which days it loads, skips and stops at.

The transform itself is a stand-in here (its own tests and the packaged-job rehearsal,
tests/rehearsal/test_glue_job.py, run the real one over Spark): these tests pin the loop's
decisions, which need no JVM: the order, one transform per day, the skip rule, the stop at
the first failure with that day's exit status, and the one Spark factory call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

import glue.days
from catalog.bronze.layout import BronzeError
from catalog.errors import FollowersUnavailableError, LakehouseError
from expectations.results import RunSummary
from glue.days import days_between, load_range
from glue.transform import DayIncompleteError, JobContext, TransformResult

D1 = date(2026, 1, 1)
DAYS = days_between(D1, D1 + timedelta(days=4))


@dataclass
class Manifest:
    run_id: str


@dataclass
class Store:
    """Bronze with a manifest for some days (``broken``: a manifest that does not parse)."""

    runs: dict[date, str]
    broken: set[date] = field(default_factory=set)
    location: str = "memory://bronze"

    def read_manifest(self, day: date) -> Manifest | None:
        if day in self.broken:
            raise BronzeError("not JSON")
        run = self.runs.get(day)
        return Manifest(run) if run else None


@dataclass
class Transform:
    """Records each call; answers a result, or raises what ``fails`` holds for the day."""

    fails: dict[date, LakehouseError] = field(default_factory=dict)
    calls: list[date] = field(default_factory=list)
    sessions: list[Any] = field(default_factory=list)

    histories: list[Any] = field(default_factory=list)

    def __call__(
        self, spark: Any, store: Store, day: date, context: JobContext, *, history: Any = None
    ) -> TransformResult:
        self.calls.append(day)
        self.histories.append(history)
        self.sessions.append(spark() if callable(spark) else spark)
        if day in self.fails:
            raise self.fails[day]
        run_id = store.runs[day]
        summary = RunSummary(day, run_id, True, 20, 0, [], None)
        return TransformResult(day, run_id, 20, 20, 0, 1000 + day.day, f"snapshot-{day}", summary)


def _context() -> JobContext:
    return JobContext(catalog=object(), reports=object())  # type: ignore[arg-type]


def _tagged(monkeypatch: pytest.MonkeyPatch, runs: dict[date, str]) -> None:
    monkeypatch.setattr(glue.days, "tagged_load_runs", lambda catalog, definition: runs)


def test_days_between_includes_both_ends() -> None:
    assert days_between(D1, D1) == [D1]
    assert days_between(D1, D1 + timedelta(days=2))[-1] == D1 + timedelta(days=2)
    with pytest.raises(ValueError, match="before"):
        days_between(D1, D1 - timedelta(days=1))


def test_every_day_is_loaded_in_order_with_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    _tagged(monkeypatch, {})
    store = Store({d: f"run-{d.day}" for d in DAYS})
    transform = Transform()
    sessions: list[str] = []

    def factory() -> str:
        sessions.append("session")
        return "session"

    outcome = load_range(factory, store, DAYS, _context(), transform=transform)  # type: ignore[arg-type]
    assert transform.calls == DAYS
    assert outcome.loaded == DAYS
    assert (outcome.skipped, outcome.failed, outcome.not_attempted) == ([], None, [])
    assert outcome.exit_code == 0
    assert sessions == ["session"]  # one Spark session for the whole range
    assert [d["run_id"] for d in outcome.to_json()["days"]] == [f"run-{d.day}" for d in DAYS]


def test_days_loaded_from_their_current_bronze_run_are_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Skipped: the tag points at a load of the run that completes the day now. Loaded: a
    day re-ingested since (another run id) and a day without a tag."""
    store = Store({d: f"run-{d.day}" for d in DAYS})
    _tagged(monkeypatch, {DAYS[0]: "run-1", DAYS[1]: "run-2", DAYS[2]: "an-older-run"})
    transform = Transform()
    outcome = load_range(lambda: "s", store, DAYS, _context(), transform=transform)  # type: ignore[arg-type, return-value]
    assert outcome.skipped == DAYS[:2]
    assert outcome.loaded == DAYS[2:]
    assert transform.calls == DAYS[2:]


def test_nothing_to_load_takes_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store({d: f"run-{d.day}" for d in DAYS})
    _tagged(monkeypatch, dict(store.runs))

    def no_session() -> str:
        raise AssertionError("a range of loaded days needs no Spark")

    outcome = load_range(no_session, store, DAYS, _context(), transform=Transform())  # type: ignore[arg-type]
    assert outcome.skipped == DAYS
    assert outcome.exit_code == 0


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (DayIncompleteError(DAYS[2], "memory://bronze"), 1),
        (FollowersUnavailableError(DAYS[2]), 3),
    ],
    ids=["incomplete", "followers-unavailable"],
)
def test_the_range_stops_at_the_first_failed_day(
    monkeypatch: pytest.MonkeyPatch, error: LakehouseError, exit_code: int
) -> None:
    _tagged(monkeypatch, {})
    store = Store({d: f"run-{d.day}" for d in DAYS})
    transform = Transform(fails={DAYS[2]: error, DAYS[4]: error})
    outcome = load_range(lambda: "s", store, DAYS, _context(), transform=transform)  # type: ignore[arg-type, return-value]
    assert transform.calls == DAYS[:3]  # nothing after the failed day
    assert outcome.loaded == DAYS[:2]
    failed = outcome.failed
    assert failed is not None
    assert failed.snapshot_date == DAYS[2]
    assert failed.error == str(error)
    assert outcome.exit_code == failed.exit_code == exit_code
    assert outcome.not_attempted == DAYS[3:]
    summary = outcome.to_json()
    assert summary["failed"] == DAYS[2].isoformat()
    assert summary["not_attempted"] == [d.isoformat() for d in DAYS[3:]]


def test_an_unreadable_manifest_is_left_to_the_transform_to_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _tagged(monkeypatch, {DAYS[0]: "run-1"})
    store = Store({d: f"run-{d.day}" for d in DAYS}, broken={DAYS[0]})
    refusal = LakehouseError("bronze manifest of 2026-01-01 is not JSON")
    transform = Transform(fails={DAYS[0]: refusal})
    outcome = load_range(lambda: "s", store, DAYS, _context(), transform=transform)  # type: ignore[arg-type, return-value]
    assert transform.calls == [DAYS[0]]
    assert outcome.failed is not None
    assert outcome.failed.run_id is None
    assert outcome.exit_code == 1


def test_a_range_needs_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        load_range(lambda: "s", Store({}), [], _context())  # type: ignore[arg-type, return-value]


# --- the job's range arguments (parsed by AWS's own getResolvedOptions) -------------------
SCRIPT = "/tmp/glue-scripts/job.py"  # noqa: S108 (Glue's own script path shape)


def test_a_range_is_parsed_from_glue_argv() -> None:
    from glue.job import parse_arguments

    argv = [SCRIPT, "--JOB_ID", "j_1", "--end_date", "2026-01-31", "--start_date", "2026-01-01"]
    arguments = parse_arguments(argv)
    assert arguments.is_range
    assert arguments.snapshot_date is None
    assert arguments.days == days_between(date(2026, 1, 1), date(2026, 1, 31))
    assert arguments.today == date(2026, 1, 31)
    one = parse_arguments([SCRIPT, "--snapshot_date", "2026-01-05"])
    assert (one.is_range, one.days, one.today) == (False, [date(2026, 1, 5)], date(2026, 1, 5))


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "--snapshot_date YYYY-MM-DD .one day. or --start_date and --end_date"),
        ([("--start_date", "2026-01-01")], "--start_date and --end_date"),
        ([("--end_date", "2026-01-01")], "--start_date and --end_date"),
        (
            [
                ("--snapshot_date", "2026-01-01"),
                ("--start_date", "2026-01-01"),
                ("--end_date", "2026-01-02"),
            ],
            "not both",
        ),
        ([("--start_date", "2026-01-02"), ("--end_date", "2026-01-01")], "is before"),
        ([("--start_date", "01/01/2026"), ("--end_date", "2026-01-02")], "--start_date must be"),
        (
            [
                ("--start_date", "2026-01-01"),
                ("--end_date", "2026-01-02"),
                ("--action", "maintain"),
            ],
            "maintain needs --snapshot_date",
        ),
    ],
    ids=["none", "start-only", "end-only", "both", "reversed", "bad-date", "maintain-range"],
)
def test_bad_day_arguments_exit_2(pairs: list[tuple[str, str]], message: str) -> None:
    from glue.job import JobArgumentError, parse_arguments

    argv = [SCRIPT, *(token for pair in pairs for token in pair)]
    with pytest.raises(JobArgumentError, match=message) as caught:
        parse_arguments(argv)
    assert caught.value.exit_code == 2


def test_a_range_freezes_what_its_first_day_set_up_and_unfreezes_it_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from glue.days import collector_settled

    assert gc.get_freeze_count() == 0
    kept = [object() for _ in range(1000)]  # what a first day leaves behind
    seen: list[int] = []
    # Counted as calls, not as the frozen count: a frozen object whose last reference goes
    # away (another thread's, the interpreter's) leaves the permanent generation, so the count
    # may fall by one between two days without anything being frozen or unfrozen.
    freezes: list[None] = []
    real_freeze = gc.freeze

    def counted_freeze() -> None:
        freezes.append(None)
        real_freeze()

    monkeypatch.setattr(gc, "freeze", counted_freeze)

    def a_range_whose_second_day_fails() -> None:
        with collector_settled() as settle:
            settle()
            seen.append(gc.get_freeze_count())
            settle()  # later days: nothing more is frozen
            raise RuntimeError("a day failed")

    with pytest.raises(RuntimeError):
        a_range_whose_second_day_fails()
    assert seen[0] >= len(kept)
    assert len(freezes) == 1, "only the first day's survivors are frozen"
    assert gc.get_freeze_count() == 0, "unfrozen when the range ends, however it ends"
    with collector_settled():
        pass
    assert gc.get_freeze_count() == 0


def test_a_range_makes_its_full_collections_between_days_and_restores_the_thresholds() -> None:
    import gc
    import weakref

    import glue.days
    from glue.days import collector_settled

    before = gc.get_threshold()

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    def a_later_day_leaves_a_cycle() -> weakref.ref[Node]:
        node = Node()
        gc.collect(1)  # old (generation 2) when its day ends, as a day's survivors are
        return weakref.ref(node)

    def a_range_whose_third_day_fails() -> None:
        with collector_settled() as settle:
            settle()  # day 1: collected, and what survived frozen
            left = a_later_day_leaves_a_cycle()
            assert left() is not None
            settle()  # day 2
            assert left() is None, "a later day's old garbage is freed between days"
            assert gc.get_threshold() == (
                before[0],
                before[1],
                glue.days.NO_AUTOMATIC_FULL_COLLECTION,
            ), "young collections as usual, no automatic full one"
            raise RuntimeError("a day failed")

    with pytest.raises(RuntimeError):
        a_range_whose_third_day_fails()
    assert gc.get_threshold() == before, "the thresholds are put back, however the range ends"

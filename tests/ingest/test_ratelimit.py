"""RateLimitGate, deterministically: a fake clock whose sleep advances it, no threads.

Overlapping 429s with different Retry-After values must leave the gate closed until the
latest reopening any of them asked for, measured from when each 429 arrived: a shorter
Retry-After never shortens the pause, a longer one that arrives while workers sleep makes
them sleep again for exactly the rest.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.ratelimit import RateLimitGate
from tests.ingest.conftest import FakeTime


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def gate(fake: FakeTime) -> RateLimitGate:
    return RateLimitGate(clock=fake.monotonic, sleep=fake.sleep)


def test_an_open_gate_does_not_sleep(gate: RateLimitGate, fake: FakeTime) -> None:
    gate.wait()
    assert fake.waits == []
    assert gate.remaining() == 0.0
    assert gate.pauses == 0


def test_a_shorter_retry_after_never_shortens_the_pause(
    gate: RateLimitGate, fake: FakeTime
) -> None:
    gate.close_for(10)  # at t=1000: closed until 1010
    fake.now += 3
    gate.close_for(2)  # at t=1003 asks for 1005: the earlier 1010 stands
    assert gate.remaining() == 7.0
    gate.wait()
    assert fake.waits == [7.0]
    assert fake.now == 1010.0
    assert gate.pauses == 2


def test_a_later_longer_retry_after_extends_the_pause_from_its_own_arrival(
    gate: RateLimitGate, fake: FakeTime
) -> None:
    gate.close_for(5)  # at t=1000: until 1005
    fake.now += 2
    gate.close_for(4)  # at t=1002: until 1006, later than 1005
    assert gate.remaining() == 4.0
    gate.wait()
    assert fake.waits == [4.0]
    assert fake.now == 1006.0


def sleeping_while(
    fake: FakeTime, events: dict[int, Callable[[], None]]
) -> Callable[[float], None]:
    """A sleep that, on its n-th call, lets another worker's 429 arrive mid-pause."""
    calls = 0

    def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        fake.sleep(seconds / 2)
        if calls in events:
            events[calls]()  # half-way through this pause
        fake.sleep(seconds / 2)

    return sleep


def test_a_429_arriving_while_a_worker_sleeps_makes_it_sleep_the_rest(fake: FakeTime) -> None:
    holder: list[RateLimitGate] = []
    sleep = sleeping_while(fake, {1: lambda: holder[0].close_for(30)})
    gate = RateLimitGate(clock=fake.monotonic, sleep=sleep)
    holder.append(gate)
    gate.close_for(10)  # at t=1000: until 1010; the second 429 arrives at 1005: until 1035

    gate.wait()

    assert fake.waits == [5.0, 5.0, 12.5, 12.5]  # 10 s asked, then the remaining 25 s
    assert fake.now == 1035.0
    assert gate.remaining() == 0.0
    assert gate.pauses == 2


def test_a_shorter_429_arriving_while_a_worker_sleeps_adds_no_sleep(fake: FakeTime) -> None:
    holder: list[RateLimitGate] = []
    sleep = sleeping_while(fake, {1: lambda: holder[0].close_for(1)})
    gate = RateLimitGate(clock=fake.monotonic, sleep=sleep)
    holder.append(gate)
    gate.close_for(10)  # until 1010; at 1005 a 429 asks for 1006, inside the pause

    gate.wait()

    assert fake.waits == [5.0, 5.0]
    assert fake.now == 1010.0
    assert gate.pauses == 2


def test_a_sleep_that_does_not_advance_the_clock_cannot_loop() -> None:
    """wait() sleeps again only when the pause was extended, never because the clock
    (a fake one, or a coarse one) has not caught up."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) > 3:
            raise AssertionError(f"wait() keeps sleeping: {slept}")

    frozen = RateLimitGate(clock=lambda: 0.0, sleep=sleep)
    frozen.close_for(3)
    frozen.wait()
    assert slept == [3.0]


def test_a_negative_retry_after_pauses_nothing(gate: RateLimitGate, fake: FakeTime) -> None:
    gate.close_for(-5)
    gate.wait()
    assert fake.waits == []
    assert gate.pauses == 1


def test_every_worker_after_the_pause_passes_without_sleeping(
    gate: RateLimitGate, fake: FakeTime
) -> None:
    gate.close_for(8)
    gate.wait()  # the first worker sleeps the pause
    gate.wait()  # the others find the gate open
    gate.wait()
    assert fake.waits == [8.0]

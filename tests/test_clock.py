"""The clock's waits: a fake clock's sleeper wakes when the clock is moved past its deadline
(a frozen clock: only then), so tests about time move it instead of sleeping."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import FakeClock, SystemClock
from tests.conftest import START


async def test_a_frozen_clock_wakes_a_sleeper_only_when_moved_past_its_deadline() -> None:
    clock = FakeClock(START, frozen=True)
    start = clock.monotonic()
    woke: list[float] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(clock.monotonic() - start)

    tasks = [asyncio.create_task(sleeper(s)) for s in (10.0, 2.5)]
    await asyncio.sleep(0.01)
    assert clock.sleepers == 2 and clock.next_wake() == pytest.approx(start + 2.5)
    assert clock.monotonic() == start, "elapsed time stands still"
    clock.advance(seconds=2)
    await asyncio.sleep(0)
    assert woke == []
    assert clock.advance_to_next_wake()
    await asyncio.sleep(0)
    assert woke == [pytest.approx(2.5)]
    clock.advance(seconds=60)
    await asyncio.gather(*tasks)
    assert woke == [pytest.approx(2.5), pytest.approx(62.5)]
    assert not clock.advance_to_next_wake(), "nothing waits"


async def test_a_cancelled_sleep_leaves_no_alarm() -> None:
    clock = FakeClock(START, frozen=True)
    task = asyncio.create_task(clock.sleep(5))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0 and clock.next_wake() is None


async def test_a_jump_shortens_a_wait_in_real_time() -> None:
    """A test's clock (not frozen): elapsed time flows, and moving the clock ends a long
    wait at once; a jump short of the deadline leaves only the rest to wait."""
    clock = FakeClock(START)
    long = asyncio.create_task(clock.sleep(3600))
    longer = asyncio.create_task(clock.sleep(3600.05))
    await asyncio.sleep(0)
    clock.advance(seconds=3600)
    await asyncio.wait_for(long, 1)
    await asyncio.wait_for(longer, 10)  # what was left: 50 ms of real time


async def test_the_system_clock_waits_in_real_time() -> None:
    clock = SystemClock()
    before = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() - before >= 0.01
    fired = asyncio.Event()
    clock.call_later(0, fired.set)
    await asyncio.wait_for(fired.wait(), 5)

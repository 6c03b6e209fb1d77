"""The harness's promise: after ``bot.idle()`` the bot has nothing left to do right now.

Tests rely on it instead of waiting for silence, so these check that it really waits for
the work that outlives an update (jobs, the staff outbox) and not for work that belongs
to a later moment of the clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from bot.context import BotContext
from tests.conftest import STAFF_CHAT, Harness
from tests.test_questions import posted

SLOW = 0.2
"""Seconds a test job takes: longer than a loop turn, so idle() has to wait for it."""


async def test_idle_waits_for_a_job_that_is_due(bot: Harness) -> None:
    done: list[str] = []

    async def slow_job(context: BotContext, data: Any) -> None:
        await asyncio.sleep(SLOW)
        done.append(data)

    bot.services.scheduler.at("test:now", bot.clock.now(), slow_job, "now")
    started = time.monotonic()
    await bot.idle()
    assert done == ["now"]
    assert time.monotonic() - started >= SLOW


async def test_idle_waits_for_a_job_a_clock_jump_made_due(bot: Harness) -> None:
    done: list[str] = []

    async def slow_job(context: BotContext, data: Any) -> None:
        await asyncio.sleep(SLOW)
        done.append(data)

    bot.services.scheduler.at("test:later", bot.clock.now() + timedelta(hours=1), slow_job, "x")
    await bot.idle()  # not due: nothing to wait for
    assert done == []
    bot.clock.advance(hours=1)
    await bot.idle()
    assert done == ["x"]


async def test_idle_waits_for_the_staff_outbox(bot: Harness) -> None:
    await bot.services.staffpost.send_text("Agenda for today")
    await bot.idle()
    assert [m["text"] for m in posted(bot)] == ["Agenda for today"]
    assert bot.sandbox.bot_messages(STAFF_CHAT)[-1]["text"] == "Agenda for today"

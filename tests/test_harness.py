"""The harness's promise: after ``bot.idle()`` the bot has nothing left to do right now.

Tests rely on it instead of waiting for silence, so these check that it really waits for
the work that outlives an update (jobs, the staff outbox) and not for work that belongs
to a later moment of the clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import pytest

from bot.context import BotContext
from bot.i18n import LANGUAGES
from sandbox.server import Sandbox
from tests.conftest import (
    GERMAN_MARKERS,
    GERMAN_NAMES,
    GERMAN_NOTE,
    GERMAN_READERS,
    STAFF_CHAT,
    TOKEN,
    Harness,
)
from tests.test_catalogs import load
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


# -- no German in the chat of a resident who reads another language -------------------------
def test_the_german_markers_appear_in_no_other_catalog() -> None:
    """The scan's words are German only: a hit can only be German that slipped through."""
    found = [
        f"{code}: {text!r}"
        for code in sorted(LANGUAGES)
        if code not in GERMAN_READERS
        for message in load(code)
        if message.id
        for text in (message.string if isinstance(message.string, tuple) else (message.string,))
        if GERMAN_MARKERS.search(GERMAN_NAMES.sub("", str(text or "")))
    ]
    assert not found, "\n".join(found)


async def test_the_german_scan_finds_german_and_spares_announced_and_copied_text(
    bot: Harness,
) -> None:
    user = await bot.onboard("Emre", "tr")
    assert bot.app is not None
    chats = await bot.foreign_chats()
    assert chats == {user["id"]: "tr"}
    assert bot.german_problems(chats) == []
    slipped = await bot.app.bot.send_message(user["id"], "Ihr Termin ist um 10 Uhr.")
    announced = await bot.app.bot.send_message(
        user["id"], "📝 " + bot.i18n.get("tr")._(GERMAN_NOTE, note="Wasserschaden im Keller")
    )
    staff = bot.sandbox.add_user("Jana", language_code="de")
    bot.sandbox.send_text(staff, "Bitte bringen Sie den Brief mit.")
    await bot.idle()
    [typed] = [m for m in bot.sandbox.messages(staff["id"]) if m["from"]["id"] == staff["id"]]
    await bot.app.bot.copy_message(user["id"], staff["id"], typed["message_id"])
    await bot.idle()
    problems = bot.german_problems(chats)
    assert len(problems) == 1 and "'Ihr Termin ist um 10 Uhr.'" in problems[0]
    # Gone again, so that the check after the test passes.
    await bot.app.bot.delete_message(user["id"], slipped.message_id)
    await bot.app.bot.delete_message(user["id"], announced.message_id)
    assert bot.german_problems(chats) == []


async def test_a_client_gone_mid_request_is_no_server_error(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A bot that stops closes the connections of its requests in flight; when one closes
    while the sandbox still reads the request, that is not an error of the sandbox's (the
    tests fail on logged errors: issue 22 saw it in a teardown on a loaded machine)."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: {host}\r\n"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"chat_id": 1'.encode()
    )
    await writer.drain()
    await sandbox.wait_for(lambda: sandbox.in_flight == 1, message="the request being read")
    writer.close()
    await writer.wait_closed()
    await sandbox.wait_for(lambda: sandbox.in_flight == 0, message="the request given up")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not sandbox.calls("sendMessage"), "nothing arrived"

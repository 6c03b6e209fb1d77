"""Deadlines of letters and staff's follow-ups: /deadline and /followup in a topic, /queue
with the coming week's deadlines first, the agenda's "Fristen diese Woche", the reminder
three working days before, and restarts in between."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from bot.services.deadlines import parse_date, parse_when, working_days_before
from sandbox.server import Sandbox
from tests.conftest import BERLIN, STAFF_CHAT, Harness, known, running, with_config
from tests.test_questions import posted
from tests.test_staff import asking, staff_says

JSON = dict[str, Any]


# -- pure -------------------------------------------------------------------------------------
def test_dates_staff_type() -> None:
    assert parse_date("2027-02-01") == date(2027, 2, 1)
    assert parse_date("01.02.2027") == date(2027, 2, 1)
    assert parse_date("1.2.2027") == date(2027, 2, 1)
    for bad in ("2027-02-30", "31.11.2026", "morgen", "2027/02/01", "", "01.02.27"):
        assert parse_date(bad) is None, bad


def test_follow_up_times() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)
    assert parse_when("30m", now, BERLIN) == now + timedelta(minutes=30)
    assert parse_when("2h", now, BERLIN) == now + timedelta(hours=2)
    assert parse_when("14d", now, BERLIN) == now + timedelta(days=14)
    assert parse_when("2w", now, BERLIN) == now + timedelta(days=14)
    assert parse_when("2027-01-05", now, BERLIN) == datetime(2027, 1, 5, 9, 0, tzinfo=BERLIN)
    assert parse_when("05.01.2027", now, BERLIN) == datetime(2027, 1, 5, 9, 0, tzinfo=BERLIN)
    for bad in ("0d", "14x", "d", "soon", "-2h"):
        assert parse_when(bad, now, BERLIN) is None, bad


def test_three_working_days_skip_weekends_and_holidays() -> None:
    assert working_days_before(date(2026, 12, 18), 3) == date(2026, 12, 15)  # Fri -> Tue
    assert working_days_before(date(2026, 11, 30), 3) == date(2026, 11, 25)  # Mon -> Wed
    # 25 and 26 December are holidays in NRW (and the 26th a Saturday).
    assert working_days_before(date(2026, 12, 29), 3) == date(2026, 12, 23)


# -- end to end -------------------------------------------------------------------------------
def staff(bot: Harness) -> JSON:
    return bot.sandbox.add_user("Jana", language_code="de")


async def test_deadline_is_set_corrected_cleared_and_bad_input_explained(bot: Harness) -> None:
    user, thread = await asking(bot)
    jana = staff(bot)
    request = known(await bot.storage.requests.latest(user["id"]))
    [answer] = await staff_says(bot, jana, "/deadline 2026-12-18", thread)
    assert answer["text"] == f"⏰ Frist von #{request.ref}: Freitag, 18.12.2026 (in 23 Tagen)."
    [answer] = await staff_says(bot, jana, "/deadline 01.02.2027", thread)
    assert "Montag, 01.02.2027" in answer["text"]
    assert known(await bot.storage.requests.get(request.id)).deadline == date(2027, 2, 1)
    for bad in ("/deadline", "/deadline 2027-02-30", "/deadline morgen", "/deadline 1 2"):
        [answer] = await staff_says(bot, jana, bad, thread)
        assert answer["text"].startswith("Verwendung: /deadline 2027-02-01"), bad
    assert known(await bot.storage.requests.get(request.id)).deadline == date(2027, 2, 1)
    [answer] = await staff_says(bot, jana, "/deadline clear", thread)
    assert answer["text"] == f"Die Frist von #{request.ref} wurde entfernt."
    assert known(await bot.storage.requests.get(request.id)).deadline is None
    actions = [e.action for e in await bot.storage.audit.recent(resident_id=user["id"])]
    assert actions == ["deadline_clear", "deadline", "deadline"]
    # Nothing of it reached the resident.
    assert all("18.12" not in m.get("text", "") for m in bot.sandbox.bot_messages(user["id"]))


async def test_queue_lists_the_coming_weeks_deadlines_first(bot: Harness) -> None:
    jana = staff(bot)
    _oldest, _ = await asking(bot, "Aylin")
    bot.clock.advance(minutes=5)
    _later, later_thread = await asking(bot, "Boris")
    bot.clock.advance(minutes=5)
    _newest, newest_thread = await asking(bot, "Cem")
    await staff_says(bot, jana, "/deadline 2026-12-05", later_thread)  # in 10 days
    await staff_says(bot, jana, "/deadline 2026-11-28", newest_thread)  # in 3 days
    [answer] = await staff_says(bot, jana, "/queue", None)
    lines = answer["text"].split("\n")[1:]
    names = [next(n for n in ("Aylin", "Boris", "Cem") if n in line) for line in lines]
    assert names == ["Cem", "Aylin", "Boris"]
    assert "⏰ Samstag, 28.11.2026" in lines[0] and "⏰ Samstag, 05.12.2026" in lines[2]
    assert "⏰" not in lines[1]


async def test_reminder_three_working_days_before_once_across_restarts(bot: Harness) -> None:
    user, thread = await asking(bot)
    jana = staff(bot)
    request = known(await bot.storage.requests.latest(user["id"]))
    await staff_says(bot, jana, "/deadline 02.12.2026", thread)  # a Wednesday

    def reminders() -> list[str]:
        return [m["text"] for m in posted(bot, thread) if m["text"].startswith("⏰ Erinnerung")]

    await bot.restart()
    bot.clock.set(datetime(2026, 11, 27, 7, 59, tzinfo=BERLIN))
    await bot.idle()
    assert reminders() == []
    bot.clock.set(datetime(2026, 11, 27, 8, 0, 1, tzinfo=BERLIN))  # a Friday
    await bot.sandbox.wait_for(reminders, message="the deadline reminder")
    assert reminders() == [
        f"⏰ Erinnerung: Die Frist von #{request.ref} ist am Mittwoch, 02.12.2026 (in 5 Tagen)."
    ]
    await bot.restart()
    bot.clock.advance(hours=2)
    await bot.idle()
    assert len(reminders()) == 1


async def test_no_reminder_for_a_closed_request(bot: Harness) -> None:
    _user, thread = await asking(bot)
    jana = staff(bot)
    await staff_says(bot, jana, "/deadline 02.12.2026", thread)
    await staff_says(bot, jana, "/close", thread)
    bot.clock.set(datetime(2026, 11, 27, 8, 0, 1, tzinfo=BERLIN))
    await bot.idle()
    assert not [m for m in posted(bot, thread) if m.get("text", "").startswith("⏰ Erinnerung")]


async def test_followups_are_posted_in_the_topic_after_a_restart(bot: Harness) -> None:
    user, thread = await asking(bot)
    jana = staff(bot)
    [answer] = await staff_says(bot, jana, "/followup 2h Rückruf wegen Jobcenter", thread)
    assert answer["text"] == "🔔 Wiedervorlage am Mittwoch, 25.11.2026, 12:00."
    [answer] = await staff_says(bot, jana, "/followup 05.01.2027 Bescheid da?", thread)
    assert answer["text"] == "🔔 Wiedervorlage am Dienstag, 05.01.2027, 09:00."
    for bad in (
        "/followup",
        "/followup 2h",
        "/followup 14x Anrufen",
        "/followup 2026-11-01 zu spät",
        "/followup morgen Anrufen",
    ):
        [answer] = await staff_says(bot, jana, bad, thread)
        assert answer["text"].startswith("Verwendung: /followup 14d"), bad
    assert len(await bot.storage.letters.followups(user["id"])) == 2
    before = len(bot.sandbox.bot_messages(user["id"]))
    await bot.restart()

    def followups() -> list[str]:
        return [m["text"] for m in posted(bot, thread) if m["text"].startswith("🔔 Wiedervorlage:")]

    bot.clock.advance(hours=1, minutes=59)
    await bot.idle()
    assert followups() == []
    bot.clock.advance(minutes=2)
    await bot.sandbox.wait_for(followups, message="the follow-up")
    assert followups() == ["🔔 Wiedervorlage: Rückruf wegen Jobcenter"]
    await bot.restart()
    bot.clock.set(datetime(2027, 1, 5, 9, 0, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(lambda: len(followups()) == 2, message="the second follow-up")
    assert followups()[1] == "🔔 Wiedervorlage: Bescheid da?"
    assert await bot.storage.letters.followups() == []
    # Never to the resident.
    assert len(bot.sandbox.bot_messages(user["id"])) == before
    actions = [e.action for e in await bot.storage.audit.recent(resident_id=user["id"])]
    assert actions.count("followup") == 2


@pytest.fixture
async def daily(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    async for harness in running(
        Harness(sandbox, with_config(config, agenda_at=time(7, 30)), clock, i18n)
    ):
        yield harness


async def test_agenda_lists_the_deadlines_of_the_week(daily: Harness) -> None:
    bot = daily
    jana = staff(bot)
    user, thread = await asking(bot)
    _, other_thread = await asking(bot, "Boris")
    request = known(await bot.storage.requests.latest(user["id"]))
    await staff_says(bot, jana, "/deadline 2026-11-30", thread)
    await staff_says(bot, jana, "/deadline 2026-12-20", other_thread)  # not this week

    def agendas() -> list[str]:
        return [m["text"] for m in posted(bot) if "Fristen diese Woche" in m.get("text", "")]

    bot.clock.set(datetime(2026, 11, 26, 7, 30, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(agendas, message="the agenda")
    [text] = agendas()
    assert text == (f"⏰ Fristen diese Woche:\n#{request.ref} — Montag, 30.11.2026 (in 4 Tagen)")
    [post] = [m for m in posted(bot) if m.get("text") == text]
    assert "message_thread_id" not in post, "the General topic"
    assert post["chat"]["id"] == STAFF_CHAT


async def test_mydata_lists_deadlines_and_followups_and_delete_takes_them(bot: Harness) -> None:
    user, thread = await asking(bot, "Zeynep", "en")
    jana = staff(bot)
    await staff_says(bot, jana, "/deadline 2026-12-18", thread)
    await staff_says(bot, jana, "/followup 2h Rückruf wegen Jobcenter", thread)
    bot.sandbox.send_text(user, "/mydata")
    await bot.idle()
    [call] = [
        c
        for c in bot.sandbox.calls("sendDocument", user["id"])
        if c.ok and "my-data" in str(c.result)
    ]
    caption = call.result["caption"]
    assert "• Deadline from a letter: Friday, 18 December 2026" in caption
    assert "• Follow-up planned by the counsellors for 25 Nov 2026" in caption
    assert "Note from the office (in German): Rückruf wegen Jobcenter" in caption
    data = json.loads(bot.sandbox.file_bytes(call.result["document"]["file_id"]))
    assert data["requests"][0]["deadline"] == "2026-12-18"
    assert [f["note"] for f in data["followups"]] == ["Rückruf wegen Jobcenter"]

    [question] = await bot.send(user, "/delete")
    await bot.tap(user, question, data="1:del:yes")
    await bot.idle()
    assert await bot.storage.letters.followups() == []
    assert await bot.storage.privacy.rows_mentioning(user["id"]) == {}
    # The follow-up's job finds nothing to post.
    bot.clock.advance(hours=3)
    await bot.idle()
    assert not [
        m for m in posted(bot) if "Rückruf" in m.get("text", "") and "Wiedervorlage:" in m["text"]
    ]


async def test_retention_clears_a_closed_requests_deadline_and_sender(bot: Harness) -> None:
    user, thread = await asking(bot)
    jana = staff(bot)
    request = known(await bot.storage.requests.latest(user["id"]))
    await bot.storage.letters.set_sender(request.id, "jobcenter")
    await staff_says(bot, jana, "/deadline 2026-12-18", thread)
    await staff_says(bot, jana, "/close", thread)
    await bot.storage.privacy.purge(bot.clock.now() + timedelta(days=1))
    row = known(
        await bot.storage.db.fetchone(
            "SELECT user_id, deadline, sender FROM requests WHERE id = ?", (request.id,)
        )
    )
    assert tuple(row) == (None, None, None)

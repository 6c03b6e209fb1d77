"""Issue 22.1: after /delete (and after retention) nothing in the staff group names the
resident or quotes their booking note: booking notices, reason pickers, agendas (daily and
/agenda) and the cancellation the erasure causes. Posts younger than 48 hours are deleted;
older ones (Telegram no longer lets a bot delete them) are edited down to the reference;
an agenda keeps the other residents' lines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from sandbox.server import Sandbox
from tests.conftest import ADMIN_ID, BERLIN, STAFF_CHAT, Harness, buttons, running, with_config
from tests.test_booking import book, open_bookings, resident, staff_says, staff_tap

JSON = dict[str, Any]
NOTE = "Help with my pension form"
NOTE_WORD = "pension form"


@pytest.fixture
async def daily(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    changed = with_config(config, agenda_at=time(7, 30))
    async for harness in running(Harness(sandbox, changed, clock, i18n)):
        yield harness


def staff_group_texts(bot: Harness) -> list[str]:
    """Every text in the staff group as it stands now (edits applied, deletions gone)."""
    return [m.get("text", "") + m.get("caption", "") for m in bot.sandbox.messages(STAFF_CHAT)]


def naming(bot: Harness, *words: str) -> list[str]:
    return [t for t in staff_group_texts(bot) if any(w in t for w in words)]


async def delete_data(bot: Harness, user: JSON) -> None:
    [question] = await bot.send(user, "/delete")
    await bot.tap(user, question, data="1:del:yes")
    await bot.idle()


async def two_residents(bot: Harness) -> tuple[JSON, JSON, int]:
    """Zeynep (with a note) and Omar book on Thursday; returns Zeynep's appointment."""
    zeynep = await resident(bot, "Zeynep", "en")
    await book(bot, zeynep, note=NOTE)
    omar = await resident(bot, "Omar", "ar")
    await book(bot, omar, time=1)
    [mine, _] = await open_bookings(bot)
    assert mine.user_id == zeynep["id"]
    assert naming(bot, "Zeynep") and naming(bot, NOTE_WORD), "the notice names her"
    return zeynep, omar, mine.id


async def test_delete_removes_notices_pickers_and_agenda_lines(daily: Harness) -> None:
    bot = daily
    zeynep, _, booking_id = await two_residents(bot)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    day = await staff_says(bot, staff, "/agenda 2026-11-26")
    week = await staff_says(bot, staff, "/agenda week")
    await staff_tap(bot, staff, day, f"1:bscx:{booking_id}")  # the reason picker
    bot.clock.set(datetime(2026, 11, 26, 7, 30, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(
        lambda: [t for t in staff_group_texts(bot) if t.startswith("📅 Termine heute")]
    )
    assert len(naming(bot, "Zeynep")) >= 5  # notice, two agendas, picker, daily agenda

    await delete_data(bot, zeynep)

    assert naming(bot, "Zeynep", NOTE_WORD) == []
    # The agendas keep Omar, with the reference in Zeynep's place (and her buttons gone).
    reference = f"Termin #{booking_id} · Daten auf Wunsch der Person gelöscht"
    for post in (day, week):
        text = bot.current(STAFF_CHAT, post["message_id"])["text"]
        assert "Omar" in text and reference in text
    [daily_post] = [m for m in bot.sandbox.messages(STAFF_CHAT) if "Termine heute" in m["text"]]
    assert "Omar" in daily_post["text"] and reference in daily_post["text"]
    assert all(f":{booking_id}" not in b["callback_data"] for b in buttons(daily_post))
    assert buttons(daily_post), "Omar's buttons stay"
    # Her booking notice and the picker were younger than 48 hours: deleted, not edited.
    assert [t for t in staff_group_texts(bot) if reference in t and "Omar" not in t] == []
    # The cancellation the erasure caused names the appointment only.
    [cancelled] = [t for t in staff_group_texts(bot) if "ihre Daten gelöscht" in t]
    assert f"#{booking_id}" in cancelled
    # Nothing about her is kept: the mapping went with her, the redactions are done.
    assert await bot.storage.privacy.rows_mentioning(zeynep["id"]) == {}
    assert await bot.storage.mentions.pending() == 0


async def test_posts_older_than_48_hours_are_edited_down(bot: Harness) -> None:
    zeynep, _, booking_id = await two_residents(bot)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    agenda = await staff_says(bot, staff, "/agenda 2026-11-26")
    notices = [m for m in bot.sandbox.messages(STAFF_CHAT) if "Zeynep" in m.get("text", "")]
    # The link between her and those posts is hers to see in /mydata.
    bot.sandbox.send_text(zeynep, "/mydata")
    await bot.idle()
    [call] = [
        c
        for c in bot.sandbox.calls("sendDocument", zeynep["id"])
        if c.ok and "my-data" in str(c.result)
    ]
    data = json.loads(bot.sandbox.file_bytes(call.result["document"]["file_id"]))
    posts = {(p["message_id"], p["kind"], p["appointment"]) for p in data["staff_group_posts"]}
    assert posts == {
        (notices[0]["message_id"], "notice", booking_id),
        (agenda["message_id"], "agenda_day", booking_id),
    }
    bot.clock.advance(days=3)  # the appointment is past; the posts are 3 days old
    await bot.idle()

    await delete_data(bot, zeynep)

    assert naming(bot, "Zeynep", NOTE_WORD) == []
    reference = f"Termin #{booking_id} · Daten auf Wunsch der Person gelöscht"
    for post in notices:  # still there (Telegram refuses to delete them), edited down
        now = bot.current(STAFF_CHAT, post["message_id"])
        assert reference in now["text"]
        if post["message_id"] != agenda["message_id"]:
            assert now["text"] == "🗑 " + reference and not buttons(now)
    assert "Omar" in bot.current(STAFF_CHAT, agenda["message_id"])["text"]
    refused = [c for c in bot.sandbox.calls("deleteMessage", STAFF_CHAT) if not c.ok]
    assert refused == [], "posts known to be too old are not even tried"


async def test_a_closure_notice_keeps_the_others(bot: Harness) -> None:
    zeynep, _, booking_id = await two_residents(bot)
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    await bot.send(admin, "/closed fabrik-heeder 2026-11-26 building Wasserschaden")
    [closure] = await bot.sandbox.wait_for(
        lambda: [m for m in bot.sandbox.messages(STAFF_CHAT) if "Schließung #" in m["text"]]
    )
    assert "Zeynep" in closure["text"] and "Omar" in closure["text"]

    await delete_data(bot, zeynep)

    text = bot.current(STAFF_CHAT, closure["message_id"])["text"]
    assert "Zeynep" not in text and NOTE_WORD not in text
    assert "Omar" in text and f"Termin #{booking_id} · Daten auf Wunsch der Person gelöscht" in text
    assert text.startswith("⛔ Schließung #") and "2 Termine" in text
    assert naming(bot, "Zeynep", NOTE_WORD) == []


async def test_a_queue_answer_is_rendered_again_without_them(bot: Harness) -> None:
    zeynep = await resident(bot, "Zeynep", "en")
    omar = await resident(bot, "Omar", "en")
    await bot.send(zeynep, "Question about my pension form")
    await bot.send(omar, "Question about the rent")
    staff = bot.sandbox.add_user("Petra", language_code="de")
    queue = await staff_says(bot, staff, "/queue")
    assert "Zeynep" in queue["text"] and "Omar" in queue["text"]

    await delete_data(bot, zeynep)

    text = bot.current(STAFF_CHAT, queue["message_id"])["text"]
    assert "Zeynep" not in text and "Omar" in text
    assert naming(bot, "Zeynep", NOTE_WORD) == []


async def test_a_crash_mid_erasure_resumes_the_clean_up(bot: Harness) -> None:
    zeynep, _, _ = await two_residents(bot)
    assert bot.app is not None
    lane = bot.services.staffpost
    await lane.stop()  # the lane never ran the plan: as if the bot died right after
    await bot.services.privacy.erase(zeynep["id"])
    assert await bot.storage.mentions.pending() == 1
    assert naming(bot, "Zeynep")
    await bot.restart()
    await bot.idle()
    assert naming(bot, "Zeynep", NOTE_WORD) == []
    assert await bot.storage.mentions.pending() == 0


async def test_a_notice_still_queued_goes_with_the_resident(bot: Harness) -> None:
    """A booking notice not yet posted when the resident erases their data is never posted."""
    zeynep, _, _ = await two_residents(bot)
    lane = bot.services.staffpost
    await lane.stop()
    assert bot.app is not None
    [mine] = [b for b in await open_bookings(bot) if b.user_id == zeynep["id"]]
    await bot.services.appointments.staff.booked(mine)  # queued, not sent
    queued = "SELECT text FROM staff_outbox WHERE sent_at IS NULL AND failed IS NULL"

    async def naming_her() -> list[str]:
        return [r[0] for r in await bot.storage.db.fetchall(queued) if "Zeynep" in r[0]]

    assert len(await naming_her()) == 1
    await bot.services.privacy.erase(zeynep["id"])
    assert await naming_her() == []
    await bot.restart()
    await bot.idle()
    assert naming(bot, "Zeynep", NOTE_WORD) == []


async def test_a_refused_deletion_is_edited_down_instead(bot: Harness) -> None:
    zeynep, _, booking_id = await two_residents(bot)
    [notice] = [m for m in bot.sandbox.messages(STAFF_CHAT) if "Zeynep" in m.get("text", "")]
    bot.sandbox.fail_next("deleteMessage", 400, "Bad Request: message can't be deleted")
    await delete_data(bot, zeynep)
    now = bot.current(STAFF_CHAT, notice["message_id"])
    assert now["text"] == f"🗑 Termin #{booking_id} · Daten auf Wunsch der Person gelöscht"
    assert not buttons(now)


async def test_telegram_unreachable_while_erasing_the_clean_up_waits(bot: Harness) -> None:
    zeynep, _, _ = await two_residents(bot)
    bot.sandbox.fail_next("deleteMessage", 502, "Bad Gateway")
    await delete_data(bot, zeynep)
    assert naming(bot, "Zeynep"), "the notice waits for the next attempt"
    assert await bot.storage.mentions.pending() == 1
    bot.clock.advance(minutes=2)
    await bot.idle()
    assert naming(bot, "Zeynep", NOTE_WORD) == []
    assert await bot.storage.mentions.pending() == 0


@pytest.fixture
async def plain(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, tmp_path: Path
) -> AsyncIterator[Harness]:
    group = sandbox.add_group("Team ohne Themen", is_forum=False, chat_id=-1009876543210)
    changed = with_config(config, staff_chat=group["id"], db_path=tmp_path / "plain.sqlite3")
    async for harness in running(Harness(sandbox, changed, clock, i18n)):
        yield harness


async def test_without_topics_old_copies_and_headers_are_edited_down(plain: Harness) -> None:
    bot = plain
    group = bot.config.staff_chat
    assert group is not None
    user = await bot.onboard("Aylin", "en")
    await bot.send(user, "An old question about my pension form")
    old = await bot.sandbox.wait_for(
        lambda: [m for m in bot.sandbox.bot_messages(group) if "text" in m][:2]
    )
    assert "Aylin" in old[0]["text"] and NOTE_WORD in old[1]["text"]
    bot.clock.advance(days=3)  # Telegram no longer lets the bot delete them
    await bot.idle()

    await delete_data(bot, user)

    left = {m["message_id"]: m["text"] for m in bot.sandbox.messages(group) if "text" in m}
    assert not [t for t in left.values() if "Aylin" in t or NOTE_WORD in t]
    for message in old:  # still there, by reference only
        assert "wurde auf Wunsch der Person gelöscht" in left[message["message_id"]]


async def test_retention_edits_old_notices_down(bot: Harness) -> None:
    zeynep, omar, booking_id = await two_residents(bot)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    agenda = await staff_says(bot, staff, "/agenda 2026-11-26")
    bot.clock.advance(days=95)
    await bot.idle()
    await bot.sandbox.wait_for(lambda: not naming(bot, "Zeynep", "Omar", NOTE_WORD))
    assert await bot.storage.mentions.pending() == 0
    text = bot.current(STAFF_CHAT, agenda["message_id"])["text"]
    assert f"Termin #{booking_id} · nach Ablauf der Aufbewahrungsfrist anonymisiert" in text
    # The residents themselves are still there (only their old appointments expired).
    assert await bot.storage.residents.get(zeynep["id"]) is not None
    assert await bot.storage.residents.get(omar["id"]) is not None
    assert bot.clock.now() - timedelta(days=90) > datetime(2026, 11, 26, tzinfo=BERLIN)

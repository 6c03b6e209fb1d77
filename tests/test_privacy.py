"""Data rights end to end: export, deletion, consent withdrawal, retention, audit, access."""

from __future__ import annotations

import json
from typing import Any

from bot import callbacks
from handlers.common import commands_of
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness, button_texts, known
from tests.test_booking import book
from tests.test_questions import posted, staff_posts, topic_of

JSON = dict[str, Any]


async def active_resident(bot: Harness, name: str = "Zeynep") -> tuple[JSON, int]:
    """Onboarded, one appointment booked, one question asked, news subscribed."""
    user = await bot.onboard(name, "en")
    await book(bot, user)
    await bot.send(user, "My question about the Jobcenter letter")
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, 2)
    await bot.storage.subscriptions.subscribe(user["id"], "general", bot.clock.now())
    return user, thread


async def test_mydata_exports_everything_readably(bot: Harness) -> None:
    user, _ = await active_resident(bot)
    bot.sandbox.send_text(user, "/mydata")
    await bot.idle()
    [call] = [
        c
        for c in bot.sandbox.calls("sendDocument", user["id"])
        if c.ok and "my-data" in str(c.result)
    ]
    document = call.result["document"]
    data = json.loads(bot.sandbox.file_bytes(document["file_id"]))
    assert data["profile"]["first_name"] == "Zeynep"
    assert data["profile"]["language"] == "en"
    assert len(data["appointments"]) == 1
    assert len(data["requests"]) == 1
    assert data["subscriptions"][0]["topic"] == "general"
    caption = call.result["caption"]
    assert "1 appointment" in caption and "1 question" in caption
    # A part people can read, in the resident's language; the keys stay English.
    readable = data["in_your_language"]
    assert readable[0] == "This is everything Quartierbot stores about you:"
    assert any(line.startswith("• Appointment on ") and "(" in line for line in readable)
    assert any(line.startswith("• Question from ") for line in readable)
    assert "• News: General news" in readable


def test_local_times_convert_moments_and_never_a_residents_words() -> None:
    from zoneinfo import ZoneInfo

    from handlers.privacy import local_times

    berlin = ZoneInfo("Europe/Berlin")
    row = {"starts_at": "2026-07-01 12:00:00", "note": "2026-07-01 12:00:00", "at": None}
    assert local_times({"appointments": [row]}, berlin) == {
        "appointments": [
            {"starts_at": "2026-07-01T14:00:00+02:00", "note": "2026-07-01 12:00:00", "at": None}
        ]
    }


async def test_mydata_gives_local_times_with_their_offset(bot: Harness) -> None:
    """The database keeps UTC; the resident reads Krefeld's time, and the JSON says which
    (ISO 8601 with the offset), so 14:00 is never read as 13:00."""
    user, _ = await active_resident(bot)
    bot.sandbox.send_text(user, "/mydata")
    await bot.idle()
    [call] = [
        c
        for c in bot.sandbox.calls("sendDocument", user["id"])
        if c.ok and "my-data" in str(c.result)
    ]
    data = json.loads(bot.sandbox.file_bytes(call.result["document"]["file_id"]))
    assert data["exported_at"] == "2026-11-25T10:00:00+01:00"
    assert data["time_zone"] == "Europe/Berlin"
    [appointment] = data["appointments"]
    assert appointment["starts_at"] == "2026-11-26T14:00:00+01:00"
    assert data["profile"]["consent_at"] == "2026-11-25T10:00:00+01:00"
    assert data["requests"][0]["opened_at"] == "2026-11-25T10:00:00+01:00"
    assert data["profile"]["last_seen"].endswith("+01:00")
    readable = data["in_your_language"]
    assert "Times are local time (Europe/Berlin)." in readable
    assert any(line.startswith("• Appointment on ") and "14:00" in line for line in readable)


async def test_mydata_readable_part_is_in_the_residents_language(bot: Harness) -> None:
    user, _ = await active_resident(bot, "Emre")
    await bot.storage.residents.save_language(user["id"], "tr", bot.clock.now())
    bot.sandbox.send_text(user, "/mydata")
    await bot.idle()
    [call] = [
        c
        for c in bot.sandbox.calls("sendDocument", user["id"])
        if c.ok and "my-data" in str(c.result)
    ]
    data = json.loads(bot.sandbox.file_bytes(call.result["document"]["file_id"]))
    readable = "\n".join(data["in_your_language"])
    assert "Randevu:" in readable and "soru" in readable and "Haberler" in readable
    assert data["profile"]["language"] == "tr" and "appointments" in data


async def test_mydata_names_the_language_not_its_code(bot: Harness) -> None:
    user = await bot.onboard("Omar", "ar")
    bot.sandbox.send_text(user, "/mydata")
    await bot.idle()
    texts = [m.get("text", "") + m.get("caption", "") for m in bot.sandbox.bot_messages(user["id"])]
    summary = next(t for t in texts if "Omar" in t)
    assert "العربية" in summary
    assert ": ar" not in summary and "ar," not in summary


async def test_delete_erases_every_trace(bot: Harness) -> None:
    user, thread = await active_resident(bot)
    assert await bot.storage.privacy.rows_mentioning(user["id"])
    [question] = await bot.send(user, "/delete")
    assert "cannot be undone" in question["text"]
    done = await bot.tap(user, question, data="1:del:yes")
    assert "Your data has been deleted" in done["text"]
    await bot.idle()

    # Nothing of the resident is left in any table of the schema.
    assert await bot.storage.privacy.rows_mentioning(user["id"]) == {}
    assert bot.app is not None
    assert not bot.services.scheduler.pending("booking-remind")
    # Staff were told: the appointment was cancelled; the resident's topic is gone with
    # every message in it, and the general chat names the request by reference only.
    await bot.sandbox.wait_for(
        lambda: [m for m in posted(bot, None) if "Daten gelöscht" in m.get("text", "")]
    )
    [notice] = await bot.sandbox.wait_for(
        lambda: [m for m in posted(bot, None) if "auf Wunsch" in m.get("text", "")]
    )
    assert thread not in [t["message_thread_id"] for t in bot.sandbox.topics(STAFF_CHAT)]
    assert bot.sandbox.messages(STAFF_CHAT, thread) == []
    assert "Zeynep" not in notice["text"] and str(user["id"]) not in notice["text"]
    assert "#" in notice["text"]
    # A double tap deletes nothing twice and says so.
    bot.sandbox.tap_raw(user, done, "1:del:yes")
    await bot.idle()
    assert "already been deleted" in bot.sandbox.callback_answers[-1]["text"]
    # A later /start begins from scratch.
    [welcome] = await bot.send(user, "/start")
    assert "Privacy notice" in welcome["text"]
    assert await bot.storage.residents.get(user["id"]) is None


async def test_withdrawing_consent_stops_forwarding_and_offers_deletion(bot: Harness) -> None:
    user, thread = await active_resident(bot, "Olga")
    [notice] = await bot.send(user, "/privacy")
    assert "after 90 days" in notice["text"]
    after = await bot.tap(user, notice, text="Withdraw consent")
    assert "🗑 Delete my data" in button_texts(after)
    before = len(posted(bot, thread))
    [answer] = await bot.send(user, "Is anyone there?")
    assert "agree" in answer["text"].lower()  # bot.send waited until the bot was idle
    assert len(posted(bot, thread)) == before
    question = await bot.tap(user, after, text="🗑 Delete my data")
    assert "cannot be undone" in question["text"]


async def test_retention_purge_runs_daily_with_the_clock(bot: Harness) -> None:
    user, thread = await active_resident(bot, "Mira")
    staff = bot.sandbox.add_user("Jana", language_code="de")
    bot.sandbox.send_text(staff, "/close", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    request = known(await bot.storage.requests.latest(user["id"]))
    assert request.state == "closed"
    bot.clock.advance(days=45)
    await bot.idle()
    assert await bot.storage.requests.latest(user["id"]) is not None
    bot.clock.advance(days=50)
    await bot.idle()

    assert await bot.storage.requests.latest(user["id"]) is None
    # The request and the past appointment still count for the figures, but no longer say
    # whom they were about.
    mentions = await bot.storage.privacy.rows_mentioning(user["id"])
    assert "bookings" not in mentions and "requests" not in mentions
    assert await bot.storage.stats.open_requests() == 0
    anonymous = await bot.storage.db.fetchone("SELECT count(*) FROM requests WHERE user_id IS NULL")
    assert anonymous is not None and anonymous[0] == 1


async def test_staff_actions_are_audited_and_only_coordinators_read_them(bot: Harness) -> None:
    user, thread = await active_resident(bot, "Ali")
    staff = bot.sandbox.add_user("Jana", language_code="de")
    bot.sandbox.send_text(staff, "/claim", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    [entry] = await bot.storage.audit.recent()
    assert (entry.actor_id, entry.action, entry.resident_id) == (staff["id"], "claim", user["id"])
    [refused] = await bot.send(user, "/audit")
    assert "only for the project's staff" in refused["text"]
    admin = bot.sandbox.add_user("Koordination", language_code="en", user_id=ADMIN_ID)
    [listing] = await bot.send(admin, "/audit")
    assert f"claim → {user['id']}" in listing["text"]


async def test_every_staff_command_refuses_residents_and_other_groups(bot: Harness) -> None:
    """No staff or coordinator command gives anything away outside the staff chat."""
    victim, _ = await active_resident(bot, "Secretname")
    intruder = await bot.onboard("Mallory", "en")
    elsewhere = bot.sandbox.add_group("Elsewhere", is_forum=False)
    assert bot.app is not None
    commands = commands_of(bot.app, "staff") + commands_of(bot.app, "admin")
    assert len(commands) >= 10
    for command in commands:
        for chat_id in (intruder["id"], elsewhere["id"]):
            before = len(bot.sandbox.bot_messages(chat_id))
            bot.sandbox.send_text(intruder, f"/{command.name} #1 all 2026-12-01 x", chat_id=chat_id)
            await bot.idle()
            for message in bot.sandbox.bot_messages(chat_id)[before:]:
                text = message.get("text", "") + message.get("caption", "")
                assert "Secretname" not in text and str(victim["id"]) not in text, command.name
                assert "#1" not in text or "only for" in text, (command.name, text)
    # Forged staff buttons from a resident's chat.
    [menu] = await bot.send(intruder, "/start")
    for kind in ("bsok", "bsno", "bsat", "bsns", "bscx", "bcok", "bcx", "bcl"):
        bot.sandbox.tap_raw(intruder, menu, f"{callbacks.VERSION}:{kind}:1")
        await bot.idle()
        answer = bot.sandbox.callback_answers[-1]
        assert "Secretname" not in answer.get("text", ""), kind
    assert await bot.storage.bookings.upcoming(victim["id"], bot.clock.now())


async def test_closing_questions_does_not_leak_between_residents(bot: Harness) -> None:
    first, _ = await active_resident(bot, "Anna")
    second = await bot.onboard("Berta", "en")
    [data] = await bot.send(second, "/mydata")
    assert "Anna" not in json.dumps(data)
    assert first["id"] != second["id"]

"""Questions to counsellors, the staff side, end to end over the sandbox: answers and notes,
topics that disappear, the queue commands, bans, canned replies, outsiders, pacing into
the staff group, restarts, and groups without topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from handlers.staff import CANNED
from sandbox.server import Sandbox
from sandbox.world import GENERAL_TOPIC
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness, known, running, with_config
from tests.test_questions import posted, staff_posts, topic_of

JSON = dict[str, Any]


async def new_for(bot: Harness, user: JSON, before: int, count: int = 1) -> list[JSON]:
    """The bot's messages to a resident after the first ``before`` ones."""

    def fresh() -> list[JSON]:
        msgs = bot.sandbox.bot_messages(user["id"])[before:]
        return msgs if len(msgs) >= count else []

    return await bot.sandbox.wait_for(
        fresh, message=f"{count} new message(s) for {user['first_name']}"
    )


async def asking(
    bot: Harness, name: str = "Aylin", lang: str = "en", text: str = "I have a question"
) -> tuple[JSON, int]:
    """A resident with an open request; returns them and their topic."""
    user = await bot.onboard(name, lang)
    await bot.send(user, text)
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, 2)
    return user, thread


async def staff_says(bot: Harness, staff: JSON, text: str, thread: int | None) -> list[JSON]:
    """A staff member writes in the staff group; returns the bot's answers in that thread."""
    before = len(posted(bot, thread if thread is not None else GENERAL_TOPIC))
    bot.sandbox.send_text(staff, text, chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()

    def fresh() -> list[JSON]:
        return posted(bot, thread if thread is not None else GENERAL_TOPIC)[before:]

    return await bot.sandbox.wait_for(fresh, message=f"an answer to {text!r}")


def topic_closed(bot: Harness, thread: int) -> bool:
    return bool(
        next(t for t in bot.sandbox.topics(STAFF_CHAT) if t["message_thread_id"] == thread)[
            "is_closed"
        ]
    )


async def test_answers_reach_the_resident_and_notes_do_not(bot: Harness) -> None:
    user, thread = await asking(bot)
    staff = bot.sandbox.add_user("Jana", language_code="de")
    before = len(bot.sandbox.bot_messages(user["id"]))
    box = bot.sandbox
    box.send_text(staff, "! She called yesterday, see file", chat_id=STAFF_CHAT, thread_id=thread)
    box.send_text(staff, "Please bring the letter on Monday.", chat_id=STAFF_CHAT, thread_id=thread)
    box.send_photo(staff, caption="This is the form", chat_id=STAFF_CHAT, thread_id=thread)
    box.send_text(
        staff,
        "See you then\n! only for us: priority case\nBest wishes",
        chat_id=STAFF_CHAT,
        thread_id=thread,
    )
    await bot.idle()
    text, photo, mixed = await new_for(bot, user, before, 3)
    assert text["text"] == "Please bring the letter on Monday."
    assert "photo" in photo and photo["caption"] == "This is the form"
    assert mixed["text"] == "See you then\nBest wishes"
    everything = " ".join(str(m) for m in box.bot_messages(user["id"]))
    assert "She called" not in everything and "priority case" not in everything
    assert "Jana" not in everything  # staff identities stay hidden by default
    request = known(await bot.storage.requests.latest(user["id"]))
    # Answering does not take the request (only /claim does); who answered is kept apart.
    assert request.state == "answered" and request.answered_name == "Jana"
    assert request.claimed_name is None


async def test_staff_names_are_shown_when_configured(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> None:
    harness = Harness(sandbox, with_config(config, show_staff_names=True), clock, i18n)
    await harness.start()
    try:
        user, thread = await asking(harness)
        staff = sandbox.add_user("Jana", language_code="de")
        before = len(sandbox.bot_messages(user["id"]))
        sandbox.send_text(staff, "We can help.", chat_id=STAFF_CHAT, thread_id=thread)
        await harness.idle()
        [answer] = await new_for(harness, user, before)
        assert answer["text"] == "Jana:\nWe can help."
    finally:
        await harness.stop()
    assert not harness.errors


async def test_deleted_topic_is_recreated_and_closed_topic_reopened(bot: Harness) -> None:
    user, first = await asking(bot)
    bot.sandbox.delete_topic(STAFF_CHAT, first)
    bot.sandbox.send_text(user, "Are you still there?")
    await bot.idle()
    card, again = await staff_posts(bot, second := await _new_topic(bot, user, first), 2)
    assert "Aylin" in card["text"] and again["text"] == "Are you still there?"
    # Staff can answer in the new topic.
    staff = bot.sandbox.add_user("Jana", language_code="de")
    before = len(bot.sandbox.bot_messages(user["id"]))
    bot.sandbox.send_text(staff, "Yes!", chat_id=STAFF_CHAT, thread_id=second)
    await bot.idle()
    [reply] = await new_for(bot, user, before)
    assert reply["text"] == "Yes!"
    # Staff close the topic by hand: the request is closed, and the resident's next
    # message reopens the topic with a new request instead of getting lost.
    bot.sandbox.set_admin(STAFF_CHAT, staff)
    bot.sandbox.close_topic(STAFF_CHAT, second, by=staff)
    await bot.idle()
    assert known(await bot.storage.requests.latest(user["id"])).state == "closed"
    bot.sandbox.send_text(user, "One more thing")
    await bot.idle()
    posts = await staff_posts(bot, second, 4)
    assert "Neue Anfrage" in posts[2]["text"] and posts[3]["text"] == "One more thing"
    assert not topic_closed(bot, second)
    assert len(bot.sandbox.topics(STAFF_CHAT)) == 1


async def _new_topic(bot: Harness, user: JSON, old: int) -> int:
    await bot.idle()
    thread = await topic_of(bot, user)
    assert thread != old, "no new topic"
    return thread


async def test_claim_close_reopen_and_queue(bot: Harness) -> None:
    aylin, thread_a = await asking(bot, "Aylin")
    bot.clock.advance(minutes=30)
    omar, thread_o = await asking(bot, "Omar", "tr")
    bot.clock.advance(minutes=5)
    jana = bot.sandbox.add_user("Jana", language_code="de")
    ref_a = known(await bot.storage.requests.latest(aylin["id"])).ref

    [queue] = await staff_says(bot, jana, "/queue", None)
    lines = queue["text"].splitlines()
    assert "Aylin (EN)" in lines[1] and "35 Min." in lines[1] and f"#{ref_a}" in lines[1]
    assert "Omar (TR)" in lines[2] and "5 Min." in lines[2]
    assert "nicht übernommen" in lines[1]

    [claimed] = await staff_says(bot, jana, "/claim", thread_a)
    assert "Jana" in claimed["text"] and ref_a in claimed["text"]
    [queue] = await staff_says(bot, jana, "/queue", None)
    assert "übernommen von Jana" in queue["text"].splitlines()[1]

    [closed] = await staff_says(bot, jana, "/close", thread_a)
    assert ref_a in closed["text"]
    await bot.sandbox.wait_for(lambda: topic_closed(bot, thread_a))
    [queue] = await staff_says(bot, jana, "/queue", None)
    assert "Aylin" not in queue["text"] and "Omar" in queue["text"]

    # Reopen by reference from the general chat.
    [reopened] = await staff_says(bot, jana, f"/reopen #{ref_a}", None)
    assert ref_a in reopened["text"]
    assert known(await bot.storage.requests.latest(aylin["id"])).state == "claimed"
    assert not topic_closed(bot, thread_a)
    [queue] = await staff_says(bot, jana, "/queue", None)
    assert "Aylin" in queue["text"]

    # Close again; the resident's new message reopens the topic with a new request.
    await staff_says(bot, jana, "/close", thread_a)
    bot.sandbox.send_text(aylin, "Sorry, one more question")
    await bot.idle()
    # card, question, claimed, closed, closed again, new request, the new question
    posts = await staff_posts(bot, thread_a, 7)
    assert posts[-1]["text"] == "Sorry, one more question"
    latest = known(await bot.storage.requests.latest(aylin["id"]))
    assert latest.state == "open" and latest.ref != ref_a
    # Commands outside a topic, without a reference, explain themselves.
    [hint] = await staff_says(bot, jana, "/claim", None)
    assert "/claim #" in hint["text"]
    del omar, thread_o


async def test_queue_lists_answered_requests_until_closed_and_answering_does_not_claim(
    bot: Harness,
) -> None:
    """Open means "not closed": a request staff answered is still open (waiting for the
    resident) and listed; "claimed" is only ever /claim, never answering."""
    aylin_r, thread_a = await asking(bot, "Nora")
    bot.clock.advance(minutes=10)
    omar, thread_o = await asking(bot, "Omar", "tr")
    aylin = bot.sandbox.add_user("Aylin", language_code="de")
    jana = bot.sandbox.add_user("Jana", language_code="de")
    for thread in (thread_a, thread_o):
        bot.sandbox.send_text(aylin, "Wir melden uns morgen.", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    for user in (aylin_r, omar):
        assert known(await bot.storage.requests.latest(user["id"])).state == "answered"
    [queue] = await staff_says(bot, jana, "/queue", None)
    lines = queue["text"].splitlines()
    assert lines[0].startswith("Offene Anfragen (noch nicht geschlossen)"), lines[0]
    assert "/claim" in lines[0]
    assert len(lines) == 3, lines
    assert all(line.startswith("💬 ") and "beantwortet von Aylin" in line for line in lines[1:])
    assert not any("übernommen" in line for line in lines[1:])
    # Nora writes again: waiting for us, first in the list; Jana claims it.
    bot.sandbox.send_text(aylin_r, "Danke, noch eine Frage")
    await bot.idle()
    await staff_says(bot, jana, "/claim", thread_a)
    [queue] = await staff_says(bot, jana, "/queue", None)
    lines = queue["text"].splitlines()
    assert lines[1].startswith("⏳ ") and "Nora" in lines[1] and "übernommen von Jana" in lines[1]
    assert lines[2].startswith("💬 ") and "Omar" in lines[2]
    # Closed requests leave the queue; with none open, it says so.
    for thread in (thread_a, thread_o):
        await staff_says(bot, jana, "/close", thread)
    [queue] = await staff_says(bot, jana, "/queue", None)
    assert queue["text"] == "Keine offenen Anfragen: Alle Anfragen sind geschlossen."


async def test_answer_to_a_command_in_a_closed_topic_goes_to_the_general_chat(bot: Harness) -> None:
    user, thread = await asking(bot, "Nora")
    jana = bot.sandbox.add_user("Jana", language_code="de")
    bot.sandbox.set_admin(STAFF_CHAT, jana)  # admins may still write in closed topics
    await staff_says(bot, jana, "/close", thread)
    await bot.sandbox.wait_for(lambda: bot.sandbox.topics(STAFF_CHAT)[0]["is_closed"])
    before = len(posted(bot, GENERAL_TOPIC))
    bot.sandbox.send_text(jana, "/queue", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    [answer] = await bot.sandbox.wait_for(lambda: posted(bot, GENERAL_TOPIC)[before:])
    assert "No open requests" in answer["text"] or "Keine" in answer["text"]
    assert bot.sandbox.topics(STAFF_CHAT)[0]["is_closed"]
    del user


async def test_ban_and_unban(bot: Harness) -> None:
    user, thread = await asking(bot, "Max")
    jana = bot.sandbox.add_user("Jana", language_code="de")
    [ask] = await staff_says(bot, jana, "/ban", thread)
    assert "reason" in ask["text"].lower() or "grund" in ask["text"].lower()
    [banned] = await staff_says(bot, jana, "/ban insults against staff", thread)
    assert "insults against staff" in banned["text"]
    before_posts = len(posted(bot, thread))
    before = len(bot.sandbox.bot_messages(user["id"]))
    bot.sandbox.send_text(user, "you are all useless")
    await bot.idle()
    [notice] = await new_for(bot, user, before)
    assert "not passed on" in notice["text"] and "02151 86 34 63" in notice["text"]
    bot.sandbox.send_text(user, "hello??")
    await bot.idle()
    assert (
        len(bot.sandbox.bot_messages(user["id"])) == before + 1
    )  # told once a day, not per message
    assert len(posted(bot, thread)) == before_posts
    await staff_says(bot, jana, "/unban", thread)
    bot.sandbox.send_text(user, "Sorry. Can you help me?")
    await bot.idle()
    posts = await staff_posts(bot, thread, before_posts + 3)
    assert posts[-1]["text"] == "Sorry. Can you help me?"


async def test_canned_reply_in_the_residents_language(bot: Harness) -> None:
    user, thread = await asking(bot, "Emre", "tr")
    jana = bot.sandbox.add_user("Jana", language_code="de")
    [listing] = await staff_says(bot, jana, "/replies", thread)
    assert all(f"• {key}:" in listing["text"] for key in CANNED)
    before = len(bot.sandbox.bot_messages(user["id"]))
    [confirmation] = await staff_says(bot, jana, "/reply docs", thread)
    [canned] = await new_for(bot, user, before)
    assert canned["text"] == bot.i18n.get("tr")._(CANNED["docs"])
    assert "Türkisch" in confirmation["text"] and "Türkçe" not in confirmation["text"]
    assert known(await bot.storage.requests.latest(user["id"])).state == "answered"
    [unknown] = await staff_says(bot, jana, "/reply nonsense", thread)
    assert "• call:" in unknown["text"]


async def test_blocked_resident_is_reported_in_the_topic(bot: Harness) -> None:
    user, thread = await asking(bot, "Kai")
    bot.sandbox.block(user)
    await bot.idle()
    jana = bot.sandbox.add_user("Jana", language_code="de")
    [report] = await staff_says(bot, jana, "Here is your answer", thread)
    assert report["text"].startswith("⚠️") and (
        "blocked" in report["text"] or "blockiert" in report["text"]
    )
    assert report["reply_to_message"]["text"] == "Here is your answer"
    assert known(await bot.storage.requests.latest(user["id"])).state == "open"


async def test_outsiders_get_nothing_of_anybodys_data(bot: Harness) -> None:
    aylin, thread = await asking(bot, "Aylin", text="My secret question")
    ref = known(await bot.storage.requests.latest(aylin["id"])).ref
    mallory = await bot.onboard("Mallory", "en")
    for command in (
        "/queue",
        f"/claim #{ref}",
        f"/close #{ref}",
        f"/ban #{ref} x",
        "/replies",
        f"/reply #{ref} id",
    ):
        [answer] = await bot.send(mallory, command)
        assert "only for the project's staff" in answer["text"]
        assert "Aylin" not in answer["text"] and ref not in answer["text"]
    assert known(await bot.storage.requests.latest(aylin["id"])).state == "open"
    # Not from another group either, not even a coordinator.
    other = bot.sandbox.add_group("Elsewhere", is_forum=True)
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    bot.sandbox.send_text(admin, "/queue", chat_id=other["id"])
    await bot.idle()
    assert bot.sandbox.bot_messages(other["id"]) == []  # not a word there; the bot left
    # Writing into a topic of another group relays nothing to anybody.
    topic = bot.sandbox.create_topic(other["id"], "Aylin", by=admin)
    before = len(bot.sandbox.bot_messages(aylin["id"]))
    bot.sandbox.send_text(admin, "hello", chat_id=other["id"], thread_id=topic["message_thread_id"])
    # Another bot in the staff group is ignored.
    robot = bot.sandbox.add_user("Helperbot", language_code=None)
    bot.sandbox.world.users[robot["id"]]["is_bot"] = True
    bot.sandbox.send_text(robot, "Automatic message", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    assert len(bot.sandbox.bot_messages(aylin["id"])) == before
    assert all("My secret question" not in str(m) for m in bot.sandbox.bot_messages(other["id"]))
    # A coordinator may use /queue in their private chat.
    [listing] = await bot.send(admin, "/queue")
    assert "Aylin" in listing["text"]


async def test_a_burst_of_60_reaches_the_staff_group_without_429(bot: Harness) -> None:
    bot.sandbox.group_per_minute = 20  # Telegram's limit, counted in the sandbox's clock time
    residents = [await bot.onboard(name, "en") for name in ("Ana", "Ben", "Cem")]
    for i in range(20):
        for user in residents:
            bot.sandbox.send_text(user, f"{user['first_name']} {i}")
    await bot.idle()
    # The receipts did not wait for the staff group.
    for user in residents:
        assert any("passed on" in m.get("text", "") for m in bot.sandbox.bot_messages(user["id"]))

    def copies() -> list[str]:
        return [
            m["text"]
            for m in posted(bot)
            if m.get("text", "").split(" ")[0] in ("Ana", "Ben", "Cem")
            and "·" not in m["text"]
            and "👤" not in m["text"]
        ]

    assert 0 < len(copies()) < 60
    for _ in range(5):
        if len(copies()) == 60:
            break
        seen = len(copies())
        bot.clock.advance(minutes=1)

        def progress(seen: int = seen) -> bool:
            return len(copies()) > seen

        await bot.sandbox.wait_for(progress, message="progress")
        await bot.idle()  # this minute's share is out; the rest waits for the next minute
    assert len(copies()) == 60
    assert bot.sandbox.stats["429"] == 0
    for user in residents:  # in order, each in the resident's own topic
        thread = await topic_of(bot, user)
        mine = [m["text"] for m in posted(bot, thread)][1:]
        assert mine == [f"{user['first_name']} {i}" for i in range(20)]


async def test_restart_loses_no_request_and_no_topic(bot: Harness) -> None:
    user, thread = await asking(bot, "Lina")
    for i in range(25):  # more than one minute's worth for the staff group
        bot.sandbox.send_text(user, f"part {i}")
    await bot.idle()
    assert len(posted(bot, thread)) < 27
    await bot.restart()
    bot.clock.advance(minutes=1)
    await bot.sandbox.wait_for(lambda: len(posted(bot, thread)) >= 27, message="all parts")
    texts = [m["text"] for m in posted(bot, thread)]
    assert texts[2:] == [f"part {i}" for i in range(25)]
    assert len(bot.sandbox.topics(STAFF_CHAT)) == 1
    jana = bot.sandbox.add_user("Jana", language_code="de")
    before = len(bot.sandbox.bot_messages(user["id"]))
    bot.sandbox.send_text(jana, "Got it all.", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    [reply] = await new_for(bot, user, before)
    assert reply["text"] == "Got it all."


# -- a staff group without topics -------------------------------------------------------------
@pytest.fixture
async def plain(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, tmp_path: Path
) -> AsyncIterator[Harness]:
    group = sandbox.add_group("Team ohne Themen", is_forum=False)
    harness = Harness(
        sandbox,
        with_config(config, staff_chat=group["id"], db_path=tmp_path / "plain.sqlite3"),
        clock,
        i18n,
    )
    async for running_harness in running(harness):
        yield running_harness


async def test_group_without_topics_uses_headers_and_replies(plain: Harness) -> None:
    box = plain.sandbox
    group = plain.config.staff_chat
    assert group is not None
    user = await plain.onboard("Aylin", "en")
    await plain.send(user, "Question about my rent")

    def both() -> list[JSON]:
        msgs = box.bot_messages(group)
        return msgs if len(msgs) >= 2 else []

    header, copy = await box.wait_for(both)
    assert header["text"].startswith("Aylin · Englisch · #")
    assert copy["text"] == "Question about my rent"
    assert copy["reply_to_message"]["message_id"] == header["message_id"]
    assert box.topics(group) == []
    jana = box.add_user("Jana", language_code="de")
    before = len(box.bot_messages(user["id"]))
    box.send_text(jana, "We will call you tomorrow.", chat_id=group, reply_to=copy)
    box.send_text(jana, "! note to self", chat_id=group, reply_to=copy)
    box.send_text(jana, "Coffee anyone?", chat_id=group)
    await plain.idle()
    [answer] = await new_for(plain, user, before)
    assert answer["text"] == "We will call you tomorrow."
    box.send_text(jana, "/claim", chat_id=group, reply_to=header)
    await plain.idle()
    claimed = await box.wait_for(
        lambda: [m for m in box.bot_messages(group) if "Jana" in m.get("text", "")]
    )
    assert claimed
    assert known(await plain.storage.requests.latest(user["id"])).claimed_name == "Jana"
    await plain.idle()
    assert len(box.bot_messages(user["id"])) == before + 1


async def test_other_modules_post_through_the_outbox_with_buttons(bot: Harness) -> None:
    staffpost = bot.services.staffpost
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="1:menu")]])
    await staffpost.send_text("Agenda for today", markup=keyboard)
    await staffpost.send_text("Why?", markup=ForceReply(selective=True))
    first, second = await staff_posts(bot, GENERAL_TOPIC, 2)
    assert first["text"] == "Agenda for today"
    assert first["reply_markup"]["inline_keyboard"][0][0]["text"] == "OK"
    assert second["text"] == "Why?"
    await bot.idle()
    assert await staffpost.pending() == 0


async def test_nothing_is_lost_while_the_bot_cannot_post_in_the_staff_group(bot: Harness) -> None:
    user = await bot.onboard("Pia", "en")
    bot.sandbox.fail_next(
        "createForumTopic", 403, "Forbidden: bot was kicked from the supergroup chat", times=2
    )
    await bot.send(user, "Hello?")

    def attempts() -> int:
        return len(bot.sandbox.calls("createForumTopic"))

    await bot.sandbox.wait_for(lambda: attempts() == 1)
    bot.clock.advance(minutes=5)  # retried after a minute: refused again
    await bot.sandbox.wait_for(lambda: attempts() == 2)
    assert bot.sandbox.topics(STAFF_CHAT) == []
    bot.clock.advance(minutes=5)  # and after two more
    thread = await topic_of(bot, user)
    _, copy = await staff_posts(bot, thread, 2)
    assert copy["text"] == "Hello?"

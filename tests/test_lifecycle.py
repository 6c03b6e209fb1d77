"""The staff queue over weeks, end to end over the sandbox (issue 19): erasure reaches the
staff group (topics deleted, or copies in a group without topics), retention does the same,
quiet requests close, stray messages open nothing, and "Did we help you?" is counted once
and linked to nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from sandbox.server import Sandbox
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness, buttons, known, running, with_config
from tests.test_questions import posted, staff_posts, topic_of
from tests.test_staff import asking, new_for

JSON = dict[str, Any]


def topic_ids(bot: Harness, chat_id: int = STAFF_CHAT) -> list[int]:
    return [int(t["message_thread_id"]) for t in bot.sandbox.topics(chat_id)]


async def delete_data(bot: Harness, user: JSON) -> None:
    [question] = await bot.send(user, "/delete")
    done = await bot.tap(user, question, data="1:del:yes")
    assert "Your data has been deleted" in done["text"]
    await bot.idle()


async def general_notice(bot: Harness, fragment: str, chat_id: int = STAFF_CHAT) -> JSON:
    found = await bot.sandbox.wait_for(
        lambda: [
            m
            for m in bot.sandbox.bot_messages(chat_id)
            if fragment in m.get("text", "") and "message_thread_id" not in m
        ],
        message=f"a notice with {fragment!r}",
    )
    return found[-1]


async def close_in_topic(bot: Harness, thread: int) -> None:
    staff = bot.sandbox.add_user("Jana", language_code="de")
    bot.sandbox.send_text(staff, "/close", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()


# -- erasure in the staff group ----------------------------------------------------------------
async def test_the_sandbox_deletes_as_telegram_does(bot: Harness) -> None:
    """deleteMessage refuses a message older than 48 hours, deleteMessages skips it, and
    deleteForumTopic needs the right to delete messages."""
    assert bot.app is not None
    tg = bot.app.bot
    old = await tg.send_message(STAFF_CHAT, "alt")
    bot.clock.advance(hours=49)
    await bot.idle()
    new = await tg.send_message(STAFF_CHAT, "neu")
    with pytest.raises(BadRequest, match="can't be deleted"):
        await tg.delete_message(STAFF_CHAT, old.message_id)
    assert await tg.delete_messages(STAFF_CHAT, [old.message_id, new.message_id, 999_999])
    left = {m["message_id"] for m in bot.sandbox.messages(STAFF_CHAT)}
    assert old.message_id in left and new.message_id not in left
    topic = await tg.create_forum_topic(STAFF_CHAT, "Probe")
    thread = topic.message_thread_id
    bot.sandbox.set_bot_membership(
        STAFF_CHAT, "administrator", can_manage_topics=True, can_delete_messages=False
    )
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await tg.delete_forum_topic(STAFF_CHAT, thread)
    bot.sandbox.set_bot_membership(STAFF_CHAT, "administrator")
    assert await tg.delete_forum_topic(STAFF_CHAT, thread)
    assert thread not in topic_ids(bot)


async def test_delete_removes_the_topic_and_tells_staff_by_reference(bot: Harness) -> None:
    user, thread = await asking(bot, "Zeynep", "en", "My letter from the Jobcenter")
    ref = known(await bot.storage.requests.latest(user["id"])).ref
    await delete_data(bot, user)
    assert thread not in topic_ids(bot)
    assert bot.sandbox.messages(STAFF_CHAT, thread) == []  # the sandbox confirms: gone
    assert [c for c in bot.sandbox.calls("deleteForumTopic") if c.ok]
    notice = await general_notice(bot, "auf Wunsch")
    assert notice["text"] == f"🗑 Anfrage #{ref} wurde auf Wunsch der Person gelöscht."
    assert await bot.storage.privacy.rows_mentioning(user["id"]) == {}


async def test_queued_posts_do_not_bring_the_topic_back_after_erasure(bot: Harness) -> None:
    """Posts still waiting in the staff lane (the group's 20 a minute are used up) are
    erased with the resident: nothing opens a topic for them afterwards."""
    user, _ = await asking(bot, "Mira", "en")
    for i in range(25):
        bot.sandbox.send_text(user, f"part {i}")
    await bot.idle()
    assert await bot.services.staffpost.pending() > 0  # the pacing window is full
    await delete_data(bot, user)
    bot.clock.advance(minutes=5)
    await bot.idle()
    assert await bot.services.staffpost.pending() == 0
    assert topic_ids(bot) == []
    assert await bot.storage.privacy.rows_mentioning(user["id"]) == {}
    assert not [c for c in bot.sandbox.calls("createForumTopic") if c.ok][1:]


async def test_a_topic_the_bot_may_not_delete_is_left_to_staff(bot: Harness) -> None:
    user, thread = await asking(bot, "Ali", "en")
    ref = known(await bot.storage.requests.latest(user["id"])).ref
    bot.sandbox.set_bot_membership(
        STAFF_CHAT, "administrator", can_manage_topics=True, can_delete_messages=False
    )
    await delete_data(bot, user)
    notice = await general_notice(bot, "nicht löschen")
    assert f"#{ref}" in notice["text"] and "Ali" not in notice["text"]
    assert thread in topic_ids(bot)  # staff delete it by hand
    assert await bot.storage.privacy.rows_mentioning(user["id"]) == {}


@pytest.fixture
async def plain(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, tmp_path: Path
) -> AsyncIterator[Harness]:
    group = sandbox.add_group("Team ohne Themen", is_forum=False, chat_id=-1009876543210)
    harness = Harness(
        sandbox,
        with_config(config, staff_chat=group["id"], db_path=tmp_path / "plain.sqlite3"),
        clock,
        i18n,
    )
    async for running_harness in running(harness):
        yield running_harness


async def test_delete_without_topics_removes_recent_copies_and_names_old_ones(
    plain: Harness,
) -> None:
    box = plain.sandbox
    group = plain.config.staff_chat
    assert group is not None
    user = await plain.onboard("Aylin", "en")
    await plain.send(user, "An old question")
    old = await box.wait_for(
        lambda: box.bot_messages(group) if len(box.bot_messages(group)) >= 2 else []
    )
    ref = known(await plain.storage.requests.latest(user["id"])).ref
    plain.clock.advance(days=3)  # Telegram no longer deletes those (48 hours)
    await plain.idle()
    plain.sandbox.send_text(user, "And a new one")
    await plain.idle()
    mine = await box.wait_for(
        lambda: box.bot_messages(group) if len(box.bot_messages(group)) >= 4 else []
    )
    recent = [m["message_id"] for m in mine[2:4]]
    await delete_data(plain, user)

    notice = await general_notice(plain, "48 Stunden", group)
    left = {m["message_id"] for m in box.messages(group)}
    assert not left & set(recent), "the recent copies are gone"
    assert {m["message_id"] for m in old} <= left, "older than 48 hours: staff delete them"
    assert [c for c in box.calls("deleteMessages") if c.ok]
    text = notice["text"]
    assert f"#{ref}" in text and "Aylin" not in text and str(user["id"]) not in text
    for message in old:
        assert f"https://t.me/c/9876543210/{message['message_id']}" in text
    assert await plain.storage.privacy.rows_mentioning(user["id"]) == {}


async def test_retention_deletes_the_topics_of_anonymised_requests(bot: Harness) -> None:
    user, thread = await asking(bot, "Olga", "en")
    ref = known(await bot.storage.requests.latest(user["id"])).ref
    await close_in_topic(bot, thread)
    bot.clock.advance(days=45)
    await bot.idle()
    assert thread in topic_ids(bot)  # within the retention period
    bot.clock.advance(days=50)
    await bot.idle()
    assert thread not in topic_ids(bot)
    assert bot.sandbox.messages(STAFF_CHAT, thread) == []
    notice = await general_notice(bot, "Aufbewahrungsfrist")
    assert f"#{ref}" in notice["text"] and "Olga" not in notice["text"]
    assert "staff_topics" not in await bot.storage.privacy.rows_mentioning(user["id"])
    # The resident writes again: a new topic, a new request.
    await bot.send(user, "Hello again")
    assert await topic_of(bot, user) != thread


# -- quiet requests ------------------------------------------------------------------------------
async def test_a_quiet_request_closes_and_the_next_message_reopens(bot: Harness) -> None:
    user, thread = await asking(bot, "Ben", "en")
    request = known(await bot.storage.requests.latest(user["id"]))
    bot.clock.advance(days=10)
    await bot.idle()
    jana = bot.sandbox.add_user("Jana", language_code="de")
    bot.sandbox.send_text(jana, "We are looking into it.", chat_id=STAFF_CHAT, thread_id=thread)
    await bot.idle()
    bot.clock.advance(days=10)  # 20 days since the question, 10 since the answer
    await bot.idle()
    assert known(await bot.storage.requests.latest(user["id"])).state != "closed"
    bot.clock.advance(days=5)
    await bot.idle()
    closed = known(await bot.storage.requests.latest(user["id"]))
    assert closed.id == request.id and closed.state == "closed"
    note = await bot.sandbox.wait_for(
        lambda: [m for m in posted(bot, thread) if m.get("text", "").startswith("💤")]
    )
    assert f"#{request.ref}" in note[0]["text"] and "14 Tagen" in note[0]["text"]
    topic = next(t for t in bot.sandbox.topics(STAFF_CHAT) if t["message_thread_id"] == thread)
    assert topic["is_closed"]
    # The resident's next message reopens the topic with a new request, as after /close.
    await bot.send(user, "Any news?")
    await bot.idle()
    latest = known(await bot.storage.requests.latest(user["id"]))
    assert latest.id != request.id and latest.state == "open"
    topic = next(t for t in bot.sandbox.topics(STAFF_CHAT) if t["message_thread_id"] == thread)
    assert not topic["is_closed"]


# -- stray messages ------------------------------------------------------------------------------
async def test_emoji_only_without_an_open_request_opens_nothing(bot: Harness) -> None:
    user = await bot.onboard("Jan", "en")
    for stray in ("👍", "🙏🏽 ❤️", "?"):
        [answer] = await bot.send(user, stray)
        assert "simply write it here" in answer["text"]
        assert buttons(answer), "the menu comes with it"
    assert await bot.storage.requests.latest(user["id"]) is None
    assert await bot.services.staffpost.pending() == 0
    assert bot.sandbox.topics(STAFF_CHAT) == []
    assert not [m for m in bot.sandbox.bot_messages(user["id"]) if "passed on" in m.get("text", "")]


async def test_emoji_and_stickers_in_an_open_request_are_relayed(bot: Harness) -> None:
    user, thread = await asking(bot, "Omar", "en")
    before = len(bot.sandbox.bot_messages(user["id"]))
    bot.sandbox.send_text(user, "👍")
    bot.sandbox.send_sticker(user)
    await bot.idle()
    copies = await staff_posts(bot, thread, 4)
    assert copies[2]["text"] == "👍" and "sticker" in copies[3]
    assert len(bot.sandbox.bot_messages(user["id"])) == before  # no second receipt


# -- did we help? --------------------------------------------------------------------------------
async def asked_for_feedback(bot: Harness, name: str) -> tuple[JSON, JSON]:
    user, thread = await asking(bot, name, "en")
    before = len(bot.sandbox.bot_messages(user["id"]))
    await close_in_topic(bot, thread)
    [question] = await new_for(bot, user, before)
    return user, question


async def test_feedback_is_counted_once_and_linked_to_nobody(bot: Harness) -> None:
    user, question = await asked_for_feedback(bot, "Anna")
    assert question["text"] == "Did we help you?"
    assert [b["text"] for b in buttons(question)] == ["👍", "👎"]
    ref = known(await bot.storage.requests.latest(user["id"])).ref
    data = buttons(question)[0]["callback_data"]
    assert str(user["id"]) not in data and ref not in data
    after = await bot.tap(user, question, text="👍")
    assert not buttons(after), "the buttons go with the first tap"
    assert bot.sandbox.callback_answers[-1]["text"] == "Thank you for your answer!"
    # A second tap on the old buttons (a double tap) changes nothing.
    bot.sandbox.tap_raw(user, question, data)
    await bot.idle()
    assert "already have your answer" in bot.sandbox.callback_answers[-1]["text"]
    rows = await bot.storage.db.fetchall("SELECT * FROM feedback_counts")
    assert [dict(r) for r in rows] == [
        {"month": "2026-11", "language": "en", "helped": 1, "count": 1}
    ]
    # Walk every column of every table: nothing ties the vote to the resident or the
    # request, and the token of the buttons is gone.
    token = data.split(":")[2]
    for table in await bot.storage.db.tables():
        for row in await bot.storage.db.fetchall(f"SELECT * FROM {table}"):
            values = [str(v) for v in dict(row).values()]
            assert token not in values, table
            if table.startswith("feedback"):
                assert str(user["id"]) not in values and ref not in values, table
    # The counts have no column that could hold a resident, a request or a time.
    columns = await bot.storage.db.fetchall("PRAGMA table_info(feedback_counts)")
    assert [c[1] for c in columns] == ["month", "language", "helped", "count"]


async def test_feedback_is_shown_with_small_cells_suppressed(bot: Harness) -> None:
    admin = bot.sandbox.add_user("Kora", language_code="en", user_id=ADMIN_ID)
    for name in ("Anna", "Ben", "Cleo"):
        user, question = await asked_for_feedback(bot, name)
        await bot.tap(user, question, text="👍")
        if name == "Anna":
            [text, _] = await stats(bot, admin)
            assert "Konnten wir helfen? 👍 <3 · 👎 0 (pro Monat gezählt)" in text["text"]
    [text, _] = await stats(bot, admin)
    assert "Konnten wir helfen? 👍 3 · 👎 0 (pro Monat gezählt)" in text["text"]
    bot.sandbox.send_text(admin, "/export")
    await bot.idle()
    csv = next(c for c in bot.sandbox.calls("sendDocument", admin["id"]) if ".csv" in str(c.result))
    body = bot.sandbox.file_bytes(csv.result["document"]["file_id"]).decode("utf-8-sig")
    assert "feedback,helped,Konnten wir helfen? Ja,,,,,3" in body
    assert "feedback,helped,Konnten wir helfen? Ja,,en,,,3" in body


async def stats(bot: Harness, admin: JSON) -> list[JSON]:
    before = len(bot.sandbox.bot_messages(admin["id"]))
    bot.sandbox.send_text(admin, "/stats")
    await bot.idle()
    return await new_for(bot, admin, before, 2)


@pytest.fixture
async def quiet(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    async for harness in running(
        Harness(sandbox, with_config(config, feedback=False), clock, i18n)
    ):
        yield harness


async def test_feedback_can_be_turned_off(quiet: Harness) -> None:
    user, thread = await asking(quiet, "Finn", "en")
    await close_in_topic(quiet, thread)
    assert not [
        m for m in quiet.sandbox.bot_messages(user["id"]) if "help you" in m.get("text", "")
    ]

"""Questions to counsellors, the resident's side, end to end over the sandbox: every kind
of message reaches the resident's topic in the staff group, the receipt comes once per
conversation, and floods, stickers and edits are handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import LRI, PDI
from handlers import questions
from storage.requests import request_id_of, request_ref
from tests.conftest import BERLIN, STAFF_CHAT, Harness, known

JSON = dict[str, Any]


# -- helpers (shared with tests/test_staff.py) ----------------------------------------------
async def topic_of(bot: Harness, user: JSON) -> int:
    """The resident's current topic in the staff group, once the outbox has created it."""
    await bot.idle()
    topic = await bot.storage.requests.current_topic(user["id"])
    assert topic is not None, f"no topic for {user['first_name']}"
    return int(topic.thread_id)


def posted(bot: Harness, thread: int | None = None) -> list[JSON]:
    """What the bot posted into the staff group (or one topic), service messages aside."""
    return [
        m
        for m in bot.sandbox.bot_messages(STAFF_CHAT, thread)
        if not any(k.startswith("forum_topic_") for k in m)
    ]


async def staff_posts(bot: Harness, thread: int | None, count: int) -> list[JSON]:
    """Wait until the bot has posted ``count`` messages into the topic (card included)."""

    def enough() -> list[JSON]:
        found = posted(bot, thread)
        return found if len(found) >= count else []

    return await bot.sandbox.wait_for(enough, message=f"{count} bot posts in thread {thread}")


async def resident_messages(bot: Harness, user: JSON, count: int = 1) -> list[JSON]:
    return await bot.sandbox.wait_bot_messages(user["id"], count)


# -- tests ----------------------------------------------------------------------------------
async def test_first_text_opens_a_topic_with_card_and_one_receipt(bot: Harness) -> None:
    user = await bot.onboard("Aylin", "en")
    [receipt] = await bot.send(user, "I got a letter from the Jobcenter, what do I do?")
    assert "passed on" in receipt["text"]
    assert "110" in receipt["text"] and "112" in receipt["text"]
    assert "The office is open now until 12:00" in receipt["text"]
    thread = await topic_of(bot, user)
    [topic] = bot.sandbox.topics(STAFF_CHAT)
    request = known(await bot.storage.requests.latest(user["id"]))
    assert topic["name"] == f"Aylin · Englisch · #{request.ref}"  # the language as staff know it
    assert str(user["id"]) not in topic["name"]
    card, copy = await staff_posts(bot, thread, 2)
    assert "Aylin" in card["text"] and "English" in card["text"]
    assert "🗓 Offene Termine: keine" in card["text"]  # the staff group reads German
    assert copy["text"] == "I got a letter from the Jobcenter, what do I do?"
    assert "forward_origin" not in copy  # copied: no link to the resident's account

    # The conversation goes on: no second receipt, same topic, same request.
    bot.sandbox.send_text(user, "It is about my rent.")
    await bot.idle()
    await staff_posts(bot, thread, 3)
    assert [
        m["text"] for m in bot.sandbox.bot_messages(user["id"]) if "passed on" in m.get("text", "")
    ] == [receipt["text"]]
    assert len(bot.sandbox.topics(STAFF_CHAT)) == 1
    assert known(await bot.storage.requests.latest(user["id"])).id == request.id


async def test_every_supported_kind_reaches_the_topic(bot: Harness) -> None:
    user = await bot.onboard("Omar", "en")
    box = bot.sandbox
    box.send_photo(user, caption="the letter")
    box.send_document(user, b"%PDF-1.4 letter", "bescheid.pdf", "application/pdf")
    box.send_voice(user)
    box.send_audio(user)
    box.send_video(user)
    box.send_video_note(user)
    box.send_location(user, 51.31, 6.56)
    box.send_contact(user, "+49 2151 123456", "Omar", contact_user_id=user["id"])
    await bot.idle()
    thread = await topic_of(bot, user)
    posts = await staff_posts(bot, thread, 9)
    kinds = [
        next(
            k
            for k in (
                "photo",
                "document",
                "voice",
                "audio",
                "video",
                "video_note",
                "location",
                "contact",
                "text",
            )
            if k in m
        )
        for m in posts[1:]
    ]
    assert kinds == [
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "video_note",
        "location",
        "contact",
    ]
    assert posts[1]["caption"] == "the letter"
    # One receipt for all of it.
    receipts = [m for m in box.bot_messages(user["id"]) if "passed on" in m.get("text", "")]
    assert len(receipts) == 1
    # The topic name carries no phone number even though a contact was shared.
    assert "2151" not in box.topics(STAFF_CHAT)[0]["name"]


async def test_album_is_copied_together(bot: Harness) -> None:
    user = await bot.onboard("Mia", "en")
    bot.services.staffpost.album_grace = 0.2
    bot.sandbox.send_media_group(
        user,
        [
            ("photo", b"\x89PNG page1", "page 1"),
            ("photo", b"\x89PNG page2", None),
            ("photo", b"\x89PNG page3", None),
        ],
    )
    await bot.idle()
    thread = await topic_of(bot, user)
    posts = await staff_posts(bot, thread, 4)
    assert all("photo" in m for m in posts[1:4])
    [call] = bot.sandbox.calls("copyMessages", STAFF_CHAT)
    assert len(call.params["message_ids"]) == 3
    assert not bot.sandbox.calls("copyMessage", STAFF_CHAT)


async def test_sticker_gets_a_polite_answer_and_nothing_is_posted(bot: Harness) -> None:
    user = await bot.onboard("Jan", "en")
    bot.sandbox.send_sticker(user)
    await bot.idle()
    [answer] = await resident_messages(bot, user)
    # Without an open request a sticker opens none: a short friendly answer with the menu.
    assert "simply write it here" in answer["text"]
    assert answer.get("reply_markup", {}).get("inline_keyboard")
    assert bot.sandbox.topics(STAFF_CHAT) == []
    assert await bot.storage.requests.latest(user["id"]) is None


async def test_nothing_is_passed_on_before_consent(bot: Harness) -> None:
    user = bot.user("Lena", "en")
    [answer] = await bot.send(user, "Hello, I need help")
    assert "privacy" in answer["text"].lower()
    bot.sandbox.send_photo(user)
    await bot.idle()
    assert bot.sandbox.topics(STAFF_CHAT) == []
    assert posted(bot) == []


async def test_receipt_outside_office_hours_names_the_next_hours(bot: Harness) -> None:
    bot.clock.set(datetime(2026, 11, 28, 15, 0, tzinfo=BERLIN))  # Saturday afternoon
    user = await bot.onboard("Ivan", "en")
    [receipt] = await bot.send(user, "Are you open?")
    assert "closed right now" in receipt["text"]
    assert "Mon 30 Nov" in receipt["text"] and "09:00" in receipt["text"]


async def test_arabic_receipt_keeps_numbers_in_order(bot: Harness) -> None:
    user = await bot.onboard("Omar", "ar")
    [receipt] = await bot.send(user, "مرحبا")
    assert f"{LRI}110{PDI}" in receipt["text"] and f"{LRI}112{PDI}" in receipt["text"]


async def test_edit_is_passed_on_as_reply_to_the_original(bot: Harness) -> None:
    user = await bot.onboard("Sara", "en")
    original = bot.sandbox.send_text(user, "My appointment is on Tuesdy")
    await bot.idle()
    thread = await topic_of(bot, user)
    _, copy = await staff_posts(bot, thread, 2)
    bot.sandbox.edit_text(user, original, "My appointment is on Tuesday")
    await bot.idle()
    posts = await staff_posts(bot, thread, 4)
    assert "bearbeitet" in posts[2]["text"]
    assert posts[3]["text"] == "My appointment is on Tuesday"
    assert posts[3]["reply_to_message"]["message_id"] == copy["message_id"]


async def test_flood_is_slowed_with_a_message_never_dropped_silently(bot: Harness) -> None:
    user = await bot.onboard("Kai", "en")
    total = questions.FLOOD_BURST + 4
    for i in range(total):
        bot.sandbox.send_text(user, f"message {i}")
    await bot.idle()
    thread = await topic_of(bot, user)
    # Topic, card and 18 copies fill the first minute of the staff group's pacing.
    await staff_posts(bot, thread, 19)
    slowed = [
        m for m in bot.sandbox.bot_messages(user["id"]) if "wait a minute" in m.get("text", "")
    ]
    assert len(slowed) == 4  # every refused message is answered
    assert all(m.get("reply_to_message", {}).get("text", "").startswith("message ") for m in slowed)
    # A minute later the resident is heard again.
    bot.clock.advance(minutes=1)
    bot.sandbox.send_text(user, "after the pause")
    await bot.idle()
    bot.clock.advance(minutes=1)
    await staff_posts(bot, thread, 1 + questions.FLOOD_BURST + 1)
    texts = [m.get("text") for m in posted(bot, thread)]
    assert texts[-1] == "after the pause"
    assert sum(1 for t in texts if t and t.startswith("message ")) == questions.FLOOD_BURST


def test_references_are_short_distinct_and_not_the_id() -> None:
    refs = {request_ref(i) for i in range(1, 5000)}
    assert len(refs) == 4999
    assert all(len(r) == 4 for r in refs)
    assert request_ref(1) != "0001"
    for i in (1, 2, 777, 65535, 65536, 10**6):
        assert request_id_of("#" + request_ref(i).lower()) == i
    assert request_id_of("#XYZ1") is None

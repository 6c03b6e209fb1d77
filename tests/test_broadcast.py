"""Broadcasts end to end: the coordinator's flow, languages, scheduling in clock time,
cancelling, 429/403 mid-broadcast, a stop in the middle, and the pacer on its own."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.error import Forbidden

from bot.delivery.pacing import LIMIT, RATE, Pacer, RequestLog
from handlers.broadcast.flow import parse_when
from storage import Storage
from tests.conftest import ADMIN_ID, BERLIN, STAFF_CHAT, Harness, button_texts, buttons, known

JSON = dict[str, Any]
HEADER = "📢 News: General news"


# -- helpers --------------------------------------------------------------------------------
def coordinator(bot: Harness) -> JSON:
    return bot.sandbox.add_user("Kora", language_code="en", user_id=ADMIN_ID)


async def resident(bot: Harness, name: str, lang: str, *topics: str) -> JSON:
    """A consented resident subscribed to ``topics``, written straight to the database so
    that tests with many residents stay fast (test_news covers the buttons)."""
    user = bot.sandbox.add_user(name, language_code=lang)
    now = bot.clock.now()
    await bot.storage.residents.give_consent(user["id"], lang, name, now)
    for topic in topics:
        await bot.storage.subscriptions.subscribe(user["id"], topic, now)
    return user


async def say(bot: Harness, user: JSON, text: str, chat_id: int | None = None) -> JSON:
    bot.sandbox.send_text(user, text, chat_id=chat_id)
    await bot.idle()
    message = bot.sandbox.last_bot_message(chat_id or user["id"])
    assert message is not None
    return message


async def tap(bot: Harness, user: JSON, message: JSON, data: str) -> JSON:
    """Like ``bot.tap``, for messages in any chat (the staff group too)."""
    bot.sandbox.tap(user, message, data=data)
    await bot.idle()
    return bot.current(message["chat"]["id"], message["message_id"])


async def compose(
    bot: Harness,
    admin: JSON,
    texts: dict[str, str],
    *,
    topic: str = "general",
    when: str | None = None,
    photo: bool = False,
    chat_id: int | None = None,
) -> JSON:
    """Walk /broadcast up to the preview; returns the summary with the confirm button."""
    chat = chat_id or admin["id"]
    first = await say(bot, admin, "/broadcast", chat_id)
    await tap(bot, admin, first, data=f"1:bct:{topic}")
    langs = await say(bot, admin, texts["de"], chat_id)
    for code, text in texts.items():
        if code != "de":
            await tap(bot, admin, langs, data=f"1:bcl:{code}")
            langs = await say(bot, admin, text, chat_id)
    media = await tap(bot, admin, langs, data="1:bcs:media")
    if photo:
        bot.sandbox.send_photo(admin, caption=None, chat_id=chat_id)
        await bot.idle()
        when_message = bot.last(chat)
    else:
        when_message = await tap(bot, admin, media, data="1:bcs:nomedia")
    if when is None:
        await tap(bot, admin, when_message, data="1:bcs:now")
    else:
        await tap(bot, admin, when_message, data="1:bcs:later")
        await say(bot, admin, when, chat_id)
    summary = bot.last(chat)
    assert "1:bcok" in [b.get("callback_data") for b in buttons(summary)], summary
    return summary


async def finished(bot: Harness, chat_id: int, broadcast_id: int = 1) -> JSON:
    """Wait for the final report of a broadcast (the last message in the chat that has it)."""
    prefix = f"🏁 Broadcast #{broadcast_id} "

    def reports() -> list[JSON]:
        return [
            m for m in bot.sandbox.bot_messages(chat_id) if m.get("text", "").startswith(prefix)
        ]

    await bot.sandbox.wait_for(lambda: len(reports()) >= 2, timeout=15, message="broadcast report")
    await bot.idle(broadcasts=True)
    return reports()[-1]


def delivered(bot: Harness, user: JSON) -> list[JSON]:
    """The broadcasts a resident received (successful sends only)."""
    out = []
    for call in bot.sandbox.calls(chat_id=user["id"]):
        if call.ok and call.method.startswith("send") and isinstance(call.result, dict):
            body = call.result.get("text") or call.result.get("caption") or ""
            if body.startswith("📢"):
                out.append(call.result)
    return out


# -- the flow -------------------------------------------------------------------------------
async def test_three_languages_reach_exactly_the_subscribers_in_their_language(
    bot: Harness,
) -> None:
    admin = coordinator(bot)
    en = await resident(bot, "Dan", "en", "general")
    tr = await resident(bot, "Ayşe", "tr", "general")
    de = await resident(bot, "Jonas", "de", "general", "job-counselling")
    ar = await resident(bot, "Omar", "ar", "general")
    other_topic = await resident(bot, "Olena", "uk", "job-counselling")
    not_subscribed = await resident(bot, "Jan", "pl")
    texts = {
        "de": "Jobmesse am Freitag in der Fabrik Heeder.",
        "en": "Job fair on Friday at Fabrik Heeder.",
        "tr": "Cuma günü Fabrik Heeder'de iş fuarı.",
    }
    summary = await compose(bot, admin, texts)
    assert "Subscribers now: 4" in summary["text"]
    assert "Languages: German, English, Turkish" in summary["text"]  # in the reader's words
    previews = [
        m for m in bot.sandbox.bot_messages(admin["id"]) if m.get("text", "").startswith("📢")
    ]
    assert len(previews) == 3

    await tap(bot, admin, summary, "1:bcok")
    report = await finished(bot, admin["id"])
    assert "sent: 4 of 4" in report["text"]

    [got_en] = delivered(bot, en)
    assert got_en["text"] == f"{HEADER}\n\n{texts['en']}"
    assert button_texts(got_en) == ["🔕 Stop these messages"]
    [got_tr] = delivered(bot, tr)
    assert texts["tr"] in got_tr["text"] and "Jobmesse" not in got_tr["text"]
    [got_de] = delivered(bot, de)
    assert got_de["text"].endswith(texts["de"]) and "ℹ️" not in got_de["text"]
    [got_ar] = delivered(bot, ar)
    assert texts["de"] in got_ar["text"] and "ℹ️" in got_ar["text"]
    assert delivered(bot, other_topic) == [] and delivered(bot, not_subscribed) == []
    # The preview was exactly what residents got.
    assert [p["text"] for p in previews] == [got_de["text"], got_en["text"], got_tr["text"]]
    assert buttons(previews[1]) == buttons(got_en)
    # The progress message became the final state; the report is a new message.
    progress = bot.current(admin["id"], summary["message_id"])
    assert progress["text"].startswith("🏁") and "blocked the bot: 0" in progress["text"]


async def test_photo_goes_with_the_caption(bot: Harness) -> None:
    admin = coordinator(bot)
    reader = await resident(bot, "Dan", "en", "creative-lab")
    summary = await compose(
        bot, admin, {"de": "Offene Werkstatt."}, topic="creative-lab", photo=True
    )
    await tap(bot, admin, summary, "1:bcok")
    await finished(bot, admin["id"])
    [call] = [c for c in bot.sandbox.calls("sendPhoto", chat_id=reader["id"]) if c.ok]
    assert call.result["caption"].endswith(
        "Offene Werkstatt.\n\nℹ️ This message is only available in German."
    )
    assert call.result["photo"]


async def test_in_the_staff_group_and_refused_elsewhere(bot: Harness) -> None:
    admin = coordinator(bot)
    bot.sandbox.world.chats[STAFF_CHAT].members.add(ADMIN_ID)
    reader = await resident(bot, "Dan", "en", "general")
    summary = await compose(bot, admin, {"de": "Heute geschlossen."}, chat_id=STAFF_CHAT)
    await tap(bot, admin, summary, "1:bcok")
    await finished(bot, STAFF_CHAT)
    assert len(delivered(bot, reader)) == 1

    # A resident, forged buttons, and another group are all refused.
    answer = await say(bot, reader, "/broadcast")
    assert "only for the project's staff" in answer["text"]
    bot.sandbox.tap_raw(reader, answer, "1:bcok")
    await bot.idle()
    assert bot.sandbox.callback_answers[-1].get("show_alert") is True
    other = bot.sandbox.add_group("Nachbarn", is_forum=False)
    bot.sandbox.send_text(admin, "/broadcast", chat_id=other["id"])
    await bot.idle()
    assert bot.sandbox.bot_messages(other["id"]) == []  # silent there, and gone
    assert not bot.sandbox.in_group(other["id"])


async def test_bad_input_in_the_flow(bot: Harness) -> None:
    admin = coordinator(bot)
    first = await say(bot, admin, "/broadcast")
    await bot.tap(admin, first, data="1:bct:general")
    too_long = await say(bot, admin, "x" * 3600)
    assert "too long" in too_long["text"]
    langs = await say(bot, admin, "Kurz und gut. " * 80)  # ~1100 characters
    media = await bot.tap(admin, langs, data="1:bcs:media")
    hint = await say(bot, admin, "no picture, sorry")
    assert "photo or a document" in hint["text"]
    bot.sandbox.send_photo(admin)
    await bot.idle()
    assert "at most 900 characters" in bot.last(admin["id"])["text"]
    when_message = await bot.tap(admin, bot.last(admin["id"]), data="1:bcs:nomedia")
    await bot.tap(admin, when_message, data="1:bcs:later")
    assert "could not read" in (await say(bot, admin, "next friday"))["text"]
    assert "in the future" in (await say(bot, admin, "24.11.2026 09:00"))["text"]
    summary = await say(bot, admin, "26.11.2026 09:00")
    assert "Subscribers now: 0" in bot.last(admin["id"])["text"]
    del summary, media
    summary = bot.last(admin["id"])
    await tap(bot, admin, summary, "1:bcok")
    bot.sandbox.tap_raw(admin, summary, "1:bcok")  # a double tap
    await bot.idle()
    assert bot.sandbox.callback_answers[-1].get("show_alert") is True
    assert len(await bot.storage.broadcasts.with_status("scheduled")) == 1


async def test_coordinator_input_is_not_taken_from_residents(bot: Harness) -> None:
    """While the coordinator's draft waits for text, residents' messages go their usual way
    and only the coordinator's own message in that chat becomes the text."""
    admin = coordinator(bot)
    reader = await resident(bot, "Dan", "en", "general")
    first = await say(bot, admin, "/broadcast")
    await bot.tap(admin, first, data="1:bct:general")
    await say(bot, reader, "Hello, I have a question")
    draft = known(await bot.storage.broadcast_drafts.get(ADMIN_ID))
    assert draft.texts == {}
    await bot.restart()  # the draft, and that it waits for text, survive a restart
    await say(bot, admin, "Der Text")
    draft = known(await bot.storage.broadcast_drafts.get(ADMIN_ID))
    assert draft.texts == {"de": "Der Text"} and draft.step == "langs"
    discarded = await bot.tap(admin, bot.last(admin["id"]), data="1:bcno")
    assert "discarded" in discarded["text"]
    assert await bot.storage.broadcast_drafts.get(ADMIN_ID) is None


# -- scheduling -----------------------------------------------------------------------------
async def test_scheduled_broadcast_fires_at_its_time_even_after_a_restart(bot: Harness) -> None:
    admin = coordinator(bot)
    reader = await resident(bot, "Dan", "en", "general")
    summary = await compose(bot, admin, {"de": "Um zwölf."}, when="25.11.2026 12:00")
    scheduled = await tap(bot, admin, summary, "1:bcok")
    assert "scheduled" in scheduled["text"]
    listing = await say(bot, admin, "/broadcasts")
    assert "#1" in listing["text"] and button_texts(listing) == ["✖ Cancel #1"]

    bot.clock.advance(hours=1, minutes=59)
    await bot.idle(broadcasts=True)  # nothing is due, nothing is being sent
    assert delivered(bot, reader) == []
    await bot.restart()
    bot.clock.advance(minutes=1)
    await finished(bot, admin["id"])
    assert len(delivered(bot, reader)) == 1
    [done] = await bot.storage.broadcasts.with_status("done")
    assert done.started_at == datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN).astimezone(UTC)


async def test_cancelled_broadcast_never_sends(bot: Harness) -> None:
    admin = coordinator(bot)
    reader = await resident(bot, "Dan", "en", "general")
    summary = await compose(bot, admin, {"de": "Abgesagt."}, when="25.11.2026 11:00")
    await tap(bot, admin, summary, "1:bcok")
    listing = await say(bot, admin, "/broadcasts")
    after = await bot.tap(admin, listing, data="1:bcx:1")
    assert "cancelled" in after["text"] and "No broadcasts are scheduled" in after["text"]
    bot.sandbox.tap_raw(admin, listing, "1:bcx:1")
    await bot.idle()
    assert bot.sandbox.callback_answers[-1].get("show_alert") is True
    await bot.restart()
    bot.clock.advance(hours=3)
    await bot.idle(broadcasts=True)  # nothing is due, nothing is being sent
    assert delivered(bot, reader) == []
    assert await bot.storage.broadcasts.with_status("cancelled")


# -- faults ---------------------------------------------------------------------------------
async def test_429_and_403_mid_broadcast(bot: Harness) -> None:
    admin = coordinator(bot)
    readers = [await resident(bot, f"R{i}", "en", "general") for i in range(10)]
    throttled, blocked, gone = readers[3], readers[6], readers[8]
    bot.expect(Forbidden)
    bot.sandbox.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=throttled["id"],
    )
    bot.sandbox.fail_next(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=blocked["id"]
    )
    bot.sandbox.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=gone["id"])
    summary = await compose(bot, admin, {"de": "Achtung."})
    await tap(bot, admin, summary, "1:bcok")
    report = await finished(bot, admin["id"])
    assert "sent: 8 of 10" in report["text"]
    assert "blocked the bot: 1" in report["text"] and "left Telegram: 1" in report["text"]
    for reader in readers:
        assert len(delivered(bot, reader)) == (0 if reader in (blocked, gone) else 1)
    # The 429 paused all sending for retry_after (requests in flight aside).
    calls = [
        c
        for c in bot.sandbox.calls("sendMessage")
        if c.params.get("chat_id") in {r["id"] for r in readers}
    ]
    [limit] = [c for c in calls if c.error_code == 429]
    assert not [c for c in calls if limit.monotonic + 0.2 < c.monotonic < limit.monotonic + 0.9]
    assert known(await bot.storage.residents.get(blocked["id"])).unreachable_since is not None
    assert known(await bot.storage.residents.get(gone["id"])).unreachable_since is not None

    # The next broadcast leaves out the unreachable; writing again makes them reachable.
    await say(bot, blocked, "/start")
    summary = await compose(bot, admin, {"de": "Zweite Nachricht."})
    await tap(bot, admin, summary, "1:bcok")
    await finished(bot, admin["id"], 2)
    assert len(delivered(bot, blocked)) == 1
    assert delivered(bot, gone) == []
    assert len(delivered(bot, readers[0])) == 2


async def test_stopped_mid_broadcast_every_subscriber_gets_it_exactly_once(bot: Harness) -> None:
    admin = coordinator(bot)
    readers = [await resident(bot, f"R{i}", "en", "general") for i in range(45)]
    ids = {r["id"] for r in readers}
    summary = await compose(bot, admin, {"de": "Einmal."})
    await tap(bot, admin, summary, "1:bcok")

    def sent() -> int:
        return sum(
            1 for c in bot.sandbox.calls("sendMessage") if c.ok and c.params.get("chat_id") in ids
        )

    await bot.sandbox.wait_for(lambda: sent() >= 12, timeout=10)
    await bot.stop()
    counts = await stored_counts(bot)
    assert counts.get("pending", 0) > 0 and "sending" not in counts
    await bot.start()
    await finished(bot, admin["id"])
    per_chat = Counter(
        c.params["chat_id"]
        for c in bot.sandbox.calls("sendMessage")
        if c.ok and c.params.get("chat_id") in ids
    )
    assert per_chat == Counter({i: 1 for i in ids})


async def stored_counts(bot: Harness) -> dict[str, int]:
    """Outbox rows of broadcast #1 by status, read while the bot is stopped."""
    storage = Storage(bot.config.db_path)
    await storage.open()
    try:
        counts: dict[str, int] = await storage.broadcasts.counts(1)
        return counts
    finally:
        await storage.close()


async def test_a_row_in_flight_at_a_crash_is_never_sent_again(bot: Harness) -> None:
    admin = coordinator(bot)
    readers = [await resident(bot, f"R{i}", "en", "general") for i in range(3)]
    summary = await compose(bot, admin, {"de": "Nur einmal."}, when="25.11.2026 11:00")
    await tap(bot, admin, summary, "1:bcok")
    await bot.stop()
    # As if the process died after claiming a row, before learning the outcome.
    storage = Storage(bot.config.db_path)
    await storage.open()
    await storage.broadcasts.start(1, bot.clock.now())
    await storage.broadcasts.claim(1, readers[0]["id"])
    await storage.close()
    await bot.start()
    report = await finished(bot, admin["id"])
    assert "sent: 2 of 3" in report["text"] and "failed: 0" in report["text"]
    assert "unknown — the bot stopped while sending (1)" in report["text"]
    assert delivered(bot, readers[0]) == []
    listing = await say(bot, admin, "/broadcasts")
    assert "#1: ❓ unknown — the bot stopped while sending (1)" in listing["text"]
    # Sending again is the coordinator's choice; only the row in doubt goes again.
    [again] = buttons(report)
    assert again["text"] == "🔁 Send again to 1 recipient"
    await tap(bot, admin, report, again["callback_data"])
    await bot.sandbox.wait_for(lambda: delivered(bot, readers[0]), message="sent again")
    await bot.sandbox.wait_for(
        lambda: "sent: 3 of 3" in bot.last(admin["id"]).get("text", ""), message="new report"
    )
    assert [len(delivered(bot, r)) for r in readers] == [1, 1, 1]
    await tap(bot, admin, report, again["callback_data"])  # a second tap sends nothing
    assert bot.sandbox.callback_answers[-1]["text"] == "This button is no longer valid."
    assert [len(delivered(bot, r)) for r in readers] == [1, 1, 1]


async def test_replies_are_not_starved_while_a_broadcast_runs(bot: Harness) -> None:
    admin = coordinator(bot)
    readers = [await resident(bot, f"R{i}", "en", "general") for i in range(40)]
    ids = {r["id"] for r in readers}
    asking = await resident(bot, "Asking", "en")
    summary = await compose(bot, admin, {"de": "Viele."})
    await tap(bot, admin, summary, "1:bcok")
    await bot.sandbox.wait_for(
        lambda: (
            sum(
                1
                for c in bot.sandbox.calls("sendMessage")
                if c.ok and c.params.get("chat_id") in ids
            )
            >= 5
        )
    )
    bot.sandbox.send_text(asking, "/help")
    await bot.sandbox.wait_bot_messages(asking["id"])
    await finished(bot, admin["id"])
    log = bot.sandbox.calls("sendMessage")
    reply_at = next(i for i, c in enumerate(log) if c.params.get("chat_id") == asking["id"])
    remaining = [c for c in log[reply_at:] if c.params.get("chat_id") in ids]
    assert len(remaining) >= 10, "the reply had to wait for the broadcast"


# -- units ----------------------------------------------------------------------------------
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Krefeld


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28.11.2026 09:00", datetime(2026, 11, 28, 9, 0, tzinfo=BERLIN)),
        ("28.11. 9:30", datetime(2026, 11, 28, 9, 30, tzinfo=BERLIN)),
        ("3.1. 08:00", datetime(2027, 1, 3, 8, 0, tzinfo=BERLIN)),
        ("2026-12-01 18:15", datetime(2026, 12, 1, 18, 15, tzinfo=BERLIN)),
        ("14:30", datetime(2026, 11, 25, 14, 30, tzinfo=BERLIN)),
        ("14.30 Uhr", datetime(2026, 11, 25, 14, 30, tzinfo=BERLIN)),
        ("31.02.2026 10:00", None),
        ("25:00", None),
        ("Freitag", None),
    ],
)
def test_parse_when(text: str, expected: datetime | None) -> None:
    result = parse_when(text, NOW, BERLIN)
    assert result == (expected.astimezone(UTC) if expected else None)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_spreads_the_budget_and_yields_to_other_requests() -> None:
    clock = FakeTime()
    log = RequestLog(clock)
    pacer = Pacer(log)
    times = []
    while clock.now < 110.0:  # ten seconds, nothing else going on
        wait = pacer.wait()
        if wait > 0:
            clock.now += wait
            continue
        times.append(clock.now)
        pacer.take(len(times))
        clock.now += 0.002  # a late wake-up now and then does not add up
    assert RATE * 10 - 1 <= len(times) <= RATE * 10 + 1
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.7 / RATE
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= LIMIT

    # Five replies in the last second cost the broadcast ten slots.
    for chat in range(5):
        log.record(-chat - 1, own=False)
    pacer.own.clear()
    taken = 0
    start = clock.now
    while clock.now < start + 0.99:
        wait = pacer.wait()
        if wait > 0:
            clock.now += wait
            continue
        pacer.take(10_000 + taken)
        taken += 1
    assert taken <= LIMIT - 10

    # One message a second per chat, and a 429 pauses everything.
    log.record(42, own=False)
    assert 0.99 <= pacer.chat_wait(42) <= 1.0
    log.pause(3)
    assert pacer.wait() >= 2.99
    clock.now += timedelta(seconds=3).total_seconds()
    assert pacer.chat_wait(42) == 0

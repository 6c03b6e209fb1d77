"""Machine translation in the conversation, end to end over the sandbox with the
LibreTranslate-compatible test server (sandbox/libretranslate.py): what staff read of a
resident, what a resident reads of staff, and how it fails soft."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import RLM, I18n
from sandbox.demo import translated_exchange
from sandbox.libretranslate import FakeLibreTranslate
from sandbox.server import Sandbox
from storage import Storage
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness, running, with_config
from tests.test_questions import posted, staff_posts, topic_of
from tests.test_staff import new_for
from tests.test_stats import command

JSON = dict[str, Any]

ARABIC_QUESTION = "وصلتني رسالة من الجوب سنتر ولا أفهمها"
ARABIC_IN_GERMAN = "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht."
GERMAN_ANSWER = "Bitte bringen Sie den Brief am Donnerstag mit."
GERMAN_IN_ARABIC = "يرجى إحضار الرسالة معك يوم الخميس."
TURKISH_QUESTION = "Merhaba, iş merkezinden bir mektup aldım ve anlamıyorum."


@pytest.fixture
async def engine() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate() as server:
        yield server


@pytest.fixture
async def bot(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, engine: FakeLibreTranslate
) -> AsyncIterator[Harness]:
    translating = with_config(config, translate_url=engine.url)
    async for harness in running(Harness(sandbox, translating, clock, i18n)):
        yield harness


def staff_member(bot: Harness) -> JSON:
    return bot.sandbox.add_user("Jana", language_code="de")


async def question(bot: Harness, name: str, language: str, text: str, posts: int) -> int:
    user = await bot.onboard(name, language)
    await bot.send(user, text)
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, posts)
    return thread


async def test_arabic_question_gets_a_german_translation_as_reply_to_the_copy(
    bot: Harness,
) -> None:
    thread = await question(bot, "Omar", "ar", ARABIC_QUESTION, 3)
    card, copy, translation = posted(bot, thread)
    assert "Sprache: Arabisch" in card["text"]
    assert copy["text"] == ARABIC_QUESTION
    assert translation["reply_to_message"]["message_id"] == copy["message_id"]
    assert translation["text"].startswith("🌐 Maschinelle Übersetzung (Arabisch → Deutsch)")
    assert ARABIC_IN_GERMAN in translation["text"]
    [topic] = bot.sandbox.topics(STAFF_CHAT)
    assert "Arabisch" in topic["name"]
    # Nothing of it in SQLite: the outbox row carried a key, never the text.
    rows = await bot.storage.db.fetchall("SELECT text, memo FROM staff_outbox")
    assert all(r["text"] is None or ARABIC_IN_GERMAN not in r["text"] for r in rows)
    assert any(r["memo"] for r in rows)


async def test_short_texts_are_not_translated(bot: Harness, engine: FakeLibreTranslate) -> None:
    thread = await question(bot, "Omar", "ar", "مرحبا", 2)
    await bot.idle()
    assert len(posted(bot, thread)) == 2
    assert engine.counts["/translate"] == 0


async def test_german_answer_reaches_the_arabic_resident_translated_with_the_original(
    bot: Harness,
) -> None:
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, ARABIC_QUESTION)
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, 3)
    before = len(bot.sandbox.bot_messages(user["id"]))
    jana = staff_member(bot)
    bot.sandbox.send_text(jana, GERMAN_ANSWER, chat_id=STAFF_CHAT, thread_id=thread)
    [answer] = await new_for(bot, user, before)
    text = answer["text"]
    assert text.startswith(GERMAN_IN_ARABIC)
    assert GERMAN_ANSWER in text and text.index(GERMAN_ANSWER) > text.index(GERMAN_IN_ARABIC)
    quotes = [e for e in answer.get("entities", []) if e["type"] == "expandable_blockquote"]
    assert quotes, answer
    # Staff see what went out, as a reply to their message.
    await bot.idle()
    sent = posted(bot, thread)[-1]
    assert GERMAN_IN_ARABIC in sent["text"]
    staff_message = bot.sandbox.messages(STAFF_CHAT, thread)[-2]
    assert sent["reply_to_message"]["message_id"] == staff_message["message_id"]
    # The translation went through the replies lane without being stored (issue 16).
    rows = await bot.storage.db.fetchall(
        "SELECT text, memo FROM replies WHERE chat_id = ?", (user["id"],)
    )
    stored = [r["text"] for r in rows if r["memo"] is not None]
    assert stored == [""]
    assert not any(GERMAN_IN_ARABIC in (r["text"] or "") for r in rows)


async def test_verbatim_answer_goes_out_untranslated(
    bot: Harness, engine: FakeLibreTranslate
) -> None:
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, "مرحبا")
    thread = await topic_of(bot, user)
    before = len(bot.sandbox.bot_messages(user["id"]))
    jana = staff_member(bot)
    bot.sandbox.send_text(
        jana, "=Termin: 12.3. um 10 Uhr, Raum 4", chat_id=STAFF_CHAT, thread_id=thread
    )
    [answer] = await new_for(bot, user, before)
    # As written, without the marker (an RLM in front: it is an Arabic chat).
    assert answer["text"].lstrip(RLM) == "Termin: 12.3. um 10 Uhr, Raum 4"
    assert engine.counts["/translate"] == 0


async def test_engine_down_copy_arrives_and_one_note(
    bot: Harness, engine: FakeLibreTranslate
) -> None:
    await engine.refuse()
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, ARABIC_QUESTION)
    thread = await topic_of(bot, user)
    bot.sandbox.send_text(user, ARABIC_QUESTION + " مرة أخرى")
    await bot.idle()
    found = await staff_posts(bot, thread, 4)
    texts = [m["text"] for m in found]
    assert texts.count(ARABIC_QUESTION) == 1  # nothing lost
    notes = [t for t in texts if t.startswith("ℹ️ Keine maschinelle Übersetzung")]
    assert len(notes) == 1, texts
    await engine.resume()


async def test_kurmanji_makes_no_request_and_one_note(
    bot: Harness, engine: FakeLibreTranslate
) -> None:
    user = await bot.onboard("Rojda", "ku")
    await bot.send(user, "Min nameyek ji navenda kar girt û ez fam nakim.")
    thread = await topic_of(bot, user)
    bot.sandbox.send_text(user, "Ez dikarim roja pêncşemê werim ofîsê?")
    await bot.idle()
    texts = [m["text"] for m in posted(bot, thread)]
    notes = [t for t in texts if "Keine maschinelle Übersetzung für Kurdisch verfügbar" in t]
    assert len(notes) == 1, texts
    assert engine.counts["/translate"] == 0
    assert engine.requests_for("ku") == []


async def test_turkish_text_from_a_german_resident_is_detected_and_translated(
    bot: Harness,
) -> None:
    thread = await question(bot, "Ayse", "de", TURKISH_QUESTION, 3)
    translation = posted(bot, thread)[-1]
    assert "(Türkisch → Deutsch)" in translation["text"]
    assert "erkannt: Türkisch" in translation["text"]
    assert "Jobcenter" in translation["text"]


async def test_stats_count_messages_per_language_and_translations(bot: Harness) -> None:
    await question(bot, "Omar", "ar", ARABIC_QUESTION, 3)
    now = bot.clock.now()
    counts = await bot.storage.language_counts.between(
        now - timedelta(days=1), now + timedelta(days=1)
    )
    assert counts == {"ar": (1, 1, 0)}
    rows = await bot.storage.db.fetchall("SELECT * FROM language_counts")
    assert set(rows[0].keys()) == {"day", "language", "messages", "translated", "transcribed"}


async def test_a_caption_is_translated_like_a_text(bot: Harness) -> None:
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, ARABIC_QUESTION)
    thread = await topic_of(bot, user)
    before = len(bot.sandbox.bot_messages(user["id"]))
    jana = staff_member(bot)
    bot.sandbox.send_photo(jana, caption=GERMAN_ANSWER, chat_id=STAFF_CHAT, thread_id=thread)
    [photo] = await new_for(bot, user, before)
    assert "photo" in photo
    assert photo["caption"].startswith(GERMAN_IN_ARABIC)
    assert GERMAN_ANSWER in photo["caption"]


async def test_engine_down_staff_answer_goes_out_in_the_original_and_staff_are_told(
    bot: Harness, engine: FakeLibreTranslate
) -> None:
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, "مرحبا")
    thread = await topic_of(bot, user)
    await engine.refuse()
    before = len(bot.sandbox.bot_messages(user["id"]))
    jana = staff_member(bot)
    bot.sandbox.send_text(jana, GERMAN_ANSWER, chat_id=STAFF_CHAT, thread_id=thread)
    [answer] = await new_for(bot, user, before)
    assert answer["text"] == GERMAN_ANSWER
    await bot.idle()
    note = posted(bot, thread)[-1]["text"]
    assert "Keine maschinelle Übersetzung" in note and "unübersetzt" in note
    await engine.resume()


async def test_a_translation_lost_in_a_restart_is_not_posted(bot: Harness) -> None:
    """The outbox row of a translation carries only a key to the text in memory; after a
    restart that memory is empty and the row is passed over, nothing else posted."""
    await bot.stop()
    storage = Storage(bot.config.db_path)
    await storage.open()
    await storage.outbox.add("text", bot.clock.now(), memo="lost-in-restart")
    await storage.close()
    await bot.start()
    await bot.idle()
    assert posted(bot, None) == []
    assert await bot.storage.outbox.pending_count() == 0


async def test_the_demo_plays_a_translated_exchange(bot: Harness) -> None:
    """What the chat page shows when the demo starts (sandbox/demo.py)."""
    jana = staff_member(bot)
    await translated_exchange(bot.sandbox, STAFF_CHAT, jana)
    omar = next(u for u in bot.sandbox.world.users.values() if u["first_name"] == "Omar")
    [answer] = await bot.sandbox.wait_for(
        lambda: [
            m for m in bot.sandbox.bot_messages(omar["id"]) if GERMAN_IN_ARABIC in m.get("text", "")
        ]
    )
    assert GERMAN_ANSWER in answer["text"]


async def test_health_checks_the_configured_engine(
    bot: Harness, engine: FakeLibreTranslate
) -> None:
    probes = {(await probe()).name: probe for probe in bot.services.health_probes}
    probe = probes["translation"]  # beside "letters" where Tesseract is installed
    check = await probe()
    assert (check.name, check.ok) == ("translation", True)
    await engine.refuse()
    check = await probe()
    assert not check.ok and "unreachable" in check.detail
    await engine.resume()


async def test_without_engines_nothing_is_translated_and_no_check_is_added(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> None:
    async for bot in running(Harness(sandbox, config, clock, i18n)):
        names = [(await probe()).name for probe in bot.services.health_probes]
        assert "translation" not in names and "voice" not in names
        assert not bot.services.translator.enabled and bot.services.transcriber is None
        thread = await question(bot, "Omar", "ar", ARABIC_QUESTION, 2)
        await bot.idle()
        assert len(posted(bot, thread)) == 2


async def test_an_edited_message_is_translated_again(bot: Harness) -> None:
    user = await bot.onboard("Omar", "ar")
    sent = bot.sandbox.send_text(user, "مرحبا، عندي سؤال عن الرسالة")
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, 3)
    bot.sandbox.edit_text(user, sent, ARABIC_QUESTION)
    await bot.idle()
    found = await staff_posts(bot, thread, 6)
    assert ARABIC_IN_GERMAN in found[-1]["text"]
    assert found[-1]["reply_to_message"]["message_id"] == found[-2]["message_id"]


async def test_the_translated_answer_and_the_original_are_escaped(
    bot: Harness, engine: FakeLibreTranslate
) -> None:
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, "مرحبا")
    thread = await topic_of(bot, user)
    before = len(bot.sandbox.bot_messages(user["id"]))
    jana = staff_member(bot)
    text = "Bitte bringen Sie <b>alle</b> Briefe & Bescheide mit."
    translated = "يرجى إحضار <b>جميع</b> الرسائل & القرارات."
    engine.phrases[("de", "ar", text)] = translated
    bot.sandbox.send_text(jana, text, chat_id=STAFF_CHAT, thread_id=thread)
    [answer] = await new_for(bot, user, before)
    assert answer["text"].startswith(translated)
    assert answer["text"].rstrip().endswith(text)  # the original, quoted as written
    assert not [e for e in answer.get("entities", []) if e["type"] == "bold"]


async def test_stats_show_translated_messages_per_language_with_small_cells_hidden(
    bot: Harness,
) -> None:
    for name in ("Omar", "Lina", "Sami"):
        await question(bot, name, "ar", ARABIC_QUESTION, 3)
    await question(bot, "Rojda", "ku", "Min nameyek ji navenda kar girt û ez fam nakim.", 3)
    admin = bot.sandbox.add_user("Kora", language_code="en", user_id=ADMIN_ID)
    [text, _chart] = await command(bot, admin, "/stats")
    lines = text["text"].splitlines()
    # The coordinator has not chosen a language: German, like the staff group.
    [total] = [line for line in lines if line.startswith("🌐")]
    # Kurmanji has one message, a small cell shown as <3; the total and the Arabic count
    # together would give it away, so they are hidden as well (as for every figure).
    assert total == "🌐 Nachrichten von Personen: x; maschinell übersetzt: 3; transkribiert: 0"
    arabic = "   • Arabisch — Nachrichten: x; maschinell übersetzt: 3; transkribiert: 0"
    assert arabic in lines, lines
    [kurdish] = [line for line in lines if line.startswith("   • Kurdisch — Nachrichten: <3;")]
    assert kurdish == "   • Kurdisch — Nachrichten: <3; maschinell übersetzt: 0; transkribiert: 0"


async def test_a_translated_answer_outlasts_a_storm_from_memory(bot: Harness) -> None:
    """The translation waits out a 429 storm in memory (never in SQLite), reaches the
    resident once after it, and staff's echo of it follows."""
    user = await bot.onboard("Omar", "ar")
    await bot.send(user, ARABIC_QUESTION)
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, 3)
    storm = bot.sandbox.storm(30, retry_after=10)
    bot.sandbox.send_text(staff_member(bot), GERMAN_ANSWER, chat_id=STAFF_CHAT, thread_id=thread)
    await bot.outlast(storm)

    def answers() -> list[Any]:
        return [
            c
            for c in bot.sandbox.calls("sendMessage", chat_id=user["id"])
            if c.ok and GERMAN_IN_ARABIC in c.params.get("text", "")
        ]

    await bot.sandbox.wait_for(answers, timeout=20, message="the translated answer")
    rows = await bot.storage.db.fetchall("SELECT text FROM replies WHERE memo IS NOT NULL")
    assert [r["text"] for r in rows] == [""]
    await bot.sandbox.wait_for(
        lambda: any(GERMAN_IN_ARABIC in m.get("text", "") for m in posted(bot, thread)),
        timeout=20,
        message="the echo in the topic",
    )
    await bot.idle()
    [sent] = answers()
    assert sent.monotonic >= storm.end

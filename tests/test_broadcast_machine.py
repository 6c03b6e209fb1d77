"""Broadcasts with machine-translated drafts for the languages the coordinator did not write
(issue 23): marked in the preview, replaceable, and read by residents with a note."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from sandbox.libretranslate import PHRASES, FakeLibreTranslate
from sandbox.server import Sandbox
from tests.conftest import Harness, button_texts, running, with_config
from tests.test_broadcast import coordinator, delivered, finished, resident, say, tap

GERMAN = "Jobmesse am Freitag in der Fabrik Heeder."
TURKISH = "Cuma günü Fabrik Heeder'de iş fuarı."
ARABIC = "معرض للوظائف يوم الجمعة في فابريك هيدر."


@pytest.fixture
async def engine() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate(phrases={**PHRASES, ("de", "ar", GERMAN): ARABIC}) as server:
        yield server


@pytest.fixture
async def bot(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, engine: FakeLibreTranslate
) -> AsyncIterator[Harness]:
    translating = with_config(config, translate_url=engine.url)
    async for harness in running(Harness(sandbox, translating, clock, i18n)):
        yield harness


async def test_missing_languages_get_machine_drafts_marked_and_replaceable(bot: Harness) -> None:
    admin = coordinator(bot)
    ar = await resident(bot, "Omar", "ar", "general")
    tr = await resident(bot, "Ayşe", "tr", "general")
    ku = await resident(bot, "Rojda", "ku", "general")
    de = await resident(bot, "Jonas", "de", "general")

    first = await say(bot, admin, "/broadcast")
    await tap(bot, admin, first, data="1:bct:general")
    langs = await say(bot, admin, GERMAN)
    # Drafted by machine for every language the engine has; not Kurmanji, not Leichte Sprache.
    assert "Machine-translated drafts: English, Turkish" in langs["text"]
    assert "Kurdish" not in langs["text"].split("Machine-translated drafts:")[1]
    labels = button_texts(langs)
    assert "✎ Arabic 🌐" in labels and "+ Kurdish" in labels and "+ Easy German" in labels

    # The coordinator replaces the Turkish draft with a text of their own.
    await tap(bot, admin, langs, data="1:bcl:tr")
    langs = await say(bot, admin, TURKISH)
    assert "Turkish" not in langs["text"].split("Machine-translated drafts:")[1]
    media = await tap(bot, admin, langs, data="1:bcs:media")
    when = await tap(bot, admin, media, data="1:bcs:nomedia")
    await tap(bot, admin, when, data="1:bcs:now")
    summary = bot.last(admin["id"])
    assert "🌐 Machine translation: English, Arabic" in summary["text"]
    previews = {
        m["text"]
        for m in bot.sandbox.bot_messages(admin["id"])
        if m.get("text", "").startswith("📢")
    }

    await tap(bot, admin, summary, "1:bcok")
    await finished(bot, admin["id"])
    [got_ar] = delivered(bot, ar)
    assert ARABIC in got_ar["text"] and GERMAN not in got_ar["text"]
    note_ar = bot.services.i18n.get("ar")._("A machine translated this message from German.")
    assert note_ar in got_ar["text"]
    [got_tr] = delivered(bot, tr)
    assert TURKISH in got_tr["text"] and "ℹ️" not in got_tr["text"]
    [got_ku] = delivered(bot, ku)
    only_german = bot.services.i18n.get("ku")._("This message is only available in German.")
    assert GERMAN in got_ku["text"] and only_german in got_ku["text"]
    [got_de] = delivered(bot, de)
    assert "ℹ️" not in got_de["text"]
    # The preview showed exactly what residents got, the machine draft included.
    assert got_ar["text"] in previews and got_ku["text"] not in previews


async def test_without_an_engine_drafts_nothing(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> None:
    async for bot in running(Harness(sandbox, config, clock, i18n)):
        admin = coordinator(bot)
        first = await say(bot, admin, "/broadcast")
        await tap(bot, admin, first, data="1:bct:general")
        langs = await say(bot, admin, GERMAN)
        assert "Machine" not in langs["text"]
        assert all(label.startswith(("+", "Continue", "✖")) for label in button_texts(langs))

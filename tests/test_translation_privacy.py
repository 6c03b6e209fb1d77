"""Erasure forgets what is held in memory only: the once-per-cause note marks, the
engine's cache of recent translations, and the staff lane's texts for rows that are gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.engines.translate import LibreTranslate
from bot.i18n import I18n
from sandbox.libretranslate import FakeLibreTranslate
from sandbox.server import Sandbox
from tests.conftest import Harness, running, with_config
from tests.test_questions import staff_posts, topic_of
from tests.test_translation_e2e import ARABIC_QUESTION


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


async def test_delete_forgets_marks_cache_and_pending_memo_texts(
    bot: Harness, engine: FakeLibreTranslate, clock: FakeClock
) -> None:
    user = await bot.onboard("Omar", "ar")
    other = await bot.onboard("Lena", "ar")
    await bot.send(user, ARABIC_QUESTION)
    thread = await topic_of(bot, user)
    await staff_posts(bot, thread, 3)  # card, copy, translation
    await engine.refuse()
    bot.sandbox.send_text(user, ARABIC_QUESTION + " مرة أخرى")
    await staff_posts(bot, thread, 5)  # + copy, one note
    await engine.resume()
    services = bot.services
    lib = services.translator.engine
    assert isinstance(lib, LibreTranslate)
    assert lib._cache  # the first translation
    assert user["id"] in services.translator._told
    # Texts waiting in memory for rows not yet due: one of Omar's, one of Lena's.
    lane = services.outbox.staff
    later = clock.now() + timedelta(days=1)
    for key, who in (("omar-memo", user), ("lena-memo", other)):
        lane._memory[key] = f"text for {who['first_name']}"
        await bot.storage.outbox.add("text", later, user_id=who["id"], memo=key)

    [question] = await bot.send(user, "/delete")
    done = await bot.tap(user, question, data="1:del:yes")
    assert "تم حذف بياناتك" in done["text"]
    await bot.idle()

    assert user["id"] not in services.translator._told
    assert all(told[0] != user["id"] for told in services.interpreter._voice_told)
    assert not lib._cache
    assert "omar-memo" not in lane._memory
    assert lane._memory.get("lena-memo") == "text for Lena"
    assert all(v != "text for Omar" for v in lane._memory.values())

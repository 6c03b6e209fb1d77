"""The LibreTranslate client against the project's LibreTranslate-compatible test server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.config import ConfigError, load_config
from bot.engines.translate import (
    Failure,
    LibreTranslate,
    Translation,
    TranslationFailed,
    build_translator,
)
from sandbox.libretranslate import FakeLibreTranslate

ARABIC = "وصلتني رسالة من الجوب سنتر ولا أفهمها"
ARABIC_DE = "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht."
ANSWER = "Bitte bringen Sie den Brief am Donnerstag mit."
KURMANJI = "Min nameyek ji navenda kar stand"


@pytest.fixture
async def server() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))


@pytest.fixture
async def client(server: FakeLibreTranslate, clock: FakeClock) -> AsyncIterator[LibreTranslate]:
    async with LibreTranslate(server.url, clock=clock, timeout=1.0) as engine:
        yield engine


async def test_translates_and_reads_languages_once(
    client: LibreTranslate, server: FakeLibreTranslate
) -> None:
    outcome = await client.translate(ARABIC, "ar", "de")
    assert isinstance(outcome, Translation)
    assert outcome.ok and outcome.text == ARABIC_DE
    assert (outcome.source, outcome.target, outcome.cached) == ("ar", "de", False)
    assert server.counts == {"/languages": 1, "/translate": 1}
    assert server.requests[-1].body == {
        "q": ARABIC,
        "source": "ar",
        "target": "de",
        "format": "text",
    }
    back = await client.translate(ANSWER, "de", "ar")
    assert isinstance(back, Translation) and back.text == "يرجى إحضار الرسالة معك يوم الخميس."
    assert server.counts["/languages"] == 1


async def test_cache_hit_makes_no_second_request(
    client: LibreTranslate, server: FakeLibreTranslate
) -> None:
    first = await client.translate(ARABIC, "ar", "de")
    second = await client.translate(ARABIC, "ar", "de")
    assert isinstance(second, Translation) and second.cached and second.text == ARABIC_DE
    assert isinstance(first, Translation) and not first.cached
    assert server.counts["/translate"] == 1


async def test_the_same_text_asked_twice_at_once_is_one_request(
    client: LibreTranslate, server: FakeLibreTranslate
) -> None:
    """A new request's question is translated for staff and for the prepared-answers
    search at the same moment: the engine is asked once."""
    assert await client.refresh_languages()
    server.delay = 0.05
    first, second = await asyncio.gather(
        client.translate(ARABIC, "ar", "de"), client.translate(ARABIC, "ar", "de")
    )
    assert first.ok and second.ok and first == second
    assert server.counts["/translate"] == 1
    other = await client.translate(ARABIC, "ar", "en")  # another pair: its own request
    assert other.ok and server.counts["/translate"] == 2


async def test_cache_is_bounded(server: FakeLibreTranslate, clock: FakeClock) -> None:
    async with LibreTranslate(server.url, clock=clock, cache_size=2) as engine:
        for text in ("eins zwei drei", "vier fünf sechs", "sieben acht neun"):
            assert (await engine.translate(text, "de", "en")).ok
        # The oldest one was evicted: asking again is a new request, the newest is cached.
        again = await engine.translate("eins zwei drei", "de", "en")
        newest = await engine.translate("sieben acht neun", "de", "en")
        assert isinstance(again, Translation) and not again.cached
        assert isinstance(newest, Translation) and newest.cached
        assert server.counts["/translate"] == 4


async def test_leichte_sprache_is_german_for_the_engine(
    client: LibreTranslate, server: FakeLibreTranslate
) -> None:
    outcome = await client.translate(ANSWER, "de_easy", "tr")
    assert isinstance(outcome, Translation)
    assert outcome.text == "Lütfen mektubu perşembe günü yanınızda getirin."
    assert server.requests[-1].body["source"] == "de"
    same = await client.translate(ANSWER, "de", "de_easy")
    assert isinstance(same, Translation) and same.text == ANSWER
    assert server.counts["/translate"] == 1
    pairs = client.supported_pairs()
    assert pairs is not None and ("de_easy", "ar") in pairs and ("ar", "de_easy") in pairs


async def test_slow_server_is_a_timeout(server: FakeLibreTranslate, clock: FakeClock) -> None:
    async with LibreTranslate(server.url, clock=clock, timeout=0.3) as engine:
        assert await engine.refresh_languages()
        server.delay = 1.0
        outcome = await engine.translate(ARABIC, "ar", "de")
        assert isinstance(outcome, TranslationFailed)
        assert outcome.cause is Failure.TIMEOUT and not outcome.ok
        assert 0.25 < outcome.seconds < 0.9
        # Slow is not down: as soon as it answers in time, it translates again.
        server.delay = 0.0
        assert (await engine.translate(ARABIC, "ar", "de")).ok


async def test_http_500_is_down(client: LibreTranslate, server: FakeLibreTranslate) -> None:
    assert await client.refresh_languages()
    server.fail_status = 500
    outcome = await client.translate(ARABIC, "ar", "de")
    assert isinstance(outcome, TranslationFailed)
    assert (outcome.cause, outcome.detail) == (Failure.DOWN, "HTTP 500")
    server.fail_status = None
    assert (await client.translate(ARABIC, "ar", "de")).ok


@pytest.mark.parametrize("status", [429, 403, 400])
async def test_refusals_are_rejected(
    client: LibreTranslate, server: FakeLibreTranslate, status: int
) -> None:
    assert await client.refresh_languages()
    server.fail_status = status
    outcome = await client.translate(ARABIC, "ar", "de")
    assert isinstance(outcome, TranslationFailed)
    assert (outcome.cause, outcome.detail) == (Failure.REJECTED, f"HTTP {status}")


async def test_api_key_is_sent_and_a_wrong_one_rejected(clock: FakeClock) -> None:
    async with FakeLibreTranslate(api_key="office-key") as server:
        async with LibreTranslate(server.url, clock=clock, api_key="office-key") as engine:
            assert (await engine.translate(ARABIC, "ar", "de")).ok
            assert server.requests[-1].body["api_key"] == "office-key"
        async with LibreTranslate(server.url, clock=clock, api_key="wrong") as engine:
            outcome = await engine.translate(ARABIC, "ar", "de")
            assert isinstance(outcome, TranslationFailed) and outcome.cause is Failure.REJECTED


async def test_kurmanji_is_no_model_without_a_request(
    client: LibreTranslate, server: FakeLibreTranslate
) -> None:
    to_staff = await client.translate(KURMANJI, "ku", "de")
    from_staff = await client.translate(ANSWER, "de", "ku")
    for outcome in (to_staff, from_staff):
        assert isinstance(outcome, TranslationFailed) and outcome.cause is Failure.NO_MODEL
    assert server.requests_for("ku") == []
    assert server.counts["/translate"] == 0
    assert client.can_translate("ku", "de") is False
    assert client.can_translate("ar", "de") is True


async def test_unreachable_at_start_then_re_read_after_back_off(
    server: FakeLibreTranslate, clock: FakeClock
) -> None:
    await server.refuse()
    async with LibreTranslate(server.url, clock=clock) as engine:
        assert engine.can_translate("ar", "de") is None
        assert not await engine.refresh_languages()
        assert engine.requests["/languages"] == 1
        outcome = await engine.translate(ARABIC, "ar", "de")
        assert isinstance(outcome, TranslationFailed) and outcome.cause is Failure.DOWN
        await server.resume()
        # Within the back-off nothing is sent: every message gets "down" at once.
        clock.advance(seconds=29)
        assert not (await engine.translate(ARABIC, "ar", "de")).ok
        assert engine.requests == {"/translate": 0, "/detect": 0, "/languages": 1}
        clock.advance(seconds=2)
        outcome = await engine.translate(ARABIC, "ar", "de")
        assert isinstance(outcome, Translation) and outcome.text == ARABIC_DE
        assert engine.requests["/languages"] == 2 and server.counts["/languages"] == 1


async def test_back_off_doubles_while_down(server: FakeLibreTranslate, clock: FakeClock) -> None:
    await server.refuse()
    async with LibreTranslate(server.url, clock=clock) as engine:
        assert not await engine.refresh_languages()  # next try after 30 s
        clock.advance(seconds=31)
        assert not await engine.refresh_languages()  # next try after 60 s
        clock.advance(seconds=31)
        assert not await engine.refresh_languages()
        assert engine.requests["/languages"] == 2
        clock.advance(seconds=30)
        await server.resume()
        assert await engine.refresh_languages()
        assert engine.requests["/languages"] == 3


async def test_lost_contact_stops_requests_until_back_off(
    client: LibreTranslate, server: FakeLibreTranslate, clock: FakeClock
) -> None:
    assert (await client.translate(ARABIC, "ar", "de")).ok
    await server.refuse()
    first = await client.translate("Noch eine Frage zum Brief", "de", "ar")
    assert isinstance(first, TranslationFailed) and first.cause is Failure.DOWN
    sent = dict(client.requests)
    assert not (await client.translate("Und noch eine Frage dazu", "de", "ar")).ok
    assert client.requests == sent
    await server.resume()
    clock.advance(seconds=30)
    assert (await client.translate("Und noch eine Frage dazu", "de", "ar")).ok


async def test_concurrency_is_bounded(server: FakeLibreTranslate, clock: FakeClock) -> None:
    async with LibreTranslate(server.url, clock=clock, max_concurrent=2) as engine:
        assert await engine.refresh_languages()
        server.delay = 0.1
        outcomes = await asyncio.gather(
            *(engine.translate(f"Frage Nummer {n} zum Termin", "de", "en") for n in range(6))
        )
    assert all(outcome.ok for outcome in outcomes)
    assert server.max_in_flight == 2
    assert server.counts["/translate"] == 6


async def test_auto_source_reports_the_detected_language(
    client: LibreTranslate, server: FakeLibreTranslate
) -> None:
    outcome = await client.translate(ARABIC, "auto", "de")
    assert isinstance(outcome, Translation)
    assert (outcome.text, outcome.source, outcome.confidence) == (ARABIC_DE, "ar", 0.95)


async def test_detect_through_the_engine(client: LibreTranslate) -> None:
    assert await client.detect("Я отримав лист від джобцентру і не розумію його.") == [("uk", 0.95)]


async def test_logs_carry_no_message_text(
    server: FakeLibreTranslate, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.engines.translate")
    async with LibreTranslate(server.url, clock=clock, timeout=0.3) as engine:
        assert (await engine.translate(ARABIC, "ar", "de")).ok
        assert (await engine.translate(ARABIC, "ar", "de")).ok
        assert (await engine.translate(ANSWER, "de", "ar")).ok
        await engine.translate(KURMANJI, "ku", "de")
        server.delay = 1.0
        await engine.translate("Eine langsame Frage", "de", "ar")
        server.delay, server.fail_status = 0.0, 500
        await engine.translate("Eine kaputte Frage", "de", "ar")
    messages = [record.getMessage() for record in caplog.records]
    text = "\n".join(messages)
    assert "ar->de" in text and f"{len(ARABIC)} chars" in text
    for secret in (ARABIC, ARABIC_DE, ANSWER, "يرجى", KURMANJI, "langsame", "kaputte", "Brief"):
        assert secret not in text


async def test_start_summary_names_what_it_can_translate(
    client: LibreTranslate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.engines.translate")
    assert await client.refresh_languages()
    (summary,) = [r.getMessage() for r in caplog.records if "no model for" in r.getMessage()]
    assert "from de to: en, tr, ar, uk, ru, pl, bg, ro, fa;" in summary
    assert "to de from: en, tr, ar, uk, ru, pl, bg, ro, fa;" in summary
    assert summary.endswith("no model for: ku")


async def test_fake_server_speaks_the_real_format(server: FakeLibreTranslate) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/languages") as resp:
            languages = await resp.json()
        assert {"code": "de", "name": "German", "targets": sorted(server.languages)} in languages
        assert "ku" not in {entry["code"] for entry in languages}
        body = {"q": [ARABIC, "كيف حالك اليوم"], "source": "auto", "target": "de"}
        async with session.post(f"{server.url}/translate", json=body) as resp:
            answer = await resp.json()
        assert answer["translatedText"] == [ARABIC_DE, "[de] كيف حالك اليوم"]
        assert [d["language"] for d in answer["detectedLanguage"]] == ["ar", "ar"]
        body = {"q": "x", "source": "ku", "target": "de", "format": "text"}
        async with session.post(f"{server.url}/translate", json=body) as resp:
            assert resp.status == 400
            assert await resp.json() == {"error": "ku is not supported"}
        # The stand-in is reversible: de -> ar -> de gives the text back.
        async with session.post(
            f"{server.url}/translate", json={"q": "[ar] Hallo", "source": "ar", "target": "de"}
        ) as resp:
            assert (await resp.json())["translatedText"] == "Hallo"


def test_build_translator_is_off_without_url(clock: FakeClock) -> None:
    assert build_translator(None, clock=clock) is None
    engine = build_translator(
        "http://user:secret@127.0.0.1:5000/", clock=clock, api_key="k", staff_language="de"
    )
    assert engine is not None and engine.where == "http://127.0.0.1:5000"


def test_configuration(tmp_path: Path) -> None:
    config = load_config({}, env_file=None)
    assert (config.translate_url, config.translate_key, config.voice_model) == (None, None, None)
    assert config.staff_language == "de"
    config = load_config(
        {
            "QUARTIERBOT_TRANSLATE_URL": "http://127.0.0.1:5000/",
            "QUARTIERBOT_TRANSLATE_KEY": "secret",
            "QUARTIERBOT_STAFF_LANGUAGE": "en",
            "QUARTIERBOT_VOICE_MODEL": "small",
        },
        env_file=None,
    )
    assert config.translate_url == "http://127.0.0.1:5000"
    assert (config.translate_key, config.staff_language, config.voice_model) == (
        "secret",
        "en",
        "small",
    )
    assert load_config({"QUARTIERBOT_VOICE_MODEL": str(tmp_path)}, env_file=None).voice_model
    with pytest.raises(ConfigError) as caught:
        load_config(
            {
                "QUARTIERBOT_TRANSLATE_URL": "libretranslate:5000",
                "QUARTIERBOT_STAFF_LANGUAGE": "german",
                "QUARTIERBOT_VOICE_MODEL": str(tmp_path / "missing"),
            },
            env_file=None,
        )
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "QUARTIERBOT_TRANSLATE_URL",
        "QUARTIERBOT_STAFF_LANGUAGE",
        "QUARTIERBOT_VOICE_MODEL",
    ]
    assert all("\n" not in p for p in problems)

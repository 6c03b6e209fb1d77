"""Consultation hours and places, end to end, with the clock injected."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.directory import CLOSURE_REASONS
from bot.engines.translate import TranslateOutcome, Translation
from bot.i18n import CLOSURE_REASON_NAMES, FSI, PDI
from bot.services.translation import ConversationTranslator
from tests.conftest import ADMIN_ID, BERLIN, STAFF_CHAT, Harness, button_texts
from tests.test_translation_service import FakeEngine

ROOT = Path(__file__).resolve().parent.parent


async def open_first_offer(bot: Harness, user: dict) -> dict:
    [topics] = await bot.send(user, "/hours")
    topic = await bot.tap(user, topics, text=button_texts(topics)[0])
    return await bot.tap(user, topic, text=button_texts(topic)[0])


async def test_browse_in_german_to_a_venue(bot: Harness) -> None:
    user = await bot.onboard("Aylin", "de")
    [topics] = await bot.send(user, "/hours")
    assert "Arbeit und Beruf" in " ".join(button_texts(topics))
    offer = await open_first_offer(bot, user)
    assert "📍" in offer["text"]
    # Wednesday 10:00: one place of the offer is open right now, the others open later.
    assert "🟢 jetzt geöffnet bis 11:00" in offer["text"]
    assert "🕒 nächste Sprechzeit: Do., 26. Nov., 14:00–17:00" in offer["text"]
    place_button = next(b for b in button_texts(offer) if "Fabrik Heeder" in b)
    details = await bot.tap(user, offer, text=place_button)
    assert "Virchowstraße 128C" in details["text"]
    assert "02151 86 34 63" in details["text"]
    [venue] = [c for c in bot.sandbox.calls("sendVenue")]
    assert venue.params["address"].startswith("Virchowstraße 128C")


async def test_browse_in_arabic_and_turkish(bot: Harness) -> None:
    texts = {}
    for name, code in (("Omar", "ar"), ("Emre", "tr")):
        user = await bot.onboard(name, code)
        offer = await open_first_offer(bot, user)
        texts[code] = offer["text"]
    assert FSI in texts["ar"] and PDI in texts["ar"]
    first_strong = next(c for c in texts["ar"] if unicodedata.bidirectional(c) in ("L", "R", "AL"))
    assert unicodedata.bidirectional(first_strong) == "AL", "Telegram takes the direction from it"
    assert "sonraki" in texts["tr"].lower() and FSI not in texts["tr"]


async def test_today_at_a_glance(bot: Harness) -> None:
    user = await bot.onboard("Mia", "de")
    [today] = await bot.send(user, "/today")
    assert today["text"].startswith("Heute geöffnet:")
    week = await bot.tap(user, today, text="🗓 Diese Woche")
    assert week["text"].startswith("Diese Woche:")


async def test_nothing_open_says_when_the_next_opening_is(bot: Harness) -> None:
    """Sunday evening, and on a week with every place closed: not just "nothing is open",
    but when and where the next opening is."""
    bot.clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=BERLIN))  # a Sunday
    user = await bot.onboard("Mia", "de")
    [today] = await bot.send(user, "/today")
    lines = today["text"].splitlines()
    assert "Als Nächstes geöffnet: Montag, 30. November 2026" in today["text"], today["text"]
    opening = lines[lines.index(next(x for x in lines if "Als Nächstes" in x)) + 1]
    assert opening.startswith("🕒 ") and " — " in opening, opening
    # English, and a whole week closed by the coordinators.
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    await bot.send(admin, "/closed all 2026-11-30..2026-12-06 holiday")
    english = await bot.onboard("Sam", "en")
    [today] = await bot.send(english, "/today")
    week = await bot.tap(english, today, text="🗓 This week")
    assert (
        "Nothing is open on these days. The next opening: Monday, 7 December 2026" in (week["text"])
    ), week["text"]


async def test_holiday_shows_as_closed(bot: Harness) -> None:
    bot.clock.set(datetime(2026, 12, 24, 18, 0, tzinfo=BERLIN))
    user = await bot.onboard("Mia", "de")
    [week] = await bot.send(user, "/today")
    week = await bot.tap(user, week, text="🗓 Diese Woche")
    assert "Feiertag" in week["text"] and "Weihnacht" in week["text"]


async def test_corpus_christi_shows_as_closed(bot: Harness) -> None:
    bot.clock.set(datetime(2027, 5, 26, 18, 0, tzinfo=BERLIN))  # Fronleichnam: Thu 27 May 2027
    user = await bot.onboard("Mia", "de")
    [today] = await bot.send(user, "/today")
    week = await bot.tap(user, today, text="🗓 Diese Woche")
    assert "Fronleichnam" in week["text"]


async def test_coordinator_closure_hides_the_day(bot: Harness) -> None:
    user = await bot.onboard("Mia", "de")
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    [answer] = await bot.send(
        admin, "/closed fabrik-heeder 2026-11-26..2026-11-27 other Betriebsausflug"
    )
    assert "Schließung eingetragen" in answer["text"]
    [today] = await bot.send(user, "/today")
    week = await bot.tap(user, today, text="🗓 Diese Woche")
    assert "Betriebsausflug" in week["text"] and "Hinweis vom Büro" in week["text"]
    [listing] = await bot.send(admin, "/closed")
    assert "#1" in listing["text"]
    [lifted] = await bot.send(admin, "/closed lift 1")
    assert "aufgehoben" in lifted["text"]
    [today] = await bot.send(user, "/today")
    week = await bot.tap(user, today, text="🗓 Diese Woche")
    assert "Betriebsausflug" not in week["text"]


async def test_reload_refuses_a_broken_file_and_keeps_the_old_one(
    bot: Harness, tmp_path: Path
) -> None:
    services = bot.services
    good = services.directory
    broken = tmp_path / "directory.yaml"
    broken.write_text(
        (ROOT / "bot/data/directory.yaml")
        .read_text()
        .replace('start: "09:00"', 'start: "25:00"', 1)
    )
    services.directory_path = broken
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    [answer] = await bot.send(admin, "/reload")
    assert "Fehler" in answer["text"] and "line 296" in answer["text"]
    assert services.directory is good
    services.directory_path = ROOT / "bot/data/directory.yaml"
    [answer] = await bot.send(admin, "/reload")
    assert "neu geladen" in answer["text"]
    assert services.directory is not good


async def test_residents_cannot_reload_or_close(bot: Harness) -> None:
    user = await bot.onboard("Mia", "de")
    for command in ("/reload", "/closed all 2026-12-01 test", "/closed"):
        [answer] = await bot.send(user, command)
        assert "nur für" in answer["text"]
    assert await bot.storage.closures.current(datetime(2026, 1, 1).date()) == []
    # Not from another group either, even as a coordinator.
    other = bot.sandbox.add_group("Elsewhere", is_forum=False)
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    bot.sandbox.send_text(admin, "/closed all 2026-12-01 test", chat_id=other["id"])
    await bot.idle()
    assert bot.sandbox.bot_messages(other["id"]) == []
    assert await bot.storage.closures.current(datetime(2026, 1, 1).date()) == []
    bot.sandbox.send_text(admin, "/closed all 2026-12-01 other Teamtag", chat_id=STAFF_CHAT)
    [ok] = await bot.sandbox.wait_bot_messages(STAFF_CHAT)
    assert "Teamtag" in ok["text"]


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check-directory", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_check_directory_command(tmp_path: Path) -> None:
    good = check(ROOT / "bot/data/directory.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\ntopics:\n  - id: work\n    titel: {de: Arbeit}\nplaces: []\noffers: []\n"
    )
    result = check(bad)
    assert result.returncode == 1
    assert "line 4" in result.stdout


async def test_resident_is_told_when_a_text_is_only_in_german(bot: Harness) -> None:
    from bot.directory import load_directory

    bot.services.directory = load_directory(ROOT / "tests/data/directory/good.yaml")
    user = await bot.onboard("Emre", "tr")
    [topics] = await bot.send(user, "/hours")
    topic = await bot.tap(user, topics, text=button_texts(topics)[0])
    offer = await bot.tap(user, topic, text="Wöchentlich")
    assert "Almanca" in offer["text"]
    english = await bot.onboard("Dan", "en")
    [topics] = await bot.send(english, "/hours")
    assert "only available in German" not in topics["text"]


def test_every_closure_reason_has_a_name() -> None:
    assert tuple(CLOSURE_REASON_NAMES) == CLOSURE_REASONS


async def week_of(bot: Harness, user: dict, button: str) -> str:
    [today] = await bot.send(user, "/today")
    week = await bot.tap(user, today, text=button)
    return str(week["text"])


async def test_closure_reason_in_the_residents_language(bot: Harness) -> None:
    english = await bot.onboard("Dan", "en")
    arabic = await bot.onboard("Omar", "ar")
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    [answer] = await bot.send(admin, "/closed fabrik-heeder 2026-11-26 illness")
    assert "Krankheit im Team" in answer["text"]
    week = await week_of(bot, english, "🗓 This week")
    assert "illness in the team" in week and "Note from the office" not in week
    week = await week_of(bot, arabic, "🗓 " + bot.i18n.get("ar")._("This week"))
    assert "مرض في الفريق" in week and "Krankheit" not in week
    # Extra words are the office's note, announced as German while no translator is on.
    await bot.send(admin, "/closed all 2026-11-30 other Wasserschaden im Keller")
    week = await week_of(bot, english, "🗓 This week")
    assert "other reason" in week
    assert "📝 Note from the office (in German): Wasserschaden im Keller" in week


async def test_closure_needs_a_reason_from_the_list(bot: Harness) -> None:
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    for command in ("/closed all 2026-12-01", "/closed all 2026-12-01 Betriebsausflug"):
        [answer] = await bot.send(admin, command)
        assert "Verwendung" in answer["text"] and "illness (Krankheit im Team)" in answer["text"]
    assert await bot.storage.closures.current(datetime(2026, 1, 1).date()) == []
    [answer] = await bot.send(admin, "/closed all 2026-12-01 Training Erste Hilfe")
    assert "Fortbildung des Teams (Erste Hilfe)" in answer["text"]


async def test_a_closure_from_before_reason_keys_shows_as_a_note(bot: Harness) -> None:
    user = await bot.onboard("Dan", "en")
    # What migration 0011 makes of an old row: key "other", the free text kept.
    day = datetime(2026, 11, 26).date()
    await bot.storage.closures.add("fabrik-heeder", day, day, "Betriebsausflug", 1, bot.clock.now())
    week = await week_of(bot, user, "🗓 This week")
    assert "other reason" in week
    assert "Note from the office (in German): Betriebsausflug" in week


@dataclass
class Dictionary(FakeEngine):
    """Translates the one note of the test, as a real engine would (no German left)."""

    async def translate(self, text: str, source: str, target: str) -> TranslateOutcome:
        self.calls.append((text, source, target))
        return Translation("water damage in the cellar", source, target, 0.0)


async def test_the_office_note_is_machine_translated_when_a_translator_is_on(
    bot: Harness,
) -> None:
    # The hook for Services.translator (issue 19): set it as that work will.
    engine = Dictionary()
    setattr(bot.services, "translator", ConversationTranslator(engine, None, "de"))  # noqa: B010
    user = await bot.onboard("Dan", "en")
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    await bot.send(admin, "/closed fabrik-heeder 2026-11-26 building Wasserschaden im Keller")
    week = await week_of(bot, user, "🗓 This week")
    assert "building closed" in week
    assert "Note from the office (machine translation): water damage in the cellar" in week
    assert set(engine.calls) == {("Wasserschaden im Keller", "de", "en")}

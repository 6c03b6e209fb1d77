"""Issue 18 end to end over the sandbox: the life of an appointment after the first booking.
Confirmations that stay, booking from a place card, interpreter needs that reach the staff
notice, the agenda and the topic card, the daily agenda, attendance in place, and refusals
that name the role. (Moves, calendar files and reminders that know the answer are in
tests/test_booking.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from sandbox.server import Sandbox
from tests.conftest import (
    BERLIN,
    STAFF_CHAT,
    Harness,
    button_texts,
    buttons,
    known,
    running,
    with_config,
)
from tests.test_booking import (
    THURSDAY_14,
    book,
    data_of,
    last_text,
    open_bookings,
    resident,
    staff_posts,
    staff_says,
    staff_tap,
    to_summary,
)
from tests.test_questions import staff_posts as topic_posts, topic_of


async def test_confirmation_stays_when_opening_my_appointments(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    done = await book(bot, user)
    assert done["text"].startswith("✅ Your appointment is booked.")
    kept = await bot.tap(user, done, text="🗓 My appointments")
    assert kept["text"] == done["text"], "a confirmation is never overwritten"
    mine = bot.last(user["id"])
    assert mine["message_id"] != done["message_id"]
    assert mine["text"].startswith("🗓 Your appointments:")
    # From the list (a screen of its own) taps edit in place, as before.
    ask = await bot.tap(user, mine, data=data_of(mine, "1:bkc:")[0])
    assert ask["message_id"] == mine["message_id"] and "really want to cancel" in ask["text"]
    # "Book a new appointment" under the confirmation opens the flow below it, too.
    await bot.tap(user, done, text="📆 Book a new appointment")
    assert bot.current(user["id"], done["message_id"])["text"] == done["text"]
    assert bot.last(user["id"])["text"] == "Which appointment would you like to book?"


async def test_book_here_from_a_place_card(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    [card] = await bot.send(user, "/hours")
    card = await bot.tap(user, card, data="1:hrt:work")
    card = await bot.tap(user, card, data="1:hro:job-counselling")
    assert "1:bkh:job-counselling" in data_of(card, "1:bkh:")
    card = await bot.tap(user, card, data="1:hrp:job-counselling:fabrik-heeder")
    assert "📆 Book here" in button_texts(card)
    await bot.tap(user, card, text="📆 Book here")
    assert bot.current(user["id"], card["message_id"])["text"] == card["text"]
    days = bot.last(user["id"])
    # Offer and place are chosen: the flow starts with the days.
    assert "Job and career counselling" in days["text"] and "Fabrik Heeder" in days["text"]
    assert data_of(days, "1:bkd:") and not data_of(days, "1:bkp:")
    times = await bot.tap(user, days, data=data_of(days, "1:bkd:")[0])
    note = await bot.tap(user, times, data=data_of(times, "1:bkt:")[0])
    summary = await bot.tap(user, note, data=data_of(note, "1:bkn:")[0])
    await bot.tap(user, summary, data=data_of(summary, "1:bkok:")[0])
    [booked] = await open_bookings(bot)
    assert (booked.offer_id, booked.place_id) == ("job-counselling", "fabrik-heeder")


async def test_interpreter_reaches_notice_agenda_and_topic_card(bot: Harness) -> None:
    user = await resident(bot, "Omar", "ar")
    summary = await to_summary(bot, user)
    # Asked once, on the summary: one tap, preset to the resident's own language.
    [ask] = data_of(summary, "1:bki:")
    summary = await bot.tap(user, summary, data=ask)
    assert "🗣 سنرتّب لك مترجمًا أو دعمًا لغويًا" in summary["text"]
    done = await bot.tap(user, summary, data=data_of(summary, "1:bkok:")[0])
    assert "🗣" in done["text"]
    [booking] = await open_bookings(bot)
    assert booking.interpreter == "ar"
    notice = staff_posts(bot)[-1]
    assert "🗣 Dolmetschen: Arabisch" in notice["text"]
    staff = bot.sandbox.add_user("Petra", language_code="de")
    agenda = await staff_says(bot, staff, "/agenda 26.11.2026")
    assert "🗣 Dolmetschen: Arabisch" in agenda["text"]
    await bot.send(user, "سؤال عن موعدي")
    thread = await topic_of(bot, user)
    [card, *_] = await topic_posts(bot, thread, 2)
    assert "🗣 Dolmetschen: Arabisch" in card["text"]
    # German readers are not asked.
    mia = await resident(bot, "Mia", "de")
    summary = await to_summary(bot, mia, time=1)
    assert not data_of(summary, "1:bki:")


async def test_attendance_buttons_update_the_message(bot: Harness) -> None:
    aylin = await resident(bot, "Aylin", "en")
    await book(bot, aylin)
    notice = staff_posts(bot)[-1]
    [first] = await open_bookings(bot)
    assert data_of(notice, "1:bs") == [
        f"1:bsat:{first.id}",
        f"1:bsns:{first.id}",
        f"1:bscx:{first.id}",
    ]
    staff = bot.sandbox.add_user("Petra", language_code="de")
    await staff_tap(bot, staff, notice, f"1:bsat:{first.id}")
    answer = bot.sandbox.callback_answers[-1]
    assert answer.get("show_alert") is True and "begonnen" in answer["text"]
    bot.clock.set(THURSDAY_14 + timedelta(minutes=5))
    after = await staff_tap(bot, staff, notice, f"1:bsat:{first.id}")
    assert after["text"].endswith(f"✅ #{first.id} war da. (Petra)")
    answer = bot.sandbox.callback_answers[-1]
    assert answer.get("show_alert") is True and answer["text"] == f"#{first.id} war da."
    assert known(await bot.storage.bookings.get(first.id)).status == "attended"
    assert buttons(after), "a mark may be corrected"

    # A booking cancelled meanwhile says so.
    omar = await resident(bot, "Omar", "en")
    await book(bot, omar, day=1)
    second = (await open_bookings(bot))[-1]
    second_notice = staff_posts(bot)[-1]
    [mine] = await bot.send(omar, "/appointments")
    ask = await bot.tap(omar, mine, data=data_of(mine, "1:bkc:")[0])
    await bot.tap(omar, ask, text="✖ Yes, cancel it")
    # Its notice has lost the buttons; a tap sent before that (an app showing the old
    # message) is still answered.
    assert not buttons(bot.current(STAFF_CHAT, second_notice["message_id"]))
    bot.sandbox.tap_raw(staff, second_notice, f"1:bsns:{second.id}")
    await bot.idle()
    answer = bot.sandbox.callback_answers[-1]
    assert answer.get("show_alert") is True and answer["text"] == f"#{second.id} wurde abgesagt."


@pytest.mark.parametrize("command", ["/stats", "/broadcast", "/export", "/closed", "/reload"])
async def test_a_counsellor_is_told_the_command_is_for_coordinators(
    bot: Harness, command: str
) -> None:
    counsellor = bot.sandbox.add_user("Petra", language_code="de")
    answer = await staff_says(bot, counsellor, command)
    assert answer["text"] == "Dieser Befehl ist leider nur für die Koordination des Projekts."
    user = await resident(bot, "Aylin", "en")
    [refused] = await bot.send(user, command)
    assert "only for the project's staff" in refused["text"]


# -- the daily agenda -------------------------------------------------------------------------
@pytest.fixture
async def daily(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    changed = with_config(config, agenda_at=time(7, 30))
    async for harness in running(Harness(sandbox, changed, clock, i18n)):
        yield harness


def agendas(bot: Harness) -> list[str]:
    return [m["text"] for m in staff_posts(bot) if m["text"].startswith("📅 Termine heute")]


async def test_daily_agenda_once_at_the_set_time(daily: Harness) -> None:
    bot = daily
    omar = await resident(bot, "Omar", "ar")
    summary = await to_summary(bot, omar)
    summary = await bot.tap(omar, summary, data=data_of(summary, "1:bki:")[0])
    await bot.tap(omar, summary, data=data_of(summary, "1:bkok:")[0])
    aylin = await resident(bot, "Aylin", "en")
    await book(bot, aylin, time=1)
    [first, _] = await open_bookings(bot)
    # Aylin's answer to her reminder shows in the agenda ("who confirmed").
    await bot.storage.bookings.coming(first.id + 1, aylin["id"], bot.clock.now())
    assert agendas(bot) == [], "Wednesday has no appointments: nothing is posted"
    bot.clock.set(datetime(2026, 11, 26, 7, 29, tzinfo=BERLIN))
    await bot.idle()
    assert agendas(bot) == []
    bot.clock.set(datetime(2026, 11, 26, 7, 30, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(lambda: agendas(bot))
    [text] = agendas(bot)
    assert text.startswith("📅 Termine heute: Donnerstag, 26. November 2026")
    assert "📍 Kom.ZFB in der Fabrik Heeder" in text
    assert "Omar (Arabisch)" in text and "🗣 Dolmetschen: Arabisch" in text
    assert "Aylin (Englisch) 👍" in text and "العربية" not in text
    [post] = [m for m in staff_posts(bot) if m["text"] == text]
    assert "message_thread_id" not in post, "the General topic"
    assert data_of(post, "1:bsat:")
    # A restart the same day does not post it again.
    await bot.restart()
    await bot.idle()
    assert len(agendas(bot)) == 1
    # Friday has no appointments: nothing.
    bot.clock.set(datetime(2026, 11, 27, 7, 31, tzinfo=BERLIN))
    await bot.idle()
    assert len(agendas(bot)) == 1


async def test_daily_agenda_off_when_empty(config: Config) -> None:
    from bot.config import load_config

    assert load_config({}, env_file=None).agenda_at == time(7, 30)
    assert load_config({"QUARTIERBOT_AGENDA_AT": ""}, env_file=None).agenda_at is None
    assert load_config({"QUARTIERBOT_AGENDA_AT": "08:15"}, env_file=None).agenda_at == time(8, 15)
    assert last_text is not None and STAFF_CHAT < 0


async def test_office_note_goes_through_machine_translation(bot: Harness) -> None:
    """Issue 17: with machine translation configured, the staff's own words reach the
    resident translated (``=`` at the start: as written, announced as German); the reason
    comes from the catalogs either way."""
    from bot.engines.translate import TranslateOutcome, Translation
    from bot.services.translation import ConversationTranslator
    from tests.test_translation_service import FakeEngine

    class Dictionary(FakeEngine):
        """Translates the one note of the test, as a real engine would."""

        async def translate(self, text: str, source: str, target: str) -> TranslateOutcome:
            self.calls.append((text, source, target))
            return Translation("пані Кая захворіла", source, target, 0.0)

    engine = Dictionary()
    setattr(bot.services, "translator", ConversationTranslator(engine, None, "de"))  # noqa: B010
    user = await resident(bot, "Olena", "uk")
    await book(bot, user)
    [stored] = await open_bookings(bot)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    picker = await staff_says(bot, staff, f"/cancelbooking {stored.id} Frau Kaya ist krank")
    await staff_tap(bot, staff, picker, f"1:bsr:{stored.id}:illness")
    told = last_text(bot, user)["text"]
    assert "Причина: хвороба в команді" in told
    assert "💬 Примітка від офісу (машинний переклад): пані Кая захворіла" in told
    assert engine.calls == [("Frau Kaya ist krank", "de", "uk")]
    # "=" at the start: as written, untranslated, and said to be German.
    other = await resident(bot, "Petro", "uk")
    await book(bot, other, time=1)
    second = (await open_bookings(bot))[-1]
    picker = await staff_says(bot, staff, f"/cancelbooking {second.id} =Bis bald")
    await staff_tap(bot, staff, picker, f"1:bsr:{second.id}:other")
    assert "💬 Примітка від офісу (німецькою): Bis bald" in last_text(bot, other)["text"]


async def test_example_hours_note_names_the_office_phone(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    [today] = await bot.send(user, "/today")
    assert (
        "* Times marked with * are not yet confirmed. Please call the office to check:"
        " 02151 86 34 63" in today["text"]
    ), today["text"]


async def test_a_reminder_without_an_answer_asks_again(bot: Harness) -> None:
    from tests.test_booking import reminders_sent

    user = await resident(bot, "Aylin", "en")
    await book(bot, user)  # Thursday 26 November 14:00; reminders Wed 14:00 and Thu 12:00
    bot.clock.set(datetime(2026, 11, 25, 14, 0, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(lambda: reminders_sent(bot, user))
    bot.clock.set(datetime(2026, 11, 26, 12, 0, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(lambda: len(reminders_sent(bot, user)) == 2)
    for reminder in reminders_sent(bot, user):
        assert reminder["text"].startswith("⏰ Reminder of your appointment:")
        assert button_texts(reminder) == ["👍 I'll come", "🔁 Move", "✖ Cancel"]

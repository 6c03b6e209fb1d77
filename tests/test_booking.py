"""Appointments end to end over the sandbox: the resident's flow in two languages with the
calendar file, cancelling and moving, the staff group's agenda and actions, closures,
stale and forged buttons, seat limits, reminders across restarts, the waiting list and a
race of fifty residents for one seat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from telegram.ext import SimpleUpdateProcessor

import tests.conftest as harness_module
from bot.app import build_application
from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import FSI, PDI, I18n
from handlers import booking
from handlers.booking import views
from sandbox.server import Sandbox
from tests.conftest import (
    ADMIN_ID,
    BERLIN,
    STAFF_CHAT,
    Harness,
    button_texts,
    buttons,
    known,
    running,
    with_config,
)

JSON = dict[str, Any]
JOB = "Job and career counselling (case management)"
HEEDER = "📍 Kom.ZFB at Fabrik Heeder"
THURSDAY_14 = datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN)

# One place, one offer, one morning with two 30-minute slots of one seat each (Fri 27 Nov).
SMALL = """
version: 1
topics:
  - id: work
    title: {de: Arbeit, en: Work}
places:
  - id: heeder
    name: {de: Fabrik Heeder, en: Fabrik Heeder}
    address: {street: Virchowstraße 128C, postcode: "47805", city: Krefeld}
offers:
  - id: consult
    topic: work
    title: {de: Beratung, en: Consultation}
    sessions:
      - place: heeder
        dates:
          - {date: 2026-11-27, start: "10:00", end: "11:00"}
    booking:
      slot_minutes: 30
      seats: 1
      min_notice: 1
      max_ahead: 28
      max_per_resident: 1
      confirm: instant
      bring:
        - {de: Ausweis, en: ID card}
"""


# -- helpers --------------------------------------------------------------------------------
def data_of(message: JSON, prefix: str) -> list[str]:
    return [
        b["callback_data"]
        for b in buttons(message)
        if b.get("callback_data", "").startswith(prefix)
    ]


def data_ending(message: JSON, prefix: str, suffix: str) -> str:
    [data] = [d for d in data_of(message, prefix) if d.endswith(suffix)]
    return data


async def to_summary(
    bot: Harness,
    user: JSON,
    offer: str = "job-counselling",
    place: str | None = "fabrik-heeder",
    *,
    day: int = 0,
    time: int = 0,
    note: str | None = None,
) -> JSON:
    [offers] = await bot.send(user, "/book")
    msg = await bot.tap(user, offers, data=f"1:bko:{offer}")
    if place is not None:
        msg = await bot.tap(user, msg, data=data_ending(msg, "1:bkp:", f":{place}"))
    msg = await bot.tap(user, msg, data=data_of(msg, "1:bkd:")[day])
    msg = await bot.tap(user, msg, data=data_of(msg, "1:bkt:")[time])
    if note is None:
        return await bot.tap(user, msg, data=data_of(msg, "1:bkn:")[0])
    [summary] = await bot.send(user, note)
    return summary


async def book(bot: Harness, user: JSON, **kwargs: Any) -> JSON:
    summary = await to_summary(bot, user, **kwargs)
    return await bot.tap(user, summary, data=data_of(summary, "1:bkok:")[0])


async def resident(bot: Harness, name: str, language: str) -> JSON:
    """A resident who has agreed already (onboarding itself is tested elsewhere)."""
    user = bot.user(name, language)
    await bot.storage.residents.give_consent(user["id"], language, name, bot.clock.now())
    return user


def documents(bot: Harness, user: JSON) -> list[Any]:
    return [c for c in bot.sandbox.calls("sendDocument", user["id"]) if c.ok]


def last_text(bot: Harness, user: JSON) -> JSON:
    return [m for m in bot.sandbox.bot_messages(user["id"]) if "text" in m][-1]


def reminders_sent(bot: Harness, user: JSON) -> list[JSON]:
    return [m for m in bot.sandbox.bot_messages(user["id"]) if m.get("text", "").startswith("⏰")]


def staff_posts(bot: Harness) -> list[JSON]:
    return [m for m in bot.sandbox.bot_messages(STAFF_CHAT) if "text" in m]


async def staff_says(bot: Harness, staff: JSON, text: str, reply_to: JSON | None = None) -> JSON:
    before = len(staff_posts(bot))
    bot.sandbox.send_text(staff, text, chat_id=STAFF_CHAT, reply_to=reply_to)
    await bot.idle()
    await bot.sandbox.wait_for(lambda: len(staff_posts(bot)) > before)
    return staff_posts(bot)[-1]


async def staff_tap(bot: Harness, staff: JSON, message: JSON, data: str) -> JSON:
    bot.sandbox.tap(staff, message, data=data)
    await bot.idle()
    return bot.current(STAFF_CHAT, message["message_id"])


async def staff_cancel(bot: Harness, staff: JSON, booking_id: int, note: str = "") -> None:
    """/cancelbooking, then a reason from the picker."""
    picker = await staff_says(bot, staff, f"/cancelbooking {booking_id} {note}".strip())
    await staff_tap(bot, staff, picker, f"1:bsr:{booking_id}:other")


async def open_bookings(bot: Harness) -> list[Any]:
    start = datetime(2026, 1, 1, tzinfo=BERLIN)
    return list(await bot.storage.bookings.between(start, start + timedelta(days=800)))


@pytest.fixture
def small_config(config: Config, tmp_path: Path) -> Config:
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return with_config(config, directory=path)


@pytest.fixture
async def small(
    sandbox: Sandbox, small_config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    async for harness in running(Harness(sandbox, small_config, clock, i18n)):
        yield harness


@pytest.fixture
async def concurrent(
    sandbox: Sandbox,
    small_config: Config,
    clock: FakeClock,
    i18n: I18n,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    """The small directory, with updates handled concurrently (64 at once), so that the
    database, not PTB's sequential processing, has to keep one resident per seat."""
    build = build_application

    def build_concurrent(*args: Any, **kwargs: Any) -> Any:
        app = build(*args, **kwargs)
        app._update_processor = SimpleUpdateProcessor(64)  # test only: no public setter
        return app

    monkeypatch.setattr(harness_module, "build_application", build_concurrent)
    async for harness in running(Harness(sandbox, small_config, clock, i18n)):
        yield harness


# -- the resident's flow --------------------------------------------------------------------
async def test_full_booking_in_english_with_calendar_file(bot: Harness) -> None:
    user = await bot.onboard("Aylin", "en")
    [offers] = await bot.send(user, "/book")
    assert JOB in button_texts(offers)
    places = await bot.tap(user, offers, text=JOB)
    assert HEEDER in button_texts(places)
    assert any("Back" in b for b in button_texts(places)) and any(
        "Cancel" in b for b in button_texts(places)
    )
    day = await bot.tap(user, places, text=HEEDER)
    assert day["message_id"] == offers["message_id"], "the flow edits one message"
    assert button_texts(day)[0] == "Thu 26 Nov"
    times = await bot.tap(user, day, text="Thu 26 Nov")
    assert button_texts(times)[:6] == ["14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]
    note = await bot.tap(user, times, text="14:00")
    assert "200" in note["text"]
    [summary] = await bot.send(user, "Letter from the Jobcenter about my application")
    assert "Letter from the Jobcenter" in summary["text"]
    assert "ID card or passport" in summary["text"]
    done = await bot.tap(user, summary, text="✅ Book now")
    text = done["text"]
    assert text.startswith("✅ Your appointment is booked.")
    for part in (
        # The full date and "from … to …" (issue 17: a date a person can read).
        "Thursday, 26 November 2026, from 14:00 to 14:30",
        "Kom.ZFB at Fabrik Heeder",
        "Virchowstraße 128C, 47805 Krefeld",
        "ID card or passport",
        "/appointments",
    ):
        assert part in text, part

    [doc] = documents(bot, user)
    data = bot.sandbox.file_bytes(doc.result["document"]["file_id"])
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert start == THURSDAY_14 and str(start.tzinfo) == "Europe/Berlin"
    assert event.decoded("dtend") - start == timedelta(minutes=30)
    assert "Virchowstraße 128C, 47805 Krefeld" in str(event["location"])
    assert "ID card or passport" in str(event["description"])
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert doc.result["document"]["file_name"].endswith(".ics")

    [stored] = await open_bookings(bot)
    assert stored.status == "confirmed" and stored.note.startswith("Letter")
    assert [r.offset for r in await bot.storage.booking_reminders.pending(stored.id)] == [
        timedelta(hours=24),
        timedelta(hours=2),
    ]
    [notice] = staff_posts(bot)
    assert (
        f"#{stored.id} Aylin (Sprache: Englisch)" in notice["text"]
        and "Letter from the Jobcenter" in notice["text"]
    )
    assert "message_thread_id" not in notice


async def test_full_booking_in_arabic(bot: Harness) -> None:
    user = await resident(bot, "Omar", "ar")
    done = await book(bot, user, note="رسالة من مركز العمل")
    [stored] = await open_bookings(bot)
    assert stored.status == "confirmed"
    # Arabic date and isolated Latin fragments (times, address) inside right-to-left text.
    assert "نوفمبر" in done["text"]
    assert f"{FSI}Virchowstraße 128C, 47805 Krefeld{PDI}" in done["text"]
    assert FSI + "رسالة من مركز العمل" + PDI in done["text"]
    assert "بطاقة الهوية أو جواز السفر" in done["text"]  # what to bring, from the directory
    [doc] = documents(bot, user)
    calendar = Calendar.from_ical(bot.sandbox.file_bytes(doc.result["document"]["file_id"]))
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == THURSDAY_14
    assert doc.result["document"]["file_name"] == f"موعد-{stored.id}.ics"  # in their language
    # Staff read the language in German, not in Arabic script.
    [notice] = staff_posts(bot)
    assert f"#{stored.id} Omar (Sprache: Arabisch)" in notice["text"]
    assert "العربية" not in notice["text"]


async def test_german_dates(bot: Harness) -> None:
    user = await resident(bot, "Mia", "de")
    [offers] = await bot.send(user, "/book")
    msg = await bot.tap(user, offers, data="1:bko:job-counselling")
    msg = await bot.tap(user, msg, data=data_ending(msg, "1:bkp:", ":fabrik-heeder"))
    assert button_texts(msg)[0] == "Do., 26. Nov."


async def test_back_and_cancel_at_every_step(bot: Harness) -> None:
    user = await resident(bot, "Dan", "en")
    [offers] = await bot.send(user, "/book")
    places = await bot.tap(user, offers, text=JOB)
    days = await bot.tap(user, places, text=HEEDER)
    times = await bot.tap(user, days, data=data_of(days, "1:bkd:")[0])
    back = await bot.tap(user, times, text="« Back")
    assert data_of(back, "1:bkd:"), "back from the times shows the days"
    back = await bot.tap(user, back, text="« Back")
    assert HEEDER in button_texts(back)
    back = await bot.tap(user, back, text="« Back")
    assert JOB in button_texts(back)
    places = await bot.tap(user, back, text=JOB)
    quit_ = await bot.tap(user, places, text="✖ Cancel")
    assert quit_["text"].startswith("Booking cancelled. Nothing was booked.")
    assert await open_bookings(bot) == []


async def test_cancel_from_my_appointments(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    [mine] = await bot.send(user, "/appointments")
    assert "Thursday, 26 November 2026" in mine["text"]
    ask = await bot.tap(user, mine, data=data_of(mine, "1:bkc:")[0])
    assert "really want to cancel" in ask["text"]
    kept = await bot.tap(user, ask, text="No, keep it")
    assert data_of(kept, "1:bkc:")
    ask = await bot.tap(user, kept, data=data_of(kept, "1:bkc:")[0])
    done = await bot.tap(user, ask, text="✖ Yes, cancel it")
    assert done["text"].startswith("✅ Your appointment has been cancelled.")
    assert "📆 Book a new appointment" in button_texts(done)
    assert await open_bookings(bot) == []
    assert await bot.storage.booking_reminders.pending() == []
    assert bot.app is not None
    assert not bot.services.scheduler.pending("booking-remind:")
    assert "von der Person abgesagt" in staff_posts(bot)[-1]["text"]
    # The same button again: a clear answer, nothing changes.
    bot.sandbox.tap_raw(user, done, data_of(ask, "1:bkcy:")[0])
    await bot.idle()
    assert "no longer open" in bot.sandbox.callback_answers[-1]["text"]


async def test_reschedule_moves_booking_and_reminders(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user, note="CV check")
    [old] = await open_bookings(bot)
    [mine] = await bot.send(user, "/appointments")
    places = await bot.tap(user, mine, data=data_of(mine, "1:bkr:")[0])
    days = await bot.tap(user, places, data=data_ending(places, "1:bkp:", ":fabrik-heeder"))
    times = await bot.tap(user, days, data=data_of(days, "1:bkd:")[1])  # Tuesday 1 December
    note = await bot.tap(user, times, data=data_of(times, "1:bkt:")[0])
    summary = await bot.tap(user, note, data=data_of(note, "1:bkn:")[0])
    assert "new time" in summary["text"] and "CV check" in summary["text"]
    done = await bot.tap(user, summary, data=data_of(summary, "1:bkok:")[0])
    assert "Tuesday, 1 December 2026" in done["text"]
    # A move names the old and the new time and keeps the booking's identity.
    assert done["text"].startswith(
        "🔁 Your appointment has been moved from Thu 26 Nov, at 14:00 to Tue 1 Dec, at "
    ), done["text"]
    [new] = await open_bookings(bot)
    assert new.id == old.id and new.note == "CV check" and new.sequence == 1
    assert await bot.storage.booking_reminders.pending(old.id) != []
    assert len(await bot.storage.booking_reminders.pending(new.id)) == 2
    assert bot.app is not None
    pending = bot.services.scheduler.pending("booking-remind:")
    assert len(pending) == 2 and all(k.startswith(f"booking-remind:{new.id}:") for k in pending)
    assert f"#{old.id} verschoben von Do., 26. Nov." in staff_posts(bot)[-1]["text"]
    # The calendar file of the move replaces the first event: same UID, SEQUENCE + 1.
    first, moved = (calendar_event(bot, d) for d in documents(bot, user))
    assert moved["uid"] == first["uid"] == f"booking-{old.id}@quartierbot.krefeld"
    assert (first["sequence"], moved["sequence"]) == (0, 1)
    assert moved.decoded("dtstart").date() == datetime(2026, 12, 1).date()
    # Cancelling sends the cancellation of the same event.
    [mine] = await bot.send(user, "/appointments")
    ask = await bot.tap(user, mine, data=data_of(mine, "1:bkc:")[0])
    await bot.tap(user, ask, text="✖ Yes, cancel it")
    docs = documents(bot, user)
    assert len(docs) == 3
    calendar = Calendar.from_ical(bot.sandbox.file_bytes(docs[-1].result["document"]["file_id"]))
    assert str(calendar["method"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert event["uid"] == first["uid"] and event["sequence"] == 2
    assert str(event["status"]) == "CANCELLED"
    assert docs[-1].result["document"]["file_name"] == f"appointment-{old.id}.ics"


def calendar_event(bot: Harness, doc: Any) -> Any:
    calendar = Calendar.from_ical(bot.sandbox.file_bytes(doc.result["document"]["file_id"]))
    assert str(calendar["method"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    return event


# -- staff ----------------------------------------------------------------------------------
async def test_staff_agenda_and_attendance(bot: Harness) -> None:
    aylin = await resident(bot, "Aylin", "en")
    await book(bot, aylin, note="Jobcenter letter")
    omar = await resident(bot, "Omar", "ar")
    await book(bot, omar, time=1)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    agenda = await staff_says(bot, staff, "/agenda 2026-11-26")
    text = agenda["text"]
    assert "Kom.ZFB" in text and "Aylin (Englisch)" in text and "Omar (Arabisch)" in text
    assert "العربية" not in text and "English" not in text
    assert text.index("Aylin") < text.index("Omar") and "Jobcenter letter" in text
    week = await staff_says(bot, staff, "/agenda week")
    assert "Aylin" in week["text"] and "Omar" in week["text"]
    assert not buttons(week)
    # Attendance only once the appointment has begun.
    [first, _] = await open_bookings(bot)
    await staff_tap(bot, staff, agenda, f"1:bsat:{first.id}")
    assert bot.sandbox.callback_answers[-1].get("show_alert") is True
    bot.clock.set(THURSDAY_14 + timedelta(minutes=5))
    await staff_tap(bot, staff, agenda, f"1:bsns:{first.id}")
    assert known(await bot.storage.bookings.get(first.id)).status == "no_show"
    await staff_tap(bot, staff, agenda, f"1:bsat:{first.id}")
    assert known(await bot.storage.bookings.get(first.id)).status == "attended"


async def test_staff_commands_and_buttons_only_in_the_staff_group(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    [stored] = await open_bookings(bot)
    [refused] = await bot.send(user, "/agenda")
    assert "only for the project's staff" in refused["text"]
    [refused] = await bot.send(user, f"/cancelbooking {stored.id} because")
    assert "only for the project's staff" in refused["text"]
    # A forged staff button in a private chat.
    [mine] = await bot.send(user, "/appointments")
    bot.sandbox.tap_raw(user, mine, f"1:bscx:{stored.id}")
    bot.sandbox.tap_raw(user, mine, f"1:bsok:{stored.id}")
    await bot.idle()
    assert known(await bot.storage.bookings.get(stored.id)).status == "confirmed"
    other = bot.sandbox.add_group("Elsewhere", is_forum=False)
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    bot.sandbox.send_text(admin, "/agenda", chat_id=other["id"])
    await bot.idle()
    # Another group: the bot says nothing there and leaves it.
    assert bot.sandbox.bot_messages(other["id"]) == []
    assert not bot.sandbox.in_group(other["id"])


async def test_staff_cancel_with_reason(bot: Harness) -> None:
    """Issue 17: staff pick the reason from a short list the resident reads in their own
    language; their own words come as "note from the office". Issue 18: the resident's
    calendar gets the cancellation (named in their language)."""
    user = await resident(bot, "Olena", "uk")
    await book(bot, user)
    [stored] = await open_bookings(bot)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    agenda = await staff_says(bot, staff, "/agenda 26.11.2026")
    before = len(staff_posts(bot))
    await staff_tap(bot, staff, agenda, f"1:bscx:{stored.id}")
    picker = staff_posts(bot)[before]
    assert picker["text"].startswith(f"🗑 #{stored.id}")
    assert button_texts(picker) == [
        "Krankheit im Team",
        "Fortbildung im Team",
        "Urlaub im Team",
        "das Gebäude ist geschlossen",
        "anderer Grund",
    ]
    # A reply to the picker adds a note: a new picker carries it.
    noted = await staff_says(bot, staff, "Frau Kaya ist diese Woche nicht da", reply_to=picker)
    assert noted["text"].startswith(f"🗑 #{stored.id}") and noted["text"].endswith(
        "💬 Frau Kaya ist diese Woche nicht da"
    )
    done = await staff_tap(bot, staff, noted, f"1:bsr:{stored.id}:illness")
    assert "🗑 Abgesagt von Petra: Krankheit im Team" in done["text"] and not buttons(done)
    notice = staff_posts(bot)[-1]
    assert "Krankheit im Team (Frau Kaya ist diese Woche nicht da)" in notice["text"]
    assert "Petra" in notice["text"]
    assert known(await bot.storage.bookings.get(stored.id)).cancelled_by == "staff"
    told = [m for m in bot.sandbox.bot_messages(user["id"]) if "text" in m][-1]
    assert "Причина: хвороба в команді" in told["text"], told["text"]
    assert "💬 Примітка від офісу (німецькою): Frau Kaya ist diese Woche nicht da" in told["text"]
    assert "Krankheit" not in told["text"]
    assert any(d.startswith("1:bko:job-counselling") for d in data_of(told, "1:bko:"))
    assert await bot.storage.booking_reminders.pending() == []
    [_, cancel] = documents(bot, user)
    assert cancel.result["document"]["file_name"] == f"запис-{stored.id}.ics"
    calendar = Calendar.from_ical(bot.sandbox.file_bytes(cancel.result["document"]["file_id"]))
    assert str(calendar["method"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["status"]) == "CANCELLED" and event["sequence"] == 1
    # The old picker again: nothing to cancel, and it says so.
    bot.sandbox.tap(staff, picker, data=f"1:bsr:{stored.id}:other")
    await bot.idle()
    assert "nicht offen" in bot.sandbox.callback_answers[-1]["text"]
    # The command works too, and says so when there is nothing to cancel.
    again = await staff_says(bot, staff, f"/cancelbooking {stored.id} doppelt")
    assert f"#{stored.id}" in again["text"]
    usage = await staff_says(bot, staff, "/cancelbooking")
    assert "/cancelbooking" in usage["text"]


async def test_staff_cancel_by_command_with_a_note(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    [stored] = await open_bookings(bot)
    staff = bot.sandbox.add_user("Petra", language_code="de")
    picker = await staff_says(bot, staff, f"/cancelbooking {stored.id} Wasserschaden im Keller")
    assert picker["text"].endswith("💬 Wasserschaden im Keller")
    await staff_tap(bot, staff, picker, f"1:bsr:{stored.id}:building")
    told = [m for m in bot.sandbox.bot_messages(user["id"]) if "text" in m][-1]
    assert "Reason: the building is closed" in told["text"]
    assert "💬 Note from the office (in German): Wasserschaden im Keller" in told["text"]


async def test_staff_confirm_and_decline_requests(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    done = await book(bot, user, offer="single-parents", place="familienzentrum-diessem")
    assert done["text"].startswith("📨 Your request has been sent.")
    assert documents(bot, user) == []
    [request] = await open_bookings(bot)
    assert request.status == "requested"
    assert await bot.storage.booking_reminders.pending() == []
    [mine] = await bot.send(user, "/appointments")
    assert "requested" in mine["text"]
    notice = staff_posts(bot)[-1]
    staff = bot.sandbox.add_user("Petra", language_code="de")
    after = await staff_tap(bot, staff, notice, f"1:bsok:{request.id}")
    # Confirmed: the request buttons give way to attendance (issue 18).
    assert "Petra" in after["text"]
    assert data_of(after, "1:bs") == [
        f"1:bsat:{request.id}",
        f"1:bsns:{request.id}",
        f"1:bscx:{request.id}",
    ]
    assert known(await bot.storage.bookings.get(request.id)).status == "confirmed"
    await bot.sandbox.wait_for(lambda: documents(bot, user))
    told = [m for m in bot.sandbox.bot_messages(user["id"]) if "text" in m][-1]
    assert told["text"].startswith("✅ The team has confirmed your appointment.")
    assert len(await bot.storage.booking_reminders.pending(request.id)) == 2
    # A second tap on the same button: the request is no longer open.
    bot.sandbox.tap_raw(staff, after, f"1:bsok:{request.id}")
    bot.sandbox.tap_raw(staff, after, f"1:bsno:{request.id}")
    await bot.idle()
    assert known(await bot.storage.bookings.get(request.id)).status == "confirmed"

    other = await resident(bot, "Mia", "en")
    await book(bot, other, offer="single-parents", place="familienzentrum-diessem")
    request = (await open_bookings(bot))[-1]
    await staff_tap(bot, staff, staff_posts(bot)[-1], f"1:bsno:{request.id}")
    assert known(await bot.storage.bookings.get(request.id)).status == "declined"
    told = bot.last(other["id"])
    assert "cannot offer you this appointment" in told["text"]
    assert data_of(told, "1:bko:")


async def test_closure_on_a_booked_day(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    neighbour = await resident(bot, "Emre", "tr")
    await book(bot, neighbour, place="familienzentrum-diessem")  # Wednesday 2 December
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    [answer] = await bot.send(admin, "/closed fabrik-heeder 2026-11-26 building Wasserschaden")
    assert "Wasserschaden" in answer["text"]
    await bot.sandbox.wait_for(lambda: len(documents(bot, user)) == 2)
    told = last_text(bot, user)
    assert "Wasserschaden" in told["text"]
    assert "closed" in told["text"] and "14:00" in told["text"]
    # The closure takes the event out of the resident's calendar too.
    calendar = Calendar.from_ical(
        bot.sandbox.file_bytes(documents(bot, user)[-1].result["document"]["file_id"])
    )
    assert str(calendar["method"]) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["status"]) == "CANCELLED"
    assert "1:bko:job-counselling:n" in data_of(told, "1:bko:")
    assert "(building closed)" in told["text"]
    assert "Note from the office (in German): Wasserschaden" in told["text"]
    bookings = await open_bookings(bot)
    assert [b.place_id for b in bookings] == ["familienzentrum-diessem"]
    assert "Wasserschaden" not in (bot.sandbox.last_bot_message(neighbour["id"]) or {}).get(
        "text", ""
    )
    assert "Schließung #1" in staff_posts(bot)[-1]["text"]
    # Rebooking offers no slot on the closed day.
    kept = await bot.tap(user, told, data="1:bko:job-counselling:n")
    assert kept["text"] == told["text"], "the notice stays; the flow opens below it"
    days = bot.last(user["id"])
    days = await bot.tap(user, days, data=data_ending(days, "1:bkp:", ":fabrik-heeder"))
    assert "Thu 26 Nov" not in button_texts(days)


# -- bad input ------------------------------------------------------------------------------
async def test_stale_and_forged_buttons(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    summary = await to_summary(bot, user)
    old_confirm = data_of(summary, "1:bkok:")[0]
    # A new flow makes the old one's buttons stale.
    [offers] = await bot.send(user, "/book")
    await bot.tap(user, offers, text=JOB)
    bot.sandbox.tap_raw(user, offers, old_confirm)
    await bot.idle()
    now = bot.current(user["id"], offers["message_id"])
    assert now["text"].startswith("⌛ This step has expired.") and JOB in button_texts(now)
    assert await open_bookings(bot) == []
    # Forged values within the current flow: a time that is no slot, a day in the past.
    places = await bot.tap(user, now, text=JOB)
    flow = data_of(places, "1:bkp:")[0].split(":")[2]
    days = await bot.tap(user, places, text=HEEDER)
    bot.sandbox.tap_raw(user, days, f"1:bkd:{flow}:20200101")
    await bot.idle()
    times = bot.current(user["id"], days["message_id"])
    assert "no free times left" in times["text"]
    times = await bot.tap(user, times, data=data_of(times, "1:bkd:")[0])
    bot.sandbox.tap_raw(user, times, f"1:bkt:{flow}:1796468400")
    await bot.idle()
    after = bot.current(user["id"], times["message_id"])
    assert "no longer available" in after["text"] and data_of(after, "1:bkt:")
    bot.sandbox.tap_raw(user, after, f"1:bkp:{flow}:nowhere")
    bot.sandbox.tap_raw(user, after, "1:bko:no-such-offer")
    bot.sandbox.tap_raw(user, after, "1:bkcy:999")
    bot.sandbox.tap_raw(user, after, "1:bkha:999")
    await bot.idle()
    assert await open_bookings(bot) == []


async def test_restart_mid_flow_and_double_tap(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    summary = await to_summary(bot, user)
    await bot.restart()
    confirm = data_of(summary, "1:bkok:")[0]
    bot.sandbox.tap_raw(user, summary, confirm)
    bot.sandbox.tap_raw(user, summary, confirm)
    await bot.idle()
    assert len(await open_bookings(bot)) == 1
    assert any("already booked" in (a.get("text") or "") for a in bot.sandbox.callback_answers)
    assert len(documents(bot, user)) == 1


async def test_slot_taken_meanwhile(bot: Harness) -> None:
    first = await resident(bot, "Aylin", "en")
    second = await resident(bot, "Omar", "en")
    summary_1 = await to_summary(bot, first)
    summary_2 = await to_summary(bot, second)
    await bot.tap(first, summary_1, data=data_of(summary_1, "1:bkok:")[0])
    after = await bot.tap(second, summary_2, data=data_of(summary_2, "1:bkok:")[0])
    assert "just been taken" in after["text"]
    assert "14:00" not in button_texts(after) and "14:30" in button_texts(after)
    assert len(await open_bookings(bot)) == 1


async def test_limit_per_resident(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    [offers] = await bot.send(user, "/book")
    limit = await bot.tap(user, offers, text=JOB)
    assert "already have 1 appointment" in limit["text"]
    assert "🗓 My appointments" in button_texts(limit)
    # Another offer is fine.
    await book(bot, user, offer="newcomers", place=None)
    assert len(await open_bookings(bot)) == 2


async def test_note_after_restart_and_old_note_questions(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    [offers] = await bot.send(user, "/book")
    msg = await bot.tap(user, offers, text=JOB)
    msg = await bot.tap(user, msg, text=HEEDER)
    msg = await bot.tap(user, msg, data=data_of(msg, "1:bkd:")[0])
    await bot.tap(user, msg, data=data_of(msg, "1:bkt:")[0])
    await bot.restart()
    [summary] = await bot.send(user, "About my CV")
    assert "About my CV" in summary["text"] and data_of(summary, "1:bkok:")
    # A note question left unanswered for hours no longer swallows what the resident writes.
    back = await bot.tap(user, summary, text="« Back")
    assert "200" in back["text"]
    bot.clock.advance(hours=3)
    [answer] = await bot.send(user, "Hello, I have a question")
    assert "Hello, I have a question" not in answer["text"]
    draft = known(await bot.storage.booking_drafts.get(user["id"]))
    assert draft.note == "About my CV"


async def test_note_too_long_and_before_consent(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    [offers] = await bot.send(user, "/book")
    msg = await bot.tap(user, offers, text=JOB)
    msg = await bot.tap(user, msg, text=HEEDER)
    msg = await bot.tap(user, msg, data=data_of(msg, "1:bkd:")[0])
    msg = await bot.tap(user, msg, data=data_of(msg, "1:bkt:")[0])
    [answer] = await bot.send(user, "x" * 201)
    assert "at most 200" in answer["text"]
    [summary] = await bot.send(user, "short")
    assert "short" in summary["text"]
    stranger = bot.user("Kim", "en")
    [answer] = await bot.send(stranger, "/book")
    assert data_of(answer, "1:consent:")


# -- reminders ------------------------------------------------------------------------------
async def test_reminders_survive_restarts(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)  # Thursday 26 November 14:00; reminders Wed 14:00 and Thu 12:00
    [stored] = await open_bookings(bot)
    await bot.stop()
    bot.clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=BERLIN))  # the 24 h reminder passed
    await bot.start()
    await bot.sandbox.wait_for(lambda: reminders_sent(bot, user))
    await bot.restart()
    await bot.idle()  # the reminder that was sent is not sent again
    [reminder] = reminders_sent(bot, user)
    assert "ID card or passport" in reminder["text"] and "14:00" in reminder["text"]
    assert button_texts(reminder) == ["👍 I'll come", "🔁 Move", "✖ Cancel"]
    after = await bot.tap(user, reminder, text="👍 I'll come")
    # The reminder stays as it was; the answer is a new message (issue 18).
    assert after["text"] == reminder["text"]
    thanks = last_text(bot, user)
    assert thanks["text"].startswith("👍 You have confirmed that you will come.")
    assert button_texts(thanks) == ["🔁 Move", "✖ Cancel"]
    assert known(await bot.storage.bookings.get(stored.id)).coming_at
    # The 2 h reminder while running: it knows the answer and only says "see you".
    bot.clock.set(datetime(2026, 11, 26, 12, 0, 1, tzinfo=BERLIN))
    await bot.sandbox.wait_for(lambda: len(reminders_sent(bot, user)) == 2)
    second = reminders_sent(bot, user)[-1]
    assert second["text"].startswith("⏰ See you today at 14:00!"), second["text"]
    assert button_texts(second) == ["🔁 Move", "✖ Cancel"]
    await bot.restart()
    await bot.idle()  # the reminder that was sent is not sent again
    assert len(reminders_sent(bot, user)) == 2
    assert await bot.storage.booking_reminders.pending() == []


async def test_overdue_reminders_once_and_never_after_the_appointment(bot: Harness) -> None:
    aylin = await resident(bot, "Aylin", "en")
    await book(bot, aylin)  # Thursday 14:00
    omar = await resident(bot, "Omar", "en")
    await book(bot, omar, time=1)  # Thursday 14:30
    await bot.stop()
    # Both reminders of both appointments are overdue: one reminder each, not two.
    bot.clock.set(datetime(2026, 11, 26, 13, 0, tzinfo=BERLIN))
    await bot.start()
    await bot.sandbox.wait_for(lambda: reminders_sent(bot, aylin) and reminders_sent(bot, omar))
    await bot.idle()
    assert len(reminders_sent(bot, aylin)) == 1 and len(reminders_sent(bot, omar)) == 1
    # A third appointment; the bot is down until after it: nothing is sent.
    mia = await resident(bot, "Mia", "en")
    await book(bot, mia)  # Tuesday 1 December 09:00
    await bot.stop()
    bot.clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN))
    await bot.start()
    await bot.idle()  # every overdue reminder has been looked at
    assert reminders_sent(bot, mia) == []
    assert await bot.storage.booking_reminders.pending() == []


# -- waiting list and concurrency (small directory: two slots, one seat each) --------------
async def test_waiting_list_hands_on_freed_seats(small: Harness) -> None:
    bot = small
    a, b, c, d = [await resident(bot, n, "en") for n in ("Aylin", "Ben", "Cem", "Dora")]
    await book(bot, a, offer="consult", place=None)
    await book(bot, d, offer="consult", place=None)  # both slots taken
    for user in (b, c):
        [offers] = await bot.send(user, "/book")
        full = await bot.tap(user, offers, text="Consultation")
        assert "no free appointments" in full["text"] and not data_of(full, "1:bkd:")
        joined = await bot.tap(user, full, data=data_of(full, "1:bkw:")[0])
        assert "waiting list" in joined["text"]
    [mine] = await bot.send(b, "/appointments")
    assert "On the waiting list: Consultation" in mine["text"]

    # Aylin cancels: Ben (first in line) is offered her seat, held for two hours.
    [mine] = await bot.send(a, "/appointments")
    ask = await bot.tap(a, mine, data=data_of(mine, "1:bkc:")[0])
    await bot.tap(a, ask, data=data_of(ask, "1:bkcy:")[0])
    offer_b = await bot.sandbox.wait_for(
        lambda: (
            bot.sandbox.last_bot_message(b["id"])
            if data_of(bot.sandbox.last_bot_message(b["id"]) or {}, "1:bkha:")
            else None
        )
    )
    assert "seat has become free" in offer_b["text"] and "10:00" in offer_b["text"]
    [hold] = await bot.storage.bookings.holds()
    assert hold.user_id == b["id"]
    # Meanwhile nobody else can book the held seat.
    [offers] = await bot.send(a, "/book")
    full = await bot.tap(a, offers, text="Consultation")
    assert not data_of(full, "1:bkd:")

    # Ben does not answer: the hold expires and passes to Cem.
    bot.clock.advance(hours=2, seconds=1)
    offer_c = await bot.sandbox.wait_for(
        lambda: (
            bot.sandbox.last_bot_message(c["id"])
            if data_of(bot.sandbox.last_bot_message(c["id"]) or {}, "1:bkha:")
            else None
        )
    )
    # Ben is told through the replies lane, which may come a moment after Cem's offer.
    await bot.idle()
    assert "next person" in bot.last(b["id"])["text"]
    late = await bot.tap(b, offer_b, data=data_of(offer_b, "1:bkha:")[0])
    assert "expired" in late["text"]
    done = await bot.tap(c, offer_c, data=data_of(offer_c, "1:bkha:")[0])
    assert done["text"].startswith("✅ Your appointment is booked.")
    assert sorted(x.user_id for x in await open_bookings(bot)) == sorted([c["id"], d["id"]])
    assert len(documents(bot, c)) == 1
    assert await bot.storage.waitlist.of(c["id"]) == []


async def test_waiting_list_hold_survives_restart_and_decline_passes_on(small: Harness) -> None:
    bot = small
    a, d, b, c = [await resident(bot, n, "en") for n in ("Aylin", "Dora", "Ben", "Cem")]
    await book(bot, a, offer="consult", place=None)
    await book(bot, d, offer="consult", place=None)
    for user in (b, c):
        [offers] = await bot.send(user, "/book")
        full = await bot.tap(user, offers, text="Consultation")
        await bot.tap(user, full, data=data_of(full, "1:bkw:")[0])
    staff = bot.sandbox.add_user("Petra", language_code="de")
    [stored, _] = await open_bookings(bot)
    await staff_cancel(bot, staff, stored.id, "Termin doppelt")
    await bot.sandbox.wait_for(
        lambda: data_of(bot.sandbox.last_bot_message(b["id"]) or {}, "1:bkhd:")
    )
    offer_b = bot.last(b["id"])
    await bot.restart()
    declined = await bot.tap(b, offer_b, data=data_of(offer_b, "1:bkhd:")[0])
    assert "next person" in declined["text"]
    await bot.sandbox.wait_for(
        lambda: data_of(bot.sandbox.last_bot_message(c["id"]) or {}, "1:bkha:")
    )
    # After a restart the hold for Cem still expires on time.
    await bot.restart()
    bot.clock.advance(hours=3)
    await bot.sandbox.wait_for(
        lambda: "next person" in (bot.sandbox.last_bot_message(c["id"]) or {}).get("text", "")
    )
    assert await bot.storage.bookings.holds() == []


async def test_fifty_residents_race_for_the_last_seat(concurrent: Harness) -> None:
    bot = concurrent
    sandbox = bot.sandbox
    assert bot.app is not None and bot.app.concurrent_updates == 64
    users = [sandbox.add_user(f"R{i}", language_code="en") for i in range(50)]
    for user in users:
        await bot.storage.residents.give_consent(
            user["id"], "en", user["first_name"], bot.clock.now()
        )

    async def everyone(step: Any) -> None:
        for user in users:
            step(user)
        await bot.idle()

    def last(user: JSON) -> JSON:
        message = sandbox.last_bot_message(user["id"])
        assert message is not None
        return message

    await everyone(lambda u: sandbox.send_text(u, "/book"))
    await everyone(lambda u: sandbox.tap(u, last(u), data="1:bko:consult"))
    # One resident walks to the summary; the others' drafts are set to the same slot in
    # the database (the steps are tested above; this keeps the test fast).
    first = users[0]
    await everyone(
        lambda u: (
            sandbox.tap(u, last(u), data=data_of(last(u), "1:bkd:")[0]) if u is first else None
        )
    )
    await everyone(
        lambda u: (
            sandbox.tap(u, last(u), data=data_of(last(u), "1:bkt:")[0]) if u is first else None
        )
    )
    await everyone(
        lambda u: (
            sandbox.tap(u, last(u), data=data_of(last(u), "1:bkn:")[0]) if u is first else None
        )
    )
    model = known(await bot.storage.booking_drafts.get(first["id"]))
    assert model.step == "summary"
    for user in users[1:]:
        draft = known(await bot.storage.booking_drafts.get(user["id"]))
        await bot.storage.booking_drafts.update(
            draft, bot.clock.now(), day=model.day, starts_at=model.starts_at, step="summary"
        )
    answers = len(sandbox.callback_answers)

    async def confirm_all() -> None:
        for user in users:
            draft = known(await bot.storage.booking_drafts.get(user["id"]))
            sandbox.tap_raw(user, last(user), f"1:bkok:{draft.flow}")
        await bot.idle()

    await confirm_all()
    await sandbox.wait_for(lambda: len(sandbox.callback_answers) >= answers + 50, timeout=20)
    await bot.idle()

    [winner] = await open_bookings(bot)
    assert winner.starts_at == datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)
    losers = [u for u in users if u["id"] != winner.user_id]
    assert len(losers) == 49
    for user in losers:
        message = last(user)
        assert "just been taken" in message["text"]
        assert button_texts(message)[0] == "10:30", "the free alternative is offered"
    winner_texts = [m["text"] for m in sandbox.bot_messages(winner.user_id) if "text" in m]
    assert winner_texts[-1].startswith("✅")


async def test_database_refuses_a_second_resident_on_a_seat(small: Harness) -> None:
    """Even a write that skips the Python count cannot put two residents on one seat."""
    import aiosqlite

    bot = small
    a = await resident(bot, "Aylin", "en")
    await book(bot, a, offer="consult", place=None)
    [stored] = await open_bookings(bot)
    with pytest.raises(aiosqlite.IntegrityError):
        await bot.storage.db.execute(
            "INSERT INTO bookings (user_id, offer_id, place_id, starts_at, ends_at, seat, status,"
            " created_at, updated_at) SELECT 42, offer_id, place_id, starts_at, ends_at, seat,"
            " 'confirmed', created_at, updated_at FROM bookings WHERE id = ?",
            (stored.id,),
        )
    # And fifty concurrent attempts at the storage level: one wins.
    slot_start = datetime(2026, 11, 27, 10, 30, tzinfo=BERLIN)
    results = await asyncio.gather(
        *(
            bot.storage.bookings.book(
                user_id=1000 + i,
                offer_id="consult",
                place_id="heeder",
                starts_at=slot_start,
                ends_at=slot_start + timedelta(minutes=30),
                seats=1,
                max_per_resident=1,
                status="confirmed",
                note="",
                now=bot.clock.now(),
            )
            for i in range(50)
        )
    )
    assert sum(r.booking is not None for r in results) == 1
    assert all(r.refused == "full" for r in results if r.booking is None)


def test_callback_data_fits(bot_module: Any = booking) -> None:
    from bot import callbacks

    assert len(callbacks.make(views.CB_PLACE, 99999999, "familienzentrum-lehmheide")) <= 64
    assert len(callbacks.make(views.CB_TIME, 99999999, 4102444800)) <= 64


async def test_deleting_data_passes_a_held_seat_to_the_next_in_line(small: Harness) -> None:
    bot = small
    a, b, c, d = [await resident(bot, n, "en") for n in ("Aylin", "Ben", "Cem", "Dora")]
    await book(bot, a, offer="consult", place=None)
    await book(bot, d, offer="consult", place=None)
    for user in (b, c):
        [offers] = await bot.send(user, "/book")
        full = await bot.tap(user, offers, text="Consultation")
        await bot.tap(user, full, data=data_of(full, "1:bkw:")[0])
    [mine] = await bot.send(a, "/appointments")
    ask = await bot.tap(a, mine, data=data_of(mine, "1:bkc:")[0])
    await bot.tap(a, ask, data=data_of(ask, "1:bkcy:")[0])
    await bot.sandbox.wait_for(lambda: held_seat_offered(bot, b))
    [hold] = await bot.storage.bookings.holds()
    assert hold.user_id == b["id"]

    # Ben deletes his data instead of answering: Cem is offered the seat at once.
    [question] = await bot.send(b, "/delete")
    await bot.tap(b, question, data="1:del:yes")
    await bot.sandbox.wait_for(lambda: held_seat_offered(bot, c))
    [hold] = await bot.storage.bookings.holds()
    assert hold.user_id == c["id"]
    assert await bot.storage.privacy.rows_mentioning(b["id"]) == {}


def held_seat_offered(bot: Harness, user: dict[str, object]) -> bool:
    return bool(data_of(bot.sandbox.last_bot_message(int(str(user["id"]))) or {}, "1:bkha:"))


async def test_a_seat_offer_that_never_arrives_goes_to_the_next_in_line(small: Harness) -> None:
    """Ben blocked the bot after joining the waiting list: the replies lane hears
    Telegram refuse his offer and the seat is offered to Cem at once."""
    bot = small
    a, b, c, d = [await resident(bot, n, "en") for n in ("Aylin", "Ben", "Cem", "Dora")]
    await book(bot, a, offer="consult", place=None)
    await book(bot, d, offer="consult", place=None)  # both slots taken
    for user in (b, c):
        [offers] = await bot.send(user, "/book")
        full = await bot.tap(user, offers, text="Consultation")
        await bot.tap(user, full, data=data_of(full, "1:bkw:")[0])
    bot.sandbox.block(b)
    [mine] = await bot.send(a, "/appointments")
    ask = await bot.tap(a, mine, data=data_of(mine, "1:bkc:")[0])
    await bot.tap(a, ask, data=data_of(ask, "1:bkcy:")[0])
    offer_c = await bot.sandbox.wait_for(
        lambda: (
            bot.sandbox.last_bot_message(c["id"])
            if data_of(bot.sandbox.last_bot_message(c["id"]) or {}, "1:bkha:")
            else None
        )
    )
    assert "seat has become free" in offer_c["text"]
    await bot.idle()
    [hold] = await bot.storage.bookings.holds()
    assert hold.user_id == c["id"]


async def test_staff_buttons_say_what_they_do(bot: Harness) -> None:
    """✅ alone under a booking notice reads like "confirm" although it marks "attended":
    every staff button carries a word (in the staff language), not only an icon."""
    aylin = await resident(bot, "Aylin", "en")
    await book(bot, aylin)
    [booking] = await open_bookings(bot)
    notice = next(m for m in staff_posts(bot) if buttons(m))
    n = booking.id
    assert button_texts(notice) == [
        f"✅ #{n} Erschienen",
        f"🚫 #{n} Nicht erschienen",
        f"🗑 #{n} Absagen",
    ]
    staff = bot.sandbox.add_user("Petra", language_code="de")
    agenda = await staff_says(bot, staff, "/agenda 2026-11-26")
    assert button_texts(agenda) == button_texts(notice)


async def test_a_moved_or_cancelled_appointment_takes_the_buttons_off_its_old_notice(
    bot: Harness,
) -> None:
    """The buttons under a booking notice act on the appointment as it was: once it is
    moved, the old notice loses them (the new notice has its own); once it is cancelled,
    every notice of it does."""
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    first = next(m for m in staff_posts(bot) if buttons(m))
    [mine] = await bot.send(user, "/appointments")
    places = await bot.tap(user, mine, data=data_of(mine, "1:bkr:")[0])
    days = await bot.tap(user, places, data=data_ending(places, "1:bkp:", ":fabrik-heeder"))
    times = await bot.tap(user, days, data=data_of(days, "1:bkd:")[1])
    note = await bot.tap(user, times, data=data_of(times, "1:bkt:")[0])
    summary = await bot.tap(user, note, data=data_of(note, "1:bkn:")[0])
    await bot.tap(user, summary, data=data_of(summary, "1:bkok:")[0])
    await bot.idle()
    moved = staff_posts(bot)[-1]
    assert "verschoben" in moved["text"] and buttons(moved)
    assert not buttons(bot.current(STAFF_CHAT, first["message_id"])), "the old notice kept them"
    [mine] = await bot.send(user, "/appointments")
    ask = await bot.tap(user, mine, data=data_of(mine, "1:bkc:")[0])
    await bot.tap(user, ask, text="✖ Yes, cancel it")
    await bot.idle()
    assert "abgesagt" in staff_posts(bot)[-1]["text"]
    assert [m for m in staff_posts(bot) if buttons(m)] == []
    # Which notices still show buttons is kept with whom they name, and cleared with them.
    assert await bot.storage.db.fetchall("SELECT * FROM staff_mentions WHERE buttons = 1") == []

"""What several capabilities show residents and staff alike: opening hours, an
appointment, news topics, a broadcast. Shared views live here so that no capability
imports another."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import date, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.context import BotContext, Services
from bot.directory import Directory, Occurrence, Place, Text
from bot.i18n import N_, Translator
from bot.services.translation import (
    ConversationTranslator,
    Translated,
    language_name,
    strip_verbatim,
)
from bot.slots import Slot
from storage import StoredClosure
from storage.bookings import Booking
from storage.broadcasts import GENERAL, Broadcast
from storage.requests import Request

# Under every broadcast (sent by the broadcast lane); news handles it.
CB_STOP = callbacks.kind("nwstop", 1)


# -- a resident's note on a booking, as staff read it ---------------------------------------
async def note_translation(services: Services, t: Translator, booking: Booking) -> str:
    """ "🌐 <translation> (maschinell, Arabisch → Deutsch)" for the resident's note on a
    booking, or "" (no note, a short one, already in the staff language, no translator, or
    the engine failed: staff then read the original only). Translated at render time and
    never stored: the engine's memory cache spares repeated calls for the same note."""
    if not booking.note:
        return ""
    resident = await services.storage.residents.get(booking.user_id)
    if resident is None:
        return ""
    outcome = await services.translator.to_staff(
        booking.user_id, booking.note, resident.language, quiet=True
    )
    if not isinstance(outcome, Translated):
        return ""
    return "🌐 " + t._(
        N_("{text} (machine translation, {source} → {target})"),
        text=outcome.text,
        source=language_name(outcome.source, t.code),
        target=language_name(outcome.target, t.code),
    )


# -- opening hours, as residents read them (hours and questions) ----------------------------
async def office_note(services: Services, t: Translator, resident_id: int, note: str) -> str:
    """Words staff typed (German) for one resident: "Note from the office: …", machine
    translated when a translator is configured, otherwise announced as German."""
    note = note.strip()
    if not note:
        return ""
    if t.code in ("de", "de_easy"):
        return t._(N_("Note from the office: {note}"), note=strip_verbatim(note))
    # HOOK (issue 19): the conversation translator arrives as ``Services.translator``; until
    # it is on main this finds nothing and the note is shown in German, announced as such.
    translator = getattr(services, "translator", None)
    if isinstance(translator, ConversationTranslator):
        outcome = await translator.to_resident(resident_id, note, t.code)
        if isinstance(outcome, Translated):
            return t._(N_("Note from the office (machine translation): {note}"), note=outcome.text)
    return t._(N_("Note from the office (in German): {note}"), note=strip_verbatim(note))


async def closure_notes(context: BotContext, closures: Iterable[StoredClosure]) -> dict[str, str]:
    """The office's notes of these closures for this update's resident (0: not agreed yet),
    by the staff's original words (what :func:`closed_line` looks them up by)."""
    resident_id = context.resident.user_id if context.resident is not None else 0
    notes: dict[str, str] = {}
    for closure in closures:
        words = closure.reason
        if words.strip() and words not in notes:
            notes[words] = await office_note(context.services, context.t, resident_id, words)
    return notes


def closed_line(t: Translator, occurrence: Occurrence, notes: dict[str, str] | None = None) -> str:
    """The reason in the reader's language ("closed on …: illness in the team"); the staff's
    own words follow on the next line only as the office's note (:func:`closure_notes`)."""
    assert occurrence.closed_reason is not None
    kind, reason = occurrence.closed_reason
    day = t.date(occurrence.start)
    if kind == "holiday":
        name = t.holiday_on(occurrence.start.date()) or reason
        return t._(N_("closed on {date}: public holiday ({name})"), date=day, name=name)
    line = t._(
        N_("closed on {date}: {reason}"),
        date=day,
        reason=t.closure_reason(occurrence.closure_key),
    )
    note = (notes or {}).get(reason, "")
    return f"{line}\n📝 {note}" if note else line


def example_note(t: Translator, phone: str | None = None) -> str:
    """With the office's phone number where the directory has one."""
    if not phone:
        return t._(
            N_("* Times marked with * are not yet confirmed. Please call the office to check.")
        )
    msgid = N_(
        "* Times marked with * are not yet confirmed. Please call the office to check: {phone}"
    )
    return t._(msgid, phone=t.ltr(phone))


def nothing_open(t: Translator, next_opening: datetime | None) -> str:
    """When nothing is open on the days asked for: when the next opening is, not only
    "nothing"."""
    if next_opening is None:
        msgid = N_(
            "Nothing is open on these days. Please look at the next days or call the office."
        )
        return t._(msgid)
    msgid = N_("Nothing is open on these days. The next opening: {date}")
    return "\n" + t._(msgid, date=t.date_long(next_opening))


# -- an appointment, as residents and staff read it (booking and agenda) --------------------
def tx(t: Translator, text: Text | None) -> str:
    return text.get(t.code)[0] if text is not None else ""


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def when_line(t: Translator, start: datetime, end: datetime) -> str:
    """The full date and "from … to …" in the resident's own date style."""
    return t.when(start, end)


def address_line(t: Translator, place: Place) -> str:
    if place.address is None:
        return t._(N_("The address will be added soon. Please ask at the office."))
    a = place.address
    return t.isolate(f"{a.street}, {a.postcode} {a.city}")


def details(t: Translator, directory: Directory, booking: Booking | Slot, note: str = "") -> str:
    """Offer, date and time, place with address (and the resident's note)."""
    offer_id, place_id = booking.offer_id, booking.place_id
    start = booking.starts_at if isinstance(booking, Booking) else booking.start
    end = booking.ends_at if isinstance(booking, Booking) else booking.end
    lines = []
    with contextlib.suppress(KeyError):
        lines.append(f"📋 {tx(t, directory.offer(offer_id).title)}")
    lines.append(f"📅 {when_line(t, start, end)}")
    try:
        place = directory.place(place_id)
        lines.append(f"📍 {tx(t, place.name)}\n{address_line(t, place)}")
    except KeyError:
        pass
    if note:
        lines.append("📝 " + t._(N_("Your note: {note}"), note=note))
    return "\n".join(lines)


# -- news topics (news and broadcast) ------------------------------------------------------
def news_topics(directory: Directory) -> list[str]:
    """What residents can subscribe to: general news first, then every offer."""
    return [GENERAL, *(offer.id for offer in directory.offers)]


def topic_title(t: Translator, directory: Directory, topic: str) -> tuple[str, bool]:
    """The topic's name in the resident's language; True if it fell back to German."""
    if topic == GENERAL:
        return t._(N_("General news")), False
    try:
        value, fell_back = directory.offer(topic).title.get(t.code)
    except KeyError:  # the offer left the directory; its broadcasts still need a name
        return topic, False
    return value, fell_back and t.code != "de"


# -- the broadcast as a resident sees it (news and the broadcast lane) ---------------------
def render_broadcast(
    services: Services, broadcast: Broadcast, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    """Used for sending and for the coordinator's preview alike, so the preview is exact."""
    t = services.i18n.get(language)
    title, _ = topic_title(t, services.directory, broadcast.topic)
    header = "📢 " + t._(N_("News: {topic}"), topic=title)
    body = broadcast.texts.get(t.code)
    note = ""
    if body is not None and t.code in broadcast.machine:
        note = "\n\nℹ️ " + t._(N_("A machine translated this message from German."))
    if body is None:
        body = broadcast.texts["de"]
        if t.code != "de":
            note = "\n\nℹ️ " + t._(N_("This message is only available in German."))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🔕 " + t._(N_("Stop these messages")),
                    callback_data=callbacks.make(CB_STOP, broadcast.topic),
                )
            ]
        ]
    )
    return f"{header}\n\n{body}{note}", markup


# -- deadlines of letters, as staff read them ------------------------------------------------------
def staff_date(t: Translator, day: date) -> str:
    """ "Freitag, 18.12.2026": the weekday in full, the date in digits."""
    return f"{t.weekday(day.weekday())}, {t.date(day, 'yMMdd')}"


def in_days(t: Translator, day: date, today: date) -> str:
    """ "in 14 Tagen", "heute", "vor 2 Tagen"."""
    n = (day - today).days
    if n == 0:
        return t._(N_("today"))
    if n > 0:
        return t.n_("in {n} day", "in {n} days", n)
    return t.n_("{n} day ago", "{n} days ago", -n)


def deadline_phrase(t: Translator, day: date, today: date, *, estimated: bool = False) -> str:
    """ "Freitag, 18.12.2026 (in 14 Tagen)", marked when it is an estimate."""
    phrase = f"{staff_date(t, day)} ({in_days(t, day, today)})"
    if estimated:
        phrase += " — " + t._(N_("estimated"))
    return phrase


def deadlines_this_week(t: Translator, requests: Iterable[Request], today: date) -> str:
    """The daily agenda's "Fristen diese Woche", by reference (no names in the General
    topic)."""
    lines = ["⏰ " + t._(N_("Deadlines this week:"))]
    for request in requests:
        if request.deadline is not None:
            phrase = deadline_phrase(
                t, request.deadline, today, estimated=request.deadline_estimated
            )
            lines.append(f"#{request.ref} — {phrase}")
    return "\n".join(lines)

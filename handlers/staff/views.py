"""What the staff group reads (in the team's language): the card that opens a resident's
topic, the queue, the answers to the staff commands, and why an answer did not reach the
resident. Canned replies are the one thing here written in the resident's language."""

from __future__ import annotations

import html
import re
from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.context import Services
from bot.delivery.errors import Failure, Kind
from bot.directory import Directory
from bot.engines.translate import Failure as TranslateFailure
from bot.engines.voice import VoiceFailure
from bot.i18n import LANGUAGES, N_, Translator
from bot.services.requests import CardFacts
from bot.services.topics import TopicInfo
from bot.services.translation import Failed, Outcome, Translated, language_name as language_in
from handlers.common import STAFF_LANGUAGE, note_translation
from handlers.common.views import staff_date
from storage import Resident
from storage.bookings import Booking
from storage.mentions import Mention, Redaction
from storage.requests import QueueEntry, Request

NOTE_MARKER = "!"
"""Lines starting with this are internal notes and never leave the group."""
QUEUE_LIMIT = 50
PREVIOUS_LIMIT = 5

# The seven prepared answers as first shipped. They are now data (``bot/data/answers.yaml``,
# made from these texts and their catalog translations, loaded once into the database; see
# ``bot.services.answers``): kept here so their translations stay in the catalogs, which
# that file was made from, and for the tests that check /reply against them.
CANNED: dict[str, str] = {
    "id": N_("Please bring your ID card or passport."),
    "docs": N_("Please bring all letters and documents that concern your question."),
    "call": N_("We will call you. Please make sure we can reach you by phone."),
    "visit": N_("Please come to the office during office hours, so we can look at it together."),
    "received": N_("Thank you, we have received your documents and are looking at them."),
    "book": N_("Please book an appointment in the menu or call the office."),
    "wait": N_("We are working on your question and will get back to you soon."),
}

_PHONE_RE = re.compile(r"\+?\d[\d\s()/.-]{3,}\d")


# -- the topic and its card -----------------------------------------------------------------
def display_name(first_name: str) -> str:
    """A first name for staff; never a phone number, even if someone's name is one."""
    name = _PHONE_RE.sub("…", " ".join(first_name.split()))[:32].strip()
    return name or "?"


def language_tag(code: str) -> str:
    return code.replace("_", "-").upper()


def language_name(code: str) -> str:
    language = LANGUAGES.get(code)
    return language.native_name if language else code


def staff_language_name(code: str) -> str:
    """The language as the team knows it ("Arabisch"), then in its own script when that
    differs ("Arabisch (العربية)")."""
    known = language_in(code, STAFF_LANGUAGE)
    native = language_name(code)
    return known if native.casefold() == known.casefold() else f"{known} ({native})"


def topic_name(resident: Resident | None, request: Request | None) -> str:
    """Like "Aylin · Türkisch · #A1B2": the reference comes from the internal request id."""
    name = display_name(resident.first_name) if resident else "?"
    language = language_in(resident.language, STAFF_LANGUAGE) if resident else "?"
    ref = request.ref if request is not None else "?"
    return f"{name} · {language} · #{ref}"


def appointment_line(t: Translator, directory: Directory, booking: Booking) -> str:
    try:
        title, _ = directory.offer(booking.offer_id).title.get(t.code)
    except KeyError:
        title = booking.offer_id
    line = f"#{booking.id} {t.datetime(booking.starts_at)} {title}"
    if booking.status == "requested":
        line += " — " + t._(N_("not yet confirmed"))
    return line


def card(
    t: Translator, directory: Directory, facts: CardFacts, notes: dict[int, str] | None = None
) -> TopicInfo:
    """The topic name and the card that opens it: language, known since, open
    appointments (with the resident's note and its machine translation, ``notes`` by
    booking id), previous requests, and how to answer."""
    notes = notes or {}
    resident = facts.resident
    name = topic_name(resident, facts.request)
    lines = [f"👤 {name}"]
    if resident is not None:
        lines.append(
            "🗣 " + t._(N_("Language: {language}"), language=staff_language_name(resident.language))
        )
        lines.append(
            "📅 " + t._(N_("Known since: {date}"), date=t.date(resident.created_at, "yMMMd"))
        )
    for code in dict.fromkeys(b.interpreter for b in facts.appointments if b.interpreter):
        lines.append("🗣 " + t._(N_("Interpreting: {language}"), language=language_in(code, t.code)))
    if facts.appointments:
        lines.append("🗓 " + t._(N_("Open appointments:")))
        for booking in facts.appointments:
            lines.append(f"   • {appointment_line(t, directory, booking)}")
            if booking.note:
                lines.append(f"      📝 {booking.note}")
            if booking.id in notes:
                lines.append(f"      {notes[booking.id]}")
    else:
        lines.append("🗓 " + t._(N_("Open appointments: none")))
    previous = facts.previous
    if previous:
        lines.append("📁 " + t._(N_("Previous requests:")))
        for old in previous[:PREVIOUS_LIMIT]:
            closed = old.closed_at or old.last_message
            lines.append(
                f"   • #{old.ref} {t.date(old.opened_at, 'yMMMd')}–{t.date(closed, 'yMMMd')}"
            )
        if len(previous) > PREVIOUS_LIMIT:
            lines.append("   • " + more(t, len(previous) - PREVIOUS_LIMIT))
    else:
        lines.append("📁 " + t._(N_("Previous requests: none")))
    lines.append("")
    lines.append(
        "ℹ️ "
        + t._(
            N_(
                "Write in this topic to answer: the bot copies your message to the resident. "
                "Messages starting with {marker} are internal notes. "
                "/claim /close /reopen /reply /replies /ban /unban /queue"
            ),
            marker=NOTE_MARKER,
        )
    )
    return TopicInfo(name=name, card="\n".join(lines))


def more(t: Translator, n: int) -> str:
    return t.n_("and {n} more", "and {n} more", n)


# -- the queue ------------------------------------------------------------------------------
def waited(t: Translator, since: datetime, now: datetime) -> str:
    return t.duration(int((now - since).total_seconds() // 60))


QUEUE_HEADING = N_(
    "Open requests (not closed yet): ⏳ waiting for our answer, oldest first; 💬 answered, "
    'waiting for the resident (/close when it is done). "Claimed by" means someone took '
    "it with /claim; answering does not claim."
)


def queue_mentions(entries: list[QueueEntry]) -> list[Mention]:
    """The residents a /queue answer names (``storage.mentions``)."""
    return [
        Mention(e.request.user_id, e.request.id, "queue")
        for e in entries[:QUEUE_LIMIT]
        if e.request.user_id is not None
    ]


class QueueRedactions:
    """A /queue answer naming an erased (or expired) resident, rendered again without them:
    the other requests it listed that are still open (``bot.delivery.staff_lane.Redactor``)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def render(self, redaction: Redaction) -> tuple[str, InlineKeyboardMarkup | None]:
        services = self.services
        gone = {line.booking_id for line in redaction.bookings}
        listed = {
            line.booking_id
            for line in await services.storage.mentions.lines_of(redaction.message_id)
        }
        entries = [
            e
            for e in await services.requests.queue()
            if e.request.id in listed and e.request.id not in gone
        ]
        t = services.i18n.get(STAFF_LANGUAGE)
        return queue_text(t, entries, services.clock.now()), None


def queue_text(t: Translator, entries: list[QueueEntry], now: datetime) -> str:
    """Open means not closed: a request answered by staff stays open (and listed) until
    somebody closes it, so "no open requests" is never said while one is only answered."""
    if not entries:
        return t._(N_("No open requests: every request is closed."))
    lines = [t._(QUEUE_HEADING)]
    for entry in entries[:QUEUE_LIMIT]:
        request = entry.request
        answered = request.state == "answered"
        line = (
            f"{'💬' if answered else '⏳'} #{request.ref} {display_name(entry.first_name)}"
            f" ({language_tag(entry.language)}) — "
        )
        since = request.waiting_since
        if not answered and since is not None:
            line += t._(N_("waiting {duration}"), duration=waited(t, since, now))
        elif request.answered_name:
            line += t._(N_("answered by {name}"), name=request.answered_name)
        else:
            line += t._(N_("answered"))
        if request.claimed_name:
            line += " — " + t._(N_("claimed by {name}"), name=request.claimed_name)
        elif not answered:
            line += " — " + t._(N_("not claimed"))
        if request.deadline is not None:
            line += f" — ⏰ {staff_date(t, request.deadline)}"
            if request.deadline_estimated:
                line += " (" + t._(N_("estimated")) + ")"
        lines.append(line)
    if len(entries) > QUEUE_LIMIT:
        lines.append(more(t, len(entries) - QUEUE_LIMIT))
    return "\n".join(lines)


# -- answers to the commands ----------------------------------------------------------------
def needs_target(t: Translator) -> str:
    return t._(
        N_(
            "Please use this command in a resident's topic, as a reply to their message, "
            "or with their reference, e.g. /claim #A1B2."
        )
    )


def nothing_to_claim(t: Translator) -> str:
    return t._(N_("There is no open request to claim."))


def claimed(t: Translator, name: str, request: Request) -> str:
    return "✋ " + t._(N_("{name} takes care of #{ref}."), name=name, ref=request.ref)


def already_closed(t: Translator) -> str:
    return t._(N_("This request is already closed."))


def closed(t: Translator, request: Request) -> str:
    return "✅ " + t._(
        N_("Request #{ref} closed. The resident's next message opens a new request."),
        ref=request.ref,
    )


def closed_quiet(t: Translator, request: Request, days: int) -> str:
    return "💤 " + t.n_(
        "Request #{ref} closed: no message from either side for {n} day. "
        "The resident's next message opens a new request.",
        "Request #{ref} closed: no message from either side for {n} days. "
        "The resident's next message opens a new request.",
        days,
        ref=request.ref,
    )


def still_open(t: Translator) -> str:
    return t._(N_("This request is still open."))


def reopened(t: Translator, request: Request) -> str:
    return "🔄 " + t._(N_("Request #{ref} reopened."), ref=request.ref)


def ban_needs_reason(t: Translator) -> str:
    return t._(N_("Please give a reason, e.g. /ban insults against staff."))


def banned(t: Translator, reason: str) -> str:
    return "🚫 " + t._(
        N_("Banned: the resident's messages are no longer passed on. Reason: {reason}"),
        reason=reason[:200],
    )


def not_banned(t: Translator) -> str:
    return t._(N_("This resident is not banned."))


def unbanned(t: Translator) -> str:
    return "✅ " + t._(N_("Ban lifted: messages are passed on again."))


def canned_sent(t: Translator, key: str, language: str, text: str) -> str:
    return "📨 " + t._(
        N_("Sent “{key}” in {language}: {text}"),
        key=key,
        language=language_in(language, t.code),
        text=text,
    )


# -- answers that did not reach the resident ------------------------------------------------
def no_consent(t: Translator) -> str:
    return "⚠️ " + t._(N_("Not delivered: the resident has withdrawn their consent."))


def not_delivered(t: Translator, failure: Failure) -> str | None:
    """Why Telegram did not pass an answer on; None for a failure that is not about this
    answer (Telegram unreachable, a bug), which the error handler gets."""
    if failure.kind in (Kind.BLOCKED, Kind.FORBIDDEN):
        reason = t._(N_("Not delivered: the resident has blocked the bot."))
    elif failure.kind is Kind.CHAT_GONE:
        reason = t._(N_("Not delivered: the resident's Telegram account no longer exists."))
    elif failure.kind is Kind.UNCOPYABLE:
        reason = t._(N_("Not delivered: Telegram cannot pass on this kind of message."))
    elif failure.refused:
        reason = t._(N_("Not delivered: Telegram refused it ({error})."), error=failure.message)
    else:
        return None
    return "⚠️ " + reason


class TopicCards:
    """The topics service's renderer (``bot.services.topics.TopicRenderer``): names and
    cards in the team's language, from what the requests service knows."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def topic_info(self, user_id: int) -> TopicInfo:
        services = self.services
        facts = await services.requests.card(user_id)
        t = services.i18n.get(STAFF_LANGUAGE)
        notes: dict[int, str] = {}
        for booking in facts.appointments:
            if translation := await note_translation(services, t, booking):
                notes[booking.id] = translation
        return card(t, services.directory, facts, notes)


# -- machine translation and transcripts ----------------------------------------------------
def translation_mark(t: Translator, outcome: Translated) -> str:
    """ "🌐 Maschinelle Übersetzung (Arabisch → Deutsch)", and what was detected."""
    mark = "🌐 " + t._(
        N_("Machine translation ({source} → {target})"),
        source=language_in(outcome.source, t.code),
        target=language_in(outcome.target, t.code),
    )
    if outcome.detected is not None:
        mark += ", " + t._(
            N_("detected: {language}"), language=language_in(outcome.detected, t.code)
        )
    return mark


def translation_failure(t: Translator, failed: Failed) -> str:
    if failed.cause is TranslateFailure.NO_MODEL:
        unknown = failed.source if failed.target == STAFF_LANGUAGE else failed.target
        return t._(
            N_("No machine translation available for {language}."),
            language=language_in(unknown, t.code),
        )
    if failed.cause is TranslateFailure.TIMEOUT:
        return t._(N_("No machine translation: the translation server did not answer in time."))
    if failed.cause is TranslateFailure.REJECTED:
        return t._(N_("No machine translation: the translation server refused to translate."))
    return t._(N_("No machine translation: the translation server cannot be reached."))


class TranslationViews:
    """The interpreter's texts (``bot.services.interpreting.InterpreterViews``), in the
    team's language."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def t(self) -> Translator:
        return self.services.i18n.get(STAFF_LANGUAGE)

    def translation(self, outcome: Translated) -> str:
        return translation_mark(self.t, outcome) + "\n\n" + outcome.text

    def not_translated(self, failed: Failed) -> str:
        return "ℹ️ " + translation_failure(self.t, failed)

    def transcript(self, text: str, language: str, translation: Outcome | None) -> str:
        t = self.t
        head = "🎙 " + t._(
            N_("Transcript of the voice message ({language}):"),
            language=language_in(language, t.code),
        )
        parts = [head, text]
        if isinstance(translation, Translated):
            parts += [translation_mark(t, translation), translation.text]
        return "\n\n".join(parts)

    def not_transcribed(self, cause: VoiceFailure, max_seconds: float) -> str:
        t = self.t
        if cause is VoiceFailure.TOO_LONG:
            return "ℹ️ " + t.n_(
                "This voice message is longer than {n} minute and was not transcribed.",
                "This voice message is longer than {n} minutes and was not transcribed.",
                max(round(max_seconds / 60), 1),
            )
        return "ℹ️ " + t._(N_("This voice message could not be transcribed."))

    def sent_translated(self, outcome: Translated) -> str:
        t = self.t
        return (
            "📤 "
            + t._(
                N_("Sent to the resident as a machine translation ({language}):"),
                language=language_in(outcome.target, t.code),
            )
            + "\n\n"
            + outcome.text
        )

    def answer_not_translated(self, failed: Failed) -> str:
        return self.answer_note(self.t, failed)

    @staticmethod
    def answer_note(t: Translator, failed: Failed) -> str:
        return (
            "⚠️ "
            + translation_failure(t, failed)
            + " "
            + t._(N_("Your message went out untranslated."))
        )


MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def for_resident(rt: Translator, outcome: Translated, original: str, limit: int) -> str:
    """What a resident reads of a staff answer (HTML): the translation in their language, a
    one-line note that it was machine translated, then the original in an expandable block
    quote. The quote is shortened, or left out, to fit Telegram's limit."""
    note = "<i>🌐 " + html.escape(rt._(N_("This answer was translated by a machine."))) + "</i>"
    body = f"{_fit(outcome.text, limit - len(note) - 2)}\n\n{note}"
    head = html.escape(
        rt._(N_("Original ({language}):"), language=rt.language_name(outcome.source))
    )
    opening, closing = "\n<blockquote expandable>", "</blockquote>"
    room = limit - len(body) - len(head) - len(opening) - len(closing) - 1
    if room < 40:
        return body
    return f"{body}{opening}{head}\n{_fit(original, room)}{closing}"


def _fit(text: str, room: int) -> str:
    """``text`` escaped for HTML in at most ``room`` characters (cut with "…" if need be),
    never cutting an escape in half."""
    escaped = html.escape(text)
    if len(escaped) <= room:
        return escaped
    cut = text[: max(room - 1, 0)]
    while cut and len(html.escape(cut)) > room - 1:
        cut = cut[: -max((len(html.escape(cut)) - room + 1) // 5, 1)]
    return html.escape(cut) + "…"

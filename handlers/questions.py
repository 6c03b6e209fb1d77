"""Questions to counsellors, the resident's side.

Whatever a resident writes after consent and outside a flow — text, a photo of a letter from
the Jobcenter, a voice message, a document — is a question for the counselling staff. It is
queued for the staff group (the outbox's staff lane: durable and paced, by reference, never by
content) and becomes (or continues) the resident's open request. The resident gets one short
receipt per conversation: when counsellors answer, the office hours, and that this chat is
not for emergencies. Staff answers come back through ``handlers.staff``.

A stray message — only emoji, a sticker or a single character — opens no request (no
receipt, no queue entry) unless one is open: the resident gets a short answer with the
menu instead (:func:`answer_stray`).

What happens to a message is decided by the intake service (``bot.services.intake``):
this module parses the update before and says what it decided after.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from bot.capability import App, Capability, Handler
from bot.context import BotContext, Services
from bot.delivery.replies_lane import After
from bot.directory import OFFICE_ID, status_now
from bot.i18n import N_, Translator
from bot.letters.model import PageKind
from bot.services import intake
from bot.services.intake import Incoming, Verdict
from bot.services.interpreting import VoiceRef
from bot.services.letters import LetterFile
from handlers.common import (
    STAFF_LANGUAGE,
    before_consent,
    closed_line,
    closures_now,
    example_note,
    has_consent,
    main_menu,
)
from handlers.common.letters import LetterTexts
from storage.requests import Request

RECEIPT = "receipt"
"""The replies lane's record kind: the request's receipt was accepted by Telegram."""
FLOOD_BURST = intake.FLOOD_BURST

EMERGENCY_POLICE = "110"
EMERGENCY_FIRE = "112"

SUPPORTED = (
    filters.TEXT
    | filters.PHOTO
    | filters.Document.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.LOCATION
    | filters.CONTACT
    | filters.Sticker.ALL  # only as part of an open request: see ``is_stray``
)


# -- texts ----------------------------------------------------------------------------------
def office_phone(context: BotContext) -> str | None:
    directory = context.services.directory
    if directory.office is None:
        return None
    try:
        return directory.place(directory.office.place_id).phone
    except KeyError:
        return None


async def office_hours_lines(context: BotContext, t: Translator, now: datetime) -> list[str]:
    """Open now (until when), or when the office opens next; closures in between."""
    directory = context.services.directory
    if directory.office is None:
        return []
    closures = await closures_now(context)
    status = status_now(directory, OFFICE_ID, None, now, closures, tz=t.tz)
    lines = []
    if status.open_now is not None and status.open_until is not None:
        lines.append(
            "🟢 " + t._(N_("The office is open now until {time}."), time=t.time(status.open_until))
        )
    else:
        for closed in status.closed:
            lines.append("⛔ " + closed_line(t, closed))
        nxt = status.next_open
        if nxt is not None:
            lines.append(
                "🕒 "
                + t._(
                    N_(
                        "The office is closed right now. The next office hours are on {date}, {hours}."
                    ),
                    date=t.date(nxt.start),
                    hours=t.time_range(nxt.start, nxt.end),
                )
                + (" *" if nxt.example else "")
            )
    return lines


async def receipt_text(context: BotContext, t: Translator, now: datetime) -> str:
    parts = [
        "✅ "
        + t._(
            N_(
                "Thank you, your message has been passed on to our counsellors. They usually "
                "answer within one working day, during office hours. You can simply write "
                "more here."
            )
        )
    ]
    hours = await office_hours_lines(context, t, now)
    if hours:
        parts.append("\n".join(hours))
        if any(line.endswith(" *") for line in hours):
            parts.append(example_note(t, office_phone(context)))
    parts.append(
        "🚨 "
        + t._(
            N_(
                "This chat is not for emergencies. In an emergency call {police} (police) or "
                "{fire} (fire brigade and ambulance)."
            ),
            police=t.ltr(EMERGENCY_POLICE),
            fire=t.ltr(EMERGENCY_FIRE),
        )
    )
    return "\n\n".join(parts)


def call_office(context: BotContext, t: Translator) -> str:
    phone = office_phone(context)
    if phone is None:
        return ""
    return " " + t._(N_("Please call the office: {phone}"), phone=t.ltr(phone))


# -- stray messages -------------------------------------------------------------------------
_NOT_COUNTED = frozenset({"Mn", "Me", "Cf", "Sk"})
"""Variation selectors, keycaps, joiners and skin tones: parts of one emoji."""


def is_stray(message: Message) -> bool:
    """A sticker, or a text of only emoji (and spaces) or of a single character: not a
    question of its own."""
    if message.sticker is not None:
        return True
    if message.text is None:
        return False
    chars = [c for c in message.text if not c.isspace()]
    counted = [c for c in chars if unicodedata.category(c) not in _NOT_COUNTED]
    return len(counted) <= 1 or all(unicodedata.category(c) == "So" for c in counted)


async def answer_stray(update: Update, context: BotContext) -> None:
    """A stray message without an open request: a short friendly answer with the menu."""
    message = update.effective_message
    assert message is not None
    t = context.t
    await message.reply_text(
        t.paragraph(
            "🙂 "
            + t._(
                N_(
                    "Thank you! If you have a question, simply write it here in a few words. "
                    "Or choose from the menu:"
                )
            )
        ),
        reply_markup=main_menu(context),
    )


# -- handlers -------------------------------------------------------------------------------
LETTER_TYPES = {
    "image/jpeg": PageKind.IMAGE,
    "image/png": PageKind.IMAGE,
    "image/heic": PageKind.IMAGE,
    "image/heif": PageKind.IMAGE,
    "image/webp": PageKind.IMAGE,
    "image/tiff": PageKind.IMAGE,
    "application/pdf": PageKind.PDF,
}


def letter_of(message: Message) -> LetterFile | None:
    """A photo (its largest size), an image sent as a file, or a PDF: perhaps a letter."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return LetterFile(largest.file_id, PageKind.IMAGE, largest.file_size)
    document = message.document
    if document is not None:
        kind = LETTER_TYPES.get((document.mime_type or "").lower())
        if kind is None and (document.file_name or "").lower().endswith(".pdf"):
            kind = PageKind.PDF
        if kind is not None:
            return LetterFile(document.file_id, kind, document.file_size, document.file_name or "")
    return None


def incoming(update: Update, context: BotContext, message: Message) -> Incoming:
    """The message as the intake service reads it."""
    user = update.effective_user
    assert user is not None
    resident = context.resident
    language = resident.language if resident is not None else (context.lang or "de")
    media = message.voice or message.audio or message.video_note
    voice = None
    if media is not None:
        # Seconds as Telegram sent them (PTB's attribute is turning into a timedelta).
        seconds = media.to_dict().get("duration")
        voice = VoiceRef(media.file_id, int(seconds) if seconds is not None else None)
    return Incoming(
        letter=letter_of(message),
        user_id=user.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        language=language,
        consented=has_consent(context),
        text=message.text if message.text is not None else message.caption,
        stray=is_stray(message),
        supported=bool(SUPPORTED.check_update(update)),
        group_key=message.media_group_id,
        voice=voice,
    )


async def on_message(update: Update, context: BotContext) -> None:
    """A resident's free message: the intake service decides, this says what it decided."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    received = incoming(update, context, message)
    intake = context.services.intake
    outcome = await intake.receive(received)
    t = context.t
    match outcome.verdict:
        case Verdict.BEFORE_CONSENT:
            await before_consent(update, context)
        case Verdict.NO_STAFF:
            await message.reply_text(
                t._(N_("Sorry, messages cannot be passed on to the counsellors at the moment."))
                + call_office(context, t)
            )
        case Verdict.BANNED if outcome.tell:
            await message.reply_text(
                t._(N_("Your messages are not passed on to the counsellors at the moment."))
                + call_office(context, t)
            )
        case Verdict.STRAY:
            await answer_stray(update, context)
        case Verdict.UNSUPPORTED:
            await message.reply_text(
                t._(
                    N_(
                        "Sorry, I cannot pass this on. Please write text or send a photo, a "
                        "document or a voice message."
                    )
                )
            )
        case Verdict.FLOODED:
            await message.reply_text(
                t._(
                    N_(
                        "You are sending many messages at once. This message was not passed "
                        "on: please wait a minute and send it again."
                    )
                ),
                do_quote=True,
            )
        case Verdict.PASSED_ON:
            request = outcome.request
            if outcome.receipt and request is not None:
                # Through the replies lane: it waits out any 429 storm, and the receipt is
                # marked (``mark_receipt``) only once Telegram accepted it; one per request
                # and period.
                await context.services.outbox.replies.send(
                    message.chat_id,
                    await receipt_text(context, t, context.clock.now()),
                    after=After(RECEIPT, request.id),
                    key=f"{RECEIPT}:{request.id}:{request.receipt_at or 'first'}",
                )
            # What the resident gets of a letter, or a prepared answer, comes after this.
            await intake.answered(received, outcome)


async def on_edit(update: Update, context: BotContext) -> None:
    """A resident corrected a message they had sent: staff see the new version as a reply
    to the old one."""
    message = update.edited_message
    if message is None or update.effective_user is None:
        return
    await context.services.intake.edited(incoming(update, context, message))


class IntakeTexts:
    """What staff read about residents' messages, in the staff language."""

    def __init__(self, services: Services) -> None:
        self.t = services.i18n.get(STAFF_LANGUAGE)

    def new_request(self, request: Request) -> str:
        return self.t._(N_("🆕 New request #{ref}"), ref=request.ref)

    def edited(self) -> str:
        return "✏️ " + self.t._(N_("The resident edited this message:"))


def handlers(services: Services, application: App) -> list[Handler]:
    requests = services.storage.requests
    services.intake.views = IntakeTexts(services)
    if services.intake.letters is not None:
        services.intake.letters.views = LetterTexts(services)

    async def receipt_sent(request_id: Any, at: datetime) -> None:
        await requests.mark_receipt(int(request_id), at)

    services.outbox.replies.on_sent(RECEIPT, receipt_sent)
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(
            private & filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            on_message,
        ),
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, on_edit),
    ]


CAPABILITY = Capability(name="questions", handlers=handlers)

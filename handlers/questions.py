"""Questions to counsellors, the resident's side.

Whatever a resident writes after consent and outside a flow — text, a photo of a letter from
the Jobcenter, a voice message, a document — is a question for the counselling staff. It is
queued for the staff group (the outbox's staff lane: durable and paced, by reference, never by
content) and becomes (or continues) the resident's open request. The resident gets one short
receipt per conversation: when counsellors answer, the office hours, and that this chat is
not for emergencies. Staff answers come back through ``handlers.staff``.

A stray message — only emoji, a sticker or a single character — opens no request (no
receipt, no queue entry) unless one is open: the resident gets a short answer with the
menu instead (:func:`answered_as_stray`).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from bot.capability import App, Capability, Handler
from bot.context import BotContext, Services
from bot.delivery.pacing import Spacing, duration_micros, micros
from bot.delivery.replies_lane import After
from bot.directory import OFFICE_ID, status_now
from bot.i18n import N_, Translator
from bot.services.interpreting import VoiceRef
from handlers.common import (
    before_consent,
    closed_line,
    closures_now,
    example_note,
    has_consent,
    main_menu,
    staff_t,
)
from storage.requests import Request

# The receipt is sent once per conversation: for a new request, or again after this long.
RECEIPT_EVERY = timedelta(hours=12)
RECEIPT = "receipt"
"""The replies lane's record kind: the request's receipt was accepted by Telegram."""
# Told again at most this often that their messages are not passed on.
BAN_NOTICE_EVERY = timedelta(days=1)
# Per-resident flood limit: a burst of FLOOD_BURST messages is fine, then one every
# FLOOD_REFILL (a token bucket in clock time; kept in memory, a restart forgives).
FLOOD_BURST = 30
FLOOD_REFILL = timedelta(seconds=2)
FLOOD = "questions_flood"
"""bot_data key: user id -> its token bucket (``bot.delivery.pacing.Spacing``)."""

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


# -- flood limit ----------------------------------------------------------------------------
def take_token(context: BotContext, user_id: int, now: datetime) -> bool:
    """False when the resident floods: the message is refused with a message, not dropped."""
    buckets: dict[int, Spacing] = context.bot_data.setdefault(FLOOD, {})
    bucket = buckets.get(user_id)
    if bucket is None:
        bucket = buckets[user_id] = Spacing(duration_micros(FLOOD_REFILL), burst=FLOOD_BURST)
    return bucket.try_take(micros(now))


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


async def answered_as_stray(update: Update, context: BotContext, user_id: int) -> bool:
    """A stray message without an open request opens none (no receipt, no queue entry):
    the resident gets a short friendly answer with the menu. With an open request it is
    passed on as usual (False)."""
    message = update.effective_message
    if message is None or not is_stray(message):
        return False
    if await context.storage.requests.has_open(user_id):
        return False
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
    return True


# -- handlers -------------------------------------------------------------------------------
def needs_receipt(request: Request, is_new: bool, now: datetime) -> bool:
    return is_new or request.receipt_at is None or now - request.receipt_at >= RECEIPT_EVERY


async def on_message(update: Update, context: BotContext) -> None:
    """A resident's free message: queue it for the staff group, then acknowledge."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if not has_consent(context):
        await before_consent(update, context)
        return
    t = context.t
    now = context.clock.now()
    staffpost = context.services.staffpost
    if not staffpost.enabled:
        await message.reply_text(
            t._(N_("Sorry, messages cannot be passed on to the counsellors at the moment."))
            + call_office(context, t)
        )
        return
    requests = context.storage.requests
    ban = await requests.ban_of(user.id)
    if ban is not None:
        if ban.notified_at is None or now - ban.notified_at >= BAN_NOTICE_EVERY:
            await requests.ban_notified(user.id, now)
            await message.reply_text(
                t._(N_("Your messages are not passed on to the counsellors at the moment."))
                + call_office(context, t)
            )
        return
    if await answered_as_stray(update, context, user.id):
        return
    if not SUPPORTED.check_update(update):
        await message.reply_text(
            t._(
                N_(
                    "Sorry, I cannot pass this on. Please write text or send a photo, a "
                    "document or a voice message."
                )
            )
        )
        return
    if not take_token(context, user.id, now):
        await message.reply_text(
            t._(
                N_(
                    "You are sending many messages at once. This message was not passed on: "
                    "please wait a minute and send it again."
                )
            ),
            do_quote=True,
        )
        return
    request, is_new = await requests.on_resident_message(user.id, now)
    if is_new and await requests.previous(user.id, request.id):
        await staffpost.send_text(
            staff_t(context)._(N_("🆕 New request #{ref}"), ref=request.ref),
            resident_id=user.id,
        )
    # Stored before the receipt: once the resident reads "passed on", it is on its way.
    await staffpost.copy(
        message.chat_id,
        [message.message_id],
        resident_id=user.id,
        group_key=message.media_group_id,
    )
    await interpret(context, user.id, message)
    if needs_receipt(request, is_new, now):
        # Through the replies lane: it waits out any 429 storm, and the receipt is marked
        # (``mark_receipt``) only once Telegram accepted it; one per request and period.
        await context.services.outbox.replies.send(
            message.chat_id,
            await receipt_text(context, t, now),
            after=After(RECEIPT, request.id),
            key=f"{RECEIPT}:{request.id}:{request.receipt_at or 'first'}",
        )
    if is_new:  # a prepared answer: suggested to staff, offered after the receipt
        await context.services.answers.request_opened(
            request_id=request.id,
            user_id=user.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            language=context.resident.language if context.resident else t.code,
            text=message.text if message.text is not None else message.caption,
            voice=(message.voice or message.audio or message.video_note) is not None,
        )


async def interpret(
    context: BotContext, user_id: int, message: Message, *, edited: bool = False
) -> None:
    """After the copy is queued (never before: it must not wait): the translation of a text
    or caption, the transcript of a voice message, as replies to the copy in the topic.
    An edited message gets its text translated again (not counted, not transcribed)."""
    resident = context.resident
    language = resident.language if resident is not None else (context.lang or "de")
    media = message.voice or message.audio or message.video_note
    voice = None
    if media is not None and context.services.transcriber is not None and not edited:
        # Seconds as Telegram sent them (PTB's attribute is turning into a timedelta).
        seconds = media.to_dict().get("duration")
        voice = VoiceRef(media.file_id, int(seconds) if seconds is not None else None)
    text = message.text if message.text is not None else message.caption
    await context.services.interpreter.received(
        user_id, message.message_id, language, text=text, voice=voice, count=not edited
    )


async def on_edit(update: Update, context: BotContext) -> None:
    """A resident corrected a message they had sent: staff see the new version as a reply
    to the old one."""
    message = update.edited_message
    user = update.effective_user
    if message is None or user is None or not has_consent(context):
        return
    staffpost = context.services.staffpost
    requests = context.storage.requests
    if not staffpost.enabled or await requests.ban_of(user.id) is not None:
        return
    if await requests.staff_copy_of(user.id, message.message_id) is None:
        return  # never passed on (before consent, refused, or too old)
    st = staff_t(context)
    await staffpost.send_text(
        "✏️ " + st._(N_("The resident edited this message:")),
        resident_id=user.id,
    )
    await staffpost.copy(
        message.chat_id,
        [message.message_id],
        resident_id=user.id,
        reply_to_resident_message=message.message_id,
    )
    await interpret(context, user.id, message, edited=True)


def handlers(services: Services, application: App) -> list[Handler]:
    requests = services.storage.requests

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

"""Staff answers on their way to the resident: what staff write in a resident's topic (or as
a reply to their copied message) is copied to the resident, without internal notes and,
if configured, signed with the staff member's first name. A failure is reported in the
topic, never swallowed."""

from __future__ import annotations

import html
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.context import BotContext, Services
from bot.delivery.direction import rtl_text
from bot.delivery.errors import Failure
from bot.delivery.replies_lane import After
from bot.engines.translate import Failure as TranslateFailure
from bot.i18n import LANGUAGES
from bot.services.translation import Failed, Outcome, Skip, Skipped, Translated, strip_verbatim
from handlers.common import STAFF_LANGUAGE, staff_t
from handlers.staff import views
from handlers.staff.views import NOTE_MARKER
from storage.mentions import Mention

ANSWERED = "answered"
"""The replies lane's record kind: a staff answer was accepted by Telegram."""
MEMORY_SIZE = 1000


class Echoes(OrderedDict[str, tuple[int, Translated]]):
    """Translations waiting for their answer to be accepted, for the echo in the topic:
    in memory only, bounded, and forgotten with the resident (erasure)."""

    def forget(self, user_id: int) -> None:
        for key in [k for k, (user, _) in self.items() if user == user_id]:
            del self[key]


_ECHOES = Echoes()


def staff_name(update: Update) -> str:
    user = update.effective_user
    return (user.first_name if user else "") or "?"


def thread_of(message: Message) -> int | None:
    """The topic a message is written in (None in the General topic or a plain group)."""
    return message.message_thread_id if message.is_topic_message else None


async def resident_of_message(context: BotContext, message: Message) -> int | None:
    """The resident a staff message is about: by its topic, or the message it replies to."""
    replied = message.reply_to_message
    return await context.services.requests.resident_of(
        thread_of(message), replied.message_id if replied is not None else None
    )


async def report(
    context: BotContext, message: Message, text: str, mentions: Sequence[Mention] = ()
) -> None:
    """Answer in the staff group, in the message's topic, through the paced staff lane."""
    await context.services.staffpost.send_text(
        text,
        thread_id=thread_of(message),
        reply_to=message.message_id,
        priority=True,
        mentions=mentions,
    )


def split_notes(text: str) -> tuple[str, bool]:
    """Drop internal-note lines; returns the rest and whether anything was dropped."""
    lines = text.split("\n")
    kept = [line for line in lines if not line.lstrip().startswith(NOTE_MARKER)]
    return "\n".join(kept).strip(), len(kept) != len(lines)


async def translate_answer(
    context: BotContext, user_id: int, content: str | None
) -> tuple[Outcome | None, bool]:
    """Staff's free text in the resident's language (None: nothing to translate), and
    whether the resident reads right to left."""
    resident = await context.storage.residents.get(user_id)
    if resident is None:
        return None, False
    language = LANGUAGES.get(resident.language)
    rtl = language is not None and language.rtl
    if not content:
        return None, rtl
    outcome = await context.services.interpreter.to_resident(user_id, content, resident.language)
    return outcome, rtl


async def on_staff_message(update: Update, context: BotContext) -> None:
    """Staff write in a resident's topic (or reply to their message): pass it on,
    machine-translated into the resident's language unless it starts with ``=``."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None  # a person in the staff chat (filter)
    user_id = await resident_of_message(context, message)
    if user_id is None:
        return  # staff talking among themselves
    content = message.text if message.text is not None else message.caption
    if content is not None and content.lstrip().startswith(NOTE_MARKER):
        return  # an internal note
    staff_chat = message.chat_id
    signature = (
        f"<b>{html.escape(staff_name(update))}</b>:\n" if context.config.show_staff_names else ""
    )
    kept, dropped = split_notes(message.text) if message.text is not None else ("", False)
    if dropped and not kept:
        return
    outcome, rtl = await translate_answer(
        context, user_id, kept if message.text is not None else message.caption
    )
    verbatim = isinstance(outcome, Skipped) and outcome.why is Skip.VERBATIM

    t = staff_t(context)
    if not await context.services.requests.accepts_answers(user_id):
        await report(context, message, views.no_consent(t))
        return
    # Through the replies lane: the answer waits out any 429 storm; that it was answered
    # (and the echo of a translation) is recorded once Telegram accepted it (``ANSWERED``).
    replies = context.services.outbox.replies
    echo: str | None = None
    if isinstance(outcome, Translated):
        echo = remember(user_id, outcome)
    after = answered_after(user_id, user.id, user.first_name, message, echo=echo)
    if isinstance(outcome, Translated):
        # A machine translation is never stored (issue 16): the lane keeps it in memory.
        rt = context.services.i18n.get(outcome.target)
        original = kept if message.text is not None else (message.caption or "")
        if message.text is not None:
            text = views.for_resident(rt, outcome, original, views.MESSAGE_LIMIT - len(signature))
            await replies.send(
                user_id, signature + text, parse_mode=ParseMode.HTML, after=after, in_memory=True
            )
        else:
            caption = views.for_resident(
                rt, outcome, original, views.CAPTION_LIMIT - len(signature)
            )
            await replies.copy(
                user_id, staff_chat, message.message_id, caption=signature + caption,
                parse_mode=ParseMode.HTML, after=after, in_memory=True,
            )  # fmt: skip
    elif message.text is not None and (dropped or signature or verbatim):
        text = html.escape(kept) if dropped else message.text_html
        if verbatim:
            text = strip_verbatim(text)
        if rtl:  # staff's German words in an Arabic or Farsi chat: aligned as the bot's
            text = rtl_text(text, markup=True)
        await replies.send(user_id, signature + text, parse_mode=ParseMode.HTML, after=after)
    elif (signature or verbatim) and message.caption is not None:
        caption = message.caption_html
        if verbatim:
            caption = strip_verbatim(caption)
        await replies.copy(
            user_id, staff_chat, message.message_id,
            caption=signature + caption, parse_mode=ParseMode.HTML, after=after,
        )  # fmt: skip
    else:
        await replies.copy(user_id, staff_chat, message.message_id, after=after)
    if isinstance(outcome, Failed) and (
        outcome.tell_staff or outcome.cause is not TranslateFailure.NO_MODEL
    ):
        await report(context, message, views.TranslationViews.answer_note(t, outcome))


def answered_after(
    user_id: int,
    staff_id: int,
    staff_name: str,
    message: Message,
    *,
    echo: str | None = None,
    note: str | None = None,
) -> After:
    """What an accepted answer records: the request answered (claimed by ``staff_id``),
    then in the topic, as a reply to staff's ``message``, the translation echo (the key of a
    :func:`remember`-ed translation) or a ``note`` (never a translation: it is stored)."""
    return After(
        ANSWERED,
        {
            "user": user_id,
            "staff": staff_id,
            "name": staff_name,
            "thread": thread_of(message),
            "message": message.message_id,
            "echo": echo,
            "note": note,
        },
    )


def remember(user_id: int, outcome: Translated) -> str:
    """Keep a translation for the echo in the topic, in memory only, until the answer is
    accepted (or will never be)."""
    key = uuid.uuid4().hex
    _ECHOES[key] = (user_id, outcome)
    while len(_ECHOES) > MEMORY_SIZE:
        _ECHOES.popitem(last=False)
    return key


def register(services: Services) -> None:
    """At build time: what an accepted answer records, and how staff hear of one that will
    never arrive (blocked, refused), in the topic, as a reply to their message."""

    async def answered(arg: Any, at: datetime) -> None:
        await services.requests.answered(int(arg["user"]), int(arg["staff"]), str(arg["name"]))
        held = _ECHOES.pop(arg.get("echo") or "", None)
        if held is not None:
            await services.interpreter.show_sent(held[1], arg["thread"], int(arg["message"]))
        if arg.get("note"):
            await services.staffpost.send_text(
                str(arg["note"]), thread_id=arg["thread"], reply_to=int(arg["message"]),
                priority=True,
            )  # fmt: skip

    async def not_delivered(arg: Any, failure: Failure) -> None:
        _ECHOES.pop(arg.get("echo") or "", None)
        reason = views.not_delivered(services.i18n.get(STAFF_LANGUAGE), failure)
        if reason is None:
            return  # not about this answer (Telegram unreachable too long, a bug): logged
        await services.staffpost.send_text(
            reason, thread_id=arg["thread"], reply_to=int(arg["message"]), priority=True
        )

    services.outbox.replies.on_sent(ANSWERED, answered, failed=not_delivered)
    services.privacy.holds_memory(_ECHOES)

"""Staff answers on their way to the resident: what staff write in a resident's topic (or as
a reply to their copied message) is copied to the resident, without internal notes and,
if configured, signed with the staff member's first name. A failure is reported in the
topic, never swallowed."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.delivery.direction import rtl_text
from bot.delivery.errors import classify
from bot.engines.translate import Failure as TranslateFailure
from bot.i18n import LANGUAGES
from bot.services.translation import Failed, Outcome, Skip, Skipped, Translated, strip_verbatim
from handlers.common import staff_t
from handlers.staff import views
from handlers.staff.views import NOTE_MARKER


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


async def report(context: BotContext, message: Message, text: str) -> None:
    """Answer in the staff group, in the message's topic, through the paced staff lane."""
    await context.services.staffpost.send_text(
        text, thread_id=thread_of(message), reply_to=message.message_id, priority=True
    )


def split_notes(text: str) -> tuple[str, bool]:
    """Drop internal-note lines; returns the rest and whether anything was dropped."""
    lines = text.split("\n")
    kept = [line for line in lines if not line.lstrip().startswith(NOTE_MARKER)]
    return "\n".join(kept).strip(), len(kept) != len(lines)


async def deliver(
    context: BotContext, message: Message, user_id: int, send: Callable[[], Awaitable[object]]
) -> bool:
    """Run ``send()`` towards the resident; report in the staff chat why it failed."""
    t = staff_t(context)
    if not await context.services.requests.accepts_answers(user_id):
        await report(context, message, views.no_consent(t))
        return False
    try:
        await send()
    except Exception as exc:
        reason = views.not_delivered(t, classify(exc))
        if reason is None:
            raise
        await report(context, message, reason)
        return False
    return True


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
    bot = context.bot
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

    async def send() -> None:
        if isinstance(outcome, Translated):
            rt = context.services.i18n.get(outcome.target)
            original = kept if message.text is not None else (message.caption or "")
            if message.text is not None:
                text = views.for_resident(
                    rt, outcome, original, views.MESSAGE_LIMIT - len(signature)
                )
                await bot.send_message(user_id, signature + text, parse_mode=ParseMode.HTML)
            else:
                caption = views.for_resident(
                    rt, outcome, original, views.CAPTION_LIMIT - len(signature)
                )
                await bot.copy_message(
                    user_id, staff_chat, message.message_id,
                    caption=signature + caption, parse_mode=ParseMode.HTML,
                )  # fmt: skip
        elif message.text is not None and (dropped or signature or verbatim):
            text = html.escape(kept) if dropped else message.text_html
            if verbatim:
                text = strip_verbatim(text)
            if rtl:  # staff's German words in an Arabic or Farsi chat: aligned as the bot's
                text = rtl_text(text, markup=True)
            await bot.send_message(user_id, signature + text, parse_mode=ParseMode.HTML)
        elif (signature or verbatim) and message.caption is not None:
            caption = message.caption_html
            if verbatim:
                caption = strip_verbatim(caption)
            await bot.copy_message(
                user_id, staff_chat, message.message_id,
                caption=signature + caption, parse_mode=ParseMode.HTML,
            )  # fmt: skip
        else:
            await bot.copy_message(user_id, staff_chat, message.message_id)

    if await deliver(context, message, user_id, send):
        await context.services.requests.answered(user_id, user.id, user.first_name)
        if isinstance(outcome, Translated):
            await context.services.interpreter.show_sent(
                outcome, thread_of(message), message.message_id
            )
        elif isinstance(outcome, Failed) and (
            outcome.tell_staff or outcome.cause is not TranslateFailure.NO_MODEL
        ):
            t = staff_t(context)
            await report(context, message, views.TranslationViews.answer_note(t, outcome))

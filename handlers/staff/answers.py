"""Prepared answers, the staff side and the resident's buttons: the library commands
(/answers, /answer …), /reply <key> (and /replies), the 📨 button under a suggestion, and
the ✅ / 💬 under an answer offered to a resident. The rules are ``bot.services.answers``."""

from __future__ import annotations

import logging

from telegram import Bot, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.callbacks import Callback
from bot.context import BotContext, Services
from bot.delivery.direction import rtl_text
from bot.delivery.errors import classify
from bot.i18n import LANGUAGES, N_
from bot.services.answers import KEY_RE, MAX_FILE, How, InLanguage, LibraryProblem, Outcome
from handlers.common import STAFF_LANGUAGE, answer_query, in_staff_chat, reply, staff_t
from handlers.staff import answer_views as av, views
from handlers.staff.relay import answered_after, remember, report, staff_name, thread_of
from storage.answers import StoredAnswer

log = logging.getLogger(__name__)

EXPORT_NAME = "answers.yaml"


async def say(update: Update, context: BotContext, text: str) -> None:
    """Answer staff where they asked; a long list (a library of many entries) in parts."""
    message = update.effective_message
    assert message is not None
    for part in parts(text):
        if in_staff_chat(update, context):
            await report(context, message, part)
        else:
            await message.reply_text(part)


def parts(text: str, limit: int = 4000) -> list[str]:
    """Whole lines per message, each message within Telegram's limit."""
    found: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            found.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*found, current]


def staff_of(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


# -- the library --------------------------------------------------------------------------------
async def answers_command(update: Update, context: BotContext) -> None:
    """``/answers`` (list), ``/answers export``, ``/answers import``."""
    t = staff_t(context)
    args = [a.lower() for a in context.args or []]
    service = context.services.answers
    if not args:
        await say(update, context, av.listing(t, await service.entries()))
    elif args[0] == "export":
        await export(update, context)
    elif args[0] == "import":
        await import_file(update, context)
    else:
        await say(update, context, av.usage(t))


async def replies_command(update: Update, context: BotContext) -> None:
    """The older name of /answers: the list."""
    await say(
        update, context, av.listing(staff_t(context), await context.services.answers.entries())
    )


async def answer_command(update: Update, context: BotContext) -> None:
    """``/answer <key>``, ``/answer add <key>``, ``/answer del <key>``,
    ``/answer translate <key> <language>``."""
    t = staff_t(context)
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    first, _, rest_lines = text.partition("\n")
    args = first.split()[1:]
    service = context.services.answers
    if not args:
        await say(update, context, av.usage(t))
        return
    verb = args[0].lower()
    if verb not in ("add", "del", "translate"):
        entry = await service.entry(verb)
        await say(update, context, av.entry_text(t, entry) if entry else av.unknown_key(t, verb))
        return
    key = args[1].lower() if len(args) > 1 else ""
    if not KEY_RE.match(key):
        await say(update, context, av.bad_key(t) + "\n\n" + av.usage(t))
        return
    replied = message.reply_to_message
    replied_text = (replied.text or replied.caption) if replied is not None else None
    if verb == "add":
        if not replied_text or not replied_text.strip():
            await say(update, context, av.usage(t))
            return
        phrases = [" ".join(line.split()) for line in rest_lines.split("\n")]
        replaced = await service.put(key, replied_text, phrases, staff_of(update))
        await say(update, context, av.saved(t, key, replaced))
    elif verb == "del":
        if await service.delete(key, staff_of(update)):
            await say(update, context, av.deleted(t, key))
        else:
            await say(update, context, av.unknown_key(t, key))
    else:
        language = args[2].lower() if len(args) > 2 else ""
        if language not in LANGUAGES:
            await say(update, context, av.unknown_language(t, language))
            return
        if not replied_text or not replied_text.strip():
            await say(update, context, av.usage(t))
            return
        if await service.translate(key, language, replied_text, staff_of(update)):
            await say(update, context, av.translation_saved(t, key, language))
        else:
            await say(update, context, av.unknown_key(t, key))


async def export(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    t = staff_t(context)
    service = context.services.answers
    entries = await service.entries()
    data = await service.export()
    await context.bot.send_document(
        message.chat_id,
        InputFile(data, filename=EXPORT_NAME),
        caption=av.export_caption(t, len(entries)),
        message_thread_id=thread_of(message),
    )


async def import_file(update: Update, context: BotContext) -> None:
    """The file is the message's own (sent with the caption) or the one it replies to."""
    message = update.effective_message
    assert message is not None
    t = staff_t(context)
    document = message.document
    if document is None and message.reply_to_message is not None:
        document = message.reply_to_message.document
    if document is None:
        await say(update, context, av.usage(t))
        return
    if document.file_size is not None and document.file_size > MAX_FILE:
        await say(update, context, av.not_imported(t, "> 512 KB"))
        return
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    try:
        count = await context.services.answers.restore(data, staff_of(update))
    except LibraryProblem as problem:
        await say(update, context, av.not_imported(t, str(problem)))
        return
    await say(update, context, av.imported(t, count))


async def on_import_caption(update: Update, context: BotContext) -> None:
    """A document sent with the caption ``/answers import`` (captions are no commands)."""
    await import_file(update, context)


# -- sending one to a resident ---------------------------------------------------------------
async def send_prepared(
    context: BotContext, message: Message, user_id: int, key: str, staff_id: int, name: str
) -> None:
    """``/reply <key>`` and the 📨 button: the entry in the resident's language, through the
    replies lane; the confirmation in the topic as a reply to ``message``."""
    t = staff_t(context)
    service = context.services.answers
    entry = await service.entry(key)
    if entry is None:
        for part in parts(av.listing(t, await service.entries())):
            await report(context, message, part)
        return
    requests = context.services.requests
    if not await requests.accepts_answers(user_id):
        await report(context, message, views.no_consent(t))
        return
    language = await requests.language_of(user_id) or STAFF_LANGUAGE
    shown = await service.in_language(entry, user_id, language)
    rt = context.services.i18n.get(language)
    replies = context.services.outbox.replies
    if shown.how is How.MACHINE and shown.translated is not None:
        echo = remember(user_id, shown.translated)
        after = answered_after(user_id, staff_id, name, message, echo=echo)
        text = views.for_resident(rt, shown.translated, entry.text, views.MESSAGE_LIMIT)
        await replies.send(user_id, text, parse_mode=ParseMode.HTML, after=after, in_memory=True)
    else:
        text = shown.text
        if shown.how is How.STAFF:
            text += "\n\nℹ️ " + rt._(N_("This message is only available in German."))
        if rt.language.rtl:
            text = rtl_text(text)
        note = views.canned_sent(t, key, language, shown.text)
        after = answered_after(user_id, staff_id, name, message, note=note)
        await replies.send(user_id, text, after=after)
    await service.count(language, Outcome.SENT)


async def reply_command(
    update: Update, context: BotContext, target_user: int | None, key: str
) -> None:
    t = staff_t(context)
    message = update.effective_message
    assert message is not None
    if target_user is None or not in_staff_chat(update, context):
        await say(update, context, views.needs_target(t))
        return
    await send_prepared(context, message, target_user, key, staff_of(update), staff_name(update))


async def on_send_button(update: Update, context: BotContext, cb: Callback) -> None:
    """📨 under a suggestion: what /reply <key> does, for the topic's resident."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if not isinstance(message, Message):
        await answer_query(update)
        return
    replied = message.reply_to_message
    target = await context.services.requests.of_message(
        thread_of(message), replied.message_id if replied is not None else None
    )
    if target is None:
        await answer_query(update, views.needs_target(staff_t(context)))
        return
    await answer_query(update)
    await send_prepared(
        context, message, target.user_id, cb.arg(0), staff_of(update), staff_name(update)
    )


# -- the resident's buttons -----------------------------------------------------------------
async def on_offer_button(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    helped = cb.arg(1) == av.HELPED
    offer = await context.services.answers.tapped(cb.arg(0), helped)
    if offer is None:
        await answer_query(update, t._(N_("Thank you, we already have your answer.")))
        return
    await answer_query(update)
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        try:  # the buttons go; the answer stays readable
            await query.edit_message_reply_markup(None)
        except TelegramError as exc:
            log.info("offer buttons not removed: %s", classify(exc).kind.value)
    await reply_new(update, context, av.offer_helped(t) if helped else av.offer_talk(t))


async def reply_new(update: Update, context: BotContext, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, context.t.paragraph(text))


# -- what the service sends (``bot.services.answers.AnswerPoster``) ------------------------
class AnswerPosts:
    def __init__(self, services: Services, bot: Bot) -> None:
        self.services = services
        self.bot = bot

    async def suggest(self, user_id: int, message_id: int, entry: StoredAnswer) -> None:
        t = self.services.i18n.get(STAFF_LANGUAGE)
        await self.services.staffpost.send_text(
            av.suggestion(t, entry),
            markup=av.suggestion_markup(t, entry.key),
            resident_id=user_id,
            reply_to_resident_message=message_id,
        )

    async def offer(self, chat_id: int, entry: InLanguage, token: str, language: str) -> None:
        t = self.services.i18n.get(language)
        text = av.offer_text(
            t, entry, machine_note=entry.how is How.MACHINE, german_note=entry.how is How.STAFF
        )
        if t.language.rtl:
            text = rtl_text(text)
        # After the receipt, through the same lane; a machine translation is never stored.
        await self.services.outbox.replies.send(
            chat_id,
            t.paragraph(text),
            av.offer_markup(t, token),
            in_memory=entry.how is How.MACHINE,
        )

    async def closed(self, user_id: int, key: str, helped: bool) -> None:
        t = self.services.i18n.get(STAFF_LANGUAGE)
        await self.services.staffpost.send_text(av.tapped_note(t, key, helped), resident_id=user_id)


__all__ = [
    "AnswerPosts",
    "answer_command",
    "answers_command",
    "on_import_caption",
    "on_offer_button",
    "on_send_button",
    "replies_command",
    "reply",
    "reply_command",
]

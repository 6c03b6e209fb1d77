"""Composing a broadcast: topic → German text → optional other languages → optional photo
or document → now or at a time → preview exactly as residents will see it → confirm.

The draft is a row in SQLite (it survives a restart). While it waits for typed input,
:data:`INPUT` (a ``bot.flows.Flow``) lets this capability take only that coordinator's
messages in that chat and forum topic, so residents' messages and staff relays are never
swallowed. Each button has its own handler; a button that does not fit the draft's step
is answered "no longer valid".
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import callbacks
from bot.callbacks import Callback
from bot.context import BotContext
from bot.flows import Awaiting, Flow, where
from bot.i18n import LANGUAGES, N_
from bot.services.translation import Translated
from handlers.broadcast.schedule import schedule, start
from handlers.broadcast.views import (
    CB_TOPIC,
    as_broadcast,
    discard_row,
    langs_prompt,
    media_prompt,
    moment,
    progress_text,
    stale,
    summary_prompt,
    text_prompt,
    time_prompt,
    when_prompt,
)
from handlers.common import (
    ButtonCallback,
    answer_query,
    audit,
    news_topics,
    render_broadcast,
    reply,
    topic_title,
)
from storage import Storage
from storage.broadcasts import Draft

TEXT_MAX = 3500
"""Telegram allows 4096 characters; room is left for the header and the language note."""
CAPTION_MAX = 900
"""Telegram allows 1024 characters in a caption; the same room is left."""
MAX_AHEAD = timedelta(days=180)

# Draft steps; the ones of is_input_step wait for a message from the coordinator.
TOPIC, LANGS, MEDIA, WHEN, TIME, PREVIEW = "topic", "langs", "media", "when", "time", "preview"
TEXT = "text:"  # + language code


def is_input_step(step: str) -> bool:
    return step.startswith(TEXT) or step in (MEDIA, TIME)


def awaiting_input(draft: Draft) -> Awaiting | None:
    """At a text, attachment or time step the draft waits for the coordinator's message, in
    the chat (and forum topic) where it was started."""
    if not is_input_step(draft.step):
        return None
    return Awaiting(draft.user_id, draft.chat_id, draft.thread_id, draft.updated_at)


async def all_drafts(storage: Storage) -> list[Draft]:
    return await storage.broadcast_drafts.all()


INPUT = Flow[Draft]("broadcast", awaiting=awaiting_input, drafts=all_drafts)


# -- parsing the time -----------------------------------------------------------------------
_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})?\s*,?\s+(\d{1,2})[:.](\d{2})(?:\s*uhr)?$", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})$")
_HM = re.compile(r"^(\d{1,2})[:.](\d{2})(?:\s*uhr)?$", re.I)


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """``28.11.2026 09:00``, ``28.11. 9:00``, ``2026-11-28 09:00`` or ``14:30`` (today), in
    the configured zone; returns UTC, or None if it is no date."""
    text = text.strip()
    today = now.astimezone(tz).date()
    try:
        if m := _DMY.match(text):
            day, month, year, hour, minute = m.groups()
            moment_day = date(int(year) if year else today.year, int(month), int(day))
            if not year and moment_day < today:
                moment_day = moment_day.replace(year=today.year + 1)
        elif m := _ISO.match(text):
            year, month, day, hour, minute = m.groups()
            moment_day = date(int(year), int(month), int(day))
        elif m := _HM.match(text):
            hour, minute = m.groups()
            moment_day = today
        else:
            return None
        local = datetime.combine(moment_day, time(int(hour), int(minute)), tzinfo=tz)
    except ValueError:
        return None
    return local.astimezone(UTC)


# -- the draft ------------------------------------------------------------------------------
async def draft_of(update: Update, context: BotContext, *steps: str) -> Draft | None:
    """The caller's draft, if it was started in this chat and is at one of ``steps``."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return None
    draft = await context.storage.broadcast_drafts.get(user.id)
    if draft is None or (draft.chat_id, draft.thread_id) != where(message):
        return None
    if steps and not any(
        draft.step == s or (s == TEXT and draft.step.startswith(TEXT)) for s in steps
    ):
        return None
    return draft


async def advance(context: BotContext, draft: Draft, step: str, **fields: Any) -> Draft:
    updated = await context.storage.broadcast_drafts.update(
        draft.user_id, context.clock.now(), step=step, **fields
    )
    assert updated is not None
    track(context, draft.user_id, updated)
    return updated


def track(context: BotContext, user_id: int, draft: Draft | None) -> None:
    """After every write of the coordinator's draft (None: it ended)."""
    context.services.flows.track(INPUT, user_id, draft)


async def say(message: Message, prompt: tuple[str, InlineKeyboardMarkup]) -> None:
    await message.reply_text(prompt[0], reply_markup=prompt[1])


async def send_to_draft_chat(
    context: BotContext, draft: Draft, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await context.bot.send_message(
        draft.chat_id, text, message_thread_id=draft.thread_id, reply_markup=markup
    )


# -- steps ----------------------------------------------------------------------------------
async def broadcast_command(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    chat_id, thread_id = where(message)
    draft = await context.storage.broadcast_drafts.begin(
        user.id, chat_id, thread_id, context.clock.now()
    )
    track(context, user.id, draft)
    t = context.t
    rows = []
    for topic in news_topics(context.services.directory):
        title, _ = topic_title(t, context.services.directory, topic)
        audience = await context.storage.subscriptions.audience(topic)
        rows.append(
            [
                InlineKeyboardButton(
                    f"{title} ({audience})", callback_data=callbacks.make(CB_TOPIC, topic)
                )
            ]
        )
    rows.append(discard_row(t))
    text = t._(N_("New broadcast. Which topic is it about? (In brackets: subscribers now.)"))
    await message.reply_text(text, reply_markup=InlineKeyboardMarkup(rows))


async def on_topic(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    draft = await draft_of(update, context, TOPIC)
    topic = cb.arg(0)
    if draft is None or topic not in news_topics(context.services.directory):
        await answer_query(update, stale(t), alert=True)
        return
    await answer_query(update)
    draft = await advance(context, draft, TEXT + "de", topic=topic)
    title, _ = topic_title(t, context.services.directory, topic)
    text = t._(N_("Topic: {topic}"), topic=title) + "\n\n" + text_prompt(t, "de")
    await reply(update, context, text, InlineKeyboardMarkup([discard_row(t)]))


async def on_language(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    draft = await draft_of(update, context, LANGS)
    code = cb.arg(0)
    if (
        draft is None
        or code not in LANGUAGES
        or (code in draft.texts and code not in draft.machine)
    ):
        await answer_query(update, stale(t), alert=True)
        return
    await answer_query(update)
    await advance(context, draft, TEXT + code)
    await reply(update, context, text_prompt(t, code), InlineKeyboardMarkup([discard_row(t)]))


StepButton = Callable[[Update, BotContext, Draft], Awaitable[None]]


def at_step(expected: str) -> Callable[[StepButton], ButtonCallback]:
    """A "continue" button (``bcs:<what>``) that is only valid at one step of the draft."""

    def decorate(step: StepButton) -> ButtonCallback:
        @functools.wraps(step)
        async def button(update: Update, context: BotContext, cb: Callback) -> None:
            draft = await draft_of(update, context, expected)
            if draft is None:
                await answer_query(update, stale(context.t), alert=True)
                return
            await answer_query(update)
            await step(update, context, draft)

        return button

    return decorate


@at_step(LANGS)
async def on_to_media(update: Update, context: BotContext, draft: Draft) -> None:
    await advance(context, draft, MEDIA)
    await reply(update, context, *media_prompt(context.t))


@at_step(MEDIA)
async def on_no_media(update: Update, context: BotContext, draft: Draft) -> None:
    await advance(context, draft, WHEN, media=None)
    await reply(update, context, *when_prompt(context.t))


@at_step(WHEN)
async def on_now(update: Update, context: BotContext, draft: Draft) -> None:
    draft = await advance(context, draft, PREVIEW, send_at=None)
    await reply(update, context, "👀 " + context.t._(N_("Preview:")))
    await preview(context, draft)


@at_step(WHEN)
async def on_later(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    await advance(context, draft, TIME)
    await reply(
        update, context, time_prompt(t, context.clock.now()), InlineKeyboardMarkup([discard_row(t)])
    )


async def on_stale(update: Update, context: BotContext, cb: Callback) -> None:
    """A button of this capability that fits no step (forged, or from an unknown version)."""
    await answer_query(update, stale(context.t), alert=True)


async def on_input(update: Update, context: BotContext) -> None:
    """Typed text, a photo or a document while the draft waits for one; only ever called
    for the coordinator whose draft it is (the handler's filter asks ``INPUT``)."""
    message = update.effective_message
    assert message is not None
    t = context.t
    draft = await draft_of(update, context, TEXT, MEDIA, TIME)
    if draft is None:
        track(context, update.effective_user.id if update.effective_user else 0, None)
        await message.reply_text(
            t._(N_("There is no broadcast in progress. Start one with /broadcast."))
        )
        return
    if draft.step.startswith(TEXT):
        await text_input(context, draft, message)
    elif draft.step == MEDIA:
        await media_input(context, draft, message)
    else:
        await time_input(context, draft, message)


async def text_input(context: BotContext, draft: Draft, message: Message) -> None:
    t = context.t
    code = draft.step[len(TEXT) :]
    text = (message.text or "").strip()
    if not text:
        await message.reply_text(
            text_prompt(t, code), reply_markup=InlineKeyboardMarkup([discard_row(t)])
        )
        return
    if len(text) > TEXT_MAX:
        await message.reply_text(
            t.n_(
                "This text is too long: at most {n} character fits (now: {length}). "
                "Please send a shorter one.",
                "This text is too long: at most {n} characters fit (now: {length}). "
                "Please send a shorter one.",
                TEXT_MAX,
                length=len(text),
            )
        )
        return
    texts, machine = {**draft.texts, code: text}, draft.machine - {code}
    if code == "de":
        drafts = await machine_drafts(
            context, text, missing=[c for c in LANGUAGES if c not in texts]
        )
        texts, machine = {**texts, **drafts}, machine | drafts.keys()
    draft = await advance(context, draft, LANGS, texts=texts, machine=machine)
    await say(message, langs_prompt(t, draft))


async def machine_drafts(context: BotContext, text: str, missing: list[str]) -> dict[str, str]:
    """With a translator configured, the German announcement machine-translated into each
    missing language the engine can do; the coordinator sees them marked in the preview and
    may replace any. A language the engine cannot do (Kurmanji) gets German with the note."""
    translator = context.services.translator
    if not translator.enabled or not missing:
        return {}
    outcomes = await asyncio.gather(*(translator.announcement(text, code) for code in missing))
    return {
        outcome.target: outcome.text
        for outcome in outcomes
        if isinstance(outcome, Translated) and 0 < len(outcome.text) <= TEXT_MAX
    }


async def media_input(context: BotContext, draft: Draft, message: Message) -> None:
    t = context.t
    media: tuple[str, str] | None = None
    if message.photo:
        media = ("photo", message.photo[-1].file_id)
    elif message.document is not None:
        media = ("document", message.document.file_id)
    if media is None:
        await say(message, media_prompt(t))
        return
    longest = max(len(v) for v in draft.texts.values())
    if longest > CAPTION_MAX:
        await message.reply_text(
            t.n_(
                "With an attachment, each text may have at most {n} character (the longest "
                "now: {length}). Send the announcement without attachment, or discard it and "
                "start again with shorter texts.",
                "With an attachment, each text may have at most {n} characters (the longest "
                "now: {length}). Send the announcement without attachment, or discard it and "
                "start again with shorter texts.",
                CAPTION_MAX,
                length=longest,
            ),
            reply_markup=media_prompt(t)[1],
        )
        return
    await advance(context, draft, WHEN, media=media)
    await say(message, when_prompt(t))


async def time_input(context: BotContext, draft: Draft, message: Message) -> None:
    t = context.t
    now = context.clock.now()
    when = parse_when(message.text or "", now, context.config.tz)
    if when is None:
        await message.reply_text(
            t._(N_("I could not read this date.")) + " " + time_prompt(t, now),
            reply_markup=InlineKeyboardMarkup([discard_row(t)]),
        )
        return
    if when <= now or when > now + MAX_AHEAD:
        await message.reply_text(
            t._(N_("Please choose a moment in the future, at most 180 days from now.")),
            reply_markup=InlineKeyboardMarkup([discard_row(t)]),
        )
        return
    draft = await advance(context, draft, PREVIEW, send_at=when)
    await message.reply_text("👀 " + t._(N_("Preview:")))
    await preview(context, draft)


async def preview(context: BotContext, draft: Draft) -> None:
    """Each language's message exactly as residents will get it, then what happens next."""
    t = context.t
    now = context.clock.now()
    services = context.services
    broadcast = as_broadcast(draft, context.lang or "de", now)
    bot = context.bot
    for code in LANGUAGES:
        if code not in draft.texts:
            continue
        text, markup = render_broadcast(services, broadcast, code)
        chat, thread, file_id = draft.chat_id, draft.thread_id, draft.media_file_id or ""
        if draft.media_kind == "photo":
            await bot.send_photo(
                chat, file_id, caption=text, message_thread_id=thread, reply_markup=markup
            )
        elif draft.media_kind == "document":
            await bot.send_document(
                chat, file_id, caption=text, message_thread_id=thread, reply_markup=markup
            )
        else:
            await bot.send_message(chat, text, message_thread_id=thread, reply_markup=markup)
    assert draft.topic is not None
    title, _ = topic_title(t, services.directory, draft.topic)
    audience = await context.storage.subscriptions.audience(draft.topic)
    await send_to_draft_chat(context, draft, *summary_prompt(t, draft, title, audience))


async def on_confirm(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    draft = await draft_of(update, context, PREVIEW)
    if draft is None:
        await answer_query(update, stale(t), alert=True)
        return
    now = context.clock.now()
    send_now = draft.send_at is None or draft.send_at <= now
    message_id = query.message.message_id if send_now and query.message is not None else None
    broadcast = await context.storage.broadcasts.confirm(
        update.effective_user.id, context.lang or "de", now, progress_message=message_id
    )
    track(context, update.effective_user.id, None)
    if broadcast is None:  # a double tap: the first one confirmed it
        await answer_query(update, stale(t), alert=True)
        return
    await answer_query(update)
    await audit(
        update,
        context,
        "broadcast" if send_now else "schedule broadcast",
        None,
        f"#{broadcast.id} {broadcast.topic}",
    )
    if send_now:
        await reply(update, context, progress_text(context.services, broadcast, {}, final=False))
        await start(context, broadcast.id)
    else:
        schedule(context.services, broadcast)
        text = "🕒 " + t._(
            N_("Broadcast #{id} is scheduled for {when}. /broadcasts lists scheduled broadcasts."),
            id=broadcast.id,
            when=moment(t, broadcast.send_at),
        )
        await reply(update, context, text)


async def on_discard(update: Update, context: BotContext, cb: Callback) -> None:
    assert update.effective_user is not None
    t = context.t
    draft = await draft_of(update, context)
    if draft is None or not await context.storage.broadcast_drafts.discard(draft.user_id):
        await answer_query(update, stale(t), alert=True)
        return
    track(context, draft.user_id, None)
    await answer_query(update)
    await reply(update, context, t._(N_("The broadcast was discarded; nothing was sent.")))

"""Coordinators announce group offers, job fairs, closures and events to the residents who
subscribed to the topic.

``/broadcast`` walks through topic → German text → optional other languages → optional
photo or document → now or at a time → preview exactly as residents will see it → confirm.
The draft is a row in SQLite (it survives a restart); while it waits for typed input, a
filter lets this module take only that coordinator's messages in that chat and thread, so
residents' messages and staff relays are never swallowed. ``/broadcasts`` lists scheduled
broadcasts, which can be cancelled until they start. Sending is the broadcast lane's job
(``bot.delivery``); this capability renders what it sends (:class:`Views`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler
from bot.context import SERVICES, BotContext, Services
from bot.filters import coordinator_here
from bot.i18n import LANGUAGES, N_, Translator
from bot.services import broadcast_recovery
from bot.services.broadcast_recovery import CB_SEND_AGAIN
from handlers.common import (
    answer_query,
    audit,
    is_admin,
    on_callback,
    refuse,
    reply,
)
from handlers.news import news_topics, render_broadcast, topic_title
from storage.broadcasts import (
    BLOCKED,
    FAILED,
    LEFT,
    SENT,
    SKIPPED,
    UNKNOWN,
    Broadcast,
    Draft,
)

CB_TOPIC = callbacks.kind("bct", 1)
CB_LANG = callbacks.kind("bcl", 1)
CB_STEP = callbacks.kind("bcs", 1)
CB_CONFIRM = callbacks.kind("bcok")
CB_DISCARD = callbacks.kind("bcno")
CB_CANCEL = callbacks.kind("bcx", 1)

AWAITING = "broadcast_awaiting"
"""bot_data: {(coordinator, chat, thread)} whose draft waits for typed input; mirrors the
drafts table so that the message filter can decide without a database query."""

TEXT_MAX = 3500
"""Telegram allows 4096 characters; room is left for the header and the language note."""
CAPTION_MAX = 900
"""Telegram allows 1024 characters in a caption; the same room is left."""
MAX_AHEAD = timedelta(days=180)
JOB_PREFIX = "broadcast:"

# Draft steps; the ones in INPUT_STEPS wait for a message from the coordinator.
TOPIC, LANGS, MEDIA, WHEN, TIME, PREVIEW = "topic", "langs", "media", "when", "time", "preview"
TEXT = "text:"  # + language code


def is_input_step(step: str) -> bool:
    return step.startswith(TEXT) or step in (MEDIA, TIME)


# -- texts ----------------------------------------------------------------------------------
def language_name(code: str) -> str:
    return LANGUAGES[code].native_name


def discard_row(t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton("✖ " + t._(N_("Discard")), callback_data=callbacks.make(CB_DISCARD))
    ]


def stale(t: Translator) -> str:
    return t._(N_("This button is no longer valid."))


def moment(t: Translator, when: datetime) -> str:
    """Date with year and time (``Translator.datetime``'s skeleton fails in Babel 2.18)."""
    return t._(N_("{date}, {time}"), date=t.date(when, "yMMMEd"), time=t.time(when))


def text_prompt(t: Translator, code: str) -> str:
    if code == "de":
        return t._(N_("Now send me the text of the announcement in German."))
    return t._(N_("Send me the text in {language}."), language=language_name(code))


def langs_prompt(t: Translator, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    given = ", ".join(language_name(c) for c in LANGUAGES if c in draft.texts)
    text = t._(
        N_(
            "Texts so far: {languages}.\n\nAdd the announcement in another language? Residents "
            "whose language is missing get the German text with a short note in their language."
        ),
        languages=given,
    )
    missing = [
        InlineKeyboardButton(f"+ {language_name(c)}", callback_data=callbacks.make(CB_LANG, c))
        for c in LANGUAGES
        if c not in draft.texts
    ]
    rows = [missing[i : i + 3] for i in range(0, len(missing), 3)]
    rows.append(
        [
            InlineKeyboardButton(
                t._(N_("Continue »")), callback_data=callbacks.make(CB_STEP, "media")
            )
        ]
    )
    rows.append(discard_row(t))
    return text, InlineKeyboardMarkup(rows)


def media_prompt(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    text = t._(N_("Send a photo or a document to go with the announcement, or continue without."))
    rows = [
        [
            InlineKeyboardButton(
                t._(N_("No attachment »")), callback_data=callbacks.make(CB_STEP, "nomedia")
            )
        ],
        discard_row(t),
    ]
    return text, InlineKeyboardMarkup(rows)


def when_prompt(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [
            InlineKeyboardButton(
                "▶ " + t._(N_("Send now")), callback_data=callbacks.make(CB_STEP, "now")
            )
        ],
        [
            InlineKeyboardButton(
                "🕒 " + t._(N_("At a set time…")), callback_data=callbacks.make(CB_STEP, "later")
            )
        ],
        discard_row(t),
    ]
    return t._(N_("When should it be sent?")), InlineKeyboardMarkup(rows)


def time_prompt(t: Translator, now: datetime) -> str:
    example = (now + timedelta(days=1)).astimezone(t.tz).replace(hour=9, minute=0)
    return t._(
        N_("Send me the date and time, for example {example}."),
        example=example.strftime("%d.%m.%Y %H:%M"),
    )


def progress_text(
    services: Services, broadcast: Broadcast, counts: dict[str, int], final: bool
) -> str:
    """The coordinator's progress message, edited as the broadcast goes, and the report."""
    t = services.i18n.get(broadcast.lang)
    title, _ = topic_title(t, services.directory, broadcast.topic)
    total = sum(counts.values())
    if final:
        header = "🏁 " + t._(N_("Broadcast #{id} finished: {topic}"), id=broadcast.id, topic=title)
    else:
        header = "📤 " + t._(
            N_("Broadcast #{id} is being sent: {topic}"), id=broadcast.id, topic=title
        )
    lines = [
        header,
        "✅ " + t._(N_("sent: {n} of {total}"), n=counts.get(SENT, 0), total=total),
        "⚠️ " + t._(N_("failed: {n}"), n=counts.get(FAILED, 0) + counts.get(UNKNOWN, 0)),
        "⛔ " + t._(N_("blocked the bot: {n}"), n=counts.get(BLOCKED, 0)),
        "👋 " + t._(N_("left Telegram: {n}"), n=counts.get(LEFT, 0)),
    ]
    if counts.get(SKIPPED):
        lines.append("🔕 " + t._(N_("unsubscribed meanwhile: {n}"), n=counts[SKIPPED]))
    if total == 0:
        lines.append(t._(N_("Nobody has subscribed to this topic.")))
    return "\n".join(lines)


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
def where(message: Message) -> tuple[int, int | None]:
    return message.chat.id, (message.message_thread_id if message.is_topic_message else None)


def remember(application: Application, draft: Draft | None, user_id: int) -> None:
    waiting: set[tuple[int, int, int | None]] = application.bot_data.setdefault(AWAITING, set())
    for key in [k for k in waiting if k[0] == user_id]:
        waiting.discard(key)
    if draft is not None and is_input_step(draft.step):
        waiting.add((draft.user_id, draft.chat_id, draft.thread_id))


class AwaitingInput(filters.MessageFilter):
    """Matches only a message of a coordinator whose draft waits for input, in the chat
    (and forum topic) where the draft was started."""

    def __init__(self, application: Application) -> None:
        super().__init__(name="AwaitingBroadcastInput")
        self.application = application

    def filter(self, message: Message) -> bool:
        if message.from_user is None:
            return False
        chat_id, thread_id = where(message)
        waiting = self.application.bot_data.get(AWAITING, set())
        return (message.from_user.id, chat_id, thread_id) in waiting


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
    remember(context.application, updated, draft.user_id)
    return updated


async def refuse_button(update: Update, context: BotContext, cb: Callback) -> None:
    """Coordinators only, and only in a private chat or the staff group (the filter on every
    step's handler), since callback data can be forged and buttons are seen by the whole
    group; everybody else who taps gets this."""
    await answer_query(
        update, context.t._(N_("Sorry, this is only for the project's staff.")), alert=True
    )


def as_broadcast(draft: Draft, lang: str, now: datetime) -> Broadcast:
    """The draft as the broadcast it will become, for the preview."""
    assert draft.topic is not None
    return Broadcast(
        id=0,
        topic=draft.topic,
        texts=draft.texts,
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
        created_by=draft.user_id,
        created_at=now,
        send_at=draft.send_at or now,
        status="scheduled",
        started_at=None,
        finished_at=None,
        lang=lang,
        report_chat=draft.chat_id,
        report_thread=draft.thread_id,
        progress_message=None,
    )


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
    remember(context.application, draft, user.id)
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
    if draft is None or code not in LANGUAGES or code in draft.texts:
        await answer_query(update, stale(t), alert=True)
        return
    await answer_query(update)
    await advance(context, draft, TEXT + code)
    await reply(update, context, text_prompt(t, code), InlineKeyboardMarkup([discard_row(t)]))


async def on_step(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    what = cb.arg(0)
    expected = {"media": LANGS, "nomedia": MEDIA, "now": WHEN, "later": WHEN}.get(what)
    draft = await draft_of(update, context, expected) if expected else None
    if draft is None:
        await answer_query(update, stale(t), alert=True)
        return
    await answer_query(update)
    if what == "media":
        await advance(context, draft, MEDIA)
        await reply(update, context, *media_prompt(t))
    elif what == "nomedia":
        await advance(context, draft, WHEN, media=None)
        await reply(update, context, *when_prompt(t))
    elif what == "now":
        draft = await advance(context, draft, PREVIEW, send_at=None)
        await reply(update, context, "👀 " + t._(N_("Preview:")))
        await preview(context, draft)
    else:
        await advance(context, draft, TIME)
        await reply(
            update,
            context,
            time_prompt(t, context.clock.now()),
            InlineKeyboardMarkup([discard_row(t)]),
        )


async def on_input(update: Update, context: BotContext) -> None:
    """Typed text, a photo or a document while the draft waits for one; only ever called
    for the coordinator whose draft it is (see :class:`AwaitingInput`)."""
    message = update.effective_message
    assert message is not None
    t = context.t
    if not is_admin(update, context):  # no longer a coordinator (configuration changed)
        return
    draft = await draft_of(update, context, TEXT, MEDIA, TIME)
    if draft is None:
        remember(
            context.application, None, update.effective_user.id if update.effective_user else 0
        )
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
            t._(
                N_(
                    "This text is too long ({length} characters); at most {limit} fit. Please send a shorter one."
                ),
                length=len(text),
                limit=TEXT_MAX,
            )
        )
        return
    draft = await advance(context, draft, LANGS, texts={**draft.texts, code: text})
    await say(message, langs_prompt(t, draft))


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
            t._(
                N_(
                    "With an attachment, each text may have at most {limit} characters (the "
                    "longest has {length}). Send the announcement without attachment, or "
                    "discard it and start again with shorter texts."
                ),
                limit=CAPTION_MAX,
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
    languages = ", ".join(language_name(c) for c in LANGUAGES if c in draft.texts)
    lines = [
        t._(N_("Topic: {topic}"), topic=title),
        t._(N_("Subscribers now: {n}"), n=audience),
        t._(N_("Languages: {languages}"), languages=languages),
    ]
    if len(draft.texts) < len(LANGUAGES):
        lines.append(t._(N_("Everybody else gets the German text with a note in their language.")))
    if draft.send_at is None:
        lines.append(t._(N_("It will be sent right away.")))
        confirm = "✅ " + t._(N_("Send now"))
    else:
        lines.append(t._(N_("It will be sent on {when}."), when=moment(t, draft.send_at)))
        confirm = "✅ " + t._(N_("Schedule"))
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(confirm, callback_data=callbacks.make(CB_CONFIRM))], discard_row(t)]
    )
    await send_to_draft_chat(context, draft, "\n".join(lines), markup)


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
    remember(context.application, None, update.effective_user.id)
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
    remember(context.application, None, draft.user_id)
    await answer_query(update)
    await reply(update, context, t._(N_("The broadcast was discarded; nothing was sent.")))


# -- sending and scheduling -----------------------------------------------------------------
async def start(context: BotContext, broadcast_id: int) -> None:
    """Write the outbox rows for the current subscribers and wake the sender."""
    started = await context.storage.broadcasts.start(broadcast_id, context.clock.now())
    if started is not None:
        context.services.outbox.broadcasts.wake()


async def fire(context: BotContext, broadcast_id: int) -> None:
    """The scheduled moment has come (clock time); a cancelled broadcast stays unsent."""
    await start(context, broadcast_id)


def schedule(services: Services, broadcast: Broadcast) -> None:
    services.scheduler.at(f"{JOB_PREFIX}{broadcast.id}", broadcast.send_at, fire, broadcast.id)


# -- the list of scheduled broadcasts -------------------------------------------------------
async def broadcasts_command(update: Update, context: BotContext) -> None:
    await list_view(update, context)


async def list_view(update: Update, context: BotContext, notice: str | None = None) -> None:
    t = context.t
    services = context.services
    repo = context.storage.broadcasts
    lines = [notice] if notice else []
    rows = []
    sending = await repo.with_status("sending")
    for b in sending:
        counts = await repo.counts(b.id)
        title, _ = topic_title(t, services.directory, b.topic)
        lines.append(
            "📤 "
            + t._(
                N_("#{id} {topic}: being sent, {sent} of {total}"),
                id=b.id,
                topic=title,
                sent=counts.get(SENT, 0),
                total=sum(counts.values()),
            )
        )
    scheduled = await repo.with_status("scheduled")
    for b in scheduled:
        title, _ = topic_title(t, services.directory, b.topic)
        languages = ", ".join(language_name(c) for c in LANGUAGES if c in b.texts)
        lines.append(
            "🕒 "
            + t._(
                N_("#{id} {topic}, {when} ({languages})"),
                id=b.id,
                topic=title,
                when=moment(t, b.send_at),
                languages=languages,
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    "✖ " + t._(N_("Cancel #{id}"), id=b.id),
                    callback_data=callbacks.make(CB_CANCEL, b.id),
                )
            ]
        )
    if not sending and not scheduled:
        lines.append(t._(N_("No broadcasts are scheduled.")))
    in_doubt, again = await broadcast_recovery.overview(context.storage, t)
    lines += in_doubt
    rows += again
    await reply(update, context, "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None)


async def on_cancel(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    broadcast_id = cb.int_arg(0)
    cancelled = await context.storage.broadcasts.cancel(broadcast_id) if broadcast_id else None
    if cancelled is None:
        await answer_query(
            update, t._(N_("This broadcast has already started or was cancelled.")), alert=True
        )
        await list_view(update, context)
        return
    context.scheduler.cancel(f"{JOB_PREFIX}{cancelled.id}")
    await audit(update, context, "cancel broadcast", None, f"#{cancelled.id}")
    await answer_query(update)
    await list_view(
        update, context, "✖ " + t._(N_("Broadcast #{id} is cancelled."), id=cancelled.id)
    )


async def on_send_again(update: Update, context: BotContext, cb: Callback) -> None:
    """The report's (or /broadcasts') button for recipients in doubt after a crash."""
    t = context.t
    outbox = context.services.outbox
    text = await broadcast_recovery.send_again(context.storage, outbox.broadcasts, cb.int_arg(0), t)
    if text is None:
        await answer_query(update, stale(t), alert=True)
        return
    await audit(update, context, "send broadcast again", None, f"#{cb.int_arg(0)}")
    await answer_query(update)
    if update.effective_message is not None:  # the report stays as it is
        await update.effective_message.reply_text(text)


# -- start-up and shutdown ------------------------------------------------------------------
async def on_startup(application: Application) -> None:
    """Re-schedule stored broadcasts (a moment passed while the bot was down fires at
    once), and remember drafts waiting for input. The broadcast lane starts with the
    outbox."""
    services: Services = application.bot_data[SERVICES]
    for draft in await services.storage.broadcast_drafts.all():
        remember(application, draft, draft.user_id)
    for broadcast in await services.storage.broadcasts.with_status("scheduled"):
        schedule(services, broadcast)


class Views:
    """What the broadcast lane sends, as residents and the coordinator see it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def message(
        self, broadcast: Broadcast, language: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        return render_broadcast(self.services, broadcast, language)

    def progress(self, broadcast: Broadcast, counts: dict[str, int], final: bool) -> str:
        return progress_text(self.services, broadcast, counts, final)


def handlers(services: Services, application: App) -> list[Handler]:
    # What the broadcast lane sends is rendered here (set once, at build).
    services.outbox.broadcasts.renderer = Views(services)
    coordinator = coordinator_here(services.config)
    return [
        CommandHandler(
            "broadcast", broadcast_command, filters=filters.UpdateType.MESSAGES & coordinator
        ),
        CommandHandler(
            "broadcasts", broadcasts_command, filters=filters.UpdateType.MESSAGES & coordinator
        ),
        CommandHandler(["broadcast", "broadcasts"], refuse),
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.COMMAND & AwaitingInput(application),
            on_input,
        ),
        on_callback(CB_TOPIC, on_topic, filters=coordinator),
        on_callback(CB_LANG, on_language, filters=coordinator),
        on_callback(CB_STEP, on_step, filters=coordinator),
        on_callback(CB_CONFIRM, on_confirm, filters=coordinator),
        on_callback(CB_DISCARD, on_discard, filters=coordinator),
        on_callback(CB_CANCEL, on_cancel, filters=coordinator),
        on_callback(CB_SEND_AGAIN, on_send_again, filters=coordinator),
        on_callback(
            (CB_TOPIC, CB_LANG, CB_STEP, CB_CONFIRM, CB_DISCARD, CB_CANCEL, CB_SEND_AGAIN),
            refuse_button,
        ),
    ]


CAPABILITY = Capability(
    name="broadcast",
    handlers=handlers,
    commands=(
        Command("broadcast", N_("Send an announcement to subscribed residents"), scope="admin"),
        Command("broadcasts", N_("Scheduled broadcasts"), scope="admin"),
    ),
    on_start=(on_startup,),
)

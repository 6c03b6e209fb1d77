"""Questions to counsellors, the staff side (the group ``QUARTIERBOT_STAFF_CHAT``).

Each resident has their own forum topic, opened by the staff lane of the outbox
(``bot.delivery``, as ``bot.services.topics`` plans it) with a card (language,
known since, open appointments, previous requests). Staff answer by simply writing in the
topic — or, in a group without topics, by replying to the resident's message — and the bot
copies the answer to the resident. Lines starting with ``!`` are internal notes and never
leave the group. Queue commands: /queue, /claim, /close, /reopen, /ban, /unban; prepared
answers with /reply, and the library behind them (/answers, /answer: ``answers``).

Who counts as staff: people writing in the staff chat (being a member is the permission),
and the coordinators (``QUARTIERBOT_ADMINS``) in a private chat with the bot. Anything
else is refused, and nothing the bot says outside the staff chat names a resident. Other
bots in the group are ignored.

Here: the commands and the wiring. ``relay`` passes staff answers on to residents, ``views``
renders what staff read (and the topic cards); the rules (claiming, closing, bans, who
answered, the audit trail) are ``bot.services.requests``. A daily job closes requests with
no message from either side for ``QUARTIERBOT_IDLE_CLOSE_DAYS``; ``/close`` asks the resident
"Did we help you?" (``bot.services.feedback``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.capability import App, Capability, Command, Handler
from bot.context import BotContext, Services, services_of
from bot.filters import HUMAN, staff, staff_chat
from bot.i18n import N_
from bot.services.requests import Target
from handlers.common import in_staff_chat, on_callback, refuse, staff_t
from handlers.staff import answers, deadlines, relay, views
from handlers.staff.answer_views import CB_OFFER, CB_SEND
from handlers.staff.relay import (
    on_staff_message,
    report,
    staff_name,
    thread_of,
)
from handlers.staff.views import CANNED, QueueRedactions, TopicCards, TranslationViews
from storage.mentions import Mention
from storage.requests import Request

__all__ = ["CANNED", "CAPABILITY"]

MAP_PURGE_JOB = "staff:purge-map"
IDLE_CLOSE_JOB = "staff:idle-close"
IDLE_CLOSE_AT = time(4, 0)
"""Local time of the daily check for requests that went quiet."""
REF = re.compile(r"#?[0-9A-Fa-f]{4,8}")


# -- who and what a command is about (who may: ``bot.filters.staff`` on the handlers) ------
async def target_request(
    update: Update, context: BotContext, args: list[str]
) -> tuple[Target | None, list[str]]:
    """The resident and latest request a command is about: a ``#REF`` first argument, or
    the topic / replied-to message. Returns the remaining arguments."""
    requests = context.services.requests
    if args and REF.fullmatch(args[0]):
        target = await requests.by_ref(args[0])
        if target is not None:
            return target, args[1:]
    message = update.effective_message
    if message is None or not in_staff_chat(update, context):
        return None, args
    replied = message.reply_to_message
    target = await requests.of_message(
        thread_of(message), replied.message_id if replied is not None else None
    )
    return target, args


async def answer(
    update: Update, context: BotContext, text: str, mentions: Sequence[Mention] = ()
) -> None:
    """Answer a staff command: in the staff chat through the paced outbox, in the same
    topic; a coordinator's private chat directly."""
    message = update.effective_message
    assert message is not None
    if in_staff_chat(update, context):
        await report(context, message, text, mentions)
    else:
        await message.reply_text(text)


def staff_id(update: Update) -> int:
    assert update.effective_user is not None  # a person (bot.filters.staff)
    return update.effective_user.id


async def targeted(update: Update, context: BotContext) -> tuple[Target | None, list[str]]:
    """The command's target, or None after telling staff how to name one."""
    target, rest = await target_request(update, context, list(context.args or []))
    if target is None:
        await answer(update, context, views.needs_target(staff_t(context)))
    return target, rest


# -- commands -------------------------------------------------------------------------------
async def queue_command(update: Update, context: BotContext) -> None:
    # Requests with a deadline in the coming week first, then the rest oldest first.
    entries = await context.services.requests.queue(context.services.deadlines.due_by())
    text = views.queue_text(staff_t(context), entries, context.clock.now())
    # It names residents: their erasure renders it again without them (QueueRedactions).
    await answer(update, context, text, views.queue_mentions(entries))


async def claim_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    target, _ = await targeted(update, context)
    if target is None:
        return
    name = staff_name(update)
    claimed = await context.services.requests.claim(target, staff_id(update), name)
    if claimed is None:
        await answer(update, context, views.nothing_to_claim(t))
        return
    await answer(update, context, views.claimed(t, name, claimed))


async def close_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    target, _ = await targeted(update, context)
    if target is None:
        return

    async def confirm(request: Request) -> None:
        await answer(update, context, views.closed(t, request))  # while the topic is open

    closed = await context.services.requests.close(
        target, staff_id(update), before_topic_closes=confirm
    )
    if closed is None:
        await answer(update, context, views.already_closed(t))
        return
    await context.services.feedback.request_closed(target.user_id)  # "Did we help you?"


async def reopen_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    target, _ = await targeted(update, context)
    if target is None:
        return
    reopened = await context.services.requests.reopen(target, staff_id(update))
    if reopened is None:
        await answer(update, context, views.still_open(t))
        return
    await answer(update, context, views.reopened(t, reopened))


async def ban_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    target, rest = await targeted(update, context)
    if target is None:
        return
    reason = " ".join(rest).strip()
    if not reason:
        await answer(update, context, views.ban_needs_reason(t))
        return
    await context.services.requests.ban(target, reason, staff_id(update))
    await answer(update, context, views.banned(t, reason))


async def unban_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    target, _ = await targeted(update, context)
    if target is None:
        return
    if not await context.services.requests.unban(target.user_id, staff_id(update)):
        await answer(update, context, views.not_banned(t))
        return
    await answer(update, context, views.unbanned(t))


async def reply_command(update: Update, context: BotContext) -> None:
    """``/reply <key>``: a prepared answer, in the resident's language."""
    target, rest = await target_request(update, context, list(context.args or []))
    key = rest[0].lower() if rest else ""
    await answers.reply_command(update, context, target.user_id if target else None, key)


async def deadline_command(update: Update, context: BotContext) -> None:
    """``/deadline 2027-02-01`` / ``/deadline clear`` (``handlers.staff.deadlines``)."""
    target, rest = await targeted(update, context)
    if target is not None:
        text = await deadlines.set_deadline(context, target, rest, staff_id(update))
        await answer(update, context, text)


async def followup_command(update: Update, context: BotContext) -> None:
    """``/followup 14d <text>``: a note posted in the topic at that time."""
    target, rest = await targeted(update, context)
    if target is not None:
        text = await deadlines.follow_up(context, target, rest, staff_id(update))
        await answer(update, context, text)


async def on_topic_closed(update: Update, context: BotContext) -> None:
    """Staff closed or reopened a resident's topic by hand: treat it like /close, so the
    resident's next message reopens the topic instead of getting lost."""
    message = update.effective_message
    assert message is not None  # a person in the staff chat (filter)
    if message.message_thread_id is None:
        return
    await context.services.requests.topic_closed_by_hand(
        message.message_thread_id, message.forum_topic_closed is not None
    )


# -- start-up -------------------------------------------------------------------------------
async def start_answers(application: App) -> None:
    """The shipped prepared answers at the first start; the search index at every start."""
    await services_of(application).answers.start()


async def start_map_purge(application: App) -> None:
    services = services_of(application)
    if services.config.staff_chat is not None:
        services.scheduler.every(
            MAP_PURGE_JOB,
            services.clock.now() + timedelta(hours=1),
            timedelta(days=1),
            purge_map,
        )


async def purge_map(context: BotContext, data: object) -> None:
    await context.services.requests.purge_map()
    await context.services.answers.expire()  # untapped offers of prepared answers


def next_daily(now: datetime, at: time, tz: Any) -> datetime:
    local = now.astimezone(tz)
    first = datetime.combine(local.date(), at, tzinfo=tz)
    return first if first > local else first + timedelta(days=1)


async def start_idle_close(application: App) -> None:
    services = services_of(application)
    if services.config.staff_chat is not None:
        services.scheduler.every(
            IDLE_CLOSE_JOB,
            next_daily(services.clock.now(), IDLE_CLOSE_AT, services.config.tz),
            timedelta(days=1),
            close_quiet,
        )


async def close_quiet(context: BotContext, data: object) -> None:
    """Requests with no message from either side for QUARTIERBOT_IDLE_CLOSE_DAYS close,
    with a note in their topic."""
    days = context.config.idle_close_days
    t = staff_t(context)

    async def note(request: Request) -> None:
        await context.services.staffpost.send_text(
            views.closed_quiet(t, request, days), resident_id=request.user_id, priority=True
        )

    await context.services.requests.close_quiet(timedelta(days=days), note)


async def resume_deadlines(application: App) -> None:
    """Reminders of deadlines and follow-ups, scheduled again after a restart."""
    services = services_of(application)
    if services.config.staff_chat is not None:
        await services.deadlines.resume()


STAFF_COMMANDS = (
    "queue", "claim", "close", "reopen", "ban", "unban", "reply", "replies", "answers", "answer",
    "deadline", "followup",
)  # fmt: skip


def handlers(services: Services, application: App) -> list[Handler]:
    # The topic cards are rendered here, in German, for the topics service (set once, at build).
    services.topics.renderer = TopicCards(services)
    services.staffpost.redacts(("queue",), QueueRedactions(services))
    services.interpreter.views = TranslationViews(services)
    services.deadlines.views = deadlines.DeadlineTexts(services)
    relay.register(services)
    services.answers.poster = answers.AnswerPosts(services, application.bot)
    groups = filters.ChatType.GROUPS
    allowed = filters.UpdateType.MESSAGES & staff(services.config)
    in_group = HUMAN & staff_chat(services.config)
    return [
        CommandHandler("queue", queue_command, filters=allowed),
        CommandHandler("claim", claim_command, filters=allowed),
        CommandHandler("close", close_command, filters=allowed),
        CommandHandler("reopen", reopen_command, filters=allowed),
        CommandHandler("ban", ban_command, filters=allowed),
        CommandHandler("unban", unban_command, filters=allowed),
        CommandHandler("reply", reply_command, filters=allowed),
        CommandHandler("deadline", deadline_command, filters=allowed),
        CommandHandler("followup", followup_command, filters=allowed),
        CommandHandler("replies", answers.replies_command, filters=allowed),
        CommandHandler("answers", answers.answers_command, filters=allowed),
        CommandHandler("answer", answers.answer_command, filters=allowed),
        MessageHandler(
            allowed & filters.Document.ALL & filters.CaptionRegex(r"^/answers(@\w+)?\s+import\b"),
            answers.on_import_caption,
        ),
        on_callback(CB_SEND, answers.on_send_button, filters=in_group),
        on_callback(CB_OFFER, answers.on_offer_button),
        # Everybody else, in any chat, gets the same refusal.
        CommandHandler(STAFF_COMMANDS, refuse),
        MessageHandler(
            groups
            & in_group
            & (filters.StatusUpdate.FORUM_TOPIC_CLOSED | filters.StatusUpdate.FORUM_TOPIC_REOPENED),
            on_topic_closed,
        ),
        MessageHandler(
            groups
            & in_group
            & filters.UpdateType.MESSAGE
            & ~filters.COMMAND
            & ~filters.StatusUpdate.ALL
            & ~filters.VIA_BOT,
            on_staff_message,
        ),
    ]


CAPABILITY = Capability(
    name="staff",
    handlers=handlers,
    commands=(
        Command("queue", N_("Open requests, oldest first"), scope="staff"),
        Command("claim", N_("Take care of this request"), scope="staff"),
        Command("close", N_("Close this request"), scope="staff"),
        Command("reopen", N_("Reopen this request"), scope="staff"),
        Command("reply", N_("Send a canned reply in the resident's language"), scope="staff"),
        Command("replies", N_("List the canned replies"), scope="staff"),
        Command("answers", N_("The prepared answers: list, export, import"), scope="staff"),
        Command("answer", N_("Show, add, delete or translate a prepared answer"), scope="staff"),
        Command("ban", N_("Stop passing on a resident's messages (with a reason)"), scope="staff"),
        Command("unban", N_("Pass on a resident's messages again"), scope="staff"),
        Command("deadline", N_("Set or clear the deadline of this request"), scope="staff"),
        Command("followup", N_("Post a note in this topic later (follow-up)"), scope="staff"),
    ),
    on_start=(start_map_purge, start_idle_close, resume_deadlines, start_answers),
)

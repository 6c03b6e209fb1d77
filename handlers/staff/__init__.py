"""Questions to counsellors, the staff side (the group ``QUARTIERBOT_STAFF_CHAT``).

Each resident has their own forum topic, opened by the staff lane of the outbox
(``bot.delivery``, as ``bot.services.topics`` plans it) with a card (language,
known since, open appointments, previous requests). Staff answer by simply writing in the
topic — or, in a group without topics, by replying to the resident's message — and the bot
copies the answer to the resident. Lines starting with ``!`` are internal notes and never
leave the group. Queue commands: /queue, /claim, /close, /reopen, /ban, /unban, canned
answers with /reply and /replies.

Who counts as staff: people writing in the staff chat (being a member is the permission),
and the coordinators (``QUARTIERBOT_ADMINS``) in a private chat with the bot. Anything
else is refused, and nothing the bot says outside the staff chat names a resident. Other
bots in the group are ignored.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any, Literal

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.capability import App, Capability, Command, Handler
from bot.context import SERVICES, BotContext, Services
from bot.delivery.errors import Kind, classify
from bot.filters import HUMAN, staff, staff_chat
from bot.i18n import LANGUAGES, N_, Translator
from bot.services.topics import TopicInfo
from handlers.common import (
    STAFF_LANGUAGE,
    audit,
    in_staff_chat,
    refuse,
    staff_t,
)
from storage import Resident
from storage.requests import Request

NOTE_MARKER = "!"
KEEP_MAP = timedelta(days=60)
"""How long staff can still answer by replying to an old copied message."""
MAP_PURGE_JOB = "staff:purge-map"

# Canned replies: /reply <key> sends the text in the resident's language.
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
async def open_appointment_lines(services: Services, user_id: int) -> list[str]:
    """The resident's upcoming appointments for the topic card, one line each."""
    t = services.i18n.get(STAFF_LANGUAGE)
    bookings = await services.storage.bookings.upcoming(user_id, services.clock.now())
    directory = services.directory
    lines = []
    for booking in bookings:
        try:
            title, _ = directory.offer(booking.offer_id).title.get(t.code)
        except KeyError:
            title = booking.offer_id
        line = f"#{booking.id} {t.datetime(booking.starts_at)} {title}"
        if booking.status == "requested":
            line += " — " + t._(N_("not yet confirmed"))
        lines.append(line)
    return lines


def display_name(first_name: str) -> str:
    """A first name for staff; never a phone number, even if someone's name is one."""
    name = _PHONE_RE.sub("…", " ".join(first_name.split()))[:32].strip()
    return name or "?"


def language_tag(code: str) -> str:
    return code.replace("_", "-").upper()


def topic_name(resident: Resident | None, request: Request | None) -> str:
    """Like "Aylin · TR · #A1B2": the reference comes from the internal request id."""
    name = display_name(resident.first_name) if resident else "?"
    language = language_tag(resident.language) if resident else "?"
    ref = request.ref if request is not None else "?"
    return f"{name} · {language} · #{ref}"


async def build_card(services: Services, user_id: int) -> TopicInfo:
    t = services.i18n.get(STAFF_LANGUAGE)
    resident = await services.storage.residents.get(user_id)
    request = await services.storage.requests.latest(user_id)
    name = topic_name(resident, request)
    lines = [f"👤 {name}"]
    if resident is not None:
        language = LANGUAGES.get(resident.language)
        lines.append(
            "🗣 "
            + t._(
                N_("Language: {language}"),
                language=language.native_name if language else resident.language,
            )
        )
        lines.append(
            "📅 " + t._(N_("Known since: {date}"), date=t.date(resident.created_at, "yMMMd"))
        )
    appointments = await open_appointment_lines(services, user_id)
    if appointments:
        lines.append("🗓 " + t._(N_("Open appointments:")))
        lines.extend(f"   • {line}" for line in appointments)
    else:
        lines.append("🗓 " + t._(N_("Open appointments: none")))
    previous = await services.storage.requests.previous(
        user_id, request.id if request is not None else None
    )
    if previous:
        lines.append("📁 " + t._(N_("Previous requests:")))
        for old in previous[:5]:
            closed = old.closed_at or old.last_message
            lines.append(
                f"   • #{old.ref} {t.date(old.opened_at, 'yMMMd')}–{t.date(closed, 'yMMMd')}"
            )
        if len(previous) > 5:
            lines.append("   • " + t._(N_("and {n} more"), n=len(previous) - 5))
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


class TopicCards:
    """The topics service's renderer: names and cards in the team's language."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def topic_info(self, user_id: int) -> TopicInfo:
        return await build_card(self.services, user_id)


# -- who is asking (who may: ``bot.filters.staff`` on the handlers) -------------------------
async def resident_of_message(context: BotContext, message: Message) -> int | None:
    """The resident a staff message is about: by the topic it is written in, or by the
    copied message it replies to (groups without topics)."""
    requests = context.storage.requests
    if message.is_topic_message and message.message_thread_id is not None:
        topic = await requests.topic_by_thread(message.message_thread_id)
        if topic is not None:
            return topic.user_id
    replied = message.reply_to_message
    if replied is not None:
        return await requests.resident_of(replied.message_id)
    return None


async def target_request(
    update: Update, context: BotContext, args: list[str]
) -> tuple[int | None, Request | None, list[str]]:
    """The resident and latest request a command is about: a ``#REF`` first argument, or
    the topic / replied-to message. Returns the remaining arguments."""
    requests = context.storage.requests
    if args and re.fullmatch(r"#?[0-9A-Fa-f]{4,8}", args[0]):
        request = await requests.by_ref(args[0])
        if request is not None:
            latest = await requests.latest(request.user_id)
            return request.user_id, latest, args[1:]
    message = update.effective_message
    if message is None or not in_staff_chat(update, context):
        return None, None, args
    user_id = await resident_of_message(context, message)
    if user_id is None:
        return None, None, args
    return user_id, await requests.latest(user_id), args


async def answer(update: Update, context: BotContext, text: str) -> None:
    """Answer a staff command: in the staff chat through the paced outbox, in the same
    topic; a coordinator's private chat directly."""
    message = update.effective_message
    assert message is not None
    if in_staff_chat(update, context):
        await context.services.staffpost.send_text(
            text,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_to=message.message_id,
            priority=True,
        )
    else:
        await message.reply_text(text)


def staff_name(update: Update) -> str:
    user = update.effective_user
    return (user.first_name if user else "") or "?"


# -- relaying answers -----------------------------------------------------------------------
def split_notes(text: str) -> tuple[str, bool]:
    """Drop internal-note lines; returns the rest and whether anything was dropped."""
    lines = text.split("\n")
    kept = [line for line in lines if not line.lstrip().startswith(NOTE_MARKER)]
    return "\n".join(kept).strip(), len(kept) != len(lines)


async def report(context: BotContext, message: Message, text: str) -> None:
    await context.services.staffpost.send_text(
        text,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_to=message.message_id,
        priority=True,
    )


async def deliver(context: BotContext, message: Message, user_id: int, send: Any) -> bool:
    """Run ``send()`` towards the resident; report in the staff chat why it failed."""
    t = staff_t(context)
    resident = await context.storage.residents.get(user_id)
    if resident is None or not resident.consented:
        await report(
            context,
            message,
            "⚠️ " + t._(N_("Not delivered: the resident has withdrawn their consent.")),
        )
        return False
    try:
        await send()
    except Exception as exc:
        failure = classify(exc)
        if failure.kind in (Kind.BLOCKED, Kind.FORBIDDEN):
            reason = t._(N_("Not delivered: the resident has blocked the bot."))
        elif failure.kind is Kind.CHAT_GONE:
            reason = t._(N_("Not delivered: the resident's Telegram account no longer exists."))
        elif failure.kind is Kind.UNCOPYABLE:
            reason = t._(N_("Not delivered: Telegram cannot pass on this kind of message."))
        elif failure.refused:
            reason = t._(N_("Not delivered: Telegram refused it ({error})."), error=failure.message)
        else:
            raise
        await report(context, message, "⚠️ " + reason)
        return False
    return True


async def on_staff_message(update: Update, context: BotContext) -> None:
    """Staff write in a resident's topic (or reply to their message): pass it on."""
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

    async def send() -> None:
        if message.text is not None and (dropped or signature):
            text = html.escape(kept) if dropped else message.text_html
            await bot.send_message(user_id, signature + text, parse_mode=ParseMode.HTML)
        elif signature and message.caption is not None:
            caption = message.caption_html
            await bot.copy_message(
                user_id, staff_chat, message.message_id,
                caption=signature + caption, parse_mode=ParseMode.HTML,
            )  # fmt: skip
        else:
            await bot.copy_message(user_id, staff_chat, message.message_id)

    if dropped and not kept:
        return
    if await deliver(context, message, user_id, send):
        await context.storage.requests.mark_answered(
            user_id, user.id, user.first_name, context.clock.now()
        )


async def on_topic_closed(update: Update, context: BotContext) -> None:
    """Staff closed or reopened a resident's topic by hand: treat it like /close, so the
    resident's next message reopens the topic instead of getting lost."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None  # a person in the staff chat (filter)
    if message.message_thread_id is None:
        return
    requests = context.storage.requests
    topic = await requests.topic_by_thread(message.message_thread_id)
    if topic is None:
        return
    closed = message.forum_topic_closed is not None
    await requests.set_topic_closed(topic.thread_id, closed)
    if closed:
        latest = await requests.latest(topic.user_id)
        if latest is not None:
            await requests.close(latest.id, context.clock.now())


# -- commands -------------------------------------------------------------------------------
def waited(t: Translator, since: datetime, now: datetime) -> str:
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 60:
        return t._(N_("{minutes} min"), minutes=minutes)
    if minutes < 48 * 60:
        return t._(N_("{hours} h {minutes} min"), hours=minutes // 60, minutes=minutes % 60)
    return t._(N_("{days} days"), days=minutes // (24 * 60))


async def queue_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    now = context.clock.now()
    entries = await context.storage.requests.queue()
    if not entries:
        await answer(update, context, t._(N_("No open requests.")))
        return
    lines = [t._(N_("Open requests, oldest first:"))]
    for entry in entries[:50]:
        request = entry.request
        line = (
            f"#{request.ref} {display_name(entry.first_name)} ({language_tag(entry.language)}) — "
        )
        since = request.waiting_since
        if since is not None:
            line += t._(N_("waiting {duration}"), duration=waited(t, since, now))
        else:
            line += t._(N_("answered"))
        if request.claimed_name:
            line += " — " + t._(N_("claimed by {name}"), name=request.claimed_name)
        else:
            line += " — " + t._(N_("not claimed"))
        lines.append(line)
    if len(entries) > 50:
        lines.append(t._(N_("and {n} more"), n=len(entries) - 50))
    await answer(update, context, "\n".join(lines))


async def _needs_target(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    await answer(
        update,
        context,
        t._(
            N_(
                "Please use this command in a resident's topic, as a reply to their message, "
                "or with their reference, e.g. /claim #A1B2."
            )
        ),
    )


async def claim_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    user_id, request, _ = await target_request(update, context, list(context.args or []))
    if user_id is None:
        await _needs_target(update, context)
        return
    assert update.effective_user is not None
    claimed = (
        await context.storage.requests.claim(
            request.id, update.effective_user.id, staff_name(update)
        )
        if request is not None
        else None
    )
    if claimed is None:
        await answer(update, context, t._(N_("There is no open request to claim.")))
        return
    await audit(update, context, "claim", user_id, claimed.ref)
    await answer(
        update,
        context,
        "✋ " + t._(N_("{name} takes care of #{ref}."), name=staff_name(update), ref=claimed.ref),
    )


async def close_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    closed = await change_state(
        update, context, "close", t._(N_("This request is already closed."))
    )
    if closed is not None:
        user_id, request = closed
        text = t._(
            N_("Request #{ref} closed. The resident's next message opens a new request."),
            ref=request.ref,
        )
        await answer(update, context, "✅ " + text)
        await context.services.staffpost.close_topic(user_id)


async def reopen_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    reopened = await change_state(update, context, "reopen", t._(N_("This request is still open.")))
    if reopened is not None:
        user_id, request = reopened
        await context.services.staffpost.reopen_topic(user_id)
        await answer(update, context, "🔄 " + t._(N_("Request #{ref} reopened."), ref=request.ref))


async def change_state(
    update: Update, context: BotContext, action: Literal["close", "reopen"], unchanged: str
) -> tuple[int, Request] | None:
    """/close and /reopen: find the request, change it, audit it."""
    user_id, request, _ = await target_request(update, context, list(context.args or []))
    if user_id is None:
        await _needs_target(update, context)
        return None
    requests = context.storage.requests
    change = requests.close if action == "close" else requests.reopen
    changed = await change(request.id, context.clock.now()) if request is not None else None
    if changed is None:
        await answer(update, context, unchanged)
        return None
    await audit(update, context, action, user_id, changed.ref)
    return user_id, changed


async def ban_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    user_id, request, rest = await target_request(update, context, list(context.args or []))
    if user_id is None:
        await _needs_target(update, context)
        return
    reason = " ".join(rest).strip()
    if not reason:
        await answer(
            update, context, t._(N_("Please give a reason, e.g. /ban insults against staff."))
        )
        return
    assert update.effective_user is not None
    now = context.clock.now()
    requests = context.storage.requests
    await requests.ban(user_id, reason, update.effective_user.id, now)
    await audit(update, context, "ban", user_id, reason)
    if request is not None:
        await requests.close(request.id, now)
    await answer(
        update,
        context,
        "🚫 "
        + t._(
            N_("Banned: the resident's messages are no longer passed on. Reason: {reason}"),
            reason=reason[:200],
        ),
    )


async def unban_command(update: Update, context: BotContext) -> None:
    t = staff_t(context)
    user_id, _, _rest = await target_request(update, context, list(context.args or []))
    if user_id is None:
        await _needs_target(update, context)
        return
    if not await context.storage.requests.unban(user_id):
        await answer(update, context, t._(N_("This resident is not banned.")))
        return
    await audit(update, context, "unban", user_id)
    await answer(update, context, "✅ " + t._(N_("Ban lifted: messages are passed on again.")))


def replies_text(t: Translator) -> str:
    lines = [t._(N_("Canned replies (sent in the resident's language): /reply <key>"))]
    lines += [f"• {key}: {t._(msgid)}" for key, msgid in CANNED.items()]
    return "\n".join(lines)


async def replies_command(update: Update, context: BotContext) -> None:
    await answer(update, context, replies_text(staff_t(context)))


async def reply_command(update: Update, context: BotContext) -> None:
    """``/reply <key>``: a prepared answer, in the resident's language."""
    t = staff_t(context)
    user_id, _, rest = await target_request(update, context, list(context.args or []))
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    if user_id is None or not in_staff_chat(update, context):
        await _needs_target(update, context)
        return
    key = rest[0].lower() if rest else ""
    if key not in CANNED:
        await answer(update, context, replies_text(t))
        return
    resident = await context.storage.residents.get(user_id)
    language = resident.language if resident is not None else STAFF_LANGUAGE
    text = context.services.i18n.get(language)._(CANNED[key])

    async def send() -> None:
        await context.bot.send_message(user_id, text)

    if not await deliver(context, message, user_id, send):
        return
    await context.storage.requests.mark_answered(
        user_id, update.effective_user.id, staff_name(update), context.clock.now()
    )
    await answer(
        update,
        context,
        "📨 "
        + t._(
            N_("Sent “{key}” in {language}: {text}"),
            key=key,
            language=LANGUAGES[language].native_name if language in LANGUAGES else language,
            text=text,
        ),
    )


# -- start-up -------------------------------------------------------------------------------
async def start_map_purge(application: Any) -> None:
    services: Services = application.bot_data[SERVICES]
    if services.config.staff_chat is not None:
        services.scheduler.every(
            MAP_PURGE_JOB,
            services.clock.now() + timedelta(hours=1),
            timedelta(days=1),
            purge_map,
        )


async def purge_map(context: BotContext, data: Any) -> None:
    await context.storage.requests.purge_map(context.clock.now() - KEEP_MAP)


STAFF_COMMANDS = ("queue", "claim", "close", "reopen", "ban", "unban", "reply", "replies")


def handlers(services: Services, application: App) -> list[Handler]:
    # The topic cards are rendered here, in German, for the topics service (set once, at build).
    services.topics.renderer = TopicCards(services)
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
        CommandHandler("replies", replies_command, filters=allowed),
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
        Command("ban", N_("Stop passing on a resident's messages (with a reason)"), scope="staff"),
        Command("unban", N_("Pass on a resident's messages again"), scope="staff"),
    ),
    on_start=(start_map_purge,),
)

"""Broadcasts after confirmation: starting one now or at its time (also after a restart),
and the coordinators' list of scheduled broadcasts, which can be cancelled until they start.
Sending is the broadcast lane's job (``bot.delivery``)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App
from bot.context import BotContext, Services, services_of
from bot.i18n import LANGUAGES, N_
from bot.services import broadcast_recovery
from handlers.broadcast.views import CB_CANCEL, moment, stale
from handlers.common import answer_query, audit, reply, topic_title
from storage.broadcasts import SENT, Broadcast

JOB_PREFIX = "broadcast:"


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
                N_("#{id} {topic}: being sent ({sent} of {total})"),
                id=b.id,
                topic=title,
                sent=counts.get(SENT, 0),
                total=sum(counts.values()),
            )
        )
    scheduled = await repo.with_status("scheduled")
    for b in scheduled:
        title, _ = topic_title(t, services.directory, b.topic)
        languages = ", ".join(t.language_name(c) for c in LANGUAGES if c in b.texts)
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
async def on_startup(application: App) -> None:
    """Re-schedule stored broadcasts (a moment passed while the bot was down fires at
    once). The broadcast lane starts with the outbox; drafts waiting for input are read back
    by ``Services.flows``."""
    services = services_of(application)
    for broadcast in await services.storage.broadcasts.with_status("scheduled"):
        schedule(services, broadcast)

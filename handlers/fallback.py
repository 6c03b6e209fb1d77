"""Whatever no capability handled: unknown commands, stale or forged buttons, text before
consent. Registered last, so every other module gets the first chance. After consent, a
free message is a question for the counsellors (``handlers.questions`` takes it)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.capability import App, Capability, Handler
from bot.context import BotContext, Services
from bot.i18n import N_
from handlers.common import answer_query, before_consent, bilingual, has_consent


async def unknown_command(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    text = bilingual(
        context, lambda t: t._(N_("I don't know this command. /help shows what I can do."))
    )
    await update.effective_message.reply_text(text)


async def stale_button(update: Update, context: BotContext) -> None:
    await answer_query(
        update,
        context.t._(N_("This button is no longer valid. Please use the current menu.")),
        alert=True,
    )


async def private_message(update: Update, context: BotContext) -> None:
    """Before consent nothing is passed on; after consent ``handlers.questions`` has
    already taken the message (it runs earlier), so there is nothing left to do here."""
    if not has_consent(context):
        await before_consent(update, context)


def handlers(services: Services, application: App) -> list[Handler]:
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(private & filters.COMMAND, unknown_command),
        MessageHandler(private & ~filters.StatusUpdate.ALL, private_message),
        CallbackQueryHandler(stale_button),
    ]


CAPABILITY = Capability(name="fallback", handlers=handlers)

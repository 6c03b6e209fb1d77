"""The bot belongs in private chats and in the one staff group, nowhere else.

Someone may add the bot to a neighbourhood group or a channel, or it may still sit in an old
group. Anything it said there — even "this command is only for staff" — would be noise at
best and a leak at worst. So an update from any group or channel that is not the configured
staff group is handled here first, before anything else reads it: the bot leaves that chat
(``leaveChat``), logs it once with the chat's id (which an office setting up the bot may
need for ``QUARTIERBOT_STAFF_CHAT``), and nothing else handles the update.
"""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.capability import App, Capability, Handler
from bot.context import BotContext, Services

log = logging.getLogger(__name__)

GROUP = -2
"""Before ``handlers.common``'s resident lookup (-1): nothing is read or written for a chat
the bot is about to leave."""


def foreign_chat(update: Update, staff_chat: int | None) -> Chat | None:
    chat = update.effective_chat
    if chat is None or chat.type == Chat.PRIVATE or chat.id == staff_chat:
        return None
    return chat


def handlers(services: Services, application: App) -> list[Handler]:
    left: set[int] = set()
    """Chats already left by this process: one leaveChat and one log line each."""

    async def leave_foreign_chat(update: Update, context: BotContext) -> None:
        chat = foreign_chat(update, context.config.staff_chat)
        if chat is None:
            return
        member = update.my_chat_member
        gone = member is not None and member.new_chat_member.status in ("left", "kicked")
        if not gone and chat.id not in left:
            left.add(chat.id)
            try:
                await context.bot.leave_chat(chat.id)
                log.info("left %s %s: it is not the staff group", chat.type, chat.id)
            except TelegramError as exc:
                log.info("could not leave %s %s: %s", chat.type, chat.id, exc.message)
        raise ApplicationHandlerStop

    return [TypeHandler(Update, leave_foreign_chat)]


CAPABILITY = Capability(name="groups", handlers=handlers, group=GROUP)

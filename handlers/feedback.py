""" "Did we help you?" — the resident's side: the question after staff closed their request
(rendered here, asked by ``bot.services.feedback``), and the two buttons.

The first tap counts and removes the buttons (the message is edited); a second tap — a
double tap, or an old copy of the message — finds its token gone and changes nothing."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Handler
from bot.context import BotContext, Services
from bot.delivery.errors import classify
from bot.i18n import N_, Translator
from handlers.common import answer_query, on_callback, reply

log = logging.getLogger(__name__)

CB_FEEDBACK = callbacks.kind("fb", 2, 2)
HELPED, NOT_HELPED = "y", "n"


def question(t: Translator) -> str:
    return t._(N_("Did we help you?"))


def question_markup(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "👍", callback_data=callbacks.make(CB_FEEDBACK, token, HELPED)
                ),
                InlineKeyboardButton(
                    "👎", callback_data=callbacks.make(CB_FEEDBACK, token, NOT_HELPED)
                ),
            ]
        ]
    )


class FeedbackQuestion:
    """The feedback service's asker (``bot.services.feedback.FeedbackAsker``)."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self.services = services
        self.bot = bot

    async def ask(self, user_id: int, language: str, token: str) -> None:
        t = self.services.i18n.get(language)
        try:
            await self.bot.send_message(
                user_id, t.paragraph(question(t)), reply_markup=question_markup(token)
            )
        except TelegramError as exc:
            # Blocked, gone, or Telegram unreachable: the question is not worth a retry.
            log.info("feedback question not delivered: %s", classify(exc).kind.value)


async def on_feedback(update: Update, context: BotContext, cb: Callback) -> None:
    t = context.t
    answer = cb.arg(1)
    if answer not in (HELPED, NOT_HELPED):
        await answer_query(update)
        return
    if not await context.services.feedback.answer(cb.arg(0), answer == HELPED):
        await answer_query(update, t._(N_("Thank you, we already have your answer.")))
        return
    await answer_query(update, t._(N_("Thank you for your answer!")))
    await reply(update, context, f"{question(t)} {'👍' if answer == HELPED else '👎'}")


def handlers(services: Services, application: App) -> list[Handler]:
    # The question is rendered and sent here (set once, at build).
    services.feedback.asker = FeedbackQuestion(services, application.bot)
    return [on_callback(CB_FEEDBACK, on_feedback)]


CAPABILITY = Capability(name="feedback", handlers=handlers)
